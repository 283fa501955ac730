"""Approvals in a real browser: a deployer queues Prod, it waits for approval (the deployer may
not approve their own: four eyes), an approver approves it and it runs to success; a second one
is rejected and ends cancelled with the reason. Screenshots go to $APPROVALS_SHOTS_DIR (default
/tmp/shots/approvals)."""

import os
import re

import pytest
from playwright.sync_api import expect

from deployments.models import Deployment
from deployserver.core.models import Grant, Team
from releases.models import Environment
from tests.factories import DeploymentFactory

pytestmark = [pytest.mark.e2e]
SHOTS = os.environ.get("APPROVALS_SHOTS_DIR", "/tmp/shots/approvals")


def shoot(page, name: str) -> None:
    for width in (1280, 420):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"{SHOTS}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pass-word-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def member(django_user_model, username: str, *grants: tuple[str, list]):
    user = django_user_model.objects.create_user(username, password="pass-word-1")
    team = Team.objects.create(name=f"{username} team")
    team.members.add(user)
    for role, environments in grants:
        grant = Grant.objects.create(team=team, role=role, all_environments=not environments)
        grant.environments.set(environments)
    return user


def test_prod_waits_for_an_approver_then_runs_and_a_rejection_cancels(
    live_server, page, celery_worker_process, release, django_user_model, monkeypatch
):
    from sandbox import rollouts

    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", 3.0)
    page.set_default_timeout(10_000)
    envs = {e.slug: e for e in Environment.objects.all()}
    Environment.objects.filter(slug="prod").update(requires_approval=True, approval_by_other=True)
    for slug in ("dev", "test"):
        DeploymentFactory(release=release, environment=envs[slug], state="success")
    member(django_user_model, "dana", ("deployer", []), ("approver", [envs["prod"]]))
    member(django_user_model, "alex", ("approver", [envs["prod"]]))
    base = live_server.url

    sign_in(page, base, "dana")
    page.goto(f"{base}/releases/{release.pk}/")
    page.get_by_role("button", name="Deploy to Prod").click()
    expect(page).to_have_url(re.compile(r"/deployments/\d+/$"))
    expect(page.locator(".deploy-status .state")).to_have_text("Awaiting approval")
    expect(page.locator("[data-approval-refusal]")).to_contain_text("someone other than who queued")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    first = Deployment.objects.get(environment=envs["prod"])
    assert first.state == "awaiting_approval" and first.started_at is None
    shoot(page, "awaiting-own")

    sign_in(page, base, "alex")
    page.goto(f"{base}/")
    expect(page.locator("#awaiting")).to_contain_text("Hello Color")
    shoot(page, "dashboard-awaiting")
    page.goto(f"{base}/deployments/{first.pk}/")
    expect(page.locator(".approval")).to_contain_text("Who may approve")
    page.get_by_label("Comment").fill("Ship it")
    shoot(page, "awaiting-approver")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#log-lines")).to_contain_text("is deployed to Prod", timeout=30_000)
    expect(page.locator(".deploy-status .state")).to_have_text("Success")
    expect(page.locator(".deploy-status")).to_contain_text("by alex: “Ship it”")
    shoot(page, "approved-success")

    sign_in(page, base, "dana")
    page.goto(f"{base}/deployments/{first.pk}/")
    page.get_by_role("button", name="Deploy again").click()
    expect(page.locator(".deploy-status .state")).to_have_text("Awaiting approval")
    second = Deployment.objects.filter(environment=envs["prod"]).latest("pk")
    sign_in(page, base, "alex")
    page.goto(f"{base}/deployments/{second.pk}/")
    page.get_by_label("Comment").fill("Not during the freeze")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator(".deploy-status .state")).to_have_text("Cancelled")
    expect(page.locator(".deploy-error")).to_have_text("Rejected by alex: Not during the freeze")
    shoot(page, "rejected")
    second.refresh_from_db()
    assert second.state == "cancelled" and second.started_at is None
