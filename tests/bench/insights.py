"""Figures for the insights and a project's overview.

* the insights API and pages over 1,000,000 deployments: 500 projects deploying a release to Dev,
  Test and Prod every ~1.1 days for two years (one in ten fails in Prod, half of those rolled
  back), across all projects and for one, over 30 and 90 days (goal: p95 < 200 ms, and the same
  number of queries whatever the period);
* a project's overview with 100 releases deployed to 10 environments (goal: p95 < 100 ms), the
  page and its live grid.

Rows are made by PostgreSQL itself (``INSERT … SELECT … generate_series``) in a throwaway
database (``<name>_bench``, created, migrated and dropped), then what each deployment keeps for
the insights is computed for the whole history as the migration that added it does (timed: what
upgrading an installation of that size costs), and the cost of keeping it when one deployment
ends is timed too::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overview \
        .venv/bin/python tests/bench/insights.py

``BENCH_RUNS`` (default 30) is the number of timed requests per line. Requests go through
Django's test client in this process: the server's work, without network or gunicorn.
"""

import os
import sys
import time

from benchsetup import setup_django  # noqa: E402

setup_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.bench.releases import get, line, timed  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
PROJECTS, RELEASES_EACH, DAYS = 500, 667, 730
OVERVIEW_RELEASES = 100


def seed(user) -> None:
    from releases.models import (
        Channel,
        Environment,
        Lifecycle,
        Phase,
        PhaseEnvironment,
        Project,
        Release,
    )

    names = ["Dev", "Test", *(f"Stage {i}" for i in range(1, 8)), "Prod"]
    envs = Environment.objects.bulk_create(
        Environment(name=name, slug=name.lower().replace(" ", "-"), sort_order=i)
        for i, name in enumerate(names)
    )

    def lifecycle(name: str, environments) -> Lifecycle:
        made = Lifecycle.objects.create(name=name, slug=name.lower().replace(" ", "-"))
        for order, env in enumerate(environments):
            phase = Phase.objects.create(lifecycle=made, name=env.name, sort_order=order)
            PhaseEnvironment.objects.create(phase=phase, lifecycle=made, environment=env)
        return made

    three = lifecycle("Dev Test Prod", [envs[0], envs[1], envs[-1]])
    ten = lifecycle("Ten phases", envs)
    projects = Project.objects.bulk_create(
        Project(name=f"Service {n:03d}", slug=f"service-{n:03d}", lifecycle=three)
        for n in range(PROJECTS)
    )
    wide = Project.objects.create(name="Wide", slug="wide", lifecycle=ten)
    Channel.objects.bulk_create(
        Channel(project=p, name="Default", slug="default", is_default=True)
        for p in [*projects, wide]
    )
    start = timezone.now() - timezone.timedelta(days=DAYS + 2)
    with connection.cursor() as cursor:
        # A release every ~1.1 days per project, at an hour of its own.
        cursor.execute(
            """
            INSERT INTO releases_release (project_id, channel_id, version, notes, packages,
                process_snapshot, variables_snapshot, variables_snapshot_at, created_at)
            SELECT p.id, c.id, '1.0.' || n, '', '{}', '[]', '[]', t.ts, t.ts
            FROM releases_project p
            JOIN releases_channel c ON c.project_id = p.id AND c.is_default
            CROSS JOIN generate_series(0, %s - 1) AS n
            CROSS JOIN LATERAL (
                SELECT %s::timestamptz + n * (%s * interval '1 day' / %s)
                    + (p.id %% 24) * interval '1 hour' AS ts
            ) t
            WHERE p.lifecycle_id = %s
            """,
            [RELEASES_EACH, start, DAYS, RELEASES_EACH, three.pk],
        )
        # Dev after 20 min, Test after 2-7 h, Prod after 4-71 h; one in ten fails in Prod (half
        # of those rolled back), one in 23 in Dev.
        cursor.execute(
            """
            INSERT INTO deployments_deployment (release_id, project_id, environment_id, state,
                trigger, created_at, started_at, finished_at, error, outputs,
                cancel_requested_by, worker, phase, cursor, progress_running, progress_desired,
                review_comment)
            SELECT r.id, r.project_id, e.id, s.state, 'manual', d.at, d.at,
                d.at + interval '3 minutes',
                CASE WHEN s.state = 'success' THEN ''
                     WHEN e.slug = 'prod' AND r.id %% 20 = 0
                         THEN 'Tasks stopped. Rolled back to web:1.'
                     ELSE 'Tasks stopped.' END,
                '{}', '', '', '', '{}', 0, 0, ''
            FROM releases_release r
            JOIN releases_project p ON p.id = r.project_id AND p.lifecycle_id = %s
            CROSS JOIN releases_environment e
            CROSS JOIN LATERAL (
                SELECT r.created_at + CASE e.slug
                    WHEN 'dev' THEN interval '20 minutes'
                    WHEN 'test' THEN interval '2 hours' + (r.id %% 6) * interval '1 hour'
                    ELSE interval '4 hours' + (r.id %% 68) * interval '1 hour' END AS at
            ) d
            CROSS JOIN LATERAL (
                SELECT CASE WHEN e.slug = 'prod' AND r.id %% 10 = 0 THEN 'failed'
                            WHEN e.slug = 'dev' AND r.id %% 23 = 0 THEN 'failed'
                            ELSE 'success' END AS state
            ) s
            WHERE e.slug IN ('dev', 'test', 'prod') AND d.at + interval '3 minutes' < now()
            """,
            [three.pk],
        )
    # The overview's project: 100 releases, each deployed to all ten environments.
    wide_channel = wide.channels.get()
    now = timezone.now()
    wide_releases = Release.objects.bulk_create(
        Release(
            project=wide,
            channel=wide_channel,
            version=f"3.0.{n}",
            variables_snapshot_at=now,
            created_by=user,
        )
        for n in range(OVERVIEW_RELEASES)
    )
    from deployments.models import Deployment

    Deployment.objects.bulk_create(
        Deployment(
            release=r,
            project=wide,
            environment=env,
            created_by=user,
            state="success" if (i, j) != (OVERVIEW_RELEASES - 1, 0) else "executing",
            started_at=now,
            finished_at=now,
        )
        for i, r in enumerate(wide_releases)
        for j, env in enumerate(envs)
    )


def rebuild() -> float:
    """What the migration does on upgrade: keep the figures of the whole history (seconds)."""
    from deployments.insights import insights_rebuild

    started = time.perf_counter()
    insights_rebuild()
    took = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return took


def recording() -> tuple[float, int]:
    """Median ms and queries of keeping the figures when a deployment ends (in its transaction):
    a failure, then the success that recovers it, in one project × environment of the history."""
    from django.db import transaction
    from django.test.utils import CaptureQueriesContext

    from deployments.insights import insights_record
    from deployments.models import Deployment

    latest = Deployment.objects.filter(project__slug="service-042", environment__slug="prod")
    base = latest.latest("finished_at")
    timings, queries = [], 0
    for _ in range(RUNS):
        with transaction.atomic():
            for state in (Deployment.State.FAILED, Deployment.State.SUCCESS):
                ended = Deployment.objects.create(
                    release=base.release,
                    project=base.project,
                    environment=base.environment,
                    state=state,
                    finished_at=timezone.now(),
                )
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    insights_record(ended)
                    timings.append((time.perf_counter() - started) * 1000)
                queries = max(queries, len(captured))
            transaction.set_rollback(True)
    timings.sort()
    return timings[len(timings) // 2], queries


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from deployments.models import Deployment
        from deployserver.core.services import api_key_create

        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
        _, key = api_key_create(user=user, name="bench")
        api = Client(HTTP_AUTHORIZATION=f"Token {key}")
        page = Client()
        page.force_login(user)
        started = time.perf_counter()
        seed(user)
        seeded = time.perf_counter() - started
        rebuilt = rebuild()
        count = Deployment.objects.count()
        load = os.getloadavg()[0]
        print(
            f"deployserver insights benchmark: {RUNS} timed requests per line, PostgreSQL "
            f"{connection.pg_version // 10000}, in-process test client "
            f"(seeded {count:,} deployments in {seeded:.0f} s; "
            f"load average {load:.1f} on {os.cpu_count()} CPUs)"
        )
        print(
            f"\nKept figures: computed for the {count:,} deployments (the upgrade's migration) in "
            f"{rebuilt:.1f} s"
        )
        median, queries = recording()
        print(f"  when a deployment ends: median {median:.1f} ms, {queries} queries")
        print(f"\nInsights: {PROJECTS} projects, {count:,} deployments over two years, Prod")
        for label, url in (
            ("API  all projects, 30 days", "/api/insights/?days=30"),
            ("API  all projects, 90 days", "/api/insights/?days=90"),
            ("API  all projects, 7 days, Dev", "/api/insights/?days=7&environment=dev"),
            ("API  one project, 30 days", "/api/insights/?project=service-042&days=30"),
            ("API  one project, 90 days", "/api/insights/?project=service-042&days=90"),
            ("Page /insights/ (30 days)", "/insights/"),
            ("Page /insights/?days=90", "/insights/?days=90"),
            ("Page /projects/…/insights/?days=90", "/projects/service-042/insights/?days=90"),
        ):
            client = api if url.startswith("/api/") else page
            line(label, timed(get(client, url)), goal=200)
        print(f"\nOverview: one project, {OVERVIEW_RELEASES} releases × 10 environments")
        line("Page /projects/wide/", timed(get(page, "/projects/wide/")), goal=100)
        line(
            "Live grid /projects/wide/overview/grid/",
            timed(get(page, "/projects/wide/overview/grid/")),
            goal=100,
        )
        line(
            "Page /projects/service-042/ (667 releases)",
            timed(get(page, "/projects/service-042/")),
            goal=100,
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
