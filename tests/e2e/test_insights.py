"""The insights page in Chromium at 1280 and 420 px: four figures with their charts, a tooltip
per bucket, nothing spilling sideways. Screenshots go to $INSIGHTS_SHOTS_DIR (default
/tmp/shots/insights)."""

import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.deployments.history import NOW, build_history

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("INSIGHTS_SHOTS_DIR", "/tmp/shots/insights"))
WIDTHS = {"desktop": 1280, "narrow": 420}


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} spills {overflow}px sideways at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})


def weeks_since_history() -> int:
    """Whole weeks from the history's "now" to today: the history moved to this week."""
    return (timezone.now() - NOW).days // 7


def test_insights_of_a_project_and_of_all(
    live_server, signed_in, dev_test_prod, standard_lifecycle
):
    build_history(dev_test_prod, standard_lifecycle, weeks_later=weeks_since_history())
    page = signed_in
    page.goto(f"{live_server.url}/projects/shop/insights/")
    figures = page.locator(".insights .figure")
    expect(figures).to_have_count(4)
    expect(page.locator(".insights svg")).to_have_count(4)
    expect(page.get_by_role("navigation", name="Period").locator("[aria-current]")).to_have_text(
        "30 days"
    )
    # A bucket's tooltip is its <title>: the browser shows it on hover.
    column = page.locator(".figure-frequency .chart-col").nth(2)
    expect(column.locator("title")).to_contain_text("successful deployment")
    shoot(page, "insights-project")

    page.get_by_role("navigation", name="Period").get_by_role("link", name="90 days").click()
    expect(page.locator(".insights-scope")).to_contain_text("in the last 90 days")
    shoot(page, "insights-project-90")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Insights").click()
    expect(page.locator(".insights-scope")).to_contain_text("All projects")
    page.get_by_role("navigation", name="Environment").get_by_role("link", name="Test").click()
    expect(page.locator(".empty")).to_contain_text("No deployment to Test finished")
    shoot(page, "insights-empty")
