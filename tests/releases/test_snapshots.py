"""A release is frozen: later edits of the project, its variables or the registry never
change it."""

import pytest

from deployserver.core.models import AuditEvent
from releases.process import process_update
from releases.releasing import release_create, release_variable_specs
from releases.variables import VariableInput, variable_list, variable_set_replace
from tests.scenarios import push

pytestmark = pytest.mark.django_db


def rows_of(project, **changes):
    rows = []
    for v in variable_list(project):
        value = None if v.is_sensitive else changes.get(v.name, v.value)
        scopes = [s.environment.slug for s in v.scopes.all()]
        rows.append(VariableInput(v.name, value, v.type, scopes, id=v.pk))
    return rows


def test_editing_the_process_and_variables_never_changes_an_existing_release(
    admin_api, project, admin_user, release_feed
):
    release = release_create(project=project, user=admin_user)
    frozen_steps = release.process_snapshot
    frozen_variables = release.variables_snapshot

    step = project.deployment_process.steps[0]
    step["properties"]["desired_count"] = 7
    step["name"] = "Deploy web v2"
    process_update(project=project, steps=[step], user=admin_user)
    variable_set_replace(project=project, user=admin_user, rows=rows_of(project, Color="green"))

    release.refresh_from_db()
    assert release.process_snapshot == frozen_steps
    assert release.process_snapshot[0]["name"] == "Deploy web"
    assert release.variables_snapshot == frozen_variables
    assert {s.name: s.value for s in release_variable_specs(release)}["Color"] == "red"
    assert release_create(project=project, user=admin_user).process_snapshot[0]["name"] == (
        "Deploy web v2"
    )


def test_sensitive_values_are_encrypted_in_the_snapshot_and_never_shown(admin_api, project):
    response = admin_api.post("/api/projects/hello-color/releases/", {}, format="json")
    assert "s3cret-value" not in response.content.decode()
    from releases.models import Release

    release = Release.objects.get()
    stored = {v["name"]: v["value"] for v in release.variables_snapshot}
    assert stored["DbPassword"] != "s3cret-value"
    decrypted = {s.name: s.value for s in release_variable_specs(release)}
    assert decrypted["DbPassword"] == "s3cret-value"
    detail = admin_api.get(f"/api/releases/{release.pk}/")
    assert "s3cret-value" not in detail.content.decode()
    assert "variables_snapshot" not in detail.json()


def test_the_release_says_when_variables_changed_and_an_audited_update_refreshes_them(
    admin_api, project, admin_user
):
    release = release_create(project=project, user=admin_user)
    url = f"/api/releases/{release.pk}/"
    assert admin_api.get(url).json()["variables_changed"] is False
    variable_set_replace(project=project, user=admin_user, rows=rows_of(project, Color="green"))
    assert admin_api.get(url).json()["variables_changed"] is True

    response = admin_api.post(url + "update-variables/")
    assert response.status_code == 200, response.json()
    assert response.json()["variables_changed"] is False
    release.refresh_from_db()
    assert {s.name: s.value for s in release_variable_specs(release)}["Color"] == "green"
    assert AuditEvent.objects.filter(
        object_type="releases.release",
        object_id=str(release.pk),
        summary__startswith="Updated the variable snapshot",
    ).exists()


def test_the_digest_stays_pinned_when_the_tag_is_moved_to_another_image(
    admin_api, project, admin_user, ecr_client
):
    release = release_create(project=project, user=admin_user, packages={"web": "1.2.0"})
    pinned = release.packages["web"]["digest"]

    moved = push(ecr_client, "1.2.0", seed="a rebuilt 1.2.0")  # same tag, another manifest
    assert moved != pinned
    now = ecr_client.describe_images(
        repositoryName="hello-color", imageIds=[{"imageTag": "1.2.0"}]
    )["imageDetails"][0]["imageDigest"]
    assert now == moved

    release.refresh_from_db()
    assert release.packages["web"]["digest"] == pinned
    api = admin_api.get(f"/api/releases/{release.pk}/").json()
    assert api["packages"]["web"]["digest"] == pinned

    # A new release of the same version pins what the tag names now, even though the version
    # listing is still cached from the first one.
    again = release_create(project=project, user=admin_user, packages={"web": "1.2.0"})
    assert again.packages["web"]["digest"] == moved
