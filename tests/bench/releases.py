"""Figures for releases: the dashboard, a long release list, release creation.

* the dashboard (API and page) with 50 projects × 10 environments and 100,000 deployments;
* the release list API of a project with 100,000 releases (first page, and a page deep down);
* creating a release through the API: a project without packages, and one pinning an image of an
  ECR repository on a local moto server (listing cached, digest asked of the registry).

Runs on PostgreSQL in a throwaway database (``<name>_bench``, created, migrated and dropped)::

    .venv/bin/python tests/bench/releases.py

``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/deployserver``) names the server;
``BENCH_RUNS`` (default 50) is the number of timed requests per line. Requests go through
Django's test client in this process: the server's work, without network or gunicorn.
"""

import os
import statistics
import sys
import time

from benchsetup import setup_django  # noqa: E402

setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "50"))
PROJECTS, ENVIRONMENTS, DEPLOYMENTS = 50, 10, 100_000
LONG_LIST = 100_000


def seed(user) -> None:
    from deployments.models import Deployment
    from releases.models import (
        Channel,
        Environment,
        Lifecycle,
        Phase,
        PhaseEnvironment,
        Project,
        Release,
    )

    envs = Environment.objects.bulk_create(
        Environment(name=f"Env {i:02d}", slug=f"env-{i:02d}", sort_order=i)
        for i in range(ENVIRONMENTS)
    )
    lifecycle = Lifecycle.objects.create(name="Ten phases", slug="ten-phases")
    for order, env in enumerate(envs):
        phase = Phase.objects.create(lifecycle=lifecycle, name=env.name, sort_order=order)
        PhaseEnvironment.objects.create(phase=phase, lifecycle=lifecycle, environment=env)
    projects = Project.objects.bulk_create(
        Project(name=f"Project {n:02d}", slug=f"project-{n:02d}", lifecycle=lifecycle)
        for n in range(PROJECTS + 1)
    )
    channels = Channel.objects.bulk_create(
        Channel(project=p, name="Default", slug="default", is_default=True) for p in projects
    )
    now = timezone.now()
    per_project = DEPLOYMENTS // (PROJECTS * ENVIRONMENTS)  # releases per project, each deployed
    board, long_one = projects[:PROJECTS], projects[PROJECTS]
    releases = Release.objects.bulk_create(
        (
            Release(
                project=p,
                channel=c,
                version=f"1.0.{n}",
                variables_snapshot_at=now,
                created_by=user,
            )
            for p, c in zip(board, channels, strict=False)
            for n in range(per_project)
        ),
        batch_size=5000,
    )
    states = ["success"] * 8 + ["failed", "executing"]
    Deployment.objects.bulk_create(
        (
            Deployment(
                release=r,
                project_id=r.project_id,
                environment=env,
                created_by=user,
                state=states[(i + j) % len(states)],
                finished_at=now,
            )
            for i, r in enumerate(releases)
            for j, env in enumerate(envs)
        ),
        batch_size=10_000,
    )
    long_releases = Release.objects.bulk_create(
        (
            Release(
                project=long_one,
                channel=channels[PROJECTS],
                version=f"2.{n // 1000}.{n % 1000}",
                variables_snapshot_at=now,
                created_by=user,
            )
            for n in range(LONG_LIST)
        ),
        batch_size=10_000,
    )
    Deployment.objects.bulk_create(
        Deployment(release=r, project_id=long_one.pk, environment=env, state="success")
        for r in long_releases[-200:]
        for env in envs[:3]
    )
    # What autovacuum would have done on a server in use: statistics and the visibility map.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def timed(call) -> tuple[float, float, float, int]:
    """Median and 95th percentile (ms) of ``RUNS`` calls, the median CPU time this process
    spent on one (the machine may be busy: CPU time tells the server's own work apart from
    waiting), and the queries of one more call."""
    call()  # warm-up
    timings, cpu = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    with CaptureQueriesContext(connection) as queries:
        call()
    return (
        statistics.median(timings),
        statistics.quantiles(timings, n=20)[-1],
        statistics.median(cpu),
        len(queries),
    )


def get(client, url):
    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return call


def line(label: str, figures: tuple[float, float, float, int], goal: float | None = None) -> None:
    median, p95, cpu, queries = figures
    verdict = ""
    if goal is not None:
        verdict = f"  goal p95 < {goal:.0f} ms: {'met' if p95 < goal else 'MISSED'}"
    print(
        f"  {label:<46} median {median:6.1f} ms  p95 {p95:6.1f} ms  "
        f"(cpu {cpu:5.1f} ms)  queries {queries:2d}{verdict}"
    )


def release_creation(api) -> None:
    from moto.server import ThreadedMotoServer

    from deployserver.core.services import aws_account_create
    from feeds.services import feed_create
    from releases.models import DeploymentProcess, Project
    from tests.conftest import free_port, wait_for_port
    from tests.feeds.registry_kit import ecr_manifest

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port)
    try:
        user = get_user_model().objects.get(username="bench")
        account = aws_account_create(
            user=user,
            name="Bench",
            access_key_id="AKIAIOSFODNN7EXAMPLE",
            secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            region="us-east-1",
            endpoint_url=f"http://127.0.0.1:{port}",
        )
        from deployserver.core.aws import client

        ecr = client(account, "ecr")
        ecr.create_repository(repositoryName="hello-color")
        for n in range(50):
            tag = f"1.{n // 10}.{n % 10}"
            ecr.put_image(
                repositoryName="hello-color", imageManifest=ecr_manifest(tag), imageTag=tag
            )
        feed = feed_create(user=user, name="ECR", feed_type="aws-ecr", account=account)
        pinned = Project.objects.get(slug="project-00")
        # Stored as data: the step's properties do not matter to release creation.
        DeploymentProcess.objects.create(
            project=pinned,
            steps=[
                {
                    "name": "Deploy web",
                    "type": "aws-ecs-deploy",
                    "properties": {},
                    "packages": [{"name": "web", "feed": feed.pk, "package_id": "hello-color"}],
                }
            ],
        )

        def create(slug):
            def call():
                response = api.post(
                    f"/api/projects/{slug}/releases/", {}, content_type="application/json"
                )
                assert response.status_code == 201, response.content[:300]

            return call

        line("POST release, no package", timed(create("project-01")))
        line("POST release, 1 ECR image (moto, cached list)", timed(create("project-00")))
    finally:
        server.stop()


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from deployserver.core.services import api_key_create

        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
        _, key = api_key_create(user=user, name="bench")
        api = Client(HTTP_AUTHORIZATION=f"Token {key}")
        page = Client()
        page.force_login(user)
        started = time.perf_counter()
        seed(user)
        load = os.getloadavg()[0]
        print(
            f"deployserver releases benchmark: {RUNS} timed requests per line, PostgreSQL "
            f"{connection.pg_version // 10000}, in-process test client "
            f"(seeded in {time.perf_counter() - started:.0f} s; load average {load:.1f} "
            f"on {os.cpu_count()} CPUs)"
        )
        print(
            f"\nDashboard: {PROJECTS} projects × {ENVIRONMENTS} environments, "
            f"{DEPLOYMENTS:,} deployments"
        )
        line("API  GET /api/dashboard/", timed(get(api, "/api/dashboard/")), goal=100)
        line("Page GET /", timed(get(page, "/")), goal=100)
        slug = f"project-{PROJECTS:02d}"
        print(f"\nRelease list: one project with {LONG_LIST:,} releases")
        line(
            "API  GET …/releases/ (first page of 50)",
            timed(get(api, f"/api/projects/{slug}/releases/")),
            goal=100,
        )
        line(
            "API  GET …/releases/?page=1000",
            timed(get(api, f"/api/projects/{slug}/releases/?page=1000")),
            goal=100,
        )
        line(
            "Page GET /projects/…/releases/ (page of 25)",
            timed(get(page, f"/projects/{slug}/releases/")),
            goal=100,
        )
        print("\nRelease creation")
        release_creation(api)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
