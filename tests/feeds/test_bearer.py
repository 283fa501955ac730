"""The Bearer-token flow of Docker Hub and GHCR, against a small local registry + token service."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from feeds import services
from feeds.registries import RegistryUnavailable

pytestmark = pytest.mark.django_db

USER, PASSWORD = "robot", "token-secret"
DIGEST = "sha256:" + "ab" * 32


class TokenRegistry(BaseHTTPRequestHandler):
    """``/token`` hands out a token per scope to ``robot``; ``/v2/…`` wants the right one."""

    log: list

    def log_message(self, *args):
        pass

    def _send(self, status, body=None, headers=()):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _challenge(self, scope):
        realm = f"http://{self.headers['Host']}/token"
        value = f'Bearer realm="{realm}",service="tests.registry"'
        if scope:
            value += f',scope="{scope}"'
        self._send(401, {"errors": [{"code": "UNAUTHORIZED"}]}, [("WWW-Authenticate", value)])

    def _authorised(self, scope):
        return self.headers.get("Authorization") == f"Bearer token-for-{scope}"

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        self.server.log.append((self.command, self.path, self.headers.get("Authorization")))
        if url.path == "/token":
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                return self._send(401, {"details": "incorrect username or password"})
            assert query["service"] == ["tests.registry"]
            scope = query.get("scope", [""])[0]
            return self._send(200, {"token": f"token-for-{scope}", "expires_in": 300})
        if url.path == "/v2/":
            return self._send(200, {}) if self._authorised("") else self._challenge("")
        if url.path == "/v2/_catalog":
            scope = "registry:catalog:*"
            if not self._authorised(scope):
                return self._challenge(scope)
            return self._send(200, {"repositories": ["team/api"]})
        scope = "repository:team/api:pull"
        if url.path.startswith("/v2/team/api/") and not self._authorised(scope):
            return self._challenge(scope)
        if url.path == "/v2/team/api/tags/list":
            if "last" not in query:
                link = '</v2/team/api/tags/list?n=1000&last=latest>; rel="next"'
                return self._send(
                    200, {"name": "team/api", "tags": ["1.0.0", "latest"]}, [("Link", link)]
                )
            return self._send(200, {"name": "team/api", "tags": ["2.0.0-rc.1", "1.2.0"]})
        if url.path == "/v2/team/api/manifests/1.2.0":
            return self._send(200, {}, [("Docker-Content-Digest", DIGEST)])
        return self._send(404, {"errors": [{"code": "NAME_UNKNOWN", "message": "unknown"}]})


@pytest.fixture
def token_registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenRegistry)
    server.log = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def bearer_feed(admin_user, token_registry):
    return services.feed_create(
        user=admin_user,
        name="Hub-like",
        feed_type="docker-registry",
        url=f"http://127.0.0.1:{token_registry.server_address[1]}",
        username=USER,
        password=PASSWORD,
    )


def test_a_401_bearer_challenge_fetches_a_scoped_token_and_retries(bearer_feed, token_registry):
    versions = services.feed_versions(bearer_feed, "team/api", pre=True)
    assert [v.tag for v in versions] == ["2.0.0-rc.1", "1.2.0", "1.0.0"]
    token_calls = [path for _, path, _ in token_registry.log if path.startswith("/token")]
    assert token_calls == ["/token?service=tests.registry&scope=repository%3Ateam%2Fapi%3Apull"]
    # The second page of tags reused the token: no second challenge.
    tag_calls = [auth for _, path, auth in token_registry.log if "tags/list" in path]
    assert tag_calls[-2:] == ["Bearer token-for-repository:team/api:pull"] * 2


def test_tag_pages_are_followed_through_link_headers(bearer_feed):
    listing = services.feed_version_listing(bearer_feed, "team/api")
    assert [t.tag for t in listing.other] == ["latest"]
    assert len(listing.versions) == 3


def test_a_new_scope_gets_a_new_token(bearer_feed):
    assert services.feed_test(bearer_feed) == "1 repository"


def test_digest_is_one_head_with_the_token(bearer_feed, token_registry):
    assert services.feed_resolve_digest(bearer_feed, "team/api", "1.2.0") == DIGEST
    heads = [entry for entry in token_registry.log if entry[0] == "HEAD"]
    assert len(heads) == 2  # challenged once, then with the token
    assert heads[-1][2] == "Bearer token-for-repository:team/api:pull"


def test_bad_credentials_at_the_token_service_are_reported(bearer_feed, admin_user):
    services.feed_update(feed=bearer_feed, user=admin_user, password="wrong")
    with pytest.raises(RegistryUnavailable, match="Bad credentials: the token service"):
        services.feed_test(bearer_feed)
