"""The broker unreachable: the deployment row is the truth. Queueing answers 201 with the
deployment ``queued`` and a note (JSON, fast, never a 500), the pages warn, and the dispatcher
(run by beat) sends the run once the queue is back; a duplicate message is a no-op."""

import time

import pytest
from django.utils import timezone

from deployments import upkeep
from deployments.enqueue import QUEUE_UNREACHABLE, broker_connection
from deployments.models import Deployment
from deployserver.celery import app
from releases.models import Environment
from tests.conftest import free_port

from .helpers import revisions, wait_for
from .processes import RedisServer, celery, stop
from .test_queue import ecs, queued

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down(monkeypatch):
    """Publishing from this process goes to a port where nothing listens (a broker that is
    down); the worker's own connections are untouched."""
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", f"redis://127.0.0.1:{free_port()}/0")


def purge_default_queue() -> None:
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(app.conf.task_default_queue)


def test_broker_down_every_queueing_api_answers_json_at_once_and_the_row_stays_queued(
    release, admin_api, broker_down, settings
):
    started = time.monotonic()
    response = admin_api.post(
        "/api/deployments/", {"release": release.pk, "environment": "dev"}, format="json"
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["note"]) == ("queued", QUEUE_UNREACHABLE)
    assert elapsed < 2, f"answered in {elapsed:.2f} s"
    first = Deployment.objects.get(pk=body["id"])
    assert first.state == Deployment.State.QUEUED and first.enqueued_at is None

    # A retry, a redeploy and a promote are refused as before, in JSON; nothing is half made.
    again = admin_api.post(
        "/api/deployments/", {"release": release.pk, "environment": "dev"}, format="json"
    )
    assert again.status_code == 409 and again["Content-Type"] == "application/json"
    redeploy = admin_api.post(f"/api/deployments/{first.pk}/redeploy/")
    assert redeploy.status_code == 409 and redeploy["Content-Type"] == "application/json"
    promote = admin_api.post(f"/api/releases/{release.pk}/promote/")
    assert promote.status_code == 400 and promote["Content-Type"] == "application/json"
    assert Deployment.objects.count() == 1

    # Reading it later says nothing about the queue: the note belongs to the answer that queued.
    assert "note" not in admin_api.get(f"/api/deployments/{first.pk}/").json()

    # Dev done: promote and redeploy queue new deployments, each answered 201 with the note.
    Deployment.objects.filter(pk=first.pk).update(
        state=Deployment.State.SUCCESS, finished_at=timezone.now()
    )
    promote = admin_api.post(f"/api/releases/{release.pk}/promote/")
    assert promote.status_code == 201, promote.content
    assert (promote.json()["environment"], promote.json()["note"]) == ("test", QUEUE_UNREACHABLE)
    redeploy = admin_api.post(f"/api/deployments/{first.pk}/redeploy/")
    assert redeploy.status_code == 201, redeploy.content
    assert redeploy.json()["note"] == QUEUE_UNREACHABLE

    # Cancel needs no queue.
    cancel = admin_api.post(f"/api/deployments/{redeploy.json()['id']}/cancel/")
    assert cancel.status_code == 200 and cancel.json()["state"] == "cancelled"
    assert "note" not in cancel.json()

    # Creating a release (which may queue automatic deployments) is not refused either.
    created = admin_api.post(
        "/api/projects/hello-color/releases/", {"packages": {"web": "1.1.0"}}, format="json"
    )
    assert created.status_code == 201, created.content

    # The dispatcher finds the queue still down: it sends nothing, and says nothing went.
    assert upkeep.deployment_dispatch() == []
    assert Deployment.objects.get(pk=promote.json()["id"]).enqueued_at is None


def test_broker_down_the_deploy_and_promote_pages_warn_that_it_will_start_later(
    release, admin_user, client, broker_down
):
    client.force_login(admin_user)
    response = client.post(f"/releases/{release.pk}/deploy/", {"environment": "dev"}, follow=True)
    assert response.status_code == 200
    shown = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert ("warning", QUEUE_UNREACHABLE) in shown
    assert QUEUE_UNREACHABLE in response.content.decode()

    Deployment.objects.update(state=Deployment.State.SUCCESS, finished_at=timezone.now())
    response = client.post(f"/releases/{release.pk}/promote/", follow=True)
    shown = [(m.level_tag, m.message) for m in response.context["messages"]]
    assert ("warning", QUEUE_UNREACHABLE) in shown


def test_the_dispatcher_sends_queue_heads_not_sent_and_not_twice_within_its_window(
    release, settings
):
    from releases.releasing import release_create

    second_release = release_create(project=release.project, user=None, packages={"web": "1.1.0"})
    head, behind = queued(release), queued(second_release)  # never sent: enqueued_at empty
    elsewhere = queued(release, "test")
    busy = queued(release, "prod")
    Deployment.objects.filter(pk=busy.pk).update(state=Deployment.State.EXECUTING)
    queued(second_release, "prod")  # behind an executing one: its turn comes when that ends
    try:
        assert upkeep.deployment_dispatch() == [head.pk, elsewhere.pk]
        head.refresh_from_db()
        assert head.enqueued_at is not None
        assert Deployment.objects.get(pk=behind.pk).enqueued_at is None
        assert upkeep.deployment_dispatch() == []  # sent within the window: not again

        settings.DEPLOYSERVER_REDISPATCH_SECONDS = 0  # the window passed: maybe lost, resend
        assert upkeep.deployment_dispatch() == [head.pk, elsewhere.pk]
    finally:
        purge_default_queue()


def test_a_duplicated_message_runs_the_deployment_once(celery_worker_process, release):
    deployment = queued(release)
    with broker_connection() as conn:
        for _ in range(3):  # the original, a dispatcher's resend, a broker's redelivery
            app.send_task("deployments.run", args=[deployment.pk], connection=conn)
    finished = wait_for(deployment.pk)

    assert finished.state == Deployment.State.SUCCESS, finished.error
    assert len(revisions(ecs(), "hello-color-dev")) == 2  # the seed's and this deployment's
    assert finished.log_lines.filter(text__startswith="Deploying Hello Color").count() == 1


@pytest.mark.slow
def test_broker_down_then_back_the_deployment_accepted_meanwhile_runs(
    release, admin_api, monkeypatch, tmp_path, capsys
):
    """A Redis of the test's own: worker and beat (dispatcher every 5 s, the default) on it;
    Redis stops, a deployment is queued (201 + note), Redis starts again (empty, as a broker
    without persistence comes back) and the deployment runs, once."""
    redis = RedisServer(tmp_path / "redis.log")
    redis.start()
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", redis.url)  # this process: the web server
    env = {"CELERY_BROKER_URL": redis.url, "DEPLOYSERVER_DISPATCH_SECONDS": "5"}
    worker = celery(
        ["worker", "-c", "2", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        tmp_path / "worker.log",
        **env,
    )
    beat = celery(["beat", "-s", str(tmp_path / "beat-schedule")], tmp_path / "beat.log", **env)
    try:
        deadline = time.monotonic() + 30
        while b" ready." not in (tmp_path / "worker.log").read_bytes():
            assert worker.poll() is None and time.monotonic() < deadline, "worker did not start"
            time.sleep(0.1)

        redis.stop()
        started = time.monotonic()
        response = admin_api.post(
            "/api/deployments/", {"release": release.pk, "environment": "dev"}, format="json"
        )
        answered = time.monotonic() - started
        assert response.status_code == 201, response.content
        assert response.json()["note"] == QUEUE_UNREACHABLE
        pk = response.json()["id"]
        time.sleep(6)  # at least one dispatcher round finds the queue still down
        assert Deployment.objects.get(pk=pk).state == Deployment.State.QUEUED

        redis.start()
        back = time.monotonic()
        while Deployment.objects.filter(pk=pk, state=Deployment.State.QUEUED).exists():
            assert time.monotonic() - back < 30, "not started 30 s after the queue came back"
            time.sleep(0.05)
        to_start = time.monotonic() - back
        finished = wait_for(pk, timeout=30)
    finally:
        stop(beat)
        stop(worker)
        redis.stop()

    with capsys.disabled():
        print(
            f"\n[broker outage] 201 + note answered in {answered * 1000:.0f} ms with Redis down; "
            f"Redis back -> deployment started in {to_start:.1f} s (goal <= 10 s)"
        )
    assert finished.state == Deployment.State.SUCCESS, finished.error
    assert len(revisions(ecs(), "hello-color-dev")) == 2  # registered once
    assert to_start <= 10, f"started {to_start:.1f} s after the queue came back"
    assert Environment.objects.get(slug="dev").deployments.count() == 1
