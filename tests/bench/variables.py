"""Figures for project variables: resolution + substitution of a process, and the variables API.

Runs on PostgreSQL in a throwaway database (``<name>_bench``: created, migrated, dropped)::

    .venv/bin/python tests/bench/variables.py

``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/deployserver``) names the server;
``BENCH_RUNS`` (default 50) is the number of timed runs per figure.

1. A project with 10,000 variables over 20 environments (2,000 names: an unscoped value and four
   values scoped to four environments each, a tenth of the values holding expressions). For
   each environment: pick the values that apply (``variables_resolve``), then substitute and
   validate the ECS step and build its two requests (``build_plan``). The goal is a median
   under 50 ms.
2. ``GET /api/projects/{slug}/variables/`` with 10,000 variables: latency and query count,
   next to the same request with 100 variables (the count must be the same).
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
ENVIRONMENTS = 20
NAMES = 2000  # x (1 unscoped + 4 scoped) = 10,000 variables


def rows_for(names: int, env_slugs: list[str]):
    from releases.variables import VariableInput

    rows = []
    for n in range(names):
        name = f"App.Setting{n:04d}"
        rows.append(VariableInput(name, f"default-{n}"))
        for k in range(4):
            scope = [env_slugs[(4 * k + j + n) % len(env_slugs)] for j in range(4)]
            value = f"#{{App.Setting{(n + 1) % names:04d}}}-{k}" if n % 10 == 0 else f"v{n}-{k}"
            rows.append(VariableInput(name, value, environments=sorted(set(scope))))
    return rows


def seed_variables(project, env_slugs, names, user):
    from releases.variables import VariableInput, variable_set_replace

    rows = rows_for(names, env_slugs) + [
        VariableInput("Cluster", "cluster-#{Environment.Name | ToLower}"),
        VariableInput("Service", "#{Project.Slug}-svc"),
        VariableInput("TaskFamily", "#{Project.Slug}-#{Environment.Slug}"),
        VariableInput("Color", "red"),
        VariableInput("Color", "blue", environments=[env_slugs[0]]),
        VariableInput("AwsAccount", "bench", type="aws-account"),
        VariableInput("DbPassword", "s3cret", type="sensitive"),
    ]
    started = time.perf_counter()
    variable_set_replace(project=project, rows=rows, user=user)
    return len(rows), (time.perf_counter() - started) * 1000


def ecs_properties() -> dict:
    environment = [
        {"name": f"SETTING_{n}", "value": f"#{{App.Setting{n:04d}}}"} for n in range(0, 40, 3)
    ]
    environment += [
        {"name": "COLOR", "value": "#{Color | ToUpper}"},
        {"name": "DB_PASSWORD", "value": "#{DbPassword}"},
    ]
    return {
        "aws_account": "#{AwsAccount}",
        "region": "us-east-1",
        "cluster": "#{Cluster}",
        "service": "#{Service}",
        "task_family": "#{TaskFamily}",
        "task_cpu": "512",
        "task_memory": "1024",
        "execution_role_arn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        "containers": [
            {
                "name": "web",
                "image": "#{Package[web].Image}",
                "memory": 512,
                "port_mappings": [{"container_port": 8080}],
                "environment": environment,
            }
        ],
    }


def bench_resolution(project, environments) -> tuple[float, float, float]:
    from deployments.aws_ecs.step import ECS_DEPLOY
    from releases.variables import (
        PackageInfo,
        system_variables,
        variable_specs,
        variables_resolve,
    )

    started = time.perf_counter()
    specs = variable_specs(project)
    load_ms = (time.perf_counter() - started) * 1000
    properties = ecs_properties()
    packages = {"web": PackageInfo("web", "1.2.3", "registry.example/web:1.2.3")}
    timings = []
    for run in range(RUNS):
        environment = environments[run % len(environments)]
        started = time.perf_counter()
        values = variables_resolve(specs, environment.pk)
        values.update(system_variables(project=project, environment=environment))
        plan = ECS_DEPLOY.build_plan(properties, values, packages)
        timings.append((time.perf_counter() - started) * 1000)
        assert plan.update_service["cluster"] == f"cluster-{environment.name.lower()}"
    return load_ms, statistics.median(timings), max(timings)


def bench_api(client: Client, url: str) -> tuple[float, float, int, int]:
    response = client.get(url)  # warm-up, and the API key's last-use stamp
    assert response.status_code == 200, response.status_code
    timings = []
    for _ in range(max(5, RUNS // 5)):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return statistics.median(timings), max(timings), len(queries), len(response.json()["variables"])


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from deployserver.core.models import AwsAccount
        from deployserver.core.services import api_key_create
        from releases.models import Environment
        from releases.services import project_create

        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
        _, key = api_key_create(user=user, name="bench")
        client = Client(HTTP_AUTHORIZATION=f"Token {key}")
        AwsAccount.objects.create(
            name="Bench", slug="bench", access_key_id="AKIAIOSFODNN7EXAMPLE",
            secret_access_key="x", region="us-east-1",
        )  # fmt: skip
        environments = Environment.objects.bulk_create(
            Environment(name=f"Env{i:02d}", slug=f"env{i:02d}", sort_order=i)
            for i in range(ENVIRONMENTS)
        )
        slugs = [e.slug for e in environments]
        small = project_create(user=user, name="Small", slug="small")
        big = project_create(user=user, name="Big", slug="big")
        seed_variables(small, slugs, 20, user)
        count, put_ms = seed_variables(big, slugs, NAMES, user)

        print(f"deployserver variables benchmark: PostgreSQL {connection.pg_version // 10000}, "
              f"{RUNS} runs, in-process")  # fmt: skip
        print(f"\nSaving the whole set once: {count:,} variables over {ENVIRONMENTS} "
              f"environments in {put_ms:,.0f} ms")  # fmt: skip
        load_ms, median_ms, worst_ms = bench_resolution(big, environments)
        verdict = "meets" if median_ms < 50 else "MISSES"
        print(f"\nResolve + substitute + validate + build the ECS requests, {count:,} variables:")
        print(f"  median {median_ms:6.2f} ms   worst {worst_ms:6.2f} ms   "
              f"({verdict} the 50 ms goal; loading the snapshot from the database once: "
              f"{load_ms:,.0f} ms)")  # fmt: skip
        print("\nGET /api/projects/{slug}/variables/")
        for project in (small, big):
            median, worst, queries, rows = bench_api(
                client, f"/api/projects/{project.slug}/variables/"
            )
            print(f"  {rows:6,} variables  median {median:7.1f} ms  worst {worst:7.1f} ms  "
                  f"queries {queries}")  # fmt: skip
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
