"""The insights pages: the figures in words, charts with a tooltip per bucket, lenient links."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.deployments.history import NOW
from tests.factories import ProjectFactory, deployed_at, release_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_projects_insights_show_the_four_figures_with_trends(admin_client, history, frozen):
    page = admin_client.get("/projects/shop/insights/").content.decode()
    words = text(page)
    assert "deployments to Prod that finished in the last 30 days" in words
    assert "1.4 a week" in words and "6 successful deployments in 30 days" in words
    assert "▲ 200% vs the 30 days before" in words  # 6 against 2
    assert "12 h median" in words and "p90 41 h · 3 releases reached Prod" in words
    assert "▼ 75% vs the 30 days before" in words  # 12 h against 48 h
    assert "33% " in words and "3 of 9 failed · 1 rolled back" in words
    assert "same as the 30 days before" in words  # 1 in 3 both times
    assert "4.0 h median" in words and "2 outages, 2 recovered" in words
    # Four charts, each bucket with its tooltip.
    assert page.count("<svg") == 4
    assert "<title>Week of 10 Jun: 2 successful deployments, 2 failed</title>" in page
    assert "<title>Week of 10 Jun: 2 of 4 failed, 1 rolled back</title>" in page
    assert "<title>Week of 3 Jun: median 48 h, p90 48 h</title>" in page


def test_trends_say_whether_a_change_is_better_or_worse(admin_client, history, frozen):
    page = admin_client.get("/projects/shop/insights/").content.decode()
    assert 'class="trend trend-good">▲ 200%' in page  # more deployments
    assert 'class="trend trend-good">▼ 75%' in page  # shorter lead time
    assert 'class="trend trend-bad">▼ 60%' not in page


def test_all_projects_and_another_environment_and_period(admin_client, history, frozen):
    words = text(admin_client.get("/insights/?environment=dev&days=7").content.decode())
    assert "All projects · deployments to Dev that finished in the last 7 days" in words
    assert "0 of 1 failed" not in words and "1 of 1 failed" in words


def test_bad_links_fall_back_to_the_defaults(admin_client, history, frozen):
    response = admin_client.get("/insights/?environment=nope&days=abc")
    assert response.status_code == 200
    assert "deployments to Prod that finished in the last 30 days" in text(
        response.content.decode()
    )
    assert admin_client.get("/insights/?days=45").status_code == 200
    assert admin_client.get("/projects/nope/insights/").status_code == 404


def test_a_quiet_project_says_so_instead_of_empty_charts(admin_client, history, frozen):
    ProjectFactory(name="Quiet", slug="quiet", lifecycle=history["shop"].lifecycle)
    page = admin_client.get("/projects/quiet/insights/").content.decode()
    assert "No deployment to Prod finished in the last 30 days for Quiet." in page
    assert "<svg" not in page


def test_without_environments_the_page_says_what_to_do(admin_client):
    page = admin_client.get("/insights/").content.decode()
    assert "No environments yet, so nothing to measure." in page


def test_the_page_costs_the_same_queries_for_a_short_or_a_long_history(
    client, admin_user, dev_test_prod, standard_lifecycle
):
    client.force_login(admin_user)
    prod = dev_test_prod["prod"]
    project = ProjectFactory(name="Busy", slug="busy", lifecycle=standard_lifecycle)
    now = timezone.now()
    first = release_at(project, "1.0.0", now - timezone.timedelta(days=3))
    deployed_at(first, prod, "success", now - timezone.timedelta(days=2))

    def queries() -> int:
        client.get("/projects/busy/insights/?days=90")
        with CaptureQueriesContext(connection) as captured:
            client.get("/projects/busy/insights/?days=90")
        return len(captured)

    few = queries()
    for day in range(1, 80):
        release = release_at(project, f"2.0.{day}", now - timezone.timedelta(days=day, hours=5))
        deployed_at(release, prod, "failed", now - timezone.timedelta(days=day, hours=3))
        deployed_at(release, prod, "success", now - timezone.timedelta(days=day))
    assert queries() == few
