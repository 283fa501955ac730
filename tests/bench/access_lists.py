"""What permission checks cost the lists: 50 projects × 10 environments, one deployment per cell,
20 releases of one project; an administrator against a user holding 20 grants.

Runs on PostgreSQL in a throwaway database (``<name>_bench``, created, migrated and dropped)::

    .venv/bin/python tests/bench/access_lists.py

``BENCH_RUNS`` (default 50) timed requests per line. The figure to watch: the user's query count is
the administrator's plus at most 2 (their grants are read once per request, the filters are SQL),
and p95 stays under 100 ms.
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

RUNS = int(os.environ.get("BENCH_RUNS", "50"))
PROJECTS, ENVIRONMENTS, GRANTS = 50, 10, 20


def make_world() -> None:
    from django.utils import timezone

    from deployments.models import Deployment
    from deployserver.core.models import Grant, Team
    from releases.models import Channel, Environment, Lifecycle, Project, Release

    now = timezone.now()
    envs = Environment.objects.bulk_create(
        Environment(name=f"Env {i}", slug=f"env-{i}", sort_order=i) for i in range(ENVIRONMENTS)
    )
    lifecycle = Lifecycle.objects.get(is_default=True)
    projects = Project.objects.bulk_create(
        Project(name=f"Project {n:02d}", slug=f"project-{n:02d}", lifecycle=lifecycle)
        for n in range(PROJECTS)
    )
    channels = Channel.objects.bulk_create(
        Channel(project=p, name="Default", slug="default", is_default=True) for p in projects
    )
    releases = Release.objects.bulk_create(
        Release(project=p, channel=c, version=f"1.0.{v}", variables_snapshot_at=now)
        for p, c in zip(projects, channels, strict=True)
        for v in range(20 if p is projects[0] else 1)
    )
    latest = {r.project_id: r for r in releases}
    Deployment.objects.bulk_create(
        Deployment(release=latest[p.pk], project=p, environment=e, state="success")
        for p in projects
        for e in envs
    )
    # 20 grants: deployer over two projects × three environments each, and so on.
    team = Team.objects.create(name="Bench")
    for index in range(GRANTS):
        grant = Grant.objects.create(
            team=team,
            role=("viewer", "deployer", "approver")[index % 3],
            all_projects=False,
            all_environments=False,
        )
        grant.projects.set(projects[index * 2 : index * 2 + 3])
        grant.environments.set(envs[index % 8 : index % 8 + 3])
    return team


def measure(client: Client, url: str) -> tuple[float, float, int]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    p95 = statistics.quantiles(timings, n=20)[-1]
    return statistics.median(timings), p95, len(queries)


URLS = (
    ("Page GET /                                ", "page", "/"),
    ("API  GET /api/dashboard/                  ", "api", "/api/dashboard/"),
    ("Page GET /projects/project-00/releases/   ", "page", "/projects/project-00/releases/"),
    ("API  GET /api/projects/project-00/releases/", "api", "/api/projects/project-00/releases/"),
)


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from deployserver.core.services import api_key_create

        team = make_world()
        users = {
            "admin": get_user_model().objects.create_superuser("bench", "b@example.org", "x"),
            "20 grants": get_user_model().objects.create_user("member", "m@example.org", "x"),
        }
        team.members.add(users["20 grants"])
        print(
            f"access benchmark: {PROJECTS} projects × {ENVIRONMENTS} environments, {RUNS} timed "
            f"requests per line, PostgreSQL {connection.pg_version // 10000}, in-process client"
        )
        for label, kind, url in URLS:
            counts = {}
            for who, user in users.items():
                if kind == "api":
                    _, key = api_key_create(user=user, name="bench")
                    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
                else:
                    client = Client()
                    client.force_login(user)
                median, p95, queries = measure(client, url)
                counts[who] = queries
                print(
                    f"  {label} {who:9}  median {median:6.1f} ms  p95 {p95:6.1f} ms  "
                    f"queries {queries:2d}"
                )
            print(f"  {'':44} extra queries for the user: {counts['20 grants'] - counts['admin']}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
