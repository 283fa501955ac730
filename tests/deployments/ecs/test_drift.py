"""Drift rounds against the sandbox's ECS: a service changed outside deployserver is
``drifted`` (and says what changed), one short of tasks past the grace period ``degraded``, a
deleted one ``missing``, an unreadable one ``unknown``; a redeploy puts it back ``in_sync``."""

import time

import pytest
from botocore.stub import Stubber

from deployments import drift
from deployments.aws_ecs import runner
from deployments.models import Deployment, ServiceDrift
from deployserver.core.aws import clear_clients, client
from deployserver.core.models import AwsAccount, Event
from releases.models import Environment
from sandbox import rollouts, seed
from tests.deployments.engine.helpers import run_until_finished

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE = CLUSTER = "hello-color-dev"
SECRET = "s3cret-db-pass"


def ecs():
    return client(AwsAccount.objects.get(name=seed.ACCOUNT_NAME), "ecs")


def deploy(release, slug: str = "dev") -> Deployment:
    d = Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug=slug)
    )
    assert run_until_finished(d.pk) == Deployment.State.SUCCESS
    d.refresh_from_db()
    return d


def register_like(client_, definition: dict, container: dict) -> str:
    """A revision of ``definition``'s family with ``container``, registered outside deployserver."""
    keys = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory",
            "executionRoleArn")  # fmt: skip
    return client_.register_task_definition(
        **{k: definition[k] for k in keys if k in definition}, containerDefinitions=[container]
    )["taskDefinition"]["taskDefinitionArn"]


def row(slug: str = "dev") -> ServiceDrift:
    return ServiceDrift.objects.get(environment__slug=slug)


@pytest.fixture
def deployed(release):
    return deploy(release)


def test_a_service_as_deployed_is_in_sync(deployed):
    drift.drift_check()
    r = row()
    assert (r.state, r.reasons, r.deployment_id) == ("in_sync", [], deployed.pk)
    assert (r.cluster, r.service, r.step) == (CLUSTER, SERVICE, "Deploy web")
    assert ServiceDrift.objects.count() == 1  # Test and Prod have no deployment


def test_count_and_task_definition_changed_outside_are_drifted_with_both_reasons(deployed):
    client_ = ecs()
    td = client_.describe_task_definition(taskDefinition=deployed.outputs["task_definition_arn"])
    definition = td["taskDefinition"]
    container = dict(definition["containerDefinitions"][0])
    container["image"] = container["image"].split("@")[0].rsplit(":", 1)[0] + ":9.9.9"
    container["environment"] = [
        e if e["name"] != "OCTO_COLOR" else {"name": "OCTO_COLOR", "value": "purple"}
        for e in container["environment"]
    ]
    other = register_like(client_, definition, container)
    client_.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=5, taskDefinition=other)

    round_ = drift.drift_check()

    r = row()
    assert r.state == "drifted"
    family = definition["family"]
    before, after = definition["revision"], other.rsplit(":", 1)[1]
    assert r.reasons[0].startswith(
        f"task definition {family}:{before} → {family}:{after} (changed outside deployserver): "
    )
    assert "OCTO_COLOR blue → purple" in r.reasons[0] and "→ 9.9.9" in r.reasons[0]
    assert r.reasons[1] == "desired count 2 → 5 (changed outside deployserver)"
    assert len(r.reasons) == 2  # 2 of 5 running is within the grace period
    assert round_.calls.calls == {"DescribeServices": 1, "DescribeTaskDefinition": 2}

    # drift.detected, once, in the outbox: the next round (still drifted) adds none.
    events = Event.objects.filter(name="drift.detected")
    assert events.count() == 1
    payload = events.get().payload
    assert payload["drift"]["state"] == "drifted" and payload["drift"]["service"] == SERVICE
    assert payload["drift"]["reasons"] == r.reasons
    drift.drift_check()
    assert events.count() == 1


def test_a_secret_in_a_changed_task_definition_is_never_in_the_reasons(sandbox, admin_user):
    from releases.process import process_for, process_update
    from releases.releasing import release_create
    from releases.variables import VariableInput, variable_set_replace

    account = AwsAccount.objects.get(name=seed.ACCOUNT_NAME)
    rows = list(seed._variables(account)) + [VariableInput("DbPassword", SECRET, type="sensitive")]
    variable_set_replace(project=sandbox, rows=rows, user=admin_user)
    steps = process_for(sandbox).steps
    steps[0]["properties"]["containers"][0]["environment"].append(
        {"name": "DB_PASSWORD", "value": "#{DbPassword}"}
    )
    process_update(project=sandbox, steps=steps, user=admin_user)
    first = deploy(release_create(project=sandbox, user=admin_user, packages={"web": "1.0.1"}))
    client_ = ecs()
    definition = client_.describe_task_definition(
        taskDefinition=first.outputs["task_definition_arn"]
    )["taskDefinition"]
    container = dict(definition["containerDefinitions"][0])
    container["environment"] = [
        e if e["name"] != "DB_PASSWORD" else {"name": "DB_PASSWORD", "value": SECRET + "-rotated"}
        for e in container["environment"]
    ]
    other = register_like(client_, definition, container)
    client_.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=other)

    drift.drift_check()

    r = row()
    assert r.state == "drifted"
    assert "DB_PASSWORD changed" in r.reasons[0]
    assert SECRET not in str(r.reasons)


def test_tasks_short_of_desired_are_degraded_only_after_the_grace_period(deployed, settings):
    rollouts.tasks_short(
        account_id="123456789012", region=seed.REGION, cluster=CLUSTER, service=SERVICE,
        running=1,
    )  # fmt: skip
    settings.DRIFT_GRACE_SECONDS = 60
    drift.drift_check()
    first = row()
    assert (first.state, first.reasons) == ("in_sync", [])
    assert first.short_since is not None

    settings.DRIFT_GRACE_SECONDS = 0.3
    time.sleep(0.35)
    drift.drift_check()
    r = row()
    assert r.state == "degraded"
    assert r.reasons == ["1 of 2 tasks running, for 0 s."]
    assert r.short_since == first.short_since and r.since > first.since


def test_a_deleted_service_is_missing_and_a_redeploy_of_a_drifted_one_is_in_sync(deployed):
    client_ = ecs()
    client_.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=4)
    drift.drift_check()
    assert row().state == "drifted"

    again = deploy(deployed.release)  # "Redeploy to restore": the same release, again
    drift.drift_check()
    r = row()
    assert (r.state, r.reasons, r.deployment_id) == ("in_sync", [], again.pk)

    client_.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    drift.drift_check()
    r = row()
    assert r.state == "missing"
    assert r.reasons == [f"Service {SERVICE} in cluster {CLUSTER} is INACTIVE."]


def test_a_deleted_cluster_is_missing(deployed):
    client_ = ecs()
    client_.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    client_.delete_cluster(cluster=CLUSTER)
    drift.drift_check()
    assert row().state == "missing"


def test_an_aws_error_is_unknown_with_the_error(deployed, monkeypatch):
    stubbed = ecs()
    monkeypatch.setattr(runner, "ecs_client", lambda account, service, region: stubbed)
    clear_clients()
    with Stubber(stubbed) as stubber:
        stubber.add_client_error(
            "describe_services", "AccessDeniedException", "User is not authorized", 400
        )
        drift.drift_check()
    r = row()
    assert r.state == "unknown"
    assert r.reasons == [
        "AWS could not be read: DescribeServices: AccessDeniedException: User is not authorized"
    ]


def test_a_project_with_a_deployment_executing_is_left_for_the_next_round(deployed):
    drift.drift_check()
    checked = row().checked_at
    Deployment.objects.filter(pk=deployed.pk).update(state=Deployment.State.EXECUTING)
    result = drift.drift_check()
    assert result.skipped == 1 and result.rows == []
    assert row().checked_at == checked


def test_a_deployment_from_before_outputs_recorded_the_settings_is_compared_by_its_plan(deployed):
    outputs = dict(deployed.outputs)
    recorded = ("aws_account", "region", "desired_count", "deployment_configuration")
    steps = {
        name: {k: v for k, v in out.items() if k not in recorded}
        for name, out in outputs["steps"].items()
    }
    Deployment.objects.filter(pk=deployed.pk).update(outputs={**outputs, "steps": steps})
    drift.drift_check()
    assert row().state == "in_sync"
    ecs().update_service(cluster=CLUSTER, service=SERVICE, desiredCount=3)
    drift.drift_check()
    assert row().reasons == ["desired count 2 → 3 (changed outside deployserver)"]


def test_services_are_read_ten_per_describe_services_per_cluster(aws_account):
    from django.utils import timezone

    from deployments.aws_ecs.drift import Expected, services_observe
    from deployments.runners import CheckRound

    client_ = client(aws_account, "ecs")
    arn = client_.register_task_definition(
        family="batch", containerDefinitions=[{"name": "web", "image": "nginx:1", "memory": 64}]
    )["taskDefinition"]["taskDefinitionArn"]
    targets = []
    for cluster, count in (("batch-a", 23), ("batch-b", 4)):
        client_.create_cluster(clusterName=cluster)
        for n in range(count):
            name = f"svc-{n:02d}"
            client_.create_service(cluster=cluster, serviceName=name, taskDefinition=arn,
                                   desiredCount=0)  # fmt: skip
            targets.append(Expected(key=(cluster, name), account=aws_account.slug,
                                    region="us-east-1", cluster=cluster, service=name,
                                    task_definition=arn, desired_count=0,
                                    deployment_configuration={}))  # fmt: skip
    sizes = []
    real = runner.ecs_client

    def counting(account, service, region):
        made = real(account, service, region)
        made.meta.events.register(
            "before-parameter-build.ecs.DescribeServices",
            lambda params, **kw: sizes.append(len(params["services"])),
        )
        return made

    runner.ecs_client = counting
    clear_clients()
    try:
        round_ = CheckRound()
        seen = services_observe(targets, now=timezone.now(), grace=60, round_=round_)
    finally:
        runner.ecs_client = real
    assert {o.state for o in seen.values()} == {"in_sync"} and len(seen) == 27
    assert sorted(sizes) == [3, 4, 10, 10] and round_.calls == {"DescribeServices": 4}
    assert round_.groups == 2


def test_post_check_runs_a_round_now_for_the_services_asked(deployed, admin_api):
    ecs().update_service(cluster=CLUSTER, service=SERVICE, desiredCount=3)
    response = admin_api.post(
        "/api/drift/check/", {"project": "hello-color", "environment": "dev"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["round"]["services"] == 1 and body["round"]["calls"] == {"DescribeServices": 1}
    assert [(r["service"], r["state"], r["reasons"]) for r in body["results"]] == [
        (SERVICE, "drifted", ["desired count 2 → 3 (changed outside deployserver)"])
    ]
    assert admin_api.get("/api/drift/").json()["results"][0]["state"] == "drifted"


def test_beat_sends_the_round_every_drift_check_seconds(deployed, settings):
    from deployments.tasks import drift_round

    entry = settings.CELERY_BEAT_SCHEDULE["deployments-drift"]
    assert entry["task"] == "deployments.drift" == drift_round.name
    assert entry["schedule"] == settings.DRIFT_CHECK_SECONDS == 300
    assert drift_round.apply().get()["services"] == 1
    assert row().state == "in_sync"
