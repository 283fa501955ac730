"""Every page answers with the Content-Security-Policy and carries no inline script, no
event-handler attribute and no ``javascript:`` URL, so the policy can forbid them; HTTPS turns
on Secure cookies and HSTS."""

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from deployments.models import Deployment, LogLine
from deployserver.core.models import Team
from deployserver.core.services import api_key_create, aws_account_create
from deployserver.web.csp import DEFAULT_POLICY, build_policy, merge_policy
from notifications.models import Delivery, Webhook
from tests.conftest import ROOT
from tests.factories import (
    ChannelFactory,
    DeploymentFactory,
    DockerFeedFactory,
    EnvironmentFactory,
    LifecycleFactory,
    PhaseEnvironmentFactory,
    PhaseFactory,
    ProjectFactory,
    ReleaseFactory,
)
from triggers.models import Trigger

POLICY = settings.CONTENT_SECURITY_POLICY
SCRIPT_SRC = POLICY["script-src"]
# Partials answered to htmx and pages that only act (POST) or reach a registry or AWS.
SKIP = {"account-check", "feed-test", "feed-repositories", "feed-versions", "feed-digest"}


def routes(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def page_routes():
    """(route, name) of every server-rendered page: all but the API, the admin and healthz."""
    for route, name in routes():
        if route.startswith(("api/", "admin/")) or name == "healthz":
            continue
        yield route, name


class InlineCode(HTMLParser):
    """Collects what a script-src without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            kind = (attrs.get("type") or "").lower()
            if kind not in ("application/json", "application/ld+json"):
                self.problems.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> at line {self.getpos()[0]}")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}=javascript:…> at line {self.getpos()[0]}")
            if name == "hx-on" or name.startswith(("hx-on:", "hx-on-", "hx-on::")):
                self.problems.append(f"<{tag} {name}> needs eval")
            if name.startswith("hx-") and value and "js:" in value.replace(" ", ""):
                self.problems.append(f"<{tag} {name}=js:…> needs eval")
        if tag in ("form", "div", "span", "input", "select", "button", "a", "body"):
            trigger = attrs.get("hx-trigger") or ""
            if re.search(r"\[[^\]]*\]", trigger):
                self.problems.append(f"<{tag} hx-trigger={trigger!r}> filter needs eval")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.problems


@pytest.fixture
def seeded(db, admin_user):
    """One of everything a page shows, with the ids the routes need."""
    dev = EnvironmentFactory(name="Dev", slug="dev", sort_order=1)
    prod = EnvironmentFactory(name="Prod", slug="prod", sort_order=2)
    lifecycle = LifecycleFactory(name="Train", slug="train")
    phase = PhaseFactory(lifecycle=lifecycle, name="Build", sort_order=0)
    PhaseEnvironmentFactory(phase=phase, environment=dev)
    project = ProjectFactory(name="Web shop", slug="web-shop", lifecycle=lifecycle)
    ChannelFactory(project=project, name="Hotfix", slug="hotfix")
    release = ReleaseFactory(project=project, version="1.0.0")
    deployment = DeploymentFactory(
        release=release, environment=dev, state=Deployment.State.EXECUTING
    )
    now = timezone.now()
    LogLine.objects.bulk_create(
        LogLine(deployment=deployment, seq=i, time=now + timedelta(seconds=i), level=level, text=t)
        for i, (level, t) in enumerate(
            [("info", "Starting"), ("verbose", "Detail"), ("error", "<img src=x onerror=1>")], 1
        )
    )
    feed = DockerFeedFactory(name="Hub", slug="hub")
    aws_account_create(
        user=admin_user,
        name="Sandbox",
        slug="sandbox",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="secret",
        region="eu-west-1",
    )
    key, _ = api_key_create(user=admin_user, name="ci <b>pipeline</b>")
    team = Team.objects.create(name="Developers <b>")
    trigger = Trigger.objects.create(project=project, name="New <b>images</b>")
    webhook = Webhook.objects.create(
        name="Chat <b>", url="https://chat.example.org/hook", events=["deployment.failed"]
    )
    Delivery.objects.create(webhook=webhook, event_name="deployment.failed", body="{}")
    return {
        "trigger": trigger.pk,
        "slug": project.slug,
        "channel_slug": "hotfix",
        "package_id": "library/nginx",
        "ids": {
            "account/api-keys/": key.pk,
            "library/feeds/": feed.pk,
            "releases/": release.pk,
            "deployments/": deployment.pk,
            "teams/": team.pk,
            "settings/webhooks/": webhook.pk,
        },
        "env_slug": prod.slug,
        "lifecycle_slug": lifecycle.slug,
        "account_slug": "sandbox",
    }


def concrete(route: str, seeded: dict) -> str:
    if route.startswith("environments/"):
        slug = seeded["env_slug"]
    elif route.startswith("lifecycles/"):
        slug = seeded["lifecycle_slug"]
    elif route.startswith("library/accounts/"):
        slug = seeded["account_slug"]
    else:
        slug = seeded["slug"]
    pk = next((v for k, v in seeded["ids"].items() if route.startswith(k)), None)
    if "/triggers/" in route:
        pk = seeded["trigger"]
    url = route.replace("<slug:slug>", slug)
    url = url.replace("<slug:channel_slug>", seeded["channel_slug"])
    url = url.replace("<path:package_id>", seeded["package_id"])
    url = url.replace("<str:username>", "admin")
    if pk is not None:
        url = url.replace("<int:pk>", str(pk))
    assert "<" not in url, f"no sample value for {route}"
    return "/" + url


def test_the_policy_forbids_inline_scripts_and_eval():
    value = build_policy(POLICY)
    assert "'unsafe-inline'" not in SCRIPT_SRC and "'unsafe-eval'" not in SCRIPT_SRC
    assert POLICY["object-src"] == ["'none'"] and POLICY["frame-ancestors"] == ["'none'"]
    assert value.startswith("default-src 'self'; script-src 'self'; ")


def test_extra_sources_extend_the_policy():
    merged = merge_policy(DEFAULT_POLICY, "img-src https://a.example 'self'; worker-src 'self'")
    assert merged["img-src"] == ["'self'", "data:", "https://a.example"]
    assert merged["worker-src"] == ["'self'"]
    assert DEFAULT_POLICY["img-src"] == ["'self'", "data:"]


def test_every_page_has_the_policy_and_no_inline_code(client, admin_user, seeded):
    client.force_login(admin_user)
    expected = build_policy(POLICY)
    checked = set()
    for route, name in page_routes():
        if name in SKIP:
            continue
        url = concrete(route, seeded)
        response = client.get(url)
        assert response.status_code < 500, url
        assert response["Content-Security-Policy"] == expected, url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["X-Frame-Options"] == "DENY", url
        assert response["Referrer-Policy"] == "same-origin", url
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            assert inline_code(response.content.decode()) == [], url
            checked.add(name)
    # The pages with scripted behaviour, and most of the rest.
    assert {
        "lifecycle-edit",
        "lifecycle-create",
        "project-channel-edit",
        "feed-create",
        "feed-edit",
        "feed-package",
        "deployment-detail",
        "api-keys",
        "project-process",
        "project-variables",
        "dashboard",
    } <= checked
    assert len(checked) >= 35


def test_pages_signed_out_and_error_pages_carry_no_inline_code(client):
    for url in ("/login/", "/no-such-page/"):
        response = client.get(url)
        assert response["Content-Security-Policy"] == build_policy(POLICY)
        assert inline_code(response.content.decode()) == [], url


def test_every_template_is_free_of_inline_code():
    """Also the branches a walk does not reach (a new key shown once, a form with errors)."""
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        # Template tags are not HTML: blank them before parsing.
        text = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "tag", text, flags=re.S)
        assert inline_code(text) == [], path


def test_api_docs_use_the_split_view_without_inline_script(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert inline_code(page.content.decode()) == []
    assert page["Content-Security-Policy"] == build_policy(POLICY)
    assert 'src="/api/docs/?script="' in page.content.decode()
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_api_answers_carry_the_policy_too(admin_api):
    response = admin_api.get("/api/projects/")
    assert response["Content-Security-Policy"] == build_policy(POLICY)


SHOW = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    name: getattr(settings, name, None) for name in (
        "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER", "CONTENT_SECURITY_POLICY",
    )
}))
"""


def security_settings(tmp_path, **environ) -> dict:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "deployserver.settings",
        "DEPLOYSERVER_DATA_DIR": str(tmp_path),
        "DEBUG": "1",
        **environ,
    }
    done = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_plain_http_by_default(tmp_path):
    s = security_settings(tmp_path)
    assert s["SESSION_COOKIE_SECURE"] is False and s["CSRF_COOKIE_SECURE"] is False
    assert s["SECURE_HSTS_SECONDS"] == 0
    assert s["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.parametrize("variable", ["DEPLOYSERVER_HTTPS", "SESSION_COOKIE_SECURE"])
def test_https_makes_cookies_secure_and_sends_hsts(tmp_path, variable):
    s = security_settings(tmp_path, **{variable: "1"})
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] is None


def test_behind_a_proxy_trusts_its_forwarded_proto_and_extra_sources_apply(tmp_path):
    s = security_settings(
        tmp_path,
        DEPLOYSERVER_HTTPS="1",
        DEPLOYSERVER_BEHIND_PROXY="1",
        DEPLOYSERVER_CSP_EXTRA="img-src https://img.example",
    )
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["CONTENT_SECURITY_POLICY"]["img-src"][-1] == "https://img.example"


@pytest.mark.django_db
def test_hsts_header_on_https_requests(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get("/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/login/")
