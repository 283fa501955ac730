"""SIGKILL of the web server and the worker during 20 concurrent deployments, then a restart:
every deployment asked for exists once and ends in a final state, none ran twice (one task
definition registered per deployment at most), nothing is lost. Those the worker was running
when it died end "Worker lost" (the reaper's rule); queued ones whose message died with the
worker or the web server are sent again by the dispatcher."""

import threading
import time

import pytest
import requests

from deployments.models import Deployment
from deployserver.core.aws import client
from deployserver.core.models import AwsAccount
from deployserver.core.services import api_key_create
from releases.process import process_for, process_update
from releases.releasing import release_create
from releases.services import project_create
from releases.variables import VariableInput, variable_set_replace
from sandbox import rollouts, seed
from tests.conftest import free_port

from .processes import RedisServer, celery, gunicorn, kill, stop

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SERVICES = 20


def make_services(account, project, count: int, version_of=lambda n: "1.0.1") -> list:
    """``count`` services in one cluster, and a project deploying one each: the release of
    service ``n`` is made of version ``version_of(n)`` of the seed's image."""
    ecs, ec2 = client(account, "ecs"), client(account, "ec2")
    ecs.create_cluster(clusterName="kill")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.0.0/20")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="kill", Description="kill", VpcId=vpc)
    steps = process_for(project).steps
    releases = []
    for n in range(count):
        name = f"kill-{n:02d}"
        ecs.register_task_definition(
            family=name,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "web", "image": "nginx:1"}],
        )
        ecs.create_service(
            cluster="kill",
            serviceName=name,
            taskDefinition=name,
            desiredCount=2,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group["GroupId"]]}
            },
        )
        p = project_create(user=None, name=f"Kill {n:02d}", slug=name)
        rows = [VariableInput("AwsAccount", account.slug, type="aws-account")] + [
            VariableInput(k, v)
            for k, v in (
                ("Color", "teal"),
                ("Message", "kill"),
                ("TaskName", name),
                ("ClusterName", "kill"),
                ("ServiceName", name),
            )
        ]
        variable_set_replace(project=p, rows=rows, user=None)
        process_update(project=p, steps=steps, user=None)
        releases.append(release_create(project=p, user=None, packages={"web": version_of(n)}))
    return releases


class Client(threading.Thread):
    """Asks for one deployment like a careful client: when a request failed without an answer,
    it first looks whether the deployment was made (the server may have died after its commit)
    and asks again only if not; a 409 means the first try got through."""

    def __init__(self, base: str, key: str, release, delay: float):
        super().__init__(daemon=True)
        self.base, self.release, self.delay = base, release, delay
        self.headers = {"Authorization": f"Token {key}"}
        self.answers: list = []

    def made(self) -> bool:
        response = requests.get(
            f"{self.base}/api/deployments/",
            params={"project": self.release.project.slug, "environment": "dev"},
            headers=self.headers,
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["count"] > 0

    def run(self) -> None:
        time.sleep(self.delay)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            try:
                if self.answers and self.made():
                    self.answers.append("found")
                    return
                response = requests.post(
                    f"{self.base}/api/deployments/",
                    json={"release": self.release.pk, "environment": "dev"},
                    headers=self.headers,
                    timeout=10,
                )
            except requests.RequestException as exc:
                self.answers.append(type(exc).__name__)
                time.sleep(0.2)
                continue
            self.answers.append(response.status_code)
            if response.status_code in (201, 409):
                return
            time.sleep(0.2)


def test_sigkill_of_web_and_worker_during_20_deployments_loses_none_and_runs_none_twice(
    moto, sandbox, admin_user, monkeypatch, tmp_path, capsys
):
    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", 2.0)
    account = AwsAccount.objects.get(name=seed.ACCOUNT_NAME)
    releases = make_services(account, sandbox, SERVICES)
    _, key = api_key_create(user=admin_user, name="kill test")

    redis = RedisServer(tmp_path / "redis.log")
    redis.start()
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", redis.url)
    env = {
        "CELERY_BROKER_URL": redis.url,
        "DEPLOYSERVER_HEARTBEAT_SECONDS": "1",
        "DEPLOYSERVER_WORKER_LOST_SECONDS": "8",  # a loaded CI host may pause a beat a few s
        "DEPLOYSERVER_REAPER_SECONDS": "1",
        "DEPLOYSERVER_DISPATCH_SECONDS": "1",
        "DEPLOYSERVER_REDISPATCH_SECONDS": "3",
    }
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    worker_args = ["worker", "-c", "4", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    procs = {}

    def worker_ready(log) -> None:
        deadline = time.monotonic() + 30
        while b" ready." not in log.read_bytes():
            assert time.monotonic() < deadline, f"worker did not start, see {log}"
            time.sleep(0.1)

    try:
        procs["beat"] = celery(["beat", "-s", str(tmp_path / "beat")], tmp_path / "beat.log", **env)
        procs["worker"] = celery(worker_args, tmp_path / "worker1.log", **env)
        procs["web"] = gunicorn(port, tmp_path / "web.log", **env)
        worker_ready(tmp_path / "worker1.log")

        started = time.monotonic()
        clients = [Client(base, key, r, i * 0.15) for i, r in enumerate(releases)]
        for c in clients:
            c.start()
        # Mid-way: some deployments running, some requests not yet answered.
        while Deployment.objects.exclude(state=Deployment.State.QUEUED).count() < 3:
            assert time.monotonic() - started < 30, "no deployment started"
            time.sleep(0.02)
        kill(procs["web"])
        kill(procs["worker"])
        killed_at = time.monotonic()
        at_kill = dict(Deployment.objects.values_list("pk", "state"))

        time.sleep(1)
        procs["worker"] = celery(worker_args, tmp_path / "worker2.log", **env)
        procs["web"] = gunicorn(port, tmp_path / "web.log", **env)
        for c in clients:
            c.join(50)
        assert all(not c.is_alive() for c in clients), "a client never got an answer"

        deadline = time.monotonic() + 45
        while Deployment.objects.exclude(state__in=Deployment.FINISHED).exists():
            assert time.monotonic() < deadline, (
                "not all finished: "
                f"{dict(Deployment.objects.values_list('project__slug', 'state'))}"
            )
            time.sleep(0.1)
        total, after_kill = time.monotonic() - started, time.monotonic() - killed_at
    finally:
        for proc in procs.values():
            stop(proc)
        redis.stop()

    deployments = list(Deployment.objects.select_related("project"))
    per_project = {}
    for d in deployments:
        per_project.setdefault(d.project.slug, []).append(d)
    # Nothing lost, none twice: every release asked for has exactly one deployment.
    assert sorted(per_project) == [f"kill-{n:02d}" for n in range(SERVICES)]
    assert all(len(ds) == 1 for ds in per_project.values()), per_project
    assert all(c.answers[-1] in (201, 409, "found") for c in clients), [c.answers for c in clients]

    ecs = client(account, "ecs")
    states = {"success": 0, "worker lost": 0}
    for slug, (d,) in per_project.items():
        registered = len(ecs.list_task_definitions(familyPrefix=slug)["taskDefinitionArns"]) - 1
        assert registered <= 1, f"{slug}: {registered} task definitions registered"
        if d.state == Deployment.State.SUCCESS:
            assert registered == 1
            states["success"] += 1
        else:
            # Only one the dead worker was running may fail, and only as "worker lost".
            assert d.state == Deployment.State.FAILED, (slug, d.state, d.error)
            assert d.error.startswith("Worker lost"), d.error
            assert at_kill.get(d.pk) == Deployment.State.EXECUTING
            states["worker lost"] += 1
    assert states["success"] >= SERVICES - 4  # at most the worker's 4 processes were busy

    retried = sum(1 for c in clients if any(not isinstance(a, int) for a in c.answers))
    with capsys.disabled():
        print(
            f"\n[kill and restart] {SERVICES} deployments: {states['success']} succeeded, "
            f"{states['worker lost']} worker lost (executing when killed), 0 lost, 0 twice; "
            f"{retried} of {SERVICES} clients saw the web server die and retried; "
            f"all final {total:.1f} s after the first request "
            f"({after_kill:.1f} s after the kill)"
        )
