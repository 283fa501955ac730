"""A worker killed between the state change and the send: the event was recorded with the
change (the outbox), so a worker started later delivers it — same delivery id, same body."""

import json
import threading
import time

import pytest

from deployserver.celery import app
from notifications.models import Delivery
from notifications.services import webhook_create
from releases.releasing import release_create
from tests.deployments.engine.processes import celery, kill, stop

from .receiver import Receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ENV = {"DEPLOYSERVER_WEBHOOK_TIMEOUT": "1", "DEPLOYSERVER_EVENTS_SECONDS": "1"}
QUEUE = app.conf.task_default_queue


def worker(tmp_path, name: str):
    return celery(
        ["worker", "-c", "2", "--without-gossip", "--without-mingle", "-Q", QUEUE, "-n", name],
        tmp_path / f"{name}.log",
        **ENV,
    )


def test_a_worker_killed_mid_send_still_delivers_after_restart(bare_project, admin_user, tmp_path):
    first_arrived = threading.Event()

    def hang(n):
        if n == 0:
            first_arrived.set()
            return 30  # the first attempt never gets its answer: the worker dies meanwhile
        return 0

    with Receiver(hang=hang) as receiver:
        webhook_create(
            user=admin_user,
            name="Receiver",
            url=receiver.url,
            secret="s3cret-signing-key",
            events=["release.created"],
        )
        procs = {"worker": worker(tmp_path, "w1@kill")}
        try:
            release = release_create(project=bare_project, user=admin_user)  # the state change
            assert first_arrived.wait(30), (tmp_path / "w1@kill.log").read_text()
            kill(procs["worker"])
            assert Delivery.objects.get().state == "pending"

            procs["worker"] = worker(tmp_path, "w2@kill")
            procs["beat"] = celery(
                ["beat", "-s", str(tmp_path / "beat")], tmp_path / "beat.log", **ENV
            )
            deadline = time.monotonic() + 40
            while not Delivery.objects.filter(state="delivered").exists():
                assert time.monotonic() < deadline, (tmp_path / "w2@kill.log").read_text()
                time.sleep(0.1)
        finally:
            for proc in procs.values():
                stop(proc)
    first, second = receiver.requests[:2]
    assert first.delivery == second.delivery and first.body == second.body
    assert json.loads(second.body)["release"]["id"] == release.pk
    assert Delivery.objects.get().attempts == 1  # the killed attempt was never recorded
