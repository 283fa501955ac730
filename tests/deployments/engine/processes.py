"""Real processes a test starts, stops and kills: a Redis server of its own, Celery workers and
beat, and the web server (gunicorn), each in its own process group so SIGKILL reaches all."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from tests.conftest import ROOT, _database_url, free_port, wait_for_port


def _env(**extra: str) -> dict:
    env = dict(os.environ, DATABASE_URL=_database_url(connection.settings_dict["NAME"]))
    env.update(extra)
    return env


def start(argv: list[str], log_path: Path, **env: str) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115 - the process owns it until it ends
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=_env(**env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL reaches the pool children too
    )


def celery(args: list[str], log_path: Path, **env: str) -> subprocess.Popen:
    return start([sys.executable, "-m", "celery", "-A", "deployserver", *args], log_path, **env)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the process and its whole group, at once, and reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        except ProcessLookupError:
            pass


def wait_for_worker(app, name: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not app.control.ping(timeout=0.5, destination=[name]):
        assert proc.poll() is None, f"worker {name} exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"worker {name} did not answer a ping"


class RedisServer:
    """A throwaway ``redis-server`` on a free port, without persistence: stop() loses its data,
    as a crashed broker without persistence would."""

    def __init__(self, log_path: Path):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.proc = start(argv, self.log_path)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            kill(self.proc)
            self.proc = None


def gunicorn(port: int, log_path: Path, **env: str) -> subprocess.Popen:
    """The web server on 127.0.0.1:``port`` (two sync workers), on the test database."""
    proc = start(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "deployserver.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "60",
        ],
        log_path,
        **env,
    )
    wait_for_port(port, timeout=30)
    return proc
