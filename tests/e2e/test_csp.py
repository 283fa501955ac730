"""The scripted pages work in Chromium under the real Content-Security-Policy (scripts from this
site only, no inline script, no eval), and the browser reports no violation on the way."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deployments.models import Deployment, LogLine
from tests.factories import DeploymentFactory, EnvironmentFactory, ProjectFactory, ReleaseFactory

pytestmark = pytest.mark.e2e

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def strict(signed_in):
    """The signed-in page, recording CSP violations (console and DOM events) and page errors."""
    page = signed_in
    messages = []
    page.on(
        "console",
        lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: messages.append(f"page error: {e}"))
    page.add_init_script(RECORD_VIOLATIONS)

    def check():
        events = page.evaluate("window.__csp || []")
        assert messages == [] and events == [], messages + events

    page.check_csp = check
    yield page
    check()


def lifecycle_phase_editor_adds_and_moves_phases(page, live_server):
    response = page.goto(f"{live_server.url}/lifecycles/new/")
    assert "script-src 'self';" in response.headers["content-security-policy"]
    expect(page.locator("#no-phases")).to_be_visible()
    page.get_by_role("button", name="+ Add phase").click()
    page.get_by_role("button", name="+ Add phase").click()
    phases = page.locator("#phases .phase")
    expect(phases).to_have_count(2)
    expect(page.locator("#no-phases")).to_be_hidden()
    phases.nth(0).locator("[name$='-name']").fill("Build")
    phases.nth(1).locator("[name$='-name']").fill("Ship")
    phases.nth(1).get_by_role("button", name="Move phase up").click()
    expect(phases.nth(0).locator("[name$='-name']")).to_have_value("Ship")
    expect(phases.nth(0).locator(".phase-number")).to_have_text("Phase 1")
    expect(phases.nth(0).locator("[name$='-ORDER']")).to_have_value("1")
    expect(phases.nth(1).locator("[name$='-ORDER']")).to_have_value("2")
    page.check_csp()


def channel_rule_editor_adds_a_rule(page, live_server):
    page.goto(f"{live_server.url}/projects/web-shop/channels/new/")
    rules = page.locator("#rules .rule-form")
    before = rules.count()
    page.get_by_role("button", name="+ Add rule").click()
    expect(rules).to_have_count(before + 1)
    expect(rules.last.locator(".rule-number")).to_have_text(f"Rule {before + 1}")
    expect(page.locator("#id_rules-TOTAL_FORMS")).to_have_value(str(before + 1))
    page.check_csp()


def feed_form_shows_the_fields_of_its_type(page, live_server):
    page.goto(f"{live_server.url}/library/feeds/new/")
    ecr = page.locator("fieldset[data-feed-type='aws-ecr']")
    docker = page.locator("fieldset[data-feed-type='docker-registry']")
    page.locator("select[name='feed_type']").select_option("docker-registry")
    expect(docker).to_be_visible()
    expect(ecr).to_be_hidden()
    page.locator("select[name='feed_type']").select_option("aws-ecr")
    expect(ecr).to_be_visible()
    expect(docker).to_be_hidden()
    page.check_csp()


def api_key_copy_and_revoke_confirm(page, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}/account/api-keys/")
    page.get_by_label("Name").fill("ci <pipeline>")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").input_value()
    assert key.startswith("ds_")
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key

    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.get_by_role("button", name="Revoke").click()
    assert questions == ["Revoke the key ci <pipeline>? Clients using it stop working."]
    expect(page.get_by_role("button", name="Revoke")).to_have_count(1)
    page.once("dialog", lambda d: answer(d, True))
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    page.check_csp()


def deployment_log_level_filter(page, live_server, dev):
    deployment = DeploymentFactory(
        release=ReleaseFactory(version="1.0.0"), environment=dev, state=Deployment.State.SUCCESS
    )
    now = timezone.now()
    LogLine.objects.bulk_create(
        LogLine(deployment=deployment, seq=i, time=now + timedelta(seconds=i), level=lv, text=t)
        for i, (lv, t) in enumerate(
            [("verbose", "Resolved image"), ("info", "Service updated"), ("error", "Boom")], 1
        )
    )
    page.goto(f"{live_server.url}/deployments/{deployment.pk}/")
    line = page.locator("#log-lines .ln")
    expect(line.filter(has_text="Service updated")).to_be_visible()
    expect(line.filter(has_text="Resolved image")).to_be_hidden()
    page.get_by_label("Log level").select_option("verbose")
    expect(line.filter(has_text="Resolved image")).to_be_visible()
    page.get_by_label("Log level").select_option("error")
    expect(line.filter(has_text="Service updated")).to_be_hidden()
    expect(line.filter(has_text="Boom")).to_be_visible()
    page.check_csp()


def swagger_ui_renders(page, live_server):
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("deployserver API")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    page.check_csp()


def test_the_editors_and_forms_work_under_the_policy(strict, live_server):
    EnvironmentFactory(name="Dev", slug="dev", sort_order=1)
    ProjectFactory(name="Web shop", slug="web-shop")
    lifecycle_phase_editor_adds_and_moves_phases(strict, live_server)
    channel_rule_editor_adds_a_rule(strict, live_server)
    feed_form_shows_the_fields_of_its_type(strict, live_server)
    api_key_copy_and_revoke_confirm(strict, live_server)


def test_the_deployment_log_and_swagger_ui_work_under_the_policy(strict, live_server):
    dev = EnvironmentFactory(name="Dev", slug="dev", sort_order=1)
    deployment_log_level_filter(strict, live_server, dev)
    swagger_ui_renders(strict, live_server)
