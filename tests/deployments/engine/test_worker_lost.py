"""A worker killed with SIGKILL mid-rollout: the reaper (run by beat) fails its deployment within
60 s, and a redelivered task does not register a second task definition."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from django.db import connection

from deployments.engine import deployment_execute
from deployments.models import Deployment
from deployments.tasks import deployment_run
from deployserver.celery import app
from deployserver.core.aws import client
from deployserver.core.models import AwsAccount
from releases.models import Environment
from sandbox import rollouts, seed
from tests.conftest import ROOT, _database_url

from .helpers import revisions, wait_for, wait_for_line

pytestmark = pytest.mark.django_db(transaction=True)


def start(args, log_path) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=_database_url(connection.settings_dict["NAME"]))
    log = open(log_path, "wb")  # noqa: SIM115 - the process owns it until it ends
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "deployserver", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: SIGKILL reaches the pool children too
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_killed_worker_is_reaped_within_a_minute_and_redelivery_registers_nothing(
    celery_worker_process, release, monkeypatch, tmp_path
):
    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", 600)  # still rolling out when killed
    deployment = Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug="dev")
    )
    name = f"victim-{os.getpid()}@{socket.gethostname()}"
    victim = start(
        ["worker", "-Q", "victim", "-c", "1", "--without-gossip", "--without-mingle", "-n", name],
        tmp_path / "victim.log",
    )
    beat = None
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5, destination=[name]):
            assert time.monotonic() < deadline, "the victim worker did not start"
        deployment_run.apply_async((deployment.pk,), queue="victim")
        wait_for_line(deployment.pk, "Following the rollout")
        assert Deployment.objects.get(pk=deployment.pk).worker == name

        os.killpg(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        beat = start(["beat", "-s", str(tmp_path / "beat-schedule")], tmp_path / "beat.log")
        reaped = wait_for(deployment.pk, timeout=75)
        elapsed = time.monotonic() - killed_at
    finally:
        stop(victim)
        if beat is not None:
            stop(beat)

    assert reaped.state == Deployment.State.FAILED
    assert reaped.error.startswith(f"Worker lost: {name} stopped sending its heartbeat")
    assert elapsed <= 60, f"reaped after {elapsed:.0f} s"

    ecs = client(AwsAccount.objects.get(name=seed.ACCOUNT_NAME), "ecs")
    registered = revisions(ecs, "hello-color-dev")
    assert deployment_execute(deployment.pk) is None  # the task delivered again
    assert revisions(ecs, "hello-color-dev") == registered
