"""The insights API: the figures of the known history, its parameters, its query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.deployments.history import HOUR, NOW
from tests.factories import ProjectFactory, deployed_at, release_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_the_api_answers_the_figures_and_series_of_a_project(admin_api, history, frozen):
    body = admin_api.get("/api/insights/?project=shop&environment=prod&days=30").json()
    assert body["project"] == "shop" and body["environment"] == {"slug": "prod", "name": "Prod"}
    assert body["days"] == 30 and body["bucket"] == "week"
    assert body["deployment_frequency"] == {
        "deployments": 6,
        "per_day": 0.2,
        "per_week": 1.4,
        "previous": 2,
    }
    assert body["lead_time"]["median_seconds"] == pytest.approx(12 * HOUR)
    assert body["lead_time"]["p90_seconds"] == pytest.approx(40.8 * HOUR)
    assert body["lead_time"]["previous_median_seconds"] == pytest.approx(48 * HOUR)
    failure = body["change_failure_rate"]
    assert (failure["failed"], failure["deployments"], failure["rolled_back"]) == (3, 9, 1)
    assert failure["rate"] == pytest.approx(1 / 3)
    assert failure["previous_rate"] == pytest.approx(1 / 3)
    assert body["time_to_recover"]["median_seconds"] == pytest.approx(4 * HOUR)
    assert [p["deployments"] for p in body["series"]] == [0, 1, 2, 2, 1]
    assert body["series"][1]["start"].startswith("2024-06-03T00:00:00")


def test_the_environment_defaults_to_the_last_of_the_lifecycle(admin_api, history, frozen):
    body = admin_api.get("/api/insights/?project=shop").json()
    assert body["environment"]["slug"] == "prod"
    assert body["days"] == 30
    everyone = admin_api.get("/api/insights/").json()
    assert everyone["project"] is None and everyone["deployment_frequency"]["deployments"] == 7


def test_a_project_without_deployments_gets_empty_series(admin_api, history, frozen):
    ProjectFactory(name="Quiet", slug="quiet", lifecycle=history["shop"].lifecycle)
    body = admin_api.get("/api/insights/?project=quiet&days=90").json()
    assert body["series"] == []
    assert body["change_failure_rate"]["rate"] is None
    assert body["lead_time"]["median_seconds"] is None


def test_without_environments_the_figures_are_null(admin_api):
    body = admin_api.get("/api/insights/").json()
    assert body["environment"] is None and body["series"] == []


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("days=5", "days", "Choose 7, 30 or 90 days, not 5."),
        ("days=abc", "days", "Choose 7, 30 or 90 days, not abc."),
        ("project=nope", "project", "No project has the slug 'nope'."),
        ("environment=nope", "environment", "No environment has the slug 'nope'."),
        ("environment=%20bad%20slug", "environment", None),
    ],
)
def test_bad_parameters_are_a_400_naming_them(admin_api, history, query, field, message):
    response = admin_api.get(f"/api/insights/?{query}")
    assert response.status_code == 400
    assert field in response.json()
    if message:
        assert response.json()[field] == [message]


def test_the_api_needs_a_signed_in_caller(api_client):
    assert api_client.get("/api/insights/").status_code == 401


def queries_for(api, url: str) -> int:
    api.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert api.get(url).status_code == 200
    return len(captured)


def test_the_api_costs_the_same_queries_for_a_short_or_a_long_history(
    admin_api, dev_test_prod, standard_lifecycle
):
    prod = dev_test_prod["prod"]
    project = ProjectFactory(name="Busy", slug="busy", lifecycle=standard_lifecycle)
    now = timezone.now()
    first = release_at(project, "1.0.0", now - timezone.timedelta(days=3))
    deployed_at(first, prod, "success", now - timezone.timedelta(days=2))
    url = "/api/insights/?project=busy&days=90"
    few = queries_for(admin_api, url)
    for day in range(1, 80):
        release = release_at(project, f"2.0.{day}", now - timezone.timedelta(days=day, hours=5))
        deployed_at(release, prod, "failed", now - timezone.timedelta(days=day, hours=3))
        deployed_at(release, prod, "success", now - timezone.timedelta(days=day))
    assert admin_api.get(url).json()["deployment_frequency"]["deployments"] == 80
    assert queries_for(admin_api, url) == few
    # All projects: no project to look up (and the default lifecycle here has no phases).
    assert queries_for(admin_api, "/api/insights/?days=90") <= few
