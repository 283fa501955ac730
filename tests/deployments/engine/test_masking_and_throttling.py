"""Secrets never reach the task log; AWS throttling is retried by botocore, then succeeds.

Throttling is tested at the level the engine sees it: a tiny HTTP proxy in front of the moto
server answers ``ThrottlingException`` (HTTP 400, as ECS does) to the first UpdateService calls
and forwards everything else, so botocore's real adaptive retry handler does the retrying.
"""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from deployments.models import Deployment, LogLine
from deployserver.core.models import AwsAccount
from releases.models import Environment
from releases.process import process_for, process_update
from releases.releasing import release_create
from releases.variables import VariableInput, variable_set_replace
from sandbox import seed

from .helpers import run_until_finished

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = 'p@ss"word/with+symbols=='


def queued(release) -> Deployment:
    return Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug="dev")
    )


def test_sensitive_values_are_masked_in_every_stored_line_and_form(sandbox, admin_user):
    account = AwsAccount.objects.get(name=seed.ACCOUNT_NAME)
    rows = [*seed._variables(account), VariableInput("DbPassword", SECRET, type="sensitive")]
    variable_set_replace(project=sandbox, rows=rows, user=admin_user)
    steps = process_for(sandbox).steps
    steps[0]["properties"]["containers"][0]["environment"] += [
        {"name": "DB_PASSWORD", "value": "#{DbPassword}"},
        {"name": "DB_PASSWORD_B64", "value": "#{DbPassword | ToBase64}"},
    ]
    process_update(project=sandbox, steps=steps, user=admin_user)
    release = release_create(project=sandbox, user=admin_user)
    deployment = queued(release)

    assert run_until_finished(deployment.pk) == Deployment.State.SUCCESS
    stored = "\n".join(LogLine.objects.filter(deployment=deployment).values_list("text", flat=True))
    forms = [SECRET, json.dumps(SECRET)[1:-1], base64.b64encode(SECRET.encode()).decode()]
    assert not [form for form in forms if form in stored]
    assert '"name": "DB_PASSWORD", "value": "********"' in stored
    assert '"name": "DB_PASSWORD_B64", "value": "********"' in stored


class ThrottlingProxy(ThreadingHTTPServer):
    """Forwards to moto; answers ThrottlingException to the first ``throttle`` calls of
    ``operation``."""

    def __init__(self, upstream: str, operation: str, throttle: int):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream, self.operation, self.throttle = upstream, operation, throttle
        self.calls: list[str] = []
        self.throttled = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _forward(self):
        server: ThrottlingProxy = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
        server.calls.append(target)
        if target == server.operation and server.throttled < server.throttle:
            server.throttled += 1
            payload = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
            self.send_response(400)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload.encode())
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        answer = requests.request(
            self.command, server.upstream + self.path, data=body, headers=headers, timeout=30
        )
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "server"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PUT = do_DELETE = _forward


@pytest.fixture
def proxy(moto, request):
    throttle = request.param
    server = ThrottlingProxy(moto, "UpdateService", throttle)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("proxy", [2], indirect=True)
def test_throttled_update_is_retried_by_botocore_and_the_deployment_succeeds(
    release, proxy, settings
):
    settings.AWS_MAX_ATTEMPTS = 5
    AwsAccount.objects.filter(name=seed.ACCOUNT_NAME).update(endpoint_url=proxy.url)
    deployment = queued(release)

    assert run_until_finished(deployment.pk) == Deployment.State.SUCCESS
    assert proxy.throttled == 2
    assert proxy.calls.count("UpdateService") == 3  # two throttled, the third went through
    assert proxy.calls.count("RegisterTaskDefinition") == 1


@pytest.mark.parametrize("proxy", [100], indirect=True)
def test_throttling_beyond_the_retries_fails_the_deployment_with_awss_message(
    release, proxy, settings
):
    settings.AWS_MAX_ATTEMPTS = 2
    AwsAccount.objects.filter(name=seed.ACCOUNT_NAME).update(endpoint_url=proxy.url)
    deployment = queued(release)

    assert run_until_finished(deployment.pk) == Deployment.State.FAILED
    deployment.refresh_from_db()
    assert deployment.error == "UpdateService: ThrottlingException: Rate exceeded"
    assert proxy.calls.count("UpdateService") == 1 + 2  # the call and botocore's 2 retries
