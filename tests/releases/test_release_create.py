"""Cutting a release: versions, package versions from the feed under channel rules, snapshots."""

import pytest
from django.core.exceptions import ValidationError

from deployserver.core.models import AuditEvent
from releases.channels import channel_create
from releases.models import Release
from releases.releasing import release_create, release_next_version
from tests.factories import ReleaseFactory
from tests.scenarios import push

pytestmark = pytest.mark.django_db


def create(admin_api, slug="hello-color", **data):
    return admin_api.post(f"/api/projects/{slug}/releases/", data, format="json")


def test_a_release_pins_the_newest_stable_version_with_its_tag_and_digest(
    admin_api, project, ecr_client
):
    response = create(admin_api, notes="First **release**")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == "0.0.1"
    web = body["packages"]["web"]
    described = ecr_client.describe_images(
        repositoryName="hello-color", imageIds=[{"imageTag": "2.0.0"}]
    )["imageDetails"][0]
    assert (web["version"], web["tag"], web["package_id"]) == ("2.0.0", "2.0.0", "hello-color")
    assert web["digest"] == described["imageDigest"]
    assert web["image"].endswith("/hello-color:2.0.0")
    release = Release.objects.get(pk=body["id"])
    assert release.created_by.username == "admin"
    assert [s["name"] for s in release.process_snapshot] == ["Deploy web"]
    event = AuditEvent.objects.get(object_type="releases.release", object_id=str(release.pk))
    assert event.changes["packages"]["web"] == f"2.0.0@{described['imageDigest']}"


def test_an_older_version_can_be_chosen(admin_api, project):
    response = create(admin_api, version="3.0.0", packages={"web": "1.1.0"})
    assert response.status_code == 201, response.json()
    assert response.json()["packages"]["web"]["version"] == "1.1.0"


def test_versions_are_auto_incremented_from_the_last_release(admin_api, bare_project):
    ReleaseFactory(project=bare_project, version="1.4.9")
    ReleaseFactory(project=bare_project, version="1.4.10")
    assert create(admin_api, "bare").json()["version"] == "1.4.11"
    assert create(admin_api, "bare").json()["version"] == "1.4.12"


def test_after_a_pre_release_the_next_version_is_its_release(bare_project):
    ReleaseFactory(project=bare_project, version="2.0.0-rc.1")
    assert release_next_version(bare_project) == "2.0.0"


def test_a_project_template_numbers_releases(admin_api, bare_project):
    bare_project.version_template = "1.2.i"
    bare_project.save()
    assert create(admin_api, "bare").json()["version"] == "1.2.0"
    assert create(admin_api, "bare").json()["version"] == "1.2.1"
    ReleaseFactory(project=bare_project, version="1.2.7")
    ReleaseFactory(project=bare_project, version="9.0.0")  # outside the template: ignored
    assert create(admin_api, "bare").json()["version"] == "1.2.8"


def test_the_version_is_editable(admin_api, bare_project):
    assert create(admin_api, "bare", version="5.0.0-beta.2").json()["version"] == "5.0.0-beta.2"


@pytest.mark.parametrize("version", ["1.2", "v1.2.3", "latest", "1.2.3.4", "01.2.3"])
def test_a_version_that_is_not_semver_is_refused(admin_api, bare_project, version):
    response = create(admin_api, "bare", version=version)
    assert response.status_code == 400
    assert "is not a semantic version" in response.json()["version"][0]
    assert not Release.objects.exists()


def test_a_duplicate_version_is_refused(admin_api, bare_project):
    ReleaseFactory(project=bare_project, version="1.0.0")
    response = create(admin_api, "bare", version="1.0.0")
    assert response.status_code == 400
    assert response.json()["version"] == ["Bare already has a release 1.0.0."]
    assert Release.objects.count() == 1


def test_the_same_version_in_two_projects_is_fine(bare_project, admin_user):
    from tests.factories import ProjectFactory

    other = ProjectFactory(lifecycle=bare_project.lifecycle)
    release_create(project=bare_project, user=admin_user, version="1.0.0")
    release_create(project=other, user=admin_user, version="1.0.0")


def test_a_package_version_missing_from_the_feed_is_refused_naming_the_nearest(admin_api, project):
    response = create(admin_api, packages={"web": "1.3.0"})
    assert response.status_code == 400
    message = response.json()["packages"][0]
    assert message.startswith("web: version 1.3.0 is not in ECR/hello-color. Nearest versions: ")
    nearest = message.split("Nearest versions: ")[1].rstrip(".").split(", ")
    assert nearest[:2] == ["1.2.0", "1.1.0"]
    assert not Release.objects.exists()
    assert not AuditEvent.objects.filter(object_type="releases.release").exists()


def test_an_unknown_package_reference_is_refused(admin_api, project):
    response = create(admin_api, packages={"api": "1.0.0"})
    assert response.status_code == 400
    assert "Unknown package reference api (the process has: web)" in response.json()["packages"][0]


def test_an_unknown_channel_is_refused(admin_api, project):
    response = create(admin_api, channel="nightly")
    assert response.status_code == 400
    assert response.json() == {"channel": ["Hello Color has no channel 'nightly'."]}
    assert not Release.objects.exists()


def test_the_release_page_refuses_an_unknown_channel_as_the_api_does(client, admin_user, project):
    """One rule for both doors: no silent fallback to the default channel."""
    client.force_login(admin_user)
    url = f"/projects/{project.slug}/releases/new/"
    response = client.post(url, {"channel": "nightly", "version": "", "notes": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["channel"] == ["Hello Color has no channel 'nightly'."]
    assert not Release.objects.exists()
    page = client.get(url, {"channel": "nightly"})
    assert page.context["form"].errors["channel"] == ["Hello Color has no channel 'nightly'."]


def test_a_version_just_pushed_is_found_although_the_listing_is_cached(
    admin_api, project, ecr_client
):
    assert create(admin_api, version="1.0.0").status_code == 201  # lists and caches the feed
    push(ecr_client, "2.0.1")
    response = create(admin_api, version="1.0.1", packages={"web": "2.0.1"})
    assert response.status_code == 201, response.json()
    assert response.json()["packages"]["web"]["version"] == "2.0.1"


def test_releases_of_a_channel_with_a_prerelease_rule_take_the_newest_prerelease(
    admin_api, project, admin_user
):
    channel_create(
        project=project,
        user=admin_user,
        name="Previews",
        rules=[{"packages": ["web"], "version_range": ">=2.0.0", "prerelease": "^rc"}],
    )
    response = create(admin_api, channel="previews")
    assert response.status_code == 201, response.json()
    assert response.json()["packages"]["web"]["version"] == "2.1.0-rc.1"


def test_nothing_is_half_created_when_a_later_package_fails(project, admin_user, release_feed):
    from releases.process import process_update
    from tests.factories import ecs_step

    second = ecs_step(release_feed)
    second["name"] = "Deploy worker"
    second["packages"] = [{"name": "worker", "feed": release_feed.pk, "package_id": "missing-repo"}]
    second["properties"]["containers"][0]["image"] = "#{Package[worker].Image}"
    process_update(
        project=project, steps=[*project.deployment_process.steps, second], user=admin_user
    )
    with pytest.raises(ValidationError) as refused:
        release_create(project=project, user=admin_user)
    assert "worker" in str(refused.value)
    assert not Release.objects.exists()
    assert not AuditEvent.objects.filter(object_type="releases.release").exists()
