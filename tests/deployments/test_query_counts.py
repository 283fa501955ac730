"""The dashboard and release lists cost a fixed number of queries, however much they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from releases.models import Environment
from tests.factories import DeploymentFactory, ProjectFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    client.get(url)  # warm up: session, API key last-used write
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


def grow_board(lifecycle, projects: int, environments: int, user) -> None:
    existing = Environment.objects.count()
    for i in range(existing, environments):
        Environment.objects.create(name=f"Env {i}", slug=f"env-{i}", sort_order=i)
    envs = list(Environment.objects.all())
    for _ in range(projects):
        project = ProjectFactory(lifecycle=lifecycle)
        release = ReleaseFactory(project=project)
        for env in envs:
            DeploymentFactory(release=release, environment=env, created_by=user)


def grow_releases(project, count: int, envs, user) -> None:
    for _ in range(count):
        release = ReleaseFactory(project=project, created_by=user)
        for env in envs:
            DeploymentFactory(release=release, environment=env)


def test_the_dashboard_api_costs_the_same_for_2x3_or_12x6_cells(
    admin_api, admin_user, standard_lifecycle
):
    grow_board(standard_lifecycle, 2, 3, admin_user)
    few = queries_for(admin_api, "/api/dashboard/")
    grow_board(standard_lifecycle, 10, 6, admin_user)
    body = admin_api.get("/api/dashboard/").json()
    assert len(body["projects"]) == 12 and len(body["environments"]) == 6
    assert queries_for(admin_api, "/api/dashboard/") == few


def test_the_dashboard_page_costs_the_same_for_2x3_or_12x6_cells(
    client, admin_user, standard_lifecycle
):
    client.force_login(admin_user)
    grow_board(standard_lifecycle, 2, 3, admin_user)
    few = queries_for(client, "/")
    grow_board(standard_lifecycle, 10, 6, admin_user)
    assert queries_for(client, "/") == few


def test_the_release_list_api_costs_the_same_for_2_or_30_releases(
    admin_api, admin_user, bare_project, dev_test_prod
):
    url = "/api/projects/bare/releases/"
    grow_releases(bare_project, 2, list(dev_test_prod.values()), admin_user)
    few = queries_for(admin_api, url)
    grow_releases(bare_project, 28, list(dev_test_prod.values()), admin_user)
    assert admin_api.get(url).json()["count"] == 30
    assert queries_for(admin_api, url) == few


def test_the_releases_page_costs_the_same_for_2_or_30_releases(
    client, admin_user, bare_project, dev_test_prod
):
    client.force_login(admin_user)
    url = "/projects/bare/releases/"
    grow_releases(bare_project, 2, list(dev_test_prod.values()), admin_user)
    few = queries_for(client, url)
    grow_releases(bare_project, 28, list(dev_test_prod.values()), admin_user)
    assert queries_for(client, url) == few
