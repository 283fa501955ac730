"""Deployments as records: created under the lifecycle's rules, promotion, automatic phases."""

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from deployments.models import Deployment
from deployments.services import deployment_auto_deploy, deployment_create
from releases.models import Release
from tests.factories import ChannelFactory, DeploymentFactory, ReleaseFactory, make_lifecycle

pytestmark = pytest.mark.django_db


def deploy(admin_api, release, env):
    return admin_api.post(
        "/api/deployments/", {"release": release.pk, "environment": env}, format="json"
    )


def finish(deployment, state=Deployment.State.SUCCESS):
    Deployment.objects.filter(pk=deployment.pk).update(state=state, finished_at=timezone.now())


def test_a_deployment_is_queued_with_who_and_when(admin_api, bare_project):
    release = ReleaseFactory(project=bare_project)
    response = deploy(admin_api, release, "dev")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["environment"], body["created_by"]) == ("queued", "dev", "admin")
    assert (body["trigger"], body["release_version"], body["project"]) == (
        "manual",
        release.version,
        "bare",
    )
    for field in ("started_at", "finished_at", "error", "outputs"):
        assert field in body
    assert admin_api.get(f"/api/deployments/{body['id']}/").json()["state"] == "queued"


def test_prod_before_dev_is_refused_with_the_reason_and_nothing_is_created(admin_api, bare_project):
    release = ReleaseFactory(project=bare_project)
    response = deploy(admin_api, release, "prod")
    assert response.status_code == 400
    assert response.json() == {
        "environment": ["Prod opens after phase Dev has a successful deployment to Dev."]
    }
    assert not Deployment.objects.exists()


def test_the_same_release_queued_twice_in_one_environment_is_a_conflict(admin_api, bare_project):
    release = ReleaseFactory(project=bare_project)
    assert deploy(admin_api, release, "dev").status_code == 201
    again = deploy(admin_api, release, "dev")
    assert again.status_code == 409
    assert again.json()["detail"].startswith(f"Release {release.version} is already queued in Dev")
    assert Deployment.objects.count() == 1
    finish(Deployment.objects.get())
    assert deploy(admin_api, release, "dev").status_code == 201  # a redeploy once it ended


def test_an_unknown_release_or_environment_is_a_400(admin_api, bare_project):
    release = ReleaseFactory(project=bare_project)
    assert deploy(admin_api, release, "nowhere").status_code == 400
    response = admin_api.post(
        "/api/deployments/", {"release": 999999, "environment": "dev"}, format="json"
    )
    assert response.status_code == 400
    assert "release" in response.json()


def test_the_release_lists_where_it_may_go_and_why_not_elsewhere(admin_api, bare_project):
    release = ReleaseFactory(project=bare_project)
    body = admin_api.get(f"/api/releases/{release.pk}/").json()
    assert body["deployable_environments"] == ["dev"]
    assert body["blocked_environments"] == {
        "test": "Test opens after phase Dev has a successful deployment to Dev.",
        "prod": "Prod opens after phase Dev has a successful deployment to Dev.",
    }
    assert body["next_environment"] == "dev"


def test_promote_walks_the_lifecycle_and_explains_when_it_cannot(admin_api, bare_project):
    release = ReleaseFactory(project=bare_project)
    url = f"/api/releases/{release.pk}/promote/"
    first = admin_api.post(url)
    assert first.status_code == 201, first.json()
    assert (first.json()["environment"], first.json()["trigger"]) == ("dev", "promotion")

    waiting = admin_api.post(url)
    assert waiting.status_code == 400
    assert waiting.json()["detail"] == (
        f"Release {release.version} cannot be promoted now. "
        "Prod opens after phase Dev has a successful deployment to Dev."
    )
    finish(Deployment.objects.get())
    assert admin_api.post(url).json()["environment"] == "test"
    finish(Deployment.objects.get(environment__slug="test"))
    assert admin_api.post(url).json()["environment"] == "prod"
    finish(Deployment.objects.get(environment__slug="prod"))
    done = admin_api.post(url)
    assert done.status_code == 400
    assert "It has reached every environment of its lifecycle." in done.json()["detail"]
    assert Deployment.objects.count() == 3


def test_a_channel_may_follow_another_lifecycle(admin_api, bare_project, dev_test_prod):
    hotfix = make_lifecycle(
        "Hotfix", [{"name": "Straight to prod", "envs": [dev_test_prod["prod"]]}]
    )
    channel = ChannelFactory(project=bare_project, name="Hotfix", slug="hotfix", lifecycle=hotfix)
    release = ReleaseFactory(project=bare_project, channel=channel)
    body = admin_api.get(f"/api/releases/{release.pk}/").json()
    assert body["deployable_environments"] == ["prod"]
    assert body["blocked_environments"]["dev"] == "Dev is not in the lifecycle Hotfix."
    assert deploy(admin_api, release, "prod").status_code == 201
    assert deploy(admin_api, release, "dev").status_code == 400


def test_a_redeploy_to_an_environment_already_reached_is_allowed(admin_api, bare_project):
    release = ReleaseFactory(project=bare_project)
    DeploymentFactory(
        release=release,
        environment=bare_project.lifecycle.phases.get(name="Dev").environments.get(),
        state="failed",
    )
    assert deploy(admin_api, release, "dev").status_code == 201
    old = Deployment.objects.order_by("id").first()
    response = admin_api.post(f"/api/deployments/{old.pk}/redeploy/")
    assert response.status_code == 409  # the new one is still queued


def test_automatic_environments_of_the_first_phase_are_queued_with_the_release(
    admin_api, dev_test_prod, bare_project
):
    bare_project.lifecycle = make_lifecycle(
        "Auto dev",
        [
            {"name": "Dev", "envs": [dev_test_prod["dev"]], "automatic": [dev_test_prod["dev"]]},
            {"name": "Prod", "envs": [dev_test_prod["prod"]], "automatic": [dev_test_prod["prod"]]},
        ],
    )
    bare_project.save()
    response = admin_api.post("/api/projects/bare/releases/", {}, format="json")
    assert response.status_code == 201, response.json()
    queued = Deployment.objects.get()
    assert (queued.environment.slug, queued.trigger, queued.state) == ("dev", "automatic", "queued")


def test_a_phase_opening_queues_its_automatic_environments_once(dev_test_prod, bare_project):
    bare_project.lifecycle = make_lifecycle(
        "Auto test",
        [
            {"name": "Dev", "envs": [dev_test_prod["dev"]]},
            {"name": "Test", "envs": [dev_test_prod["test"]], "automatic": [dev_test_prod["test"]]},
        ],
    )
    bare_project.save()
    release = ReleaseFactory(project=bare_project)
    dev = deployment_create(release=release, environment=dev_test_prod["dev"], user=None)
    assert deployment_auto_deploy(release=release) == []
    finish(dev)
    created = deployment_auto_deploy(release=release)
    assert [(d.environment.slug, d.trigger) for d in created] == [("test", "automatic")]
    finish(created[0], Deployment.State.FAILED)
    assert deployment_auto_deploy(release=release) == []  # never queued a second time


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("minimum", [0, 1], ids=["both-needed", "one-needed"])
def test_two_deployments_succeeding_together_open_the_next_phase_exactly_once(
    dev_test_prod, bare_project, minimum
):
    """Two workers finish Dev A and Dev B at the same moment, each in its own transaction that
    marks its deployment successful and then asks for automatic deployments."""
    from releases.models import Environment

    dev_b = Environment.objects.create(name="Dev B", slug="dev-b", sort_order=10)
    bare_project.lifecycle = make_lifecycle(
        f"Race {minimum}",
        [
            {"name": "Build", "envs": [dev_test_prod["dev"], dev_b], "minimum": minimum},
            {"name": "Test", "envs": [dev_test_prod["test"]], "automatic": [dev_test_prod["test"]]},
        ],
    )
    bare_project.save()
    for _ in range(5):
        release = ReleaseFactory(project=bare_project)
        running = [
            DeploymentFactory(release=release, environment=env, state="executing")
            for env in (dev_test_prod["dev"], dev_b)
        ]
        barrier = threading.Barrier(2)
        errors = []

        def worker(deployment, barrier=barrier, release=release, errors=errors):
            try:
                with transaction.atomic():
                    barrier.wait(timeout=10)
                    finish(deployment)
                    deployment_auto_deploy(release=Release.objects.get(pk=release.pk))
            except Exception as exc:  # reported below; a thread cannot fail the test itself
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, args=(d,)) for d in running]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        automatic = Deployment.objects.filter(release=release, trigger="automatic")
        assert [d.environment.slug for d in automatic] == ["test"]
