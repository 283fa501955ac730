"""Deployment engine figures, in one run against a moto server (the sandbox, rollouts progressing).

    .venv/bin/pip install ecs-deploy   # for (b) only; the other figures run without it
    .venv/bin/python tests/bench/deploy.py

Prints (a) one deployment from API POST to ``success`` vs the raw boto3 calls it makes (register +
update + describe until the rollout is COMPLETED, same poll interval); (b) the same deployment vs
``ecs deploy`` (ecs-deploy) on the same service; (c) 100 deployments to 100 services with a worker
of 1 and then 2 processes — total time, none lost or duplicated; (d) log latency, line written →
returned by the log API, p95; (e) a 100,000-line log: page open time and log API page time.

Runs on PostgreSQL in a throwaway database (``<name>_bench``) and Redis (a queue of its own);
``DATABASE_URL`` and ``CELERY_BROKER_URL`` name the servers. Celery workers are real processes.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
POLL = 0.2
ROLLOUT = float(os.environ.get("BENCH_ROLLOUT_SECONDS", "1.0"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deployserver.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/deployserver")
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("DEPLOYSERVER_MASTER_KEY", (ROOT / "tests/master.key").read_text().strip())
os.environ.setdefault("CACHE_URL", "locmemcache://")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DEPLOYSERVER_ENDPOINT_POLICY", "any")  # moto listens on loopback
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = "deployserver-bench"
os.environ["DEPLOYSERVER_ROLLOUT_POLL_SECONDS"] = str(POLL)
os.environ["DEPLOYSERVER_SANDBOX_ROLLOUT_SECONDS"] = str(ROLLOUT)
os.environ["MOTO_ECS_SERVICE_RUNNING"] = "2"

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from tests.bench.benchsetup import make_services  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
MANY = int(os.environ.get("BENCH_SERVICES", "100"))
F_SERVICES = int(os.environ.get("BENCH_F_SERVICES", "200"))
F_CLUSTERS = int(os.environ.get("BENCH_F_CLUSTERS", "20"))
F_ROLLOUT = float(os.environ.get("BENCH_F_ROLLOUT_SECONDS", "30"))
ONLY = os.environ.get("BENCH_ONLY", "")  # e.g. "f": run only these figures


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Workers:
    """A ``celery worker`` process with ``concurrency`` pool processes on the bench database."""

    def __init__(self, concurrency: int, name: str, **extra_env: str):
        env = dict(os.environ, **extra_env)
        env["DATABASE_URL"] = (
            os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + (connection.settings_dict["NAME"])
        )
        self.name = f"{name}-{os.getpid()}@bench"
        self.log = open(f"/tmp/bench-{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "deployserver", "worker", "-c",
             str(concurrency), "--without-gossip", "--without-mingle", "--loglevel=INFO",
             "-n", self.name],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        from deployserver.celery import app

        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5, destination=[self.name]):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"worker {name} did not start; see /tmp/bench-{name}.log")

    def stop(self):
        self.proc.terminate()  # warm shutdown: lets the task in hand finish
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


def wait_finished(ids, timeout=600.0):
    from deployments.models import Deployment

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = dict(Deployment.objects.filter(pk__in=ids).values_list("pk", "state"))
        if all(s in Deployment.FINISHED for s in states.values()):
            return states
        time.sleep(0.02)
    raise RuntimeError("deployments did not finish in time")


def raw_boto3_deployment(ecs, register: dict, cluster: str, service: str) -> float:
    """What the engine does, written by hand: describe, register, update, describe until done."""
    started = time.perf_counter()
    ecs.describe_services(cluster=cluster, services=[service])
    arn = ecs.register_task_definition(**register)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(
        cluster=cluster, service=service, taskDefinition=arn, desiredCount=2,
        forceNewDeployment=True,
        deploymentConfiguration={
            "minimumHealthyPercent": 100, "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
    )  # fmt: skip
    while True:
        found = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
        primary = next(d for d in found["deployments"] if d["status"] == "PRIMARY")
        if primary["taskDefinition"] == arn and primary.get("rolloutState") == "COMPLETED":
            return time.perf_counter() - started
        time.sleep(POLL)


def figure_a_b(api: Client, release, account) -> None:
    from deployments.models import Deployment
    from deployserver.core.aws import client

    ecs = client(account, "ecs")
    cluster = service = "hello-color-dev"
    ours, raw = [], []
    for run in range(RUNS + 1):  # the first run warms the worker up (imports, boto3 client)
        started = time.perf_counter()
        response = api.post(
            "/api/deployments/",
            {"release": release.pk, "environment": "dev"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        pk = response.json()["id"]
        states = wait_finished([pk])
        ours.append(time.perf_counter() - started)
        assert states[pk] == "success", Deployment.objects.get(pk=pk).error
        if os.environ.get("BENCH_TIMELINE"):
            d = Deployment.objects.get(pk=pk)
            t0 = d.created_at
            print("   queued→started", (d.started_at - t0).total_seconds())
            for line in d.log_lines.order_by("seq"):
                print(f"   {(line.time - t0).total_seconds():6.3f} {line.text[:70]}")
            print("   finished", (d.finished_at - t0).total_seconds())
        td = ecs.describe_task_definition(
            taskDefinition=Deployment.objects.get(pk=pk).outputs["task_definition_arn"]
        )["taskDefinition"]
        register = {
            k: td[k]
            for k in ("family", "networkMode", "requiresCompatibilities", "cpu", "memory",
                      "containerDefinitions", "executionRoleArn")
            if k in td
        }  # fmt: skip
        raw.append(raw_boto3_deployment(ecs, register, cluster, service))
        if run == 0:
            ours.clear()
            raw.clear()
    ours_m, raw_m = statistics.median(ours), statistics.median(raw)
    goal = raw_m * 1.2 + 0.150
    print(
        f"(a) one deployment, API POST → success: median {ours_m * 1000:.0f} ms; raw boto3 "
        f"register + update + describe until COMPLETED: median {raw_m * 1000:.0f} ms "
        f"({RUNS} runs each, rollout {ROLLOUT:.1f} s, poll {POLL} s). Ratio {ours_m / raw_m:.2f}; "
        f"goal ≤ 1.2× + 150 ms = {goal * 1000:.0f} ms: {'met' if ours_m <= goal else 'NOT met'}"
    )

    ecs_cli = Path(sys.executable).with_name("ecs")
    if not ecs_cli.exists():
        print("(b) ecs-deploy is not installed (pip install ecs-deploy); figure skipped")
        return
    env = dict(os.environ, AWS_ENDPOINT_URL=account.endpoint_url)
    theirs = []
    for index in range(RUNS):
        started = time.perf_counter()
        done = subprocess.run(
            [str(ecs_cli), "deploy", cluster, service, "--region", "us-east-1",
             "--access-key-id", account.access_key_id,
             "--secret-access-key", account.secret_access_key,
             "-e", "web", "BENCH_RUN", str(index), "--no-deregister", "--timeout", "120",
             "--sleep-time", "1"],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        theirs.append(time.perf_counter() - started)
        if done.returncode != 0:
            print(f"(b) ecs deploy failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
            return
    theirs_m = statistics.median(theirs)
    print(
        f"(b) the same deployment with `ecs deploy` (ecs-deploy, its own process, --sleep-time 1, "
        f"the minimum; done when one deployment is left and desired tasks of the new revision "
        f"are RUNNING): median {theirs_m * 1000:.0f} ms vs ours {ours_m * 1000:.0f} ms (we "
        f"poll every {POLL} s and finish on the PRIMARY deployment's COMPLETED). Ratio "
        f"{ours_m / theirs_m:.2f}; goal ≤ 0.5×: {'met' if ours_m <= theirs_m * 0.5 else 'NOT met'}"
    )


def figure_c(account, project) -> None:
    from deployments.models import Deployment, LogLine
    from deployments.tasks import deployment_run
    from deployserver.core.aws import client
    from releases.models import Environment

    releases = make_services(account, project, MANY)
    dev = Environment.objects.get(slug="dev")
    ecs = client(account, "ecs")
    for processes in (1, 2):
        workers = Workers(processes, f"c{processes}")
        try:
            rows = Deployment.objects.bulk_create(
                Deployment(release=r, project=r.project, environment=dev) for r in releases
            )
            ids = [d.pk for d in rows]
            started = time.perf_counter()
            for pk in ids:
                deployment_run.delay(pk)
            states = wait_finished(ids, timeout=1800)
            total = time.perf_counter() - started
        finally:
            workers.stop()
        succeeded = sum(1 for s in states.values() if s == "success")
        registered = LogLine.objects.filter(
            deployment_id__in=ids, text__startswith="Registered task definition"
        ).count()
        revisions = sum(
            len(ecs.list_task_definitions(familyPrefix=f"bench-{n:03d}")["taskDefinitionArns"])
            for n in range(MANY)
        )
        print(
            f"(c) {MANY} deployments to {MANY} services, worker with {processes} process(es): "
            f"{total:.1f} s total ({total / MANY * 1000:.0f} ms each); {succeeded} succeeded, "
            f"{len(ids) - len(states)} lost, {registered} task definitions registered "
            f"(duplicates: {registered - MANY}); revisions in ECS now {revisions}"
        )


def figure_f(account, project) -> None:
    """(f) 200 deployments to 200 services in 20 clusters, 30 s sandbox rollouts, one worker host
    of 2 processes, rollouts checked every 3 s (the default)."""
    import ast
    import math
    import re

    from deployments.models import Deployment, LogLine
    from deployments.tasks import deployment_run
    from deployserver.core.aws import client
    from releases.models import Environment
    from sandbox import rollouts

    count, clusters, rollout = F_SERVICES, F_CLUSTERS, F_ROLLOUT
    releases = make_services(account, project, count, clusters=clusters, prefix="fleet")
    dev = Environment.objects.get(slug="dev")
    rollouts.ROLLOUT_SECONDS, before = rollout, rollouts.ROLLOUT_SECONDS
    workers = Workers(2, "f", DEPLOYSERVER_ROLLOUT_POLL_SECONDS="3")
    latencies: list[float] = []
    done = threading.Event()

    def reader() -> None:
        """A client reading new log lines every 100 ms: when a line is readable vs written."""
        from django.db import connection as conn

        last = LogLine.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        while not done.is_set():
            from django.utils import timezone

            rows = list(LogLine.objects.filter(pk__gt=last).values_list("pk", "time"))
            now = timezone.now()
            for pk, written in rows:
                latencies.append((now - written).total_seconds())
                last = max(last, pk)
            time.sleep(0.1)
        conn.close()

    thread = threading.Thread(target=reader, daemon=True)
    try:
        rows = Deployment.objects.bulk_create(
            Deployment(release=r, project=r.project, environment=dev) for r in releases
        )
        ids = [d.pk for d in rows]
        thread.start()
        started = time.perf_counter()
        for pk in ids:
            deployment_run.delay(pk)
        states = wait_finished(ids, timeout=1800)
        total = time.perf_counter() - started
    finally:
        done.set()
        workers.stop()
        rollouts.ROLLOUT_SECONDS = before
    thread.join(5)
    rounds = [
        (int(m.group(1)), int(m.group(2)), ast.literal_eval(m.group(3).replace("none", "{}")))
        for m in re.finditer(
            r"check round: (\d+) rollouts in (\d+) groups, AWS calls (\{[^}]*\}|none)",
            Path("/tmp/bench-f.log").read_text(),
        )
    ]
    describe = [calls.get("DescribeServices", 0) for _, _, calls in rounds]
    others = sum(v for _, _, calls in rounds for k, v in calls.items() if k != "DescribeServices")
    full = [(n, d) for (n, _, _), d in zip(rounds, describe, strict=True) if n == count]
    succeeded = sum(1 for s in states.values() if s == "success")
    registered = LogLine.objects.filter(
        deployment_id__in=ids, text__startswith="Registered task definition"
    ).count()
    ecs = client(account, "ecs")
    revisions = sum(
        len(ecs.list_task_definitions(familyPrefix=f"fleet-{n:03d}")["taskDefinitionArns"]) - 1
        for n in range(count)
    )
    p95 = pct(latencies, 95) if latencies else float("nan")
    print(
        f"(f) {count} deployments to {count} services in {clusters} clusters, {rollout:g} s "
        f"rollouts, 1 worker host of 2 processes, checks every 3 s: {total:.1f} s total "
        f"(goal <= {1.5 * rollout:.0f} s: {'met' if total <= 1.5 * rollout else 'NOT met'}); "
        f"{succeeded} succeeded, {count - len(states)} lost, "
        f"{registered - count} duplicated registrations ({revisions} new revisions in ECS)\n"
        f"    check rounds: {len(rounds)}; DescribeServices per round max {max(describe or [0])}, "
        f"in rounds checking all {count}: {sorted({d for _, d in full}) or 'none'} "
        f"(goal <= ceil({count}/10) = {math.ceil(count / 10)}); ListTasks/DescribeTasks calls in "
        f"all: {others}\n"
        f"    log latency during the run, line written -> readable ({len(latencies)} lines): "
        f"median {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
        f"(goal < 1 s: {'met' if p95 < 1 else 'NOT met'})"
    )


def figure_d(api: Client, release) -> None:
    from deployments.engine import Ticker
    from deployments.logs import LogWriter
    from deployments.models import Deployment
    from releases.models import Environment

    deployment = Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug="dev"),
        state=Deployment.State.EXECUTING,
    )  # fmt: skip

    class Run:  # what the ticker needs of a run
        log = LogWriter(deployment.pk, [])

    run = Run()
    run.deployment = deployment
    ticker = Ticker([run])
    ticker.start()
    written: dict[int, float] = {}
    latencies: list[float] = []
    total = 200

    def writer():
        for n in range(1, total + 1):
            written[n] = time.perf_counter()
            run.log.info(f"line {n}")
            time.sleep(0.02 + (n % 7) * 0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    after = 0
    while len(latencies) < total:
        page = api.get(f"/api/deployments/{deployment.pk}/log/?after={after}").json()
        now = time.perf_counter()
        for line in page["lines"]:
            latencies.append(now - written[line["seq"]])
        after = page["next"]
        time.sleep(0.05)  # a client polling 20 times a second
    thread.join()
    ticker.stop()
    connection.close()
    p95 = pct(latencies, 95)
    print(
        f"(d) log latency, line written → returned by GET /api/deployments/{{id}}/log/?after= "
        f"({total} lines, reader polling every 50 ms): median "
        f"{statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; "
        f"goal < 1 s: {'met' if p95 < 1 else 'NOT met'}"
    )


def figure_e(api: Client, page: Client, release) -> None:
    from django.utils import timezone

    from deployments.models import Deployment, LogLine
    from releases.models import Environment

    deployment = Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug="dev"),
        state=Deployment.State.SUCCESS, started_at=timezone.now(), finished_at=timezone.now(),
    )  # fmt: skip
    now = timezone.now()
    LogLine.objects.bulk_create(
        (
            LogLine(deployment=deployment, seq=n, time=now, level="info", step="Deploy web",
                    text=f"line {n}: hello-color-dev:2 PRIMARY IN_PROGRESS — running 1, pending 1")
            for n in range(1, 100_001)
        ),
        batch_size=5000,
    )  # fmt: skip

    def timed(client, url):
        client.get(url)
        timings = []
        for _ in range(10):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        return statistics.median(timings), len(response.content)

    page_ms, page_size = timed(page, f"/deployments/{deployment.pk}/")
    api_first, _ = timed(api, f"/api/deployments/{deployment.pk}/log/")
    api_mid, api_size = timed(api, f"/api/deployments/{deployment.pk}/log/?after=50000")
    api_last, _ = timed(api, f"/api/deployments/{deployment.pk}/log/?after=99500")
    print(
        f"(e) a 100,000-line log: deployment page opens in {page_ms:.0f} ms median "
        f"({page_size / 1024:.0f} KiB: the last 500 lines, earlier ones on demand); log API page "
        f"of 1,000 lines: {api_first:.0f} ms from the start, {api_mid:.0f} ms from line 50,000 "
        f"({api_size / 1024:.0f} KiB), {api_last:.0f} ms for the last 500"
    )


def main() -> None:
    from moto.server import ThreadedMotoServer

    from deployserver.core.services import api_key_create
    from releases.releasing import release_create
    from sandbox import rollouts, seed
    from tests.conftest import free_port, wait_for_port

    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    rollouts.install()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port)
    workers = None
    try:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
        _, key = api_key_create(user=user, name="bench")
        api, page = Client(HTTP_AUTHORIZATION=f"Token {key}"), Client()
        page.force_login(user)
        account = seed.seed_database(f"http://127.0.0.1:{port}")
        seed.seed_aws(account)
        project = seed.seed_project(account)
        release = release_create(project=project, user=user, packages={"web": "1.0.1"})
        print(
            f"deployserver deployment benchmark: moto {ROLLOUT:.1f} s rollouts, engine poll "
            f"{POLL} s, PostgreSQL {connection.pg_version // 10000}, Redis broker, Celery "
            f"worker processes, {os.cpu_count()} CPUs\n"
        )
        if not ONLY or "a" in ONLY or "b" in ONLY:
            workers = Workers(1, "ab")
            figure_a_b(api, release, account)
            workers.stop()
            workers = None
        if not ONLY or "d" in ONLY:
            figure_d(api, release)
        if not ONLY or "e" in ONLY:
            figure_e(api, page, release)
        if not ONLY or "c" in ONLY:
            figure_c(account, project)
        if not ONLY or "f" in ONLY:
            figure_f(account, project)
    finally:
        if workers is not None:
            workers.stop()
        server.stop()
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
