"""Drift in Chromium: a service scaled outside deployserver shows a "Drifted" badge on the
dashboard and the project overview (the reason on hover), the deployment page says what runs now,
and "Redeploy to restore" queues the same release again. Screenshots go to $DRIFT_SHOTS_DIR
(default /tmp/shots/drift)."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from deployments import drift
from deployments.models import Deployment
from deployserver.core.aws import client
from deployserver.core.models import AwsAccount
from releases.models import Environment
from sandbox import seed
from tests.deployments.engine.helpers import run_until_finished

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("DRIFT_SHOTS_DIR", "/tmp/shots/drift"))
REASON = "desired count 2 → 4 (changed outside deployserver)"


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 420):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} spills {overflow}px sideways at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_drifted_service_is_shown_and_restored_with_one_click(live_server, signed_in, release):
    dev = Environment.objects.get(slug="dev")
    deployed = Deployment.objects.create(release=release, project=release.project, environment=dev)
    assert run_until_finished(deployed.pk) == Deployment.State.SUCCESS
    ecs = client(AwsAccount.objects.get(name=seed.ACCOUNT_NAME), "ecs")
    ecs.update_service(cluster="hello-color-dev", service="hello-color-dev", desiredCount=4)
    drift.drift_check()

    page = signed_in
    page.goto(f"{live_server.url}/")
    badge = page.locator("td.cell .drift")
    expect(badge).to_have_text(re.compile("Drifted"))
    assert REASON in badge.get_attribute("title")
    badge.hover()
    shoot(page, "dashboard-drifted")

    page.goto(f"{live_server.url}/projects/hello-color/")
    expect(page.locator("#overview-grid .drift")).to_have_text(re.compile("Drifted"))
    shoot(page, "overview-drifted")

    page.locator("#overview-grid .drift").click()
    expect(page).to_have_url(re.compile(rf"/deployments/{deployed.pk}/#drift$"))
    card = page.locator("#drift")
    expect(card).to_contain_text(REASON)
    expect(card).to_contain_text("Service hello-color-dev in cluster hello-color-dev")
    shoot(page, "deployment-drifted")

    card.get_by_role("button", name="Redeploy to restore").click()
    expect(page).to_have_url(re.compile(r"/deployments/\d+/$"))
    again = Deployment.objects.exclude(pk=deployed.pk).get()
    assert (again.release_id, again.environment_id, again.trigger) == (
        release.pk,
        dev.pk,
        "redeploy",
    )
