"""Lists cost a fixed number of queries, however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from releases.models import Project
from tests.factories import (
    EnvironmentFactory,
    LifecycleFactory,
    PhaseEnvironmentFactory,
    PhaseFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    client.get(url)  # warm up: session, API key last-used write
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


def grow_projects(total: int) -> None:
    lifecycles = [LifecycleFactory() for _ in range(3)]
    for index in range(total - Project.objects.count()):
        ProjectFactory(lifecycle=lifecycles[index % 3])


def grow_lifecycles(total: int) -> None:
    for _ in range(total):
        lifecycle = LifecycleFactory()
        for _ in range(2):
            phase = PhaseFactory(lifecycle=lifecycle)
            PhaseEnvironmentFactory.create_batch(2, phase=phase)


@pytest.mark.parametrize("url", ["/api/projects/", "/api/projects/?page_size=100"])
def test_the_projects_api_list_costs_the_same_queries_for_3_or_60_projects(admin_api, url):
    grow_projects(3)
    few = queries_for(admin_api, url)
    grow_projects(60)
    assert admin_api.get(url).json()["count"] == 60
    assert queries_for(admin_api, url) == few


def test_the_projects_page_costs_the_same_queries_for_3_or_60_projects(client, admin_user):
    client.force_login(admin_user)
    grow_projects(3)
    few = queries_for(client, "/projects/")
    grow_projects(60)
    assert queries_for(client, "/projects/") == few


def test_the_lifecycles_api_list_costs_the_same_queries_for_2_or_20_lifecycles(admin_api):
    grow_lifecycles(2)
    few = queries_for(admin_api, "/api/lifecycles/")
    grow_lifecycles(18)
    assert queries_for(admin_api, "/api/lifecycles/") == few


def test_the_lifecycles_page_costs_the_same_queries_for_2_or_20_lifecycles(client, admin_user):
    client.force_login(admin_user)
    EnvironmentFactory.create_batch(3)
    grow_lifecycles(2)
    few = queries_for(client, "/lifecycles/")
    grow_lifecycles(18)
    assert queries_for(client, "/lifecycles/") == few


def test_the_environments_api_list_costs_the_same_queries_for_3_or_40_environments(admin_api):
    EnvironmentFactory.create_batch(3)
    few = queries_for(admin_api, "/api/environments/")
    EnvironmentFactory.create_batch(37)
    assert queries_for(admin_api, "/api/environments/") == few
