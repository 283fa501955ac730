"""Docker Registry v2 feeds against Debian's docker-registry (htpasswd auth, and anonymous)."""

import socket
import threading
import time

import pytest
import requests

from feeds import services
from feeds.registries import RegistryNotFound, RegistryUnavailable, docker
from tests.scenarios import REGISTRY_USER

pytestmark = pytest.mark.django_db


def test_versions_with_basic_auth_are_newest_first(docker_feed):
    versions = services.feed_versions(docker_feed, "team/api")
    assert [v.version for v in versions] == ["2.0.0", "1.10.0", "1.9.0", "1.0.1", "1.0.0"]
    assert versions[0].tag == "v2.0.0"
    # tags/list tells no digest, date or size; those are never fetched tag by tag.
    assert {(v.digest, v.pushed_at, v.size) for v in versions} == {(None, None, None)}


def test_pre_releases_and_other_tags(docker_feed):
    listing = services.feed_version_listing(docker_feed, "team/api")
    assert "1.1.0-beta.1" in [v.tag for v in listing.select(pre=True)]
    assert "1.1.0-beta.1" not in [v.tag for v in listing.select()]
    assert [t.tag for t in listing.other] == ["latest", "not-semver"]


def test_an_anonymous_registry_lists_repositories_and_versions(anon_feed):
    assert services.feed_packages(anon_feed) == ["team/api", "tools/ci/runner", "web"]
    assert [v.tag for v in services.feed_versions(anon_feed, "tools/ci/runner")] == ["3.0.0"]
    assert services.feed_test(anon_feed) == "3 repositories"


def test_listing_versions_is_one_request_whatever_the_number_of_tags(docker_feed, monkeypatch):
    sent = []
    original = requests.Session.request

    def counting(self, method, url, *args, **kwargs):
        sent.append((method, url))
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counting)
    services.feed_versions(docker_feed, "team/api")
    assert [m for m, _ in sent] == ["GET"]
    assert sent[0][1].endswith("/v2/team/api/tags/list?n=1000")


def test_digest_is_one_manifest_head_and_matches_the_push(docker_feed, registry_auth):
    pushed = registry_auth.push("team/api", "1.9.0")  # same content: same digest
    assert services.feed_resolve_digest(docker_feed, "team/api", "1.9.0") == pushed
    host = registry_auth.url.removeprefix("http://")
    assert services.feed_image_reference(docker_feed, "team/api", digest=pushed) == (
        f"{host}/team/api@{pushed}"
    )
    assert services.feed_image_reference(docker_feed, "team/api", tag="v2.0.0") == (
        f"{host}/team/api:v2.0.0"
    )


def test_catalog_pages_are_followed_through_link_headers(docker_feed, monkeypatch):
    monkeypatch.setattr(docker.DockerRegistry, "catalog_page_size", 1)
    pages = []
    original = requests.Session.request

    def counting(self, method, url, *args, **kwargs):
        pages.append(url)
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counting)
    assert services.feed_packages(docker_feed, refresh=True) == [
        "team/api",
        "tools/ci/runner",
        "web",
    ]
    assert len(pages) >= 3 and all("/v2/_catalog?" in url for url in pages)


def test_unknown_repository_and_tag_are_not_found(docker_feed):
    with pytest.raises(RegistryNotFound, match="Repository nope") as exc:
        services.feed_versions(docker_feed, "nope")
    assert exc.value.status == 404
    with pytest.raises(RegistryNotFound, match="Tag 9.9.9"):
        services.feed_resolve_digest(docker_feed, "team/api", "9.9.9")


def test_a_wrong_password_is_reported_as_bad_credentials(docker_feed, admin_user):
    services.feed_update(feed=docker_feed, user=admin_user, password="wrong")
    with pytest.raises(RegistryUnavailable, match="Bad credentials") as exc:
        services.feed_test(docker_feed)
    assert exc.value.status == 502


def test_no_credentials_on_a_private_registry_asks_for_them(docker_feed, admin_user):
    services.feed_update(feed=docker_feed, user=admin_user, username="")
    assert docker_feed.password == ""
    with pytest.raises(RegistryUnavailable, match="Authentication required"):
        services.feed_test(docker_feed)


def test_connection_refused_is_reported_at_once(db, admin_user):
    feed = services.feed_create(
        user=admin_user, name="Dead", feed_type="docker-registry", url="http://127.0.0.1:9"
    )
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="Connection refused: 127.0.0.1:9"):
        services.feed_test(feed)
    assert time.monotonic() - started < 2


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_registry_that_never_answers_times_out_within_the_read_timeout(
    db, admin_user, silent_server
):
    feed = services.feed_create(
        user=admin_user,
        name="Silent",
        feed_type="docker-registry",
        url=f"http://127.0.0.1:{silent_server}",
    )
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="Timeout: 127.0.0.1:.* did not answer within 5"):
        services.feed_test(feed)
    assert time.monotonic() - started < 6.5


def test_https_to_a_plain_http_registry_is_a_tls_error(db, admin_user, registry_anon):
    feed = services.feed_create(
        user=admin_user,
        name="TLS",
        feed_type="docker-registry",
        url=registry_anon.url.replace("http://", "https://"),
    )
    with pytest.raises(RegistryUnavailable, match="TLS error"):
        services.feed_test(feed)


def test_the_test_summary_counts_repositories_with_credentials(docker_feed):
    assert services.feed_test(docker_feed) == "3 repositories"
    assert docker_feed.username == REGISTRY_USER


def test_a_host_that_does_not_resolve_is_reported_as_unknown(db, admin_user):
    feed = services.feed_create(
        user=admin_user, name="Typo", feed_type="docker-registry", url="https://registry.invalid"
    )
    with pytest.raises(RegistryUnavailable, match="Unknown host: registry.invalid"):
        services.feed_test(feed)
