"""Retention deletes old releases with their deployments and logs, never what is deployed."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from deployments.models import Deployment, LogLine
from deployments.retention import retention_apply
from deployserver.core.models import AuditEvent
from releases.models import Release
from tests.factories import ChannelFactory, DeploymentFactory, ReleaseFactory, make_lifecycle

pytestmark = pytest.mark.django_db


def releases(project, count):
    made = [ReleaseFactory(project=project, version=f"1.0.{i}") for i in range(1, count + 1)]
    return {r.version: r for r in made}


def remaining(project):
    return sorted(project.releases.values_list("version", flat=True))


def keep(lifecycle, releases=0, days=0):
    lifecycle.retention_releases = releases
    lifecycle.retention_days = days
    lifecycle.save()


def test_the_newest_releases_are_kept_and_the_rest_deleted_with_deployments_and_logs(
    bare_project, dev_test_prod
):
    r = releases(bare_project, 5)
    failed = DeploymentFactory(release=r["1.0.2"], environment=dev_test_prod["dev"], state="failed")
    LogLine.objects.create(deployment=failed, seq=1, time=timezone.now(), text="boom")
    keep(bare_project.lifecycle, releases=2)
    assert retention_apply() == 3
    assert remaining(bare_project) == ["1.0.4", "1.0.5"]
    assert not Deployment.objects.exists()
    assert not LogLine.objects.exists()


def test_the_current_release_of_an_environment_and_the_one_before_it_are_kept(
    bare_project, dev_test_prod
):
    r = releases(bare_project, 8)
    # Dev: 1.0.1, then 1.0.2, then 1.0.3 succeeded, then 1.0.4 failed → current 1.0.3, before 1.0.2
    for version in ("1.0.1", "1.0.2", "1.0.3"):
        DeploymentFactory(release=r[version], environment=dev_test_prod["dev"])
    DeploymentFactory(release=r["1.0.4"], environment=dev_test_prod["dev"], state="failed")
    # Prod: 1.0.1 only → current 1.0.1. Test: 1.0.5 queued (never deleted while pending).
    DeploymentFactory(release=r["1.0.1"], environment=dev_test_prod["prod"])
    DeploymentFactory(release=r["1.0.5"], environment=dev_test_prod["test"], state="queued")
    # Redeploying an older release makes it current again; the one before is then 1.0.3.
    DeploymentFactory(release=r["1.0.6"], environment=dev_test_prod["test"])
    DeploymentFactory(release=r["1.0.3"], environment=dev_test_prod["test"])
    DeploymentFactory(release=r["1.0.6"], environment=dev_test_prod["test"])
    keep(bare_project.lifecycle, releases=1)

    retention_apply()

    assert remaining(bare_project) == ["1.0.1", "1.0.2", "1.0.3", "1.0.5", "1.0.6", "1.0.8"]
    # A second run deletes nothing more.
    assert retention_apply() == 0


def test_releases_of_the_last_days_are_kept(bare_project):
    r = releases(bare_project, 3)
    old = timezone.now() - timedelta(days=40)
    Release.objects.filter(pk__in=[r["1.0.1"].pk, r["1.0.2"].pk]).update(created_at=old)
    keep(bare_project.lifecycle, days=30)
    assert retention_apply() == 2
    assert remaining(bare_project) == ["1.0.3"]


def test_with_both_rules_a_release_either_keeps_stays(bare_project):
    r = releases(bare_project, 4)
    Release.objects.filter(pk__in=[r[v].pk for v in ("1.0.1", "1.0.2", "1.0.3")]).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    Release.objects.filter(pk=r["1.0.1"].pk).update(created_at=timezone.now())
    keep(bare_project.lifecycle, releases=1, days=30)
    retention_apply()
    assert remaining(bare_project) == ["1.0.1", "1.0.4"]


def test_zero_and_zero_keeps_everything(bare_project):
    releases(bare_project, 3)
    assert retention_apply() == 0
    assert len(remaining(bare_project)) == 3


def test_a_channel_with_its_own_lifecycle_follows_that_lifecycles_retention(
    bare_project, dev_test_prod
):
    short = make_lifecycle("Short", [{"name": "Dev", "envs": [dev_test_prod["dev"]]}])
    keep(short, releases=1)
    channel = ChannelFactory(project=bare_project, name="Nightly", lifecycle=short)
    for i in range(3):
        ReleaseFactory(project=bare_project, channel=channel, version=f"0.9.{i}")
    releases(bare_project, 2)  # default channel, project lifecycle: keeps everything
    retention_apply()
    assert remaining(bare_project) == ["0.9.2", "1.0.1", "1.0.2"]


def test_audit_events_are_never_deleted_and_each_deletion_is_recorded(admin_api, bare_project):
    for _ in range(3):
        assert admin_api.post("/api/projects/bare/releases/", {}, format="json").status_code == 201
    created = set(AuditEvent.objects.values_list("pk", flat=True))
    keep(bare_project.lifecycle, releases=1)
    assert retention_apply() == 2
    assert created <= set(AuditEvent.objects.values_list("pk", flat=True))
    summaries = sorted(
        AuditEvent.objects.filter(summary__startswith="Retention").values_list("summary", flat=True)
    )
    assert summaries == [
        "Retention deleted release 0.0.1 of Bare (the lifecycle keeps the newest 1)",
        "Retention deleted release 0.0.2 of Bare (the lifecycle keeps the newest 1)",
    ]


def test_retention_is_a_celery_task_on_the_beat_schedule(bare_project):
    from deployserver.celery import app

    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "deployments.retention"
    )
    assert entry["schedule"] > 0
    app.loader.import_default_modules()
    releases(bare_project, 3)
    keep(bare_project.lifecycle, releases=2)
    result = app.tasks["deployments.retention"].apply()
    assert result.get() == 1
    assert remaining(bare_project) == ["1.0.2", "1.0.3"]


def test_retention_is_set_on_the_lifecycle_through_the_api_and_the_form(
    admin_api, client, admin_user, standard_lifecycle
):
    url = f"/api/lifecycles/{standard_lifecycle.pk}/"
    response = admin_api.patch(url, {"retention_releases": 5}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["retention_releases"] == 5
    assert admin_api.patch(url, {"retention_days": -1}, format="json").status_code == 400

    client.force_login(admin_user)
    page = client.get(f"/lifecycles/{standard_lifecycle.slug}/edit/").content.decode()
    assert 'name="retention_releases" value="5"' in page
    data = {
        "name": "Standard",
        "slug": "standard",
        "description": "",
        "retention_releases": "",
        "retention_days": "30",
        "phases-TOTAL_FORMS": "0",
        "phases-INITIAL_FORMS": "0",
    }
    assert client.post(f"/lifecycles/{standard_lifecycle.slug}/edit/", data).status_code == 302
    standard_lifecycle.refresh_from_db()
    assert (standard_lifecycle.retention_releases, standard_lifecycle.retention_days) == (0, 30)
