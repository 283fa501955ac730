"""``/api/projects/{slug}/process/``: steps validated by their type, all or nothing."""

import pytest

from deployserver.core.models import AuditEvent
from releases.process import process_for
from tests.factories import ecs_step

pytestmark = pytest.mark.django_db
URL = "/api/projects/hello-color/process/"


def put(admin_api, steps, **extra):
    return admin_api.put(URL, {"steps": steps, **extra}, format="json")


def test_get_returns_the_steps_with_defaults_filled_in(admin_api, hello_project):
    data = admin_api.get(URL).json()
    assert data["version"] == 1
    (step,) = data["steps"]
    assert step["name"] == "Deploy web" and step["type"] == "aws-ecs-deploy"
    assert step["properties"]["task_cpu"] == 256  # text "256" stored as a number
    assert step["properties"]["wait_mode"] == "steady"
    assert step["properties"]["containers"][0]["essential"] is True


def test_a_project_without_a_process_has_no_steps(admin_api, dev_prod):
    from tests.factories import ProjectFactory

    ProjectFactory(slug="empty")
    assert admin_api.get("/api/projects/empty/process/").json() == {
        "project": "empty",
        "version": 0,
        "steps": [],
    }


def test_put_saves_a_new_version_and_audits_it(admin_api, hello_project, ecs_example_feed):
    response = put(admin_api, [ecs_step(ecs_example_feed, desired_count=3)], version=1)
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    assert process_for(hello_project).steps[0]["properties"]["desired_count"] == 3
    assert AuditEvent.objects.filter(summary__contains="version 2").exists()


def test_bad_input_gets_every_field_level_message_and_changes_nothing(
    admin_api, hello_project, ecs_example_feed
):
    step = ecs_step(ecs_example_feed, network_mode="bridge", task_cpu="3")
    step["properties"]["containers"][0]["image"] = ""
    step["properties"]["containers"][0]["port_mappings"] = [{"container_port": 70000}]
    step["properties"]["task_role_arn"] = "arn:aws:iam::12:role/x"
    response = put(admin_api, [step])
    assert response.status_code == 400
    errors = response.json()
    prefix = "steps[0].properties."
    assert errors[prefix + "network_mode"] == [
        "FARGATE tasks need the awsvpc network mode (got bridge)."
    ]
    assert errors[prefix + "task_cpu"][0].startswith("FARGATE task CPU must be one of 256, 512")
    assert errors[prefix + "containers[0].image"] == ["Image is required."]
    assert errors[prefix + "containers[0].port_mappings[0].container_port"] == [
        "Enter a number between 1 and 65535 (got 70000)."
    ]
    assert "role ARN" in errors[prefix + "task_role_arn"][0]
    assert process_for(hello_project).version == 1


@pytest.mark.parametrize(
    ("change", "key", "fragment"),
    [
        ({"type": "shell-script"}, "steps[0].type", "Unknown step type 'shell-script'"),
        ({"name": ""}, "steps[0].name", "needs a name"),
        ({"extra": 1}, "steps[0].extra", "Unknown property"),
        (
            {"packages": [{"name": "web", "feed": 99999, "package_id": "x"}]},
            "steps[0].packages[0].feed",
            "No feed",
        ),
        (
            {"packages": [{"name": "web", "feed": None, "package_id": "Bad Repo"}]},
            "steps[0].packages[0].package_id",
            "repository",
        ),
    ],
)
def test_bad_steps_are_refused(admin_api, hello_project, ecs_example_feed, change, key, fragment):
    response = put(admin_api, [{**ecs_step(ecs_example_feed), **change}])
    assert response.status_code == 400
    assert fragment in " ".join(response.json()[key])


def test_an_expression_nothing_can_resolve_is_refused(admin_api, hello_project, ecs_example_feed):
    step = ecs_step(ecs_example_feed, cluster="#{Clustr}", service="#{Package[api].Image}")
    response = put(admin_api, [step])
    assert response.status_code == 400
    assert response.json() == {
        "steps[0].properties.cluster": [
            "#{Clustr} is not defined: no project variable or system variable has this name."
        ],
        "steps[0].properties.service": [
            "#{Package[api].Image}: this step has no package reference 'api'."
        ],
    }


def test_a_malformed_expression_is_refused(admin_api, hello_project, ecs_example_feed):
    response = put(admin_api, [ecs_step(ecs_example_feed, cluster="#{ClusterName | Shout}")])
    assert "unknown filter 'Shout'" in response.json()["steps[0].properties.cluster"][0]


def test_two_steps_need_different_names(admin_api, hello_project, ecs_example_feed):
    response = put(admin_api, [ecs_step(ecs_example_feed), ecs_step(ecs_example_feed)])
    assert response.json() == {"steps[1].name": ["Another step is already called Deploy web."]}


def test_a_stale_version_is_a_409(admin_api, hello_project, ecs_example_feed):
    response = put(admin_api, [ecs_step(ecs_example_feed)], version=0)
    assert response.status_code == 409
    assert "reload" in response.json()["detail"]


def test_steps_must_be_a_list(admin_api, hello_project):
    assert put(admin_api, "nope").status_code == 400


def test_reading_needs_a_login_and_writing_needs_permission(api_client, viewer_user, hello_project):
    assert api_client.get(URL).status_code == 401
    api_client.force_authenticate(viewer_user)
    assert api_client.get(URL).status_code == 200
    assert api_client.put(URL, {"steps": []}, format="json").status_code == 403
