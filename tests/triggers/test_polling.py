"""Polling alone: a real beat process sends trigger rounds, a real worker runs them; a pushed
tag becomes a release within one round, with no hook involved."""

import time

import pytest

from releases.models import Release
from tests.deployments.engine.processes import celery, stop
from tests.scenarios import push
from triggers.models import Trigger
from triggers.services import trigger_create

INTERVAL = 2


@pytest.mark.django_db(transaction=True)
def test_polling_alone_makes_the_release_within_one_round(
    celery_worker_process, project, admin_user, ecr_client, tmp_path
):
    trigger = trigger_create(project=project, user=admin_user, name="Poll")
    beat = celery(
        ["beat", "-s", str(tmp_path / "beat")],
        tmp_path / "beat.log",
        FEED_TRIGGER_SECONDS=str(INTERVAL),
    )
    try:
        deadline = time.monotonic() + 30
        while not Trigger.objects.filter(pk=trigger.pk, last_checked_at__isnull=False).exists():
            assert time.monotonic() < deadline, (tmp_path / "beat.log").read_text()
            time.sleep(0.1)
        assert list(Release.objects.values_list("packages__web__version", flat=True)) == ["2.0.0"]

        push(ecr_client, "2.4.0")
        pushed = time.monotonic()
        while not Release.objects.filter(packages__web__version="2.4.0").exists():
            assert time.monotonic() - pushed < INTERVAL + 2, "no release within one round"
            time.sleep(0.05)
    finally:
        stop(beat)
    assert Release.objects.count() == 2
