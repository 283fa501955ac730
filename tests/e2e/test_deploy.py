"""Deploying in a real browser: the log arrives line by line without a reload, the status and
the rollout bar update in place, then the release is promoted from the deployment page. A
failing image shows its failure and rollback the same way."""

import re

import pytest
from playwright.sync_api import expect

from tests.deployments.engine.helpers import wait_for

pytestmark = [pytest.mark.e2e]
SHOTS = "/tmp/shots/engine"


def shoot(page, name: str) -> None:
    for width in (1280, 420):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_deploy_from_the_ui_watch_the_log_arrive_then_promote(
    live_server, signed_in, celery_worker_process, release, monkeypatch
):
    from sandbox import rollouts

    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", 4.0)
    page = signed_in
    page.goto(f"{live_server.url}/releases/{release.pk}/")
    page.get_by_role("button", name="Deploy to Dev").first.click()
    expect(page).to_have_url(re.compile(r"/deployments/\d+/$"))
    page.evaluate("window.notReloaded = true")

    lines = page.locator("#log-lines .ln")
    expect(page.locator("#log-lines")).to_contain_text("Following the rollout")
    expect(page.locator(".rollout-text")).to_be_visible()
    shoot(page, "deployment-executing")
    first_count = lines.count()
    expect(page.locator("#log-lines")).to_contain_text("is deployed to Dev", timeout=30_000)
    assert lines.count() > first_count
    expect(page.locator(".deploy-status .state")).to_have_text("Success")
    expect(page.locator(".rollout-text")).to_have_text("2 of 2 tasks running")
    expect(page.locator(".deploy-status")).to_contain_text("task-definition/hello-color-dev:2")
    assert page.evaluate("window.notReloaded") is True  # all of it arrived in place
    seqs = [int(s) for s in lines.evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(1, len(seqs) + 1))  # each line once, in order

    page.get_by_label("Log level").select_option("verbose")
    expect(page.locator("#log-lines")).to_contain_text("RegisterTaskDefinition")
    page.get_by_label("Log level").select_option("error")
    expect(page.locator("#log-lines .ln:visible")).to_have_count(0)
    page.get_by_label("Log level").select_option("info")
    shoot(page, "deployment-success")

    page.get_by_role("button", name="Promote to Test").click()
    expect(page.locator(".page-head h1")).to_contain_text("Test")
    expect(page.locator("#log-lines")).to_contain_text("is deployed to Test", timeout=30_000)
    expect(page.locator(".deploy-status .state")).to_have_text("Success")
    with page.expect_download() as download:
        page.get_by_role("link", name="Raw log").click()
    with open(download.value.path()) as raw:
        assert "is deployed to Test" in raw.read()


def test_a_failing_image_fails_rolls_back_and_says_why(
    live_server, signed_in, celery_worker_process, sandbox, admin_user, monkeypatch
):
    from deployments.services import deployment_create
    from releases.models import Environment
    from releases.releasing import release_create
    from sandbox import rollouts

    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", 2.0)
    good = release_create(project=sandbox, user=admin_user, packages={"web": "1.0.1"})
    bad = release_create(project=sandbox, user=admin_user, packages={"web": "1.2.0-fail.1"})
    dev = Environment.objects.get(slug="dev")

    wait_for(deployment_create(release=good, environment=dev, user=admin_user).pk)
    failing = deployment_create(release=bad, environment=dev, user=admin_user)

    page = signed_in
    page.goto(f"{live_server.url}/deployments/{failing.pk}/")
    expect(page.locator(".deploy-status .state")).to_have_text("Failed", timeout=30_000)
    expect(page.locator(".deploy-error")).to_contain_text("circuit breaker")
    expect(page.locator(".deploy-error")).to_contain_text("Rolled back to hello-color-dev:2.")
    expect(page.get_by_role("button", name="Deploy again")).to_be_visible()
    shoot(page, "deployment-failed")


def test_what_will_change_opens_on_the_release_page_and_lists_the_changes(
    live_server, signed_in, release
):
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/releases/{release.pk}/")
    diff = page.locator('details[data-diff="dev"]')
    expect(diff.locator(".diff-body")).to_contain_text("Reading what the service runs now")
    diff.locator("summary").click()  # read from AWS only when opened
    expect(diff.locator(".diff-table")).to_be_visible()
    expect(diff).to_contain_text("containers.web.image")
    expect(diff).to_contain_text("containers.web.environment.OCTO_COLOR")
    assert page.locator('details[data-diff="prod"]').count() == 0  # not deployable yet
    shoot(page, "release-diff")
