"""The ``deployserver`` command run as a real process against the live test server.

The command runs with ``python -S``: no site-packages at all, only the standard library and this
checkout on ``PYTHONPATH`` — what a CI runner without Django, boto3 or Celery has.
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEPLOYSERVER_", "DJANGO_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str], timeout: float = 120) -> Run:
    done = subprocess.run(
        [sys.executable, "-S", "-m", "deployserver_cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def api_key(admin_user):
    from deployserver.core.services import api_key_create

    _, key = api_key_create(user=admin_user, name="ci")
    return key


@pytest.fixture
def cli(live_server, api_key):
    """Run ``deployserver ARGS…`` against the live server with the admin's key; the key never
    appears in what it prints."""

    def run(*args: str, timeout: float = 120, **extra_env: str) -> Run:
        env = cli_env(DEPLOYSERVER_URL=live_server.url, DEPLOYSERVER_API_KEY=api_key, **extra_env)
        result = run_cli(*args, env=env, timeout=timeout)
        assert api_key not in result.stdout + result.stderr
        return result

    return run
