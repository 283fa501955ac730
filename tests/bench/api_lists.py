"""Latency and query count of the project lists with 1,000 projects.

Runs on PostgreSQL in a throwaway database (``<name>_bench``, created, migrated and dropped)::

    .venv/bin/python tests/bench/api_lists.py

``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/deployserver``) names the server;
``BENCH_RUNS`` (default 30) is the number of timed requests per URL. Requests go through Django's
test client in this process, so the figures are the server's work without network or gunicorn.
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

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
SIZES = (10, 1000)
URLS = (
    ("API  GET /api/projects/               (page of 50) ", "api", "/api/projects/"),
    ("API  GET /api/projects/?page_size=500 (page of 500)", "api", "/api/projects/?page_size=500"),
    ("Page GET /projects/                   (first page) ", "page", "/projects/"),
    ("Page GET /projects/?page=10           (page 10)    ", "page", "/projects/?page=10"),
)


def make_projects(total: int) -> None:
    from releases.models import Environment, Lifecycle, Phase, PhaseEnvironment, Project

    if not Environment.objects.exists():
        envs = Environment.objects.bulk_create(
            Environment(name=n, slug=n.lower(), sort_order=i)
            for i, n in enumerate(("Dev", "Test", "Prod"))
        )
        for index in range(5):
            lifecycle = Lifecycle.objects.create(name=f"Lifecycle {index}", slug=f"lc-{index}")
            for order, env in enumerate(envs):
                phase = Phase.objects.create(lifecycle=lifecycle, name=env.name, sort_order=order)
                PhaseEnvironment.objects.create(phase=phase, lifecycle=lifecycle, environment=env)
    lifecycles = list(Lifecycle.objects.all())
    start = Project.objects.count()
    Project.objects.bulk_create(
        Project(
            name=f"Project {n:04d}",
            slug=f"project-{n:04d}",
            description=f"Service number {n}",
            lifecycle=lifecycles[n % len(lifecycles)],
        )
        for n in range(start, total)
    )


def measure(client: Client, url: str) -> tuple[float, float, int, int]:
    """Median and 90th percentile latency (ms), query count and response size (bytes)."""
    response = client.get(url)  # warm-up: templates, API key last-used write
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    p90 = statistics.quantiles(timings, n=10)[-1]
    return statistics.median(timings), p90, len(queries), len(response.content)


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
        clients = {"api": Client(HTTP_AUTHORIZATION=f"Token {key}"), "page": Client()}
        clients["page"].force_login(user)
        print(
            f"deployserver list benchmark: {RUNS} timed requests per line, PostgreSQL "
            f"{connection.pg_version // 10000}, in-process test client"
        )
        for size in SIZES:
            make_projects(size)
            print(f"\n{size} projects")
            for label, kind, url in URLS:
                median, p90, queries, size_bytes = measure(clients[kind], url)
                print(
                    f"  {label}  median {median:7.1f} ms  p90 {p90:7.1f} ms  "
                    f"queries {queries:2d}  {size_bytes / 1024:7.1f} KiB"
                )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
