"""Library → Feeds pages with the Django test client."""

import pytest
from django.urls import reverse

from feeds.models import Feed
from tests.factories import DockerFeedFactory
from tests.scenarios import REGISTRY_PASSWORD, REGISTRY_USER

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, admin_user):
    client.force_login(admin_user)
    return client


def htmx(client, url, **kwargs):
    return client.get(url, HTTP_HX_REQUEST="true", **kwargs)


def test_the_list_shows_each_feed_with_its_registry(browser, ecr_feed, docker_feed):
    page = browser.get(reverse("feed-list")).content.decode()
    assert "ECR" in page and "Sandbox · us-east-1" in page
    assert docker_feed.url in page and f"as {REGISTRY_USER}" in page


def test_pages_need_a_login(client, docker_feed):
    resp = client.get(reverse("feed-detail", args=[docker_feed.pk]))
    assert resp.status_code == 302 and "/login/" in resp["Location"]


def test_a_viewer_may_browse_but_not_create(client, viewer_user, docker_feed):
    client.force_login(viewer_user)
    assert client.get(reverse("feed-detail", args=[docker_feed.pk])).status_code == 200
    assert client.get(reverse("feed-create")).status_code == 403


def test_create_an_ecr_feed_then_browse_it(browser, aws_account, ecr):
    resp = browser.post(
        reverse("feed-create"),
        {"name": "Prod ECR", "feed_type": "aws-ecr", "account": aws_account.pk, "then": ""},
    )
    feed = Feed.objects.get(name="Prod ECR")
    assert resp.status_code == 302 and resp["Location"] == reverse("feed-detail", args=[feed.pk])
    assert feed.region == "us-east-1"


def test_save_and_test_runs_the_test_inline_on_the_edit_page(browser, registry_auth):
    resp = browser.post(
        reverse("feed-create"),
        {
            "name": "Private",
            "feed_type": "docker-registry",
            "url": registry_auth.url,
            "username": REGISTRY_USER,
            "password": REGISTRY_PASSWORD,
            "then": "test",
        },
    )
    feed = Feed.objects.get(name="Private")
    assert resp["Location"] == reverse("feed-edit", args=[feed.pk]) + "?test=1"
    page = browser.get(resp["Location"]).content.decode()
    assert f'hx-post="{reverse("feed-test", args=[feed.pk])}"' in page
    assert REGISTRY_PASSWORD not in page
    result = browser.post(reverse("feed-test", args=[feed.pk]), HTTP_HX_REQUEST="true")
    assert "✓ 3 repositories" in result.content.decode()


def test_a_failed_test_shows_the_reason(browser):
    feed = DockerFeedFactory()
    result = browser.post(reverse("feed-test", args=[feed.pk]), HTTP_HX_REQUEST="true")
    assert "✗ Connection refused: 127.0.0.1:9" in result.content.decode()


def test_form_and_service_errors_are_shown_in_place(browser, aws_account):
    resp = browser.post(reverse("feed-create"), {"name": "X", "feed_type": "docker-registry"})
    assert resp.status_code == 400
    assert "This field is required." in resp.content.decode()
    resp = browser.post(
        reverse("feed-create"),
        {"name": "X", "feed_type": "aws-ecr", "account": aws_account.pk, "region": "nowhere"},
    )
    assert resp.status_code == 400
    assert "Enter an AWS region such as eu-west-1" in resp.content.decode()
    assert not Feed.objects.exists()


def test_editing_keeps_the_password_when_left_blank(browser, docker_feed):
    page = browser.get(reverse("feed-edit", args=[docker_feed.pk])).content.decode()
    assert REGISTRY_PASSWORD not in page and "Leave blank to keep" in page
    browser.post(
        reverse("feed-edit", args=[docker_feed.pk]),
        {
            "name": "Renamed",
            "feed_type": "docker-registry",
            "url": docker_feed.url,
            "username": REGISTRY_USER,
            "password": "",
        },
    )
    docker_feed.refresh_from_db()
    assert docker_feed.name == "Renamed" and docker_feed.password == REGISTRY_PASSWORD


def test_repository_search_partial(browser, docker_feed):
    url = reverse("feed-repositories", args=[docker_feed.pk])
    page = htmx(browser, url, data={"q": "tools"}).content.decode()
    assert reverse("feed-package", args=[docker_feed.pk, "tools/ci/runner"]) in page
    assert "team/api" not in page


def test_versions_partial_with_pre_release_toggle_and_copy_references(browser, ecr_feed):
    url = reverse("feed-versions", args=[ecr_feed.pk])
    page = htmx(browser, url, data={"package": "team/api"}).content.decode()
    assert "1.10.0" in page and "1.1.0-beta.1" not in page
    host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert f'data-copy="{host}/team/api:v2.0.0"' in page
    assert f'data-copy="{host}/team/api@sha256:' in page
    page = htmx(browser, url, data={"package": "team/api", "pre": "1", "other": "1"})
    text = page.content.decode()
    assert "1.1.0-beta.1" in text and "not-semver" in text


def test_docker_versions_fetch_a_digest_on_demand(browser, docker_feed):
    page = htmx(
        browser, reverse("feed-versions", args=[docker_feed.pk]), data={"package": "team/api"}
    ).content.decode()
    assert "Get digest" in page
    digest = htmx(
        browser,
        reverse("feed-digest", args=[docker_feed.pk]),
        data={"package": "team/api", "tag": "1.0.0"},
    ).content.decode()
    assert "@sha256:" in digest


def test_registry_errors_are_shown_in_the_partials(browser):
    feed = DockerFeedFactory()
    for name, data in (("feed-repositories", {}), ("feed-versions", {"package": "a"})):
        resp = htmx(browser, reverse(name, args=[feed.pk]), data=data)
        assert resp.status_code == 200
        assert "Connection refused" in resp.content.decode()


def test_package_page_for_a_namespaced_repository(browser, docker_feed):
    resp = browser.get(reverse("feed-package", args=[docker_feed.pk, "tools/ci/runner"]))
    assert resp.status_code == 200
    assert "<h1>tools/ci/runner" in resp.content.decode()


def test_unknown_feed_is_a_404(browser):
    assert browser.get("/library/feeds/424242/").status_code == 404


def test_delete_asks_then_deletes(browser, docker_feed):
    url = reverse("feed-delete", args=[docker_feed.pk])
    assert browser.get(url).status_code == 200
    assert browser.post(url).status_code == 302
    assert not Feed.objects.filter(pk=docker_feed.pk).exists()
