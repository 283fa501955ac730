"""The preview: the exact requests a deployment to an environment would send, secrets masked."""

import base64

import pytest

from releases.process import process_preview, process_update
from releases.variables import VariableInput, variable_list, variable_set_replace
from tests.factories import EXECUTION_ROLE, ecs_step
from tests.scenarios import SECRET

pytestmark = pytest.mark.django_db


def preview(admin_api, env="dev", slug="hello-color"):
    return admin_api.get(f"/api/projects/{slug}/process/preview/?environment={env}")


def env_of(data):
    container = data["steps"][0]["requests"]["RegisterTaskDefinition"]["containerDefinitions"][0]
    return {e["name"]: e["value"] for e in container["environment"]}


def test_preview_for_dev_shows_the_exact_requests(admin_api, hello_project, aws_account):
    response = preview(admin_api, "dev")
    assert response.status_code == 200, response.json()
    step = response.json()["steps"][0]
    image = step["packages"]["web"]["image"]
    assert image.endswith("/hello-color:1.0.1")
    assert step["packages"]["web"]["version"] == "1.0.1"
    assert step["aws_account"] == aws_account.slug
    assert step["requests"]["RegisterTaskDefinition"] == {
        "family": "hello-dev",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "taskRoleArn": EXECUTION_ROLE,
        "executionRoleArn": EXECUTION_ROLE,
        "containerDefinitions": [
            {
                "name": "web",
                "image": image,
                "essential": True,
                "memory": 256,
                "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
                "environment": [
                    {"name": "OCTO_COLOR", "value": "blue"},
                    {"name": "OCTO_MSG", "value": "Hello Dev"},
                    {"name": "DB_PASSWORD", "value": "********"},
                    {"name": "DB_PASSWORD_B64", "value": "********"},
                ],
            }
        ],
    }
    assert step["requests"]["UpdateService"] == {
        "cluster": "dev-cluster",
        "service": "hello-svc",
        "taskDefinition": "hello-dev",
        "desiredCount": 2,
        "deploymentConfiguration": {
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
        "forceNewDeployment": True,
    }


def test_scoped_values_apply_per_environment(admin_api, hello_project):
    dev, prod = preview(admin_api, "dev").json(), preview(admin_api, "prod").json()
    assert env_of(dev)["OCTO_COLOR"] == "blue"
    assert env_of(prod)["OCTO_COLOR"] == "red"
    assert prod["steps"][0]["requests"]["UpdateService"]["cluster"] == "prod-cluster"
    assert prod["steps"][0]["requests"]["RegisterTaskDefinition"]["family"] == "hello-prod"


def test_the_sensitive_value_and_its_encodings_are_masked(admin_api, hello_project):
    body = preview(admin_api, "dev").content.decode()
    assert SECRET not in body
    assert base64.b64encode(SECRET.encode()).decode() not in body
    assert 'p@ss\\"word' not in body


def test_the_service_result_is_masked_too(hello_project, dev_prod):
    result = process_preview(project=hello_project, environment=dev_prod[0])
    assert result.errors == {}
    assert SECRET not in repr(result.steps)


def test_an_unresolvable_name_in_one_environment_is_a_400_naming_it(
    admin_api, hello_project, admin_user
):
    rows = [
        VariableInput(v.name, None if v.is_sensitive else v.value, v.type,
                      [s.environment.slug for s in v.scopes.all()], id=v.pk)
        for v in variable_list(hello_project)
        if not (v.name == "ClusterName" and v.scopes.all()[0].environment.slug == "prod")
    ]  # fmt: skip
    variable_set_replace(project=hello_project, rows=rows, user=admin_user)
    assert preview(admin_api, "dev").status_code == 200
    response = preview(admin_api, "prod")
    assert response.status_code == 400
    assert response.json() == {"steps[0].properties.cluster": ["#{ClusterName} is not defined"]}


def test_values_that_aws_would_refuse_after_substitution_are_a_400(
    admin_api, hello_project, admin_user, ecs_example_feed
):
    rows = [VariableInput(v.name, None if v.is_sensitive else v.value, v.type,
                          [s.environment.slug for s in v.scopes.all()], id=v.pk)
            for v in variable_list(hello_project)]  # fmt: skip
    rows.append(VariableInput("Cpu", "3"))
    variable_set_replace(project=hello_project, rows=rows, user=admin_user)
    process_update(
        project=hello_project,
        steps=[ecs_step(ecs_example_feed, task_cpu="#{Cpu}")],
        user=admin_user,
    )
    response = preview(admin_api, "dev")
    assert response.status_code == 400
    assert "FARGATE task CPU must be one of" in response.json()["steps[0].properties.task_cpu"][0]


def test_a_package_missing_from_the_feed_is_named(
    admin_api, hello_project, admin_user, ecs_example_feed
):
    step = ecs_step(ecs_example_feed)
    step["packages"][0]["package_id"] = "no-such-repo"
    process_update(project=hello_project, steps=[step], user=admin_user)
    response = preview(admin_api, "dev")
    assert response.status_code == 400
    assert list(response.json()) == ["steps[0].packages[0]"]


@pytest.mark.parametrize(
    ("query", "message"), [("", "Give ?environment"), ("?environment=qa", "No environment 'qa'")]
)
def test_the_environment_must_exist(admin_api, hello_project, query, message):
    response = admin_api.get(f"/api/projects/hello-color/process/preview/{query}")
    assert response.status_code == 400
    assert message in response.json()["environment"][0]


def test_an_unknown_project_is_a_404(admin_api, dev_prod):
    assert preview(admin_api, "dev", slug="nope").status_code == 404


def test_the_preview_page_shows_each_environment(client, admin_user, hello_project):
    client.force_login(admin_user)
    dev = client.get("/projects/hello-color/process/preview/?environment=dev")
    prod = client.get("/projects/hello-color/process/preview/?environment=prod")
    assert dev.status_code == prod.status_code == 200
    assert "&quot;blue&quot;" in dev.content.decode() and "&quot;red&quot;" in prod.content.decode()
    assert SECRET not in dev.content.decode()
