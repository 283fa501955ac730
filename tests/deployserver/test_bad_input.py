"""Inputs that once crashed the server answer a clear 4xx with a reason, JSON under /api/."""

import json

import pytest

pytestmark = pytest.mark.django_db

JSON_ENDPOINTS = [
    ("post", "/api/environments/"),
    ("post", "/api/projects/"),
    ("post", "/api/feeds/"),
    ("post", "/api/deployments/"),
]


@pytest.mark.parametrize(("method", "url"), JSON_ENDPOINTS)
def test_deeply_nested_json_is_a_json_400(admin_api, method, url):
    body = "[" * 100_000 + "]" * 100_000
    response = getattr(admin_api, method)(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "nested too deeply" in response.json()["detail"]


def test_a_nul_character_in_a_json_string_is_a_400(admin_api):
    response = admin_api.post(
        "/api/environments/", json.dumps({"name": "Dev\u0000"}), content_type="application/json"
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/deployments/?project=%00",
        "/api/audit/?object_type=%00",
        "/api/feeds/?q=a%00b",
        "/api/projects/?name=%00",
    ],
)
def test_a_nul_in_the_query_string_is_a_json_400(admin_api, url):
    response = admin_api.get(url)
    assert response.status_code == 400
    assert response.json() == {"detail": "The query string holds a NUL character (%00)."}


def test_a_nul_in_a_page_query_string_is_a_400_page(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/projects/?q=%00")
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_body_over_the_limit_is_a_json_413(admin_api, settings):
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = admin_api.post("/api/environments/", body, content_type="application/json")
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]


def test_an_unknown_api_url_is_a_json_404(admin_api):
    response = admin_api.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_an_unknown_page_is_still_the_html_404(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "There is nothing at this address" in (
        response.content.decode()
    )


def test_an_error_inside_an_api_view_is_a_json_500(admin_api, monkeypatch):
    from deployserver.core import api

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api.AuditEventViewSet, "list", broken)
    admin_api.raise_request_exception = False
    response = admin_api.get("/api/audit/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "boom" not in response.content.decode()


def test_a_repository_name_ecr_refuses_is_a_400_not_a_502(admin_api, aws_account, admin_user):
    from feeds.services import feed_create

    feed = feed_create(user=admin_user, name="ECR", feed_type="aws-ecr", account=aws_account)
    response = admin_api.get(f"/api/feeds/{feed.pk}/packages/0/versions/")
    assert response.status_code == 400
    assert "ECR refuses this request" in response.json()["detail"]
