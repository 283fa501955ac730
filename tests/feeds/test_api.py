"""The feeds REST API: CRUD with a write-only password, test, repositories and versions."""

import pytest

from deployserver.core.models import AuditEvent
from feeds.models import Feed
from tests.factories import DockerFeedFactory
from tests.scenarios import REGISTRY_PASSWORD, REGISTRY_USER

pytestmark = pytest.mark.django_db


def test_create_a_docker_feed_never_returns_the_password(admin_api, registry_auth):
    resp = admin_api.post(
        "/api/feeds/",
        {
            "name": "Private",
            "feed_type": "docker-registry",
            "url": registry_auth.url,
            "username": REGISTRY_USER,
            "password": REGISTRY_PASSWORD,
        },
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    body = resp.json()
    assert body["slug"] == "private" and body["has_password"] is True
    assert "password" not in body and REGISTRY_PASSWORD not in resp.content.decode()
    listed = admin_api.get("/api/feeds/").content.decode()
    assert REGISTRY_PASSWORD not in listed
    feed = Feed.objects.get(pk=body["id"])
    assert feed.password == REGISTRY_PASSWORD
    event = AuditEvent.objects.get(object_type="feeds.feed", action="create")
    assert event.changes["password"] == "********"
    assert REGISTRY_PASSWORD not in str(event.changes)


def test_the_password_is_encrypted_in_the_database(admin_api, docker_feed):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM feeds_feed WHERE id = %s", [docker_feed.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("fernet:") and REGISTRY_PASSWORD not in stored


def test_update_without_password_keeps_it_and_the_audit_masks_a_new_one(admin_api, docker_feed):
    resp = admin_api.patch(f"/api/feeds/{docker_feed.pk}/", {"name": "Renamed"}, format="json")
    assert resp.status_code == 200
    docker_feed.refresh_from_db()
    assert docker_feed.password == REGISTRY_PASSWORD
    admin_api.patch(f"/api/feeds/{docker_feed.pk}/", {"password": "n3w-pass"}, format="json")
    event = AuditEvent.objects.filter(object_type="feeds.feed", action="update").first()
    assert event.changes["password"] == ["********", "******** (replaced)"]


def test_an_ecr_feed_needs_an_account_and_a_docker_feed_a_url(admin_api):
    resp = admin_api.post("/api/feeds/", {"name": "E", "feed_type": "aws-ecr"}, format="json")
    assert resp.status_code == 400
    assert "account" in resp.json()
    resp = admin_api.post(
        "/api/feeds/", {"name": "D", "feed_type": "docker-registry"}, format="json"
    )
    assert resp.status_code == 400 and "url" in resp.json()


def test_an_ecr_feed_takes_the_accounts_region_and_drops_docker_fields(admin_api, aws_account):
    resp = admin_api.post(
        "/api/feeds/",
        {"name": "E", "feed_type": "aws-ecr", "account": aws_account.pk, "url": "http://x:1"},
        format="json",
    )
    assert resp.status_code == 201, resp.json()
    assert resp.json()["region"] == "us-east-1" and resp.json()["url"] == ""


def test_test_reports_the_summary_or_the_upstream_reason(admin_api, docker_feed):
    resp = admin_api.post(f"/api/feeds/{docker_feed.pk}/test/")
    assert resp.status_code == 200
    assert resp.json() == {"ok": True, "detail": "3 repositories"}
    dead = DockerFeedFactory()
    resp = admin_api.post(f"/api/feeds/{dead.pk}/test/")
    assert resp.status_code == 502
    assert resp.json()["detail"] == "Connection refused: 127.0.0.1:9"


def test_repositories_are_searchable(admin_api, ecr_feed):
    resp = admin_api.get(f"/api/feeds/{ecr_feed.pk}/packages/", {"q": "team"})
    assert resp.status_code == 200
    assert resp.json() == {"count": 1, "results": ["team/api"]}


def test_versions_of_a_namespaced_repository(admin_api, ecr_feed):
    resp = admin_api.get(f"/api/feeds/{ecr_feed.pk}/packages/team/api/versions/")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert [v["version"] for v in body["results"]] == [
        "2.0.0",
        "1.10.0",
        "1.9.0",
        "1.0.1",
        "1.0.0",
    ]
    first = body["results"][0]
    assert first["tag"] == "v2.0.0" and first["digest"].startswith("sha256:")
    assert first["pushed_at"] and first["size"] > 0 and first["prerelease"] is False
    assert body["repository"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api"
    assert body["cached"] is False and "other" not in body


def test_versions_with_pre_releases_filter_limit_and_other_tags(admin_api, ecr_feed):
    url = f"/api/feeds/{ecr_feed.pk}/packages/team/api/versions/"
    body = admin_api.get(url, {"pre": "1", "q": "1.", "limit": "3"}).json()
    assert [v["tag"] for v in body["results"]] == ["1.10.0", "1.9.0", "1.1.0-beta.1"]
    body = admin_api.get(url, {"other": "1"}).json()
    assert body["cached"] is True
    assert [t["tag"] for t in body["other"]] == ["latest", "not-semver"]


def test_refresh_bypasses_the_cache(admin_api, ecr_feed):
    url = f"/api/feeds/{ecr_feed.pk}/packages/web/versions/"
    assert admin_api.get(url).json()["cached"] is False
    assert admin_api.get(url).json()["cached"] is True
    assert admin_api.get(url, {"refresh": "1"}).json()["cached"] is False


def test_a_bad_limit_is_a_400(admin_api, ecr_feed):
    resp = admin_api.get(f"/api/feeds/{ecr_feed.pk}/packages/web/versions/", {"limit": "x"})
    assert resp.status_code == 400 and "limit" in resp.json()


def test_digest_of_a_tag_on_a_docker_registry(admin_api, docker_feed, registry_auth):
    resp = admin_api.get(
        f"/api/feeds/{docker_feed.pk}/packages/team/api/digest/", {"tag": "latest"}
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["digest"].startswith("sha256:")
    host = registry_auth.url.removeprefix("http://")
    assert body["image_by_digest"] == f"{host}/team/api@{body['digest']}"
    assert body["image_by_tag"] == f"{host}/team/api:latest"


def test_unknown_feed_and_unknown_repository_are_404_with_a_message(admin_api, docker_feed):
    resp = admin_api.get("/api/feeds/999999/packages/")
    assert resp.status_code == 404 and resp.json()["detail"] == "There is no feed with id 999999."
    resp = admin_api.get(f"/api/feeds/{docker_feed.pk}/packages/no/such/repo/versions/")
    assert resp.status_code == 404
    assert resp.json()["detail"].startswith("Repository no/such/repo")


def test_registry_failures_are_502_never_500(admin_api):
    dead = DockerFeedFactory()
    for url in (
        f"/api/feeds/{dead.pk}/packages/",
        f"/api/feeds/{dead.pk}/packages/a/versions/",
        f"/api/feeds/{dead.pk}/packages/a/digest/?tag=1.0.0",
    ):
        resp = admin_api.get(url)
        assert resp.status_code == 502, url
        assert "Connection refused" in resp.json()["detail"]


def test_a_viewer_reads_but_cannot_create_or_test(api_client, viewer_user, docker_feed):
    api_client.force_authenticate(viewer_user)
    assert api_client.get(f"/api/feeds/{docker_feed.pk}/").status_code == 200
    assert api_client.post("/api/feeds/", {"name": "x"}, format="json").status_code == 403
    assert api_client.post(f"/api/feeds/{docker_feed.pk}/test/").status_code == 403


def test_anonymous_calls_are_401(api_client, docker_feed):
    assert api_client.get(f"/api/feeds/{docker_feed.pk}/packages/").status_code == 401


def test_delete_is_audited(admin_api, docker_feed):
    assert admin_api.delete(f"/api/feeds/{docker_feed.pk}/").status_code == 204
    assert not Feed.objects.exists()
    assert AuditEvent.objects.filter(object_type="feeds.feed", action="delete").exists()


def test_the_list_is_a_constant_number_of_queries(
    admin_api, aws_account, django_assert_max_num_queries
):
    for n in range(5):
        Feed.objects.create(
            name=f"F{n}", slug=f"f{n}", feed_type="aws-ecr", account=aws_account, region="us-east-1"
        )
    with django_assert_max_num_queries(4):
        assert admin_api.get("/api/feeds/").json()["count"] == 5


def test_the_schema_documents_the_package_routes(admin_api):
    schema = admin_api.get("/api/schema/", {"format": "json"}).json()
    assert "/api/feeds/{id}/packages/{package_id}/versions/" in schema["paths"]
    assert "/api/feeds/{id}/test/" in schema["paths"]


def test_names_no_registry_accepts_are_a_400_without_asking_it(admin_api):
    dead = DockerFeedFactory()  # nothing listens: a registry call would answer 502
    resp = admin_api.get(f"/api/feeds/{dead.pk}/packages/Team/../api/versions/")
    assert resp.status_code == 400
    assert "is not a repository name" in resp.json()["detail"]
    resp = admin_api.get(f"/api/feeds/{dead.pk}/packages/team/api/digest/", {"tag": "a b"})
    assert resp.status_code == 400 and resp.json()["detail"] == "'a b' is not an image tag."
