"""The exit codes of what goes wrong: a wrong key, a server that is down, a timeout."""

import socket
import subprocess
import sys
import threading
import time

import pytest

from deployments.models import Deployment
from sandbox import rollouts
from tests.conftest import free_port
from tests.deployments.engine.helpers import wait_for

from .conftest import ROOT, cli_env, run_cli

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_a_wrong_key_exits_2_without_echoing_it(live_server, sandbox):
    key = "not-a-key-0123456789abcdef"
    env = cli_env(DEPLOYSERVER_URL=live_server.url, DEPLOYSERVER_API_KEY=key)
    run = run_cli("project", "list", env=env)
    assert (run.code, run.stderr) == (2, "error: 401: invalid API key\n")
    assert key not in run.stdout + run.stderr


def test_no_key_or_no_server_is_bad_usage(live_server):
    run = run_cli("project", "list", env=cli_env(DEPLOYSERVER_URL=live_server.url))
    assert (run.code, run.stderr) == (
        2,
        "error: no API key: set DEPLOYSERVER_API_KEY or pass --api-key\n",
    )
    run = run_cli("project", "list", env=cli_env(DEPLOYSERVER_API_KEY="k"))
    assert (run.code, run.stderr) == (
        2,
        "error: no server: set DEPLOYSERVER_URL or pass --server\n",
    )


def test_a_server_that_is_down_exits_4_once_the_retry_window_has_passed():
    port = free_port()  # nothing listens there
    env = cli_env(
        DEPLOYSERVER_URL=f"http://127.0.0.1:{port}",
        DEPLOYSERVER_API_KEY="key",
        DEPLOYSERVER_RETRY_SECONDS="2",
    )
    started = time.monotonic()
    run = run_cli("release", "create", "--project", "hello-color", env=env)
    took = time.monotonic() - started
    assert run.code == 4
    assert run.stderr.startswith(f"error: http://127.0.0.1:{port} unreachable for 2 s:")
    assert "Connection refused" in run.stderr
    assert 2 <= took < 10  # retried for the window, then gave up


def test_a_server_that_comes_back_within_the_window_is_waited_for(live_server, sandbox, api_key):
    """A blip: the server listens only after the command started; the command retries."""
    # A forwarder that starts listening 1.5 s after the command starts.
    port = free_port()
    target = live_server.thread.port

    def forward():
        time.sleep(1.5)
        with socket.create_server(("127.0.0.1", port)) as server:
            server.settimeout(20)
            client, _ = server.accept()
            with client, socket.create_connection(("127.0.0.1", target)) as upstream:
                client.settimeout(20)
                request = client.recv(65536)
                upstream.sendall(request)
                upstream.shutdown(socket.SHUT_WR)
                while chunk := upstream.recv(65536):
                    client.sendall(chunk)

    thread = threading.Thread(target=forward, daemon=True)
    thread.start()
    env = cli_env(DEPLOYSERVER_URL=f"http://127.0.0.1:{port}", DEPLOYSERVER_API_KEY=api_key)
    done = subprocess.run(
        [sys.executable, "-S", "-m", "deployserver_cli", "project", "list"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    thread.join(20)
    assert done.returncode == 0, done.stderr
    assert "hello-color" in done.stdout


@pytest.fixture
def slow_rollouts(sandbox, monkeypatch):
    """Rollouts that take a minute: any timeout under that is reached while one is followed."""
    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", 60.0)


def test_timeout_exits_3_and_the_deployment_goes_on(
    celery_worker_process, slow_rollouts, release, cli, admin_user
):
    from deployments.services import deployment_cancel

    run = cli("release", "deploy", "--project", "hello-color", "--version", release.version,
              "--to", "dev", "--wait", "--timeout", "1s")  # fmt: skip
    assert run.code == 3, run.stdout + run.stderr
    deployment = Deployment.objects.get()
    assert deployment.state == Deployment.State.EXECUTING
    last = run.stdout.splitlines()[-1]
    assert last.startswith(f"timed out after 1s: deployment {deployment.pk}: hello-color ")
    assert last.endswith(f"deployserver deployment watch {deployment.pk})")
    deployment_cancel(deployment=deployment, user=admin_user)  # the test's own clean-up
    wait_for(deployment.pk)


def test_timeout_with_cancel_on_timeout_exits_3_once_the_deployment_is_cancelled(
    celery_worker_process, slow_rollouts, release, cli
):
    run = cli("release", "deploy", "--project", "hello-color", "--version", release.version,
              "--to", "dev", "--wait", "--timeout", "1s", "--cancel-on-timeout")  # fmt: skip
    assert run.code == 3, run.stdout + run.stderr
    deployment = Deployment.objects.get()
    assert deployment.state == Deployment.State.CANCELLED
    assert f"timed out after 1s: cancelling deployment {deployment.pk}" in run.stdout
    assert run.stdout.splitlines()[-1] == (
        f"timed out after 1s; deployment {deployment.pk}: hello-color {release.version} to dev "
        "was cancelled by admin"
    )


def test_bad_usage_exits_2_with_a_message(cli, sandbox):
    cases = {
        ("release", "create", "--project", "hello-color", "--package", "web"): (
            "--package takes REF:VERSION (such as web:1.4.2), not 'web'"
        ),
        (
            "release",
            "create",
            "--project",
            "hello-color",
            "--deploy-to",
            "dev",
            "--deploy-to",
            "test",
        ): "add --wait",  # fmt: skip
        ("release", "create", "--project", "hello-color", "--timeout", "1s"): "need --wait",
        ("release", "create", "--project", "hello-color", "--wait", "--timeout", "soon"): (
            "'soon' is not a duration"
        ),
        ("release", "create", "--project", "nope"): "404: ",
        ("release", "create", "--project", "hello-color", "--package", "api:1.0.0"): (
            "400: packages: Unknown package reference api (the process has: web)."
        ),
        ("release", "deploy", "--project", "hello-color", "--version", "9.9.9", "--to", "dev"): (
            "hello-color has no release 9.9.9"
        ),
        ("deployment", "show", "12345"): "404: ",
        ("deployment", "list", "--state", "bogus"): "invalid choice: 'bogus'",
        ("feed", "versions", "no-such-feed", "hello-color"): "there is no feed 'no-such-feed'",
    }
    for args, message in cases.items():
        run = cli(*args)
        assert run.code == 2, (args, run.stdout, run.stderr)
        assert message in run.stderr, (args, run.stderr)
