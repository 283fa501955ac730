"""History is never erased by a delete, and automatic release numbers are handed out one at a
time however many clients ask at once."""

import threading

import pytest
import requests

from deployments.models import Deployment, LogLine
from deployserver.core.services import api_key_create
from releases.models import Project, Release
from tests.factories import DeploymentFactory, ReleaseFactory


@pytest.mark.django_db
def test_a_release_with_deployments_cannot_be_deleted_and_keeps_its_history(
    admin_api, bare_project, dev_test_prod
):
    deployed = ReleaseFactory(project=bare_project, version="1.0.0")
    deployment = DeploymentFactory(
        release=deployed, environment=dev_test_prod["dev"], state="executing"
    )
    LogLine.objects.create(deployment=deployment, seq=1, time=deployment.created_at, text="x")
    never = ReleaseFactory(project=bare_project, version="1.0.1")

    response = admin_api.delete(f"/api/releases/{deployed.pk}/")
    assert response.status_code == 400
    assert "has 1 deployment" in str(response.json())
    assert Deployment.objects.filter(pk=deployment.pk).exists() and LogLine.objects.exists()

    assert admin_api.delete(f"/api/releases/{never.pk}/").status_code == 204
    assert not Release.objects.filter(pk=never.pk).exists()


@pytest.mark.django_db
def test_a_project_with_deployment_history_cannot_be_deleted(
    admin_api, bare_project, dev_test_prod
):
    DeploymentFactory(
        release=ReleaseFactory(project=bare_project), environment=dev_test_prod["dev"]
    )
    response = admin_api.delete(f"/api/projects/{bare_project.slug}/")
    assert response.status_code == 400
    assert "has been deployed" in str(response.json())
    assert Project.objects.filter(pk=bare_project.pk).exists() and Deployment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_auto_numbered_releases_all_get_distinct_numbers(
    live_server, admin_user, bare_project
):
    _, key = api_key_create(user=admin_user, name="race")
    url = f"{live_server.url}/api/projects/{bare_project.slug}/releases/"
    barrier = threading.Barrier(20)
    answers: list[tuple[int, dict]] = []

    def create():
        barrier.wait()
        response = requests.post(url, json={}, headers={"Authorization": f"Token {key}"})
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert [status for status, _ in answers] == [201] * 20, answers
    versions = sorted(body["version"] for _, body in answers)
    assert versions == sorted(f"0.0.{n}" for n in range(1, 21))
