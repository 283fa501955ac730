"""Drift figures, against a moto server (the sandbox, rollouts progressing) in this process.

    .venv/bin/python tests/bench/drift.py

Prints (a) one drift round over 500 services in 50 clusters, each deployed by the engine: wall
time and AWS calls (goal ≤ 60 DescribeServices), then the same after 50 of them were scaled
outside deployserver; (b) ``GET /api/releases/{id}/diff/?environment=dev`` p95 over 50 calls,
with the diff's read cache cold (cleared before each call) and warm (goal < 300 ms).

Runs on PostgreSQL in a throwaway database (``<name>_bench``, created, migrated and dropped);
``DATABASE_URL`` names the server. ``BENCH_SERVICES`` and ``BENCH_CLUSTERS`` change the fleet.
"""

import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.benchsetup import make_services, setup_django  # noqa: E402

os.environ["DEPLOYSERVER_SANDBOX_ROLLOUT_SECONDS"] = "0.3"
os.environ["MOTO_ECS_SERVICE_RUNNING"] = "2"
setup_django()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

SERVICES = int(os.environ.get("BENCH_SERVICES", "500"))
CLUSTERS = int(os.environ.get("BENCH_CLUSTERS", "50"))
CALLS = 50


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def deploy_all(releases) -> None:
    """Deploy each release to Dev with the engine, in this process (rounds batch the checks)."""
    from django.utils import timezone

    from deployments.engine import deployment_execute
    from deployments.models import Deployment
    from deployments.rounds import deployments_check
    from releases.models import Environment

    dev = Environment.objects.get(slug="dev")
    rows = Deployment.objects.bulk_create(
        Deployment(release=r, project=r.project, environment=dev) for r in releases
    )
    ids = [d.pk for d in rows]
    for pk in ids:
        deployment_execute(pk)
    deadline = time.monotonic() + 600
    executing = Deployment.objects.filter(pk__in=ids, state=Deployment.State.EXECUTING)
    while executing.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
        executing.update(next_check_at=timezone.now())
        deployments_check()
    ok = Deployment.objects.filter(pk__in=ids, state=Deployment.State.SUCCESS).count()
    if ok != len(ids):
        sys.exit(f"only {ok} of {len(ids)} deployments succeeded")


def state_counts() -> dict[str, int]:
    from django.db.models import Count

    from deployments.models import ServiceDrift

    return dict(ServiceDrift.objects.values_list("state").annotate(n=Count("pk")).order_by())


def figure_a(account, project) -> None:
    from deployments.drift import drift_check
    from deployserver.core.aws import client

    started = time.perf_counter()
    releases = make_services(account, project, SERVICES, clusters=CLUSTERS, prefix="drift")
    made = time.perf_counter() - started
    deploy_all(releases)
    print(
        f"    setup: {SERVICES} services in {CLUSTERS} clusters and projects made in {made:.0f} s, "
        f"deployed by the engine in {time.perf_counter() - started - made:.0f} s"
    )
    goal = math.ceil(SERVICES / CLUSTERS / 10) * CLUSTERS
    rounds = []
    for _ in range(3):
        rounds.append(drift_check())
    states = state_counts()
    seconds = [r.seconds for r in rounds]
    calls = rounds[-1].calls.calls
    print(
        f"(a) drift round over {len(rounds[-1].rows)} services in {rounds[-1].calls.groups} "
        f"clusters: {statistics.median(seconds):.2f} s median of {len(seconds)} "
        f"({', '.join(f'{s:.2f}' for s in seconds)}); AWS calls {calls} "
        f"(goal ≤ 60 DescribeServices, ceil per cluster = {goal}: "
        f"{'met' if calls.get('DescribeServices', 0) <= 60 else 'NOT met'}); states {states}"
    )
    ecs = client(account, "ecs")
    for n in range(0, SERVICES, SERVICES // 50 or 1):
        name = f"drift-{n:03d}"
        ecs.update_service(cluster=f"drift-c{n % CLUSTERS:02d}", service=name, desiredCount=3)
    after = drift_check()
    states = state_counts()
    print(
        f"    after 50 services were scaled outside deployserver: {after.seconds:.2f} s, AWS calls "
        f"{after.calls.calls}; states {states}"
    )


def figure_b(api: Client, release) -> None:
    from deployments.aws_ecs import diff

    url = f"/api/releases/{release.pk}/diff/?environment=dev"
    assert api.get(url).status_code == 200
    for label, cold in (("cold", True), ("warm", False)):
        times = []
        for _ in range(CALLS):
            if cold:
                diff._cache.clear()
            started = time.perf_counter()
            response = api.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and response.json()["error"] is None
        p95 = pct(times, 95)
        print(
            f"(b) diff API, read cache {label}: median {statistics.median(times):.0f} ms, p95 "
            f"{p95:.0f} ms over {CALLS} calls (goal < 300 ms: {'met' if p95 < 300 else 'NOT met'})"
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
    try:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
        _, key = api_key_create(user=user, name="bench")
        api = Client(HTTP_AUTHORIZATION=f"Token {key}")
        account = seed.seed_database(f"http://127.0.0.1:{port}")
        seed.seed_aws(account)
        project = seed.seed_project(account)
        release = release_create(project=project, user=user, packages={"web": "1.1.0"})
        print(
            f"deployserver drift benchmark: moto server in process, PostgreSQL "
            f"{connection.pg_version // 10000}, {os.cpu_count()} CPUs"
        )
        figure_a(account, project)
        figure_b(api, release)
    finally:
        server.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
