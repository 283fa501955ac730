"""What a deployment would change, read from the sandbox's ECS: exactly the fields that differ,
sensitive values never shown, a missing service said clearly — on the API, the release page and
at the top of the deployment's log."""

import pytest

from deployments.models import Deployment
from deployserver.core.aws import client
from deployserver.core.models import AwsAccount
from releases.models import Environment
from releases.process import process_for, process_update
from releases.releasing import release_create
from releases.variables import VariableInput, variable_set_replace
from sandbox import seed
from tests.deployments.engine.helpers import run_until_finished

pytestmark = pytest.mark.django_db(transaction=True)

OLD_SECRET, NEW_SECRET = "old-s3cret-value", "new-s3cret-value"


def set_variables(project, user, color: str, secret: str) -> None:
    account = AwsAccount.objects.get(name=seed.ACCOUNT_NAME)
    rows = [
        r for r in seed._variables(account) if not (r.name == "Color" and "dev" in r.environments)
    ]
    rows += [
        VariableInput("Color", color, environments=["dev"]),
        VariableInput("DbPassword", secret, type="sensitive"),
    ]
    variable_set_replace(project=project, rows=rows, user=user)


@pytest.fixture
def deployed(sandbox, admin_user):
    """Hello Color 1.0.1 with Color red (and a password) deployed to Dev; then the project's
    Color becomes blue, its password changes, and release 1.1.0 is made."""
    set_variables(sandbox, admin_user, "red", OLD_SECRET)
    steps = process_for(sandbox).steps
    steps[0]["properties"]["containers"][0]["environment"].append(
        {"name": "DB_PASSWORD", "value": "#{DbPassword}"}
    )
    process_update(project=sandbox, steps=steps, user=admin_user)
    first = release_create(project=sandbox, user=admin_user, packages={"web": "1.0.1"})
    d = Deployment.objects.create(
        release=first, project=sandbox, environment=Environment.objects.get(slug="dev")
    )
    assert run_until_finished(d.pk) == Deployment.State.SUCCESS
    set_variables(sandbox, admin_user, "blue", NEW_SECRET)
    return release_create(project=sandbox, user=admin_user, packages={"web": "1.1.0"})


def test_the_diff_has_exactly_the_image_the_colour_and_a_masked_password(deployed, admin_client):
    response = admin_client.get(f"/api/releases/{deployed.pk}/diff/?environment=dev")
    assert response.status_code == 200
    body = response.json()
    changes = {c["path"]: c for c in body["changes"]}
    assert set(changes) == {
        "containers.web.image",
        "containers.web.environment.OCTO_COLOR",
        "containers.web.environment.DB_PASSWORD",
    }
    assert (changes["containers.web.environment.OCTO_COLOR"]["from"], changes[
        "containers.web.environment.OCTO_COLOR"]["to"]) == ("red", "blue")  # fmt: skip
    image = changes["containers.web.image"]
    assert image["from"] != image["to"] and "@sha256:" in image["to"]
    assert changes["containers.web.environment.DB_PASSWORD"] == {
        "path": "containers.web.environment.DB_PASSWORD",
        "from": "••••",
        "to": "••••",
        "sensitive": True,
    }
    assert body["error"] is None and body["summary"].startswith("3 changes: ")
    text = response.content.decode()
    assert OLD_SECRET not in text and NEW_SECRET not in text

    page = admin_client.get(f"/releases/{deployed.pk}/diff/?environment=dev").content.decode()
    assert "3 changes" in page and "OCTO_COLOR" in page and "blue" in page
    assert OLD_SECRET not in page and NEW_SECRET not in page


def test_the_deployments_log_starts_its_step_with_the_same_summary(deployed):
    d = Deployment.objects.create(
        release=deployed, project=deployed.project, environment=Environment.objects.get(slug="dev")
    )
    assert run_until_finished(d.pk) == Deployment.State.SUCCESS
    lines = list(d.log_lines.values_list("text", flat=True))
    summary = next(t for t in lines if t.startswith("3 changes: "))
    assert "OCTO_COLOR red → blue" in summary and "DB_PASSWORD changed" in summary
    assert not any(OLD_SECRET in t or NEW_SECRET in t for t in lines)


def test_a_secret_the_release_drops_is_not_shown_from_what_runs_now(deployed, admin_client):
    steps = process_for(deployed.project).steps
    steps[0]["properties"]["containers"][0]["environment"] = [
        e
        for e in steps[0]["properties"]["containers"][0]["environment"]
        if e["name"] != "DB_PASSWORD"
    ]
    process_update(project=deployed.project, steps=steps, user=None)
    release = release_create(project=deployed.project, user=None, packages={"web": "1.1.0"})

    response = admin_client.get(f"/api/releases/{release.pk}/diff/?environment=dev")
    dropped = {c["path"]: c for c in response.json()["changes"]}[
        "containers.web.environment.DB_PASSWORD"
    ]
    assert dropped == {
        "path": "containers.web.environment.DB_PASSWORD",
        "from": "••••",
        "to": None,
        "sensitive": True,
    }
    assert OLD_SECRET not in response.content.decode()


def test_a_missing_service_is_said_in_place_of_the_diff(deployed, admin_client):
    ecs = client(AwsAccount.objects.get(name=seed.ACCOUNT_NAME), "ecs")
    ecs.delete_service(cluster="hello-color-dev", service="hello-color-dev", force=True)

    body = admin_client.get(f"/api/releases/{deployed.pk}/diff/?environment=dev").json()
    assert body["error"] == (
        "Service hello-color-dev was not found in cluster hello-color-dev: a deployment would fail."
    )
    assert body["current"] is None


def test_an_unknown_environment_is_404_and_a_missing_parameter_400(deployed, admin_client):
    assert (
        admin_client.get(f"/api/releases/{deployed.pk}/diff/?environment=nope").status_code == 404
    )
    assert admin_client.get(f"/api/releases/{deployed.pk}/diff/").status_code == 400
