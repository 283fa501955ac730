"""In a real Chromium: variables added in the grid change what the preview would send."""

from pathlib import Path

import pytest

from releases.process import process_update
from releases.variables import VariableInput, variable_set_replace
from tests.factories import ProjectFactory, ecs_step

SHOTS = Path("/tmp/shots/process")


@pytest.fixture
def signed_in(page, live_server, transactional_db, admin_user):
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("admin-pass-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    return page


@pytest.fixture
def colourless_project(dev_prod, ecs_example_feed, aws_account, admin_user):
    """The ECS example without a Color variable: its container does not use one yet."""
    project = ProjectFactory(name="Hello Color", slug="hello-color")
    variable_set_replace(
        project=project,
        user=admin_user,
        rows=[
            VariableInput("Message", "Hello #{Environment.Name}"),
            VariableInput("TaskName", "hello-#{Environment.Name | ToLower}"),
            VariableInput("ClusterName", "dev-cluster", environments=["dev"]),
            VariableInput("ClusterName", "prod-cluster", environments=["prod"]),
            VariableInput("ServiceName", "hello-svc"),
            VariableInput("AwsAccount", aws_account.slug, type="aws-account"),
            VariableInput("DbPassword", "e2e-secret-value", type="sensitive"),
        ],
    )
    step = ecs_step(ecs_example_feed)
    step["properties"]["containers"][0]["environment"] = [
        {"name": "OCTO_MSG", "value": "#{Message}"}
    ]
    process_update(project=project, steps=[step], user=admin_user)
    return project


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 420, "height": 900})
    page.screenshot(path=str(SHOTS / f"{name}-420.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.e2e
def test_color_red_everywhere_and_blue_in_dev(signed_in, live_server, colourless_project):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    base = f"{live_server.url}/projects/hello-color"

    # Two values of Color in the grid: unscoped red, blue scoped to Dev.
    page.goto(f"{base}/variables/")
    rows = page.locator("[data-rows] tr")
    count = rows.count()
    page.get_by_role("button", name="Add variable").click()
    rows.nth(count).get_by_label("Name").fill("Color")
    rows.nth(count).get_by_label("Value").fill("red")
    page.get_by_role("button", name="Add variable").click()
    rows.nth(count + 1).get_by_label("Name").fill("Color")
    rows.nth(count + 1).get_by_label("Value").fill("blue")
    rows.nth(count + 1).locator(".scope-chip", has_text="Dev").click()
    page.get_by_label("As seen in").select_option("dev")
    assert rows.nth(count + 1).locator(".applies-badge").is_visible()
    assert rows.nth(count).locator(".overridden-badge").is_visible()
    page.get_by_label("As seen in").select_option("")
    page.get_by_role("button", name="Save variables").click()
    page.get_by_text("Saved 9 variables.").wait_for()
    assert page.locator("[data-secret-set]").count() == 1
    assert "e2e-secret-value" not in page.content()
    page.get_by_label("As seen in").select_option("prod")
    shoot(page, "variables-as-seen-in-prod")
    page.get_by_label("As seen in").select_option("")
    shoot(page, "variables")

    # The container gets OCTO_COLOR=#{Color}, added in place in the process editor.
    page.goto(f"{base}/process/")
    env_list = page.locator(".prop-list-environment").first
    env_list.get_by_role("button", name="Add environment variable").click()
    entry = env_list.locator("[data-item]").last
    entry.get_by_label("Name").fill("OCTO_COLOR")
    entry.get_by_label("Value").fill("#{Color}")
    page.get_by_role("button", name="Save process").click()
    page.get_by_text("Deployment process saved.").wait_for()
    assert page.locator("[data-versions] .badge").first.inner_text() == "1.0.1"
    shoot(page, "process")

    # Preview Dev shows blue, Prod shows red.
    page.get_by_role("link", name="Preview for Dev").click()
    register = page.locator('[data-request="RegisterTaskDefinition"]')
    assert '"name": "OCTO_COLOR",\n' in register.inner_text()
    assert '"value": "blue"' in register.inner_text()
    assert '"value": "red"' not in register.inner_text()
    shoot(page, "preview-dev")
    page.locator(".env-switch").get_by_role("link", name="Prod").click()
    register = page.locator('[data-request="RegisterTaskDefinition"]')
    assert '"value": "red"' in register.inner_text()
    assert '"value": "blue"' not in register.inner_text()
    assert "prod-cluster" in page.locator('[data-request="UpdateService"]').inner_text()


@pytest.mark.e2e
def test_an_error_is_shown_on_the_preview_and_in_the_editor(
    signed_in, live_server, colourless_project
):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    base = f"{live_server.url}/projects/hello-color"
    page.goto(f"{base}/process/")
    page.locator('[name="steps[0].properties.network_mode"]').select_option("bridge")
    page.locator('[name="steps[0].properties.task_cpu"]').fill("3")
    page.get_by_role("button", name="Save process").click()
    page.get_by_text("The process was not saved").wait_for()
    assert page.get_by_text("FARGATE tasks need the awsvpc network mode").is_visible()
    shoot(page, "process-errors")
    page.goto(f"{base}/process/")
    page.get_by_role("button", name="Add an ECS deploy step").click()
    shoot(page, "process-new-step")


@pytest.mark.e2e
def test_steps_are_reordered_in_place(
    signed_in, live_server, colourless_project, ecs_example_feed, admin_user
):
    from releases.process import process_for

    first, second = ecs_step(ecs_example_feed), ecs_step(ecs_example_feed)
    first["properties"]["containers"][0]["environment"] = []
    second["name"] = "Deploy worker"
    second["properties"]["containers"][0]["environment"] = []
    process_update(project=colourless_project, steps=[first, second], user=admin_user)
    page = signed_in
    page.goto(f"{live_server.url}/projects/hello-color/process/")
    page.locator("[data-step]").nth(1).get_by_role("button", name="Move step up").click()
    page.locator("[data-step]").nth(0).locator('input[name$=".properties.desired_count"]').fill("5")
    page.get_by_role("button", name="Save process").click()
    page.get_by_text("Deployment process saved.").wait_for()
    steps = process_for(colourless_project).steps
    assert [s["name"] for s in steps] == ["Deploy worker", "Deploy web"]
    assert steps[0]["properties"]["desired_count"] == 5


@pytest.mark.e2e
def test_a_run_task_step_is_added_and_moved_before_the_service_step(
    signed_in, live_server, colourless_project, ecs_example_feed
):
    from releases.process import process_for

    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/projects/hello-color/process/")
    page.get_by_role("button", name="Add a run-task step").click()
    step = page.locator("[data-step]").nth(1)
    assert step.locator(".badge").first.inner_text() == "Run a task on Amazon ECS"

    def field(name):
        return step.locator(f'[name$=".properties.{name}"]')

    step.locator('input[name$=".name"]').first.fill("Migrate database")
    step.locator('select[name$=".packages[0].feed"]').select_option(str(ecs_example_feed.pk))
    step.locator('input[name$=".packages[0].package_id"]').fill("hello-color")
    field("aws_account").fill("#{AwsAccount}")
    field("region").fill("us-east-1")
    field("cluster").fill("#{ClusterName}")
    field("task_family").fill("#{TaskName}-migrate")
    field("task_cpu").fill("256")
    field("task_memory").fill("512")
    field("subnets").fill("subnet-0a1b2c3d")
    field("security_groups").fill("sg-0a1b2c3d")
    field("command").fill("python manage.py migrate --noinput")
    step.get_by_role("button", name="Move step up").click()
    shoot(page, "process-run-task")
    page.get_by_role("button", name="Save process").click()
    page.get_by_text("Deployment process saved.").wait_for()

    steps = process_for(colourless_project).steps
    assert [(s["name"], s["type"]) for s in steps] == [
        ("Migrate database", "aws-ecs-run-task"),
        ("Deploy web", "aws-ecs-deploy"),
    ]
    assert steps[0]["properties"]["command"] == "python manage.py migrate --noinput"
    assert steps[0]["properties"]["containers"][0]["image"] == "#{Package[migrate].Image}"
