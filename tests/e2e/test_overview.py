"""A project's overview and the dashboard in Chromium at 1280 and 420 px: an empty project's first
steps, a project with history, an executing deployment that turns to success in place, the
dashboard's filter. Screenshots go to $OVERVIEW_SHOTS_DIR (default /tmp/shots/overview)."""

import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deployments.models import Deployment
from tests.deployments.history import NOW, build_history
from tests.factories import DeploymentFactory, ProjectFactory, ReleaseFactory, deployed_at

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("OVERVIEW_SHOTS_DIR", "/tmp/shots/overview"))
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


def test_an_empty_project_shows_how_to_begin(live_server, signed_in, standard_lifecycle):
    ProjectFactory(name="Billing", slug="billing", lifecycle=standard_lifecycle)
    page = signed_in
    page.goto(f"{live_server.url}/projects/")
    page.get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="How to begin")).to_be_visible()
    expect(page.locator(".steps li")).to_have_count(3)
    expect(page.get_by_role("link", name="Create the first release")).to_be_visible()
    shoot(page, "overview-empty")


def test_a_project_with_history_and_a_deployment_that_finishes_in_place(
    live_server, signed_in, dev_test_prod, standard_lifecycle, admin_user
):
    history = build_history(
        dev_test_prod, standard_lifecycle, weeks_later=(timezone.now() - NOW).days // 7
    )
    shop, dev, test = history["shop"], dev_test_prod["dev"], dev_test_prod["test"]
    newest = shop.releases.order_by("-id").first()
    deployed_at(newest, dev, "success", timezone.now() - timezone.timedelta(hours=3))
    candidate = ReleaseFactory(project=shop, version="1.1.0", created_by=admin_user)
    page = signed_in
    page.goto(f"{live_server.url}/projects/shop/")
    grid = page.locator("#overview-grid")
    expect(grid.locator("tbody.recent tr")).to_have_count(8)  # the heading row and 7 releases
    expect(grid.get_by_role("button", name="Deploy 1.1.0")).to_be_visible()
    expect(grid.get_by_role("button", name="Promote 1.0.4")).to_be_visible()
    blocked = grid.locator(".rcell-blocked .rcell-none").first
    expect(blocked).to_have_attribute(
        "title", "Test opens after phase Dev has a successful deployment to Dev."
    )
    shoot(page, "overview-history")

    # A deployment of 1.1.0 to Dev starts: the page polls, the cell pulses, then turns green.
    running = DeploymentFactory(
        release=candidate,
        environment=dev,
        state=Deployment.State.EXECUTING,
        started_at=timezone.now(),
        created_by=admin_user,
        phase=Deployment.Phase.WAITING,
        next_check_at=timezone.now() + timezone.timedelta(seconds=30),
    )
    page.reload()
    current_dev = grid.locator("tbody.now td").first
    expect(current_dev).to_have_class("cell cell-executing")
    expect(current_dev).to_contain_text("1.1.0")
    expect(grid).to_have_attribute("hx-trigger", "every 2s")
    shoot(page, "overview-executing")
    Deployment.objects.filter(pk=running.pk).update(
        state=Deployment.State.SUCCESS, finished_at=timezone.now(), phase=""
    )
    expect(current_dev).to_have_class("cell cell-success", timeout=8_000)
    expect(grid).not_to_have_attribute("hx-trigger", "every 2s")
    expect(grid.get_by_role("button", name="Promote 1.1.0")).to_be_visible()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    shoot(page, "overview-finished")

    # Promote from the grid: the deployment page opens with the new deployment queued.
    grid.get_by_role("button", name="Promote 1.1.0").click()
    expect(page.locator(".msg-success")).to_contain_text("Deployment of 1.1.0 to Test queued.")
    assert Deployment.objects.filter(release=candidate, environment=test).exists()


def test_the_dashboard_filters_many_projects_and_keeps_cells_level(
    live_server, signed_in, dev_test_prod, standard_lifecycle, admin_user
):
    dev, test, prod = dev_test_prod.values()
    for i, name in enumerate(
        ["Billing API", "Catalog", "Checkout", "Web shop", "Search", "Reports", "Auth", "Mailer"]
    ):
        project = ProjectFactory(name=name, slug=f"p{i}", lifecycle=standard_lifecycle)
        release = ReleaseFactory(project=project, version=f"2.{i}.0")
        deployed_at(
            release,
            dev,
            "success",
            timezone.now() - timezone.timedelta(hours=i + 1),
            created_by=admin_user,
        )
        if i % 2:
            deployed_at(release, test, "failed" if i == 3 else "success", timezone.now())
        if i == 5:
            DeploymentFactory(
                release=release, environment=prod, state="executing", started_at=timezone.now()
            )
    page = signed_in
    page.goto(f"{live_server.url}/")
    rows = page.locator(".dashboard tbody tr")
    expect(rows).to_have_count(8)
    # The dash of an empty cell sits level with the project's name.
    row = rows.filter(has_text="Billing API")
    name_box = row.locator("th a").bounding_box()
    dash_box = row.locator(".cell-none").first.bounding_box()
    name_middle = name_box["y"] + name_box["height"] / 2
    dash_middle = dash_box["y"] + dash_box["height"] / 2
    assert abs(name_middle - dash_middle) < 3, (name_box, dash_box)
    shoot(page, "dashboard")

    page.get_by_label("Filter projects by name").fill("ch")
    expect(rows).to_have_count(2)  # Checkout, Search
    expect(page).to_have_url(f"{live_server.url}/?q=ch")
    shoot(page, "dashboard-filtered")
    page.get_by_label("Filter projects by name").fill("zzz")
    expect(page.locator("#dashboard-board .empty")).to_contain_text("No project's name contains")
