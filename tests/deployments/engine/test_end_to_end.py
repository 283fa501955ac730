"""A release deployed Dev → Test → Prod by a real Celery worker over Redis and PostgreSQL, against
the sandbox (moto over HTTP, rollouts that progress); then ECS itself is read back."""

import pytest

from deployments.models import Deployment
from deployserver.core.aws import client
from deployserver.core.models import AwsAccount
from sandbox import seed

from .helpers import run_until_finished, wait_for

pytestmark = [pytest.mark.django_db(transaction=True)]


def deploy_and_wait(admin_api, path, data=None):
    response = admin_api.post(path, data or {}, format="json")
    assert response.status_code == 201, response.content
    return wait_for(response.json()["id"])


def test_release_promoted_dev_test_prod_lands_in_each_environments_service(
    celery_worker_process, sandbox, admin_api
):
    response = admin_api.post(
        "/api/projects/hello-color/releases/", {"packages": {"web": "1.1.0"}}, format="json"
    )
    assert response.status_code == 201, response.content
    release = response.json()
    digest = release["packages"]["web"]["digest"]

    dev = deploy_and_wait(
        admin_api, "/api/deployments/", {"release": release["id"], "environment": "dev"}
    )
    assert dev.state == Deployment.State.SUCCESS, dev.error
    test = deploy_and_wait(admin_api, f"/api/releases/{release['id']}/promote/")
    prod = deploy_and_wait(admin_api, f"/api/releases/{release['id']}/promote/")
    assert [test.environment.slug, prod.environment.slug] == ["test", "prod"]
    assert test.state == prod.state == Deployment.State.SUCCESS

    account = AwsAccount.objects.get(name=seed.ACCOUNT_NAME)
    ecs = client(account, "ecs")
    role = client(account, "iam").get_role(RoleName=seed.EXECUTION_ROLE)["Role"]["Arn"]
    for deployment in (dev, test, prod):
        slug = deployment.environment.slug
        name = f"hello-color-{slug}"
        service = ecs.describe_services(cluster=name, services=[name])["services"][0]
        assert service["taskDefinition"] == deployment.outputs["task_definition_arn"]
        assert service["taskDefinition"].endswith(f"task-definition/{name}:2")
        assert deployment.outputs["previous_task_definition_arn"].endswith(f"{name}:1")
        assert deployment.outputs["service_arn"] == service["serviceArn"]
        assert service["desiredCount"] == 2
        assert service["deploymentConfiguration"] == {
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        }
        td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
        td = td["taskDefinition"]
        assert (td["family"], td["cpu"], td["memory"], td["networkMode"]) == (
            name,
            "256",
            "512",
            "awsvpc",
        )
        assert td["requiresCompatibilities"] == ["FARGATE"]
        assert td["executionRoleArn"] == role
        (container,) = td["containerDefinitions"]
        assert container["name"] == "web"
        assert container["image"].endswith(f"/hello-color@{digest}")  # pinned digest
        assert container["portMappings"][0]["containerPort"] == 80
        environment = {e["name"]: e["value"] for e in container["environment"]}
        assert environment == {
            "OCTO_COLOR": seed.COLORS[slug],
            "OCTO_MSG": f"Hello from {deployment.environment.name}",
        }


def test_log_api_returns_the_lines_after_a_seq_and_says_when_the_log_is_finished(
    celery_worker_process, release, admin_api
):
    response = admin_api.post(
        "/api/deployments/", {"release": release.pk, "environment": "dev"}, format="json"
    )
    deployment = wait_for(response.json()["id"])
    first = admin_api.get(f"/api/deployments/{deployment.pk}/log/?limit=3").json()
    assert [line["seq"] for line in first["lines"]] == [1, 2, 3]
    assert first["finished"] is False  # more lines follow this page
    rest = admin_api.get(f"/api/deployments/{deployment.pk}/log/?after=3").json()
    assert rest["lines"][0]["seq"] == 4 and rest["finished"] is True
    assert rest["next"] == rest["lines"][-1]["seq"]
    assert {"seq", "time", "level", "step", "text"} == set(rest["lines"][0])
    assert any("completed: 2 of 2 tasks running" in line["text"] for line in rest["lines"])
    bad = admin_api.get(f"/api/deployments/{deployment.pk}/log/?after=soon")
    assert bad.status_code == 400 and "after" in bad.json()


def test_image_goes_by_tag_when_the_project_does_not_pin_digests(release):
    from releases.models import Environment

    release.project.pin_digest = False
    release.project.save(update_fields=["pin_digest"])
    deployment = Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug="dev")
    )
    assert run_until_finished(deployment.pk) == Deployment.State.SUCCESS
    deployment.refresh_from_db()
    ecs = client(AwsAccount.objects.get(name=seed.ACCOUNT_NAME), "ecs")
    td = ecs.describe_task_definition(taskDefinition=deployment.outputs["task_definition_arn"])
    image = td["taskDefinition"]["containerDefinitions"][0]["image"]
    assert image.endswith("/hello-color:1.0.1")
