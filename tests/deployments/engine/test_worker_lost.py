"""SIGKILL of the only worker while 20 deployments wait for their rollouts and one is in the
middle of registering its task definition, then a new worker: the 20 waiting ones were never
held by the dead worker and finish as if nothing happened; the one mid-action is failed "worker
lost" by the reaper (or completed), and never registers a second time — its run message,
delivered again to the new worker, finds it no longer queued."""

import threading
import time

import pytest
from moto.ecs.models import EC2ContainerServiceBackend

from deployments.enqueue import enqueue
from deployments.models import Deployment
from deployserver.core.aws import client
from deployserver.core.models import AwsAccount
from releases.models import Environment
from sandbox import rollouts, seed

from .helpers import revisions
from .processes import RedisServer, celery, kill, stop
from .test_kill_restart import make_services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WAITING = 20
SLOW = f"kill-{WAITING:02d}"  # the service whose registration is in flight at the kill


@pytest.fixture
def registration_held(monkeypatch):
    """Once armed, RegisterTaskDefinition of ``SLOW`` (in this process's moto server) blocks
    until released."""
    entered, release, armed = threading.Event(), threading.Event(), threading.Event()
    original = EC2ContainerServiceBackend.register_task_definition

    def register(self, family, *args, **kwargs):
        if family == SLOW and armed.is_set():
            entered.set()
            release.wait(60)
        return original(self, family, *args, **kwargs)

    monkeypatch.setattr(EC2ContainerServiceBackend, "register_task_definition", register)
    yield entered, release, armed
    release.set()


def test_sigkill_while_20_wait_and_one_registers_loses_none_and_registers_none_twice(
    moto, sandbox, registration_held, monkeypatch, tmp_path, capsys
):
    entered, release, armed = registration_held
    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", 6.0)
    account = AwsAccount.objects.get(name=seed.ACCOUNT_NAME)
    releases = make_services(account, sandbox, WAITING + 1)
    dev = Environment.objects.get(slug="dev")
    armed.set()

    redis = RedisServer(tmp_path / "redis.log")
    redis.start()
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", redis.url)
    env = {
        "CELERY_BROKER_URL": redis.url,
        "DEPLOYSERVER_ROLLOUT_POLL_SECONDS": "1",
        "DEPLOYSERVER_HEARTBEAT_SECONDS": "1",
        "DEPLOYSERVER_WORKER_LOST_SECONDS": "8",
        "DEPLOYSERVER_REAPER_SECONDS": "1",
        "DEPLOYSERVER_CHECK_SECONDS": "1",
    }
    worker_args = ["worker", "-c", "2", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    procs = {}
    try:
        procs["worker"] = celery(worker_args, tmp_path / "worker1.log", **env)
        deployments = [
            Deployment.objects.create(release=r, project=r.project, environment=dev)
            for r in releases[:WAITING]
        ]
        for d in deployments:
            enqueue(d.pk)
        waiting = Deployment.objects.filter(
            pk__in=[d.pk for d in deployments], phase=Deployment.Phase.WAITING
        )
        deadline = time.monotonic() + 60
        while waiting.count() < WAITING:
            assert time.monotonic() < deadline, "the 20 deployments did not all start waiting"
            time.sleep(0.05)
        slow = releases[WAITING]
        mid_action = Deployment.objects.create(release=slow, project=slow.project, environment=dev)
        enqueue(mid_action.pk)
        assert entered.wait(30), "the registration of the slow deployment never began"
        assert Deployment.objects.get(pk=mid_action.pk).phase == Deployment.Phase.ACTING

        kill(procs["worker"])
        killed_at = time.monotonic()
        release.set()  # AWS completes the registration the dead worker asked for
        assert all(d.state == Deployment.State.EXECUTING for d in waiting.all())

        time.sleep(2)  # an outage: every worker is down, rollouts go on in ECS
        procs["beat"] = celery(["beat", "-s", str(tmp_path / "beat")], tmp_path / "beat.log", **env)
        procs["worker"] = celery(worker_args, tmp_path / "worker2.log", **env)
        everyone = Deployment.objects.filter(pk__in=[d.pk for d in deployments] + [mid_action.pk])
        deadline = time.monotonic() + 60
        while everyone.exclude(state__in=Deployment.FINISHED).exists():
            assert time.monotonic() < deadline, dict(everyone.values_list("pk", "state"))
            time.sleep(0.1)
        after_kill = time.monotonic() - killed_at
    finally:
        release.set()
        for proc in procs.values():
            stop(proc)
        redis.stop()

    ecs = client(account, "ecs")
    for d in Deployment.objects.filter(pk__in=[d.pk for d in deployments]):
        assert d.state == Deployment.State.SUCCESS, (d.project_id, d.state, d.error)
        assert d.log_lines.filter(text__contains="is deployed to Dev").count() == 1
        assert len(revisions(ecs, d.project.slug)) == 2  # the seed's and this deployment's
    mid_action.refresh_from_db()
    assert len(revisions(ecs, SLOW)) == 2, "the action in flight registered twice"
    if mid_action.state == Deployment.State.FAILED:
        assert mid_action.error.startswith("Worker lost:"), mid_action.error
    else:
        assert mid_action.state == Deployment.State.SUCCESS
    with capsys.disabled():
        print(
            f"\n[worker killed] {WAITING} waiting deployments: all succeeded after the restart; "
            f"the one registering when killed: {mid_action.state} (1 registration); all final "
            f"{after_kill:.1f} s after the kill"
        )
