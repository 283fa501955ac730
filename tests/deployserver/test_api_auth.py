"""Every API endpoint refuses callers without valid credentials."""

import re
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from deployserver.core.models import ApiKey
from deployserver.core.services import api_key_create

pytestmark = pytest.mark.django_db

SAMPLE_VALUES = {"pk": "1", "id": "1", "slug": "sample", "package_id": "sample"}
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
PATH_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _route(pattern) -> str:
    """One URL pattern as a path with sample values in place of its parameters."""
    text = str(pattern.pattern)
    if hasattr(pattern.pattern, "regex") and text.startswith("^"):
        text = GROUP.sub(lambda m: SAMPLE_VALUES.get(m.group(1), "x"), text)
        text = text.lstrip("^").rstrip("$").replace("\\.", ".").replace("\\Z", "")
        return text
    return PATH_CONVERTER.sub(lambda m: SAMPLE_VALUES.get(m.group(1), "x"), text)


def api_paths(resolver=None, prefix="/") -> list[str]:
    """Every concrete path under /api/ in the URL configuration (format suffixes left out)."""
    paths = []
    for entry in (resolver or get_resolver()).url_patterns:
        if "format" in str(entry.pattern):
            continue
        path = prefix + _route(entry)
        if isinstance(entry, URLResolver):
            paths += api_paths(entry, path)
        elif isinstance(entry, URLPattern) and path.startswith("/api/"):
            paths.append(path)
    return sorted(set(paths))


def test_the_walk_finds_the_api_endpoints():
    paths = api_paths()
    for expected in (
        "/api/",
        "/api/environments/",
        "/api/environments/1/",
        "/api/lifecycles/",
        "/api/accounts/",
        "/api/accounts/1/test/",
        "/api/projects/sample/",
        "/api/audit/",
        "/api/schema/",
        "/api/docs/",
    ):
        assert expected in paths


# A registry's push hook authenticates by the secret token in its URL (tests/triggers): a wrong
# token is 404, GET 405 — never a sign-in.
TOKEN_AUTHENTICATED = ("/api/hooks/registry/",)


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_api_endpoint_answers_401_without_credentials(client, method):
    paths = [p for p in api_paths() if not p.startswith(TOKEN_AUTHENTICATED)]
    answers = {path: getattr(client, method)(path).status_code for path in paths}
    assert {p: s for p, s in answers.items() if s != 401} == {}


def test_a_wrong_api_key_gets_401(api_client, admin_user):
    api_key_create(user=admin_user, name="real")
    api_client.credentials(HTTP_AUTHORIZATION="Token ds_not-a-real-key")
    response = api_client.get("/api/environments/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid API key."
    assert response["WWW-Authenticate"] == "Token"


def test_an_expired_api_key_gets_401(api_client, admin_user):
    _, key = api_key_create(
        user=admin_user, name="old", expires_at=timezone.now() - timedelta(seconds=1)
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = api_client.get("/api/environments/")
    assert response.status_code == 401
    assert response.json()["detail"] == "This API key has expired."


def test_a_key_of_an_inactive_user_gets_401(api_client, admin_user):
    _, key = api_key_create(user=admin_user, name="k")
    admin_user.is_active = False
    admin_user.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/environments/").status_code == 401


def test_a_valid_key_authenticates_and_records_when_it_was_used(api_client, admin_user):
    api_key, key = api_key_create(user=admin_user, name="k")
    assert api_key.last_used_at is None
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/environments/").status_code == 200
    used = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert used is not None and timezone.now() - used < timedelta(seconds=10)


def test_the_session_of_a_logged_in_user_authenticates(client, admin_user):
    client.force_login(admin_user)
    assert client.get("/api/environments/").status_code == 200
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
