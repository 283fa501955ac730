"""Docker registry client retries: a transient 5xx or a connection reset gets sent again, a 4xx
does not. Against a real loopback HTTP server that answers from a script, one connection per
request."""

import json
import socket
import struct
import threading
import time

import pytest

from feeds import services
from feeds.registries import RegistryNotFound, RegistryUnavailable

pytestmark = pytest.mark.django_db

TAGS = {"name": "team/api", "tags": ["1.0.0", "1.1.0"]}
RESET = "reset"


class ScriptedRegistry:
    """Answers request N with ``script[N]`` (the last entry once the script runs out): a status
    code (200 answers ``TAGS``) or ``RESET``, which closes the connection with a TCP reset."""

    def __init__(self, script: list):
        self.script = list(script)
        self.requests: list[str] = []
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        self.requests.append(data.split(b"\r\n", 1)[0].decode())
        action = self.script[min(len(self.requests), len(self.script)) - 1]
        if action == RESET:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if action == 200:
            body = json.dumps(TAGS).encode()
        else:
            body = json.dumps({"errors": [{"code": "X", "message": f"scripted {action}"}]}).encode()
        head = (
            f"HTTP/1.1 {action} Scripted\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + body)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._server.close()


@pytest.fixture
def scripted(admin_user):
    """``scripted([503, 200])`` → (ScriptedRegistry, a docker-registry feed on it)."""
    servers = []

    def start(script):
        server = ScriptedRegistry(script)
        servers.append(server)
        feed = services.feed_create(
            user=admin_user,
            name=f"Scripted {len(servers)}",
            feed_type="docker-registry",
            url=server.url,
        )
        return server, feed

    yield start
    for server in servers:
        server.close()


LISTING = "GET /v2/team/api/tags/list?n=1000 HTTP/1.1"


@pytest.mark.parametrize(
    "script",
    [[503, 200], [500, 502, 200], [RESET, 200], [RESET, 504, 200]],
    ids=["503-then-200", "500-502-then-200", "reset-then-200", "reset-504-then-200"],
)
def test_a_transient_failure_is_retried_until_the_registry_answers(scripted, script):
    server, feed = scripted(script)
    versions = services.feed_versions(feed, "team/api")
    assert [v.version for v in versions] == ["1.1.0", "1.0.0"]
    assert server.requests == [LISTING] * len(script)


def test_a_registry_still_failing_after_two_retries_is_reported_with_its_answer(scripted):
    server, feed = scripted([503])
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="answered 503 Scripted: scripted 503"):
        services.feed_versions(feed, "team/api")
    assert server.requests == [LISTING] * 3
    assert time.monotonic() - started < 2


def test_resets_that_go_on_are_reported_as_a_connection_failure(scripted):
    server, feed = scripted([RESET])
    with pytest.raises(RegistryUnavailable, match="127.0.0.1"):
        services.feed_versions(feed, "team/api")
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [400, 403, 404, 429])
def test_a_4xx_is_never_retried(scripted, status):
    server, feed = scripted([status, 200])
    with pytest.raises(RegistryNotFound if status == 404 else RegistryUnavailable):
        services.feed_versions(feed, "team/api")
    assert server.requests == [LISTING]


def test_a_digest_head_answered_503_is_retried(scripted):
    server, feed = scripted([503, 200])
    # The HEAD's 200 here carries no digest header: the client then GETs the manifest.
    digest = services.feed_resolve_digest(feed, "team/api", "1.0.0")
    assert digest.startswith("sha256:")
    assert [r.split(" ")[0] for r in server.requests] == ["HEAD", "HEAD", "GET"]
