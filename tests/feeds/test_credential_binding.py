"""A stored registry password never leaves for a URL it was not entered for, and every outgoing
connection follows the endpoint policy (loopback refused by default, cloud metadata always)."""

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from deployserver.core.endpoints import EndpointRefused, check_endpoint
from deployserver.core.models import AuditEvent
from feeds.models import Feed
from tests.scenarios import REGISTRY_PASSWORD, REGISTRY_USER

pytestmark = pytest.mark.django_db


class Recorder(BaseHTTPRequestHandler):
    """Answers every request like an empty registry and remembers its Authorization header;
    ``/redirect`` sends the client on to ``server.redirect_to``."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/v2/_catalog") and self.server.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to + self.path)
            self.end_headers()
            return
        body = b'{"repositories": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def listener():
    """A real HTTP listener on loopback that records what reaches it."""
    servers = []

    def start(redirect_to: str = ""):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        server.seen, server.redirect_to = [], redirect_to
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def received_password(server) -> bool:
    """Whether any request that reached ``server`` carried the registry password."""
    return any(
        REGISTRY_PASSWORD in base64.b64decode(header[6:]).decode(errors="replace")
        for _, header in server.seen
        if header and header.startswith("Basic ")
    )


def test_changing_the_url_clears_the_password_and_nothing_reaches_the_new_host(
    admin_api, docker_feed, listener
):
    trap = listener()
    url = f"http://127.0.0.1:{trap.server_port}"
    response = admin_api.patch(f"/api/feeds/{docker_feed.pk}/", {"url": url}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["has_password"] is False

    admin_api.get(f"/api/feeds/{docker_feed.pk}/packages/?refresh=1")
    assert trap.seen, "the listing should have gone to the new URL"
    assert not received_password(trap)
    event = AuditEvent.objects.filter(object_type="feeds.feed", action="update").latest("id")
    assert event.changes["password"][1] == "(cleared: url changed)"


def test_changing_the_username_clears_the_password_unless_it_is_sent_again(admin_api, docker_feed):
    admin_api.patch(f"/api/feeds/{docker_feed.pk}/", {"username": "other"}, format="json")
    assert Feed.objects.get(pk=docker_feed.pk).password == ""

    admin_api.patch(
        f"/api/feeds/{docker_feed.pk}/",
        {"username": REGISTRY_USER, "password": REGISTRY_PASSWORD},
        format="json",
    )
    assert Feed.objects.get(pk=docker_feed.pk).password == REGISTRY_PASSWORD
    admin_api.patch(f"/api/feeds/{docker_feed.pk}/", {"name": "Renamed"}, format="json")
    assert Feed.objects.get(pk=docker_feed.pk).password == REGISTRY_PASSWORD


def test_the_feed_page_applies_the_same_rule_and_says_so(client, admin_user, docker_feed, listener):
    trap = listener()
    client.force_login(admin_user)
    response = client.post(
        f"/library/feeds/{docker_feed.pk}/edit/",
        {
            "name": docker_feed.name,
            "slug": docker_feed.slug,
            "feed_type": "docker-registry",
            "url": f"http://127.0.0.1:{trap.server_port}",
            "username": REGISTRY_USER,
            "password": "",
        },
        follow=True,
    )
    assert "The stored password was cleared because the url changed" in response.content.decode()
    assert Feed.objects.get(pk=docker_feed.pk).password == ""


def test_a_redirect_to_another_host_carries_no_credentials(admin_api, admin_user, listener):
    from feeds.services import feed_create, feed_packages

    elsewhere = listener()
    registry = listener(redirect_to=f"http://localhost:{elsewhere.server_port}")
    feed = feed_create(
        user=admin_user,
        name="Redirecting",
        feed_type="docker-registry",
        url=f"http://127.0.0.1:{registry.server_port}",
        username=REGISTRY_USER,
        password=REGISTRY_PASSWORD,
    )
    feed_packages(feed, refresh=True)
    assert received_password(registry), "the registry itself gets the credentials"
    assert elsewhere.seen and not received_password(elsewhere)
    assert all(header is None for _, header in elsewhere.seen)


@override_settings(DEPLOYSERVER_ENDPOINT_POLICY="private")
def test_under_the_default_policy_loopback_is_refused_when_saved(admin_api):
    response = admin_api.post(
        "/api/feeds/",
        {"name": "Local", "feed_type": "docker-registry", "url": "http://127.0.0.1:6379"},
        format="json",
    )
    assert response.status_code == 400
    assert "127.0.0.1 is a loopback address" in response.json()["url"][0]


def test_under_the_default_policy_loopback_is_refused_at_connect_time(
    admin_api, docker_feed, listener, settings
):
    """Saved while allowed (or through a name that resolved elsewhere then): the connection
    itself is refused, and the listener receives nothing."""
    trap = listener()
    Feed.objects.filter(pk=docker_feed.pk).update(url=f"http://localhost:{trap.server_port}")
    settings.DEPLOYSERVER_ENDPOINT_POLICY = "private"
    response = admin_api.get(f"/api/feeds/{docker_feed.pk}/packages/?refresh=1")
    assert response.status_code == 502
    assert "loopback" in response.json()["detail"]
    assert trap.seen == []


@pytest.mark.parametrize("policy", ["any", "private", "public"])
@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/"]
)
def test_cloud_metadata_addresses_are_refused_under_every_policy(settings, policy, url):
    settings.DEPLOYSERVER_ENDPOINT_POLICY = policy
    with pytest.raises(EndpointRefused, match="cloud metadata address"):
        check_endpoint(url)


def test_the_public_policy_refuses_private_networks(settings):
    settings.DEPLOYSERVER_ENDPOINT_POLICY = "public"
    with pytest.raises(EndpointRefused, match="not a public address"):
        check_endpoint("https://10.1.2.3/")
    settings.DEPLOYSERVER_ENDPOINT_POLICY = "private"
    check_endpoint("https://10.1.2.3/")
