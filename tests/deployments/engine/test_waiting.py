"""A deployment waiting for its rollout, in one process (check rounds run here): nobody holds it,
the reaper leaves it alone, a duplicated round checks nothing twice, a timeout that passed while
no worker ran fails it by wall clock, and operators see it (page, API, engine status)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from deployments import engine, rounds, upkeep
from deployments.engine import deployment_execute
from deployments.models import Deployment
from deployments.rounds import deployments_check
from releases.models import Environment
from sandbox import rollouts

pytestmark = pytest.mark.django_db(transaction=True)

WAITING = Deployment.Phase.WAITING


@pytest.fixture
def waiting(release, monkeypatch) -> Deployment:
    """A Dev deployment of ``release`` started here and now waiting for a 10-minute rollout."""
    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", 600)
    steps = release.process_snapshot
    steps[0]["properties"]["rollback_on_failure"] = False
    release.save(update_fields=["process_snapshot"])
    d = Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug="dev")
    )
    assert deployment_execute(d.pk, worker="celery@here") == Deployment.State.EXECUTING
    d.refresh_from_db()
    assert d.phase == WAITING and d.next_check_at is not None
    assert d.cursor["wait"]["kind"] == "rollout"
    return d


def due(d: Deployment) -> None:
    Deployment.objects.filter(pk=d.pk).update(next_check_at=timezone.now())


def test_a_waiting_deployment_is_never_reaped_however_old_its_heartbeat(waiting, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.DEPLOYSERVER_WORKER_LOST_SECONDS * 20)
    Deployment.objects.filter(pk=waiting.pk).update(heartbeat_at=long_ago)

    assert upkeep.deployment_reap() == []
    waiting.refresh_from_db()
    assert waiting.state == Deployment.State.EXECUTING and waiting.phase == WAITING


def test_a_check_whose_round_died_goes_back_to_the_waiting_not_to_failed(waiting, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.DEPLOYSERVER_WORKER_LOST_SECONDS + 1)
    Deployment.objects.filter(pk=waiting.pk).update(
        phase=Deployment.Phase.CHECKING, heartbeat_at=long_ago
    )

    assert upkeep.deployment_reap() == []
    waiting.refresh_from_db()
    assert waiting.state == Deployment.State.EXECUTING and waiting.phase == WAITING
    assert waiting.next_check_at <= timezone.now()  # checked again at the next round


def test_a_duplicated_round_finds_nothing_to_check(waiting):
    due(waiting)
    assert rounds._claim_due("celery@first", 10) == [waiting.pk]  # a first round holds it

    assert deployments_check(worker="celery@second")["rollouts"] == 0
    waiting.refresh_from_db()
    assert waiting.phase == Deployment.Phase.CHECKING and waiting.worker == "celery@first"


def test_rounds_take_the_earliest_due_first(waiting, release):
    other = Deployment.objects.create(
        release=release, project=release.project, environment=Environment.objects.get(slug="test")
    )
    deployment_execute(other.pk)
    now = timezone.now()
    Deployment.objects.filter(pk=other.pk).update(next_check_at=now - timedelta(seconds=30))
    Deployment.objects.filter(pk=waiting.pk).update(next_check_at=now - timedelta(seconds=1))

    assert rounds._claim_due("celery@here", 1) == [other.pk]


def test_a_timeout_that_passed_while_no_worker_ran_fails_it_by_wall_clock(waiting):
    cursor = waiting.cursor
    cursor["wait"]["watcher"]["deadline"] = timezone.now().timestamp() - 1
    Deployment.objects.filter(pk=waiting.pk).update(cursor=cursor, next_check_at=timezone.now())

    figures = deployments_check()

    assert figures["rollouts"] == 1 and figures["calls"]["DescribeServices"] == 1
    waiting.refresh_from_db()
    assert waiting.state == Deployment.State.FAILED
    assert "did not finish within 600 s" in waiting.error


def test_each_round_logs_no_line_when_nothing_changed(waiting):
    lines = waiting.log_lines.count()
    due(waiting)
    deployments_check()
    after_first = waiting.log_lines.count()
    due(waiting)
    deployments_check()
    assert waiting.log_lines.count() == after_first  # the same state: nothing to say
    assert after_first > lines


def test_the_page_and_the_api_say_it_waits_and_when_it_is_checked_next(waiting, admin_client):
    Deployment.objects.filter(pk=waiting.pk).update(
        next_check_at=timezone.now() + timedelta(seconds=30)
    )
    page = admin_client.get(f"/deployments/{waiting.pk}/").content.decode()
    assert "Waiting for the rollout — next check in 30 s" in page

    api = admin_client.get(f"/api/deployments/{waiting.pk}/").json()
    assert api["phase"] == "waiting" and api["next_check_at"]

    Deployment.objects.filter(pk=waiting.pk).update(
        next_check_at=timezone.now() - timedelta(minutes=5)
    )
    page = admin_client.get(f"/deployments/{waiting.pk}/").content.decode()
    assert "its check is 300 s late (are the workers running?)" in page


def test_engine_status_counts_waiting_and_overdue_checks(waiting, admin_client, client):
    status = admin_client.get("/api/engine/").json()
    assert status["executing"] == 1 and status["waiting"] == 1 and status["checks_overdue"] == 0

    Deployment.objects.filter(pk=waiting.pk).update(
        next_check_at=timezone.now() - timedelta(minutes=2)
    )
    due_status = admin_client.get("/api/engine/").json()
    assert due_status["checks_overdue"] == 1 and due_status["most_overdue_seconds"] >= 119

    client.logout()
    assert client.get("/api/engine/").status_code in (401, 403)


def test_checks_fall_on_a_shared_grid_one_interval_apart_on_average(settings):
    from datetime import UTC, datetime

    settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS = 3.0
    start = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC).timestamp()
    waits = []
    for n in range(300):
        now = datetime.fromtimestamp(start + n * 0.01 * 3, tz=UTC)
        due = engine.next_check_time(now)
        assert due.timestamp() % 3 == 0  # every waiting deployment is due at the same ticks
        waits.append((due - now).total_seconds())
    assert min(waits) >= 1.5 and max(waits) <= 4.5
    assert abs(sum(waits) / len(waits) - 3) < 0.05
