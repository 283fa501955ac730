"""Releases in a real browser: pick an older image version, try Prod before Dev and read why not,
deploy to Dev, see the dashboard matrix. Screenshots of every release page (1280 and 420 px wide)
go to $RELEASES_SHOTS_DIR (default /tmp/shots/releases)."""

import os
from pathlib import Path

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from deployments.models import Deployment
from deployserver.core.aws import client
from deployserver.core.services import aws_account_create
from feeds.services import feed_create
from releases.models import Environment, Release
from releases.process import process_update
from releases.services import PhaseSpec, lifecycle_create, project_create
from releases.variables import VariableInput, variable_set_replace
from tests.factories import ecs_step
from tests.feeds.registry_kit import ecr_manifest

pytestmark = pytest.mark.e2e

SHOTS = Path(os.environ.get("RELEASES_SHOTS_DIR", "/tmp/shots/releases"))
TAGS = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0-rc.1"]


@pytest.fixture
def hello(transactional_db, moto, admin_user):
    """Dev → Test → Prod, an ECR feed on moto with hello-color's versions, a project using it."""
    cache.clear()
    envs = [
        Environment.objects.create(name=name, slug=name.lower(), sort_order=i)
        for i, name in enumerate(("Dev", "Test", "Prod"))
    ]
    lifecycle = lifecycle_create(
        user=admin_user,
        name="Standard",
        phases=[PhaseSpec(name=e.name, environments=[e]) for e in envs],
    )
    account = aws_account_create(
        user=admin_user,
        name="Sandbox",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        endpoint_url=moto,
    )
    ecr = client(account, "ecr")
    ecr.create_repository(repositoryName="hello-color")
    for tag in TAGS:
        ecr.put_image(repositoryName="hello-color", imageManifest=ecr_manifest(tag), imageTag=tag)
    feed = feed_create(user=admin_user, name="ECR", feed_type="aws-ecr", account=account)
    project = project_create(user=admin_user, name="Hello Color", lifecycle=lifecycle)
    variable_set_replace(
        project=project,
        user=admin_user,
        rows=[
            VariableInput(name, value)
            for name, value in (
                ("Color", "red"),
                ("Message", "Hello"),
                ("DbPassword", "pw"),
                ("TaskName", "hello"),
                ("ClusterName", "cluster"),
                ("ServiceName", "hello-svc"),
            )
        ]
        + [VariableInput("AwsAccount", account.slug, type="aws-account")],
    )
    process_update(project=project, steps=[ecs_step(feed)], user=admin_user)
    yield project
    cache.clear()


def shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in (("desktop", 1280), ("narrow", 420)):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} spills {overflow}px sideways at {width}px"
    page.set_viewport_size({"width": 1280, "height": 900})


def test_create_a_release_with_an_older_version_try_prod_first_then_see_the_dashboard(
    live_server, signed_in, hello
):
    page = signed_in
    page.goto(f"{live_server.url}/projects/hello-color/")
    page.get_by_role("navigation", name="Project").get_by_role("link", name="Releases").click()
    expect(page.get_by_text("No releases yet.")).to_be_visible()
    shoot(page, "releases-empty")
    page.get_by_role("link", name="Create release").first.click()

    # The picker lists the feed's versions (the pre-release too), the newest stable one
    # preselected; pick an older one.
    expect(page.locator("input[name='version']")).to_have_value("0.0.1")
    picker = page.locator("select[name='package-web']")
    expect(picker).to_have_value("2.0.0")
    expect(picker.locator("option")).to_have_count(5)
    picker.select_option("1.1.0")
    page.get_by_label("Notes").fill("Rolls back the **colour** change.\n- keeps `red`")
    shoot(page, "release-create")
    page.get_by_role("button", name="Create release").click()

    expect(page.locator(".msg-success")).to_have_text("Release 0.0.1 created.")
    expect(page.get_by_role("heading", name="Release 0.0.1")).to_be_visible()
    expect(page.locator(".notes-body strong")).to_have_text("colour")
    expect(page.locator("table").first).to_contain_text("1.1.0")
    release = Release.objects.get()
    assert release.packages["web"]["version"] == "1.1.0"

    # Prod before Dev: its button is disabled and says why; forcing it is refused with the reason.
    reason = "Prod opens after phase Dev has a successful deployment to Dev."
    prod = page.locator("tr[data-environment='prod']")
    expect(prod.locator(".reason")).to_have_text(reason)
    expect(prod.get_by_role("button", name="Deploy to Prod")).to_be_disabled()
    shoot(page, "release-detail")
    prod.get_by_role("button", name="Deploy to Prod").evaluate("b => b.disabled = false")
    prod.get_by_role("button", name="Deploy to Prod").click()
    expect(page.locator(".msg-error")).to_have_text(reason)
    assert not Deployment.objects.exists()

    # Dev is open: deploy, and (the engine being another story) let it succeed.
    page.locator("tr[data-environment='dev']").get_by_role("button", name="Deploy to Dev").click()
    deployment = Deployment.objects.get()
    assert (deployment.environment.slug, deployment.state) == ("dev", "queued")
    Deployment.objects.filter(pk=deployment.pk).update(state="success")

    page.goto(f"{live_server.url}/")
    cell = page.locator("table.dashboard tbody tr", has_text="Hello Color").locator("td").first
    expect(cell).to_contain_text("0.0.1")
    expect(cell.locator(".badge")).to_have_text("Success")
    expect(cell).to_contain_text("admin")
    expect(page.locator("table.dashboard thead th")).to_have_text(
        ["Project", "Dev", "Test", "Prod"]
    )
    shoot(page, "dashboard")

    page.goto(f"{live_server.url}/projects/hello-color/releases/")
    expect(page.locator("td.reached .badge")).to_have_text(["Dev"])
    expect(page.get_by_role("button", name="Promote to Test")).to_be_visible()
    shoot(page, "releases")
    page.goto(f"{live_server.url}/releases/{release.pk}/")
    shoot(page, "release-detail-after-dev")

    page.goto(f"{live_server.url}/projects/hello-color/channels/")
    shoot(page, "channels")
    page.get_by_role("link", name="Add channel").click()
    page.get_by_label("Name", exact=True).fill("Previews")
    page.get_by_label("Version range").fill(">=2.0.0")
    page.get_by_label("Pre-release pattern").fill("^rc")
    shoot(page, "channel-create")
    page.get_by_role("button", name="Create channel").click()
    expect(page.locator(".msg-success")).to_have_text("Channel Previews saved.")

    # Switching the channel on the create page reloads the pickers under its rules.
    page.goto(f"{live_server.url}/projects/hello-color/releases/new/")
    page.get_by_label("Channel").select_option("previews")
    picker = page.locator("select[name='package-web']")
    expect(picker.locator("option")).to_have_count(1)
    expect(picker).to_have_value("2.1.0-rc.1")
    shoot(page, "release-create-previews")

    # Retention is a lifecycle setting.
    page.goto(f"{live_server.url}/lifecycles/standard/edit/")
    page.get_by_label("Keep the last releases").fill("20")
    shoot(page, "lifecycle-retention")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".msg-success")).to_have_text("Lifecycle Standard saved.")
    hello.lifecycle.refresh_from_db()
    assert hello.lifecycle.retention_releases == 20
