"""The start every benchmark script shares: Django configured from the environment.

Defaults: PostgreSQL on this machine (database ``deployserver``), the test master key, a local
memory cache and broker; set ``DATABASE_URL``, ``CACHE_URL`` or ``CELERY_BROKER_URL`` to
measure against other services. Call ``setup_django()`` before importing project code.
"""

import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup_django(**defaults: str) -> None:
    """Configure and set up Django; ``defaults`` add or override environment defaults."""
    sys.path.insert(0, str(ROOT))
    values = {
        "DJANGO_SETTINGS_MODULE": "deployserver.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/deployserver",
        "SECRET_KEY": "bench",
        "DEPLOYSERVER_MASTER_KEY": (ROOT / "tests/master.key").read_text().strip(),
        "CACHE_URL": "locmemcache://",
        "CELERY_BROKER_URL": "memory://",
        # The benchmarks' moto servers and registries listen on loopback.
        "DEPLOYSERVER_ENDPOINT_POLICY": "any",
        **defaults,
    }
    for name, value in values.items():
        os.environ.setdefault(name, value)
    import django

    # whitenoise warns once per client when collectstatic has not run; irrelevant to figures.
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    django.setup()


def make_services(account, project, count: int, clusters: int = 1, prefix: str = "bench"):
    """``count`` services spread over ``clusters`` clusters, and ``count`` projects deploying
    one each to Dev."""
    from deployserver.core.aws import client
    from releases.models import Project
    from releases.process import process_for, process_update
    from releases.releasing import release_create
    from releases.services import project_create
    from releases.variables import VariableInput, variable_set_replace
    from sandbox import seed

    ecs, ec2 = client(account, "ecs"), client(account, "ec2")
    names = [f"{prefix}-c{c:02d}" if clusters > 1 else prefix for c in range(clusters)]
    for cluster in names:
        ecs.create_cluster(clusterName=cluster)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/20")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=prefix, Description=prefix, VpcId=vpc)
    steps = process_for(project).steps
    releases = []
    for n in range(count):
        name, cluster = f"{prefix}-{n:03d}", names[n % clusters]
        ecs.register_task_definition(
            family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
            memory="512", containerDefinitions=[{"name": "web", "image": "nginx:1"}],
        )  # fmt: skip
        ecs.create_service(
            cluster=cluster, serviceName=name, taskDefinition=name, desiredCount=2,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": [subnet], "securityGroups": [group["GroupId"]]}},
        )  # fmt: skip
        p = project_create(user=None, name=f"{prefix.title()} {n:03d}", slug=name)
        rows = [VariableInput("AwsAccount", account.slug, type="aws-account")] + [
            VariableInput(k, v)
            for k, v in (("Color", "teal"), ("Message", "bench"), ("TaskName", name),
                         ("ClusterName", cluster), ("ServiceName", name))
        ]  # fmt: skip
        variable_set_replace(project=p, rows=rows, user=None)
        process_update(project=p, steps=steps, user=None)
        releases.append(release_create(project=p, user=None, packages={"web": "1.0.1"}))
    assert Project.objects.filter(slug__startswith=f"{prefix}-").count() == count
    del seed
    return releases
