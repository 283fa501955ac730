"""Trigger rounds on ECR (moto): a new version the channel accepts becomes one release, noted as
the trigger's; channel rules and pre-release-only channels; failures are shown, never swallowed;
two rounds at once make one release."""

import threading

import pytest
from django.db import connection

from deployserver.core.models import AuditEvent
from releases.channels import channel_create
from releases.models import Release
from tests.scenarios import push
from triggers import checking
from triggers.checking import triggers_check
from triggers.models import Trigger, TriggerRelease
from triggers.services import trigger_create, trigger_update


def versions(project) -> list[str]:
    return list(
        Release.objects.filter(project=project)
        .order_by("pk")
        .values_list("packages__web__version", flat=True)
    )


@pytest.fixture
def trigger(project, admin_user):
    return trigger_create(project=project, user=admin_user, name="On push")


def test_a_new_version_becomes_one_release_noted_as_the_triggers(project, trigger, ecr_client):
    report = triggers_check()
    assert versions(project) == ["2.0.0"]  # the newest stable version (2.1.0-rc.1 is not)
    release = Release.objects.get(pk=report.releases[0])
    assert "On push" in release.notes and release.created_by is None
    assert AuditEvent.objects.filter(
        object_type="triggers.trigger", summary__contains=f"created release {release.version}"
    ).exists()

    assert triggers_check().releases == []  # nothing new: nothing made
    push(ecr_client, "2.0.1")
    assert triggers_check().releases and versions(project) == ["2.0.0", "2.0.1"]
    trigger.refresh_from_db()
    assert trigger.last_found == {"web": "2.0.1"} and trigger.last_error == ""
    assert trigger.last_checked_at is not None
    assert [f.release.version for f in trigger.firings.all()] == ["0.0.2", "0.0.1"]


def test_the_lifecycle_deploys_a_triggered_release_to_its_automatic_environments(
    project, trigger, standard_lifecycle
):
    from releases.models import PhaseEnvironment

    PhaseEnvironment.objects.filter(lifecycle=standard_lifecycle, environment__slug="dev").update(
        automatic=True
    )
    (release_id,) = triggers_check().releases
    release = Release.objects.get(pk=release_id)
    assert [d.environment.slug for d in release.deployments.all()] == ["dev"]
    assert release.deployments.get().trigger == "automatic"


def test_a_version_outside_the_channels_range_creates_nothing(project, admin_user, ecr_client):
    below_2 = channel_create(
        project=project, user=admin_user, name="One", rules=[{"version_range": "<2.0.0"}]
    )
    trigger_create(project=project, user=admin_user, name="1.x", channel=below_2)
    triggers_check()
    assert versions(project) == ["1.2.0"]
    push(ecr_client, "2.2.0")
    assert triggers_check().releases == []
    assert versions(project) == ["1.2.0"]
    push(ecr_client, "1.3.0")
    triggers_check()
    assert versions(project) == ["1.2.0", "1.3.0"]
    assert set(Release.objects.values_list("channel", flat=True)) == {below_2.pk}


def test_a_trigger_on_a_prerelease_only_channel_picks_prereleases(project, admin_user, ecr_client):
    rc = channel_create(project=project, user=admin_user, name="RC", rules=[{"prerelease": "^rc"}])
    trigger_create(project=project, user=admin_user, name="RCs", channel=rc)
    triggers_check()
    assert versions(project) == ["2.1.0-rc.1"]
    push(ecr_client, "2.2.0")  # a stable version: not for this channel
    assert triggers_check().releases == []
    push(ecr_client, "2.2.0-rc.1")
    triggers_check()
    assert versions(project) == ["2.1.0-rc.1", "2.2.0-rc.1"]


def test_each_feed_package_is_listed_once_per_round_whatever_the_triggers(
    project, admin_user, ecr_client
):
    for n in range(5):
        trigger_create(project=project, user=admin_user, name=f"T{n}")
    report = triggers_check()
    assert report.triggers == 5 and report.listings == 1
    assert len(report.releases) == 1  # five triggers, one version set, one release


def test_a_disabled_trigger_is_not_checked(project, trigger, admin_user):
    trigger_update(trigger=trigger, user=admin_user, enabled=False)
    assert triggers_check().triggers == 0 and versions(project) == []


def test_an_unreachable_feed_is_an_error_on_the_trigger_and_ten_make_it_unhealthy(
    project, trigger, release_feed, settings
):
    from tests.conftest import free_port

    # The feed now points at an ECR endpoint nobody listens on.
    account = release_feed.account
    account.endpoint_url = f"http://127.0.0.1:{free_port()}"
    account.save()
    settings.AWS_MAX_ATTEMPTS = 1
    for _ in range(9):
        triggers_check()
    trigger.refresh_from_db()
    assert trigger.failures == 9 and trigger.healthy and trigger.last_error
    assert "hello-color" in trigger.last_error
    triggers_check()
    trigger.refresh_from_db()
    assert trigger.failures == 10 and not trigger.healthy and trigger.enabled
    assert versions(project) == []


@pytest.mark.django_db(transaction=True)
def test_two_rounds_at_once_make_one_release(project, trigger):
    # Both rounds decide "new version set" before either writes: only the database's guard
    # stands between them and two releases.
    barrier = threading.Barrier(2, timeout=20)
    decide = checking._released

    def released_then_wait(*args):
        result = decide(*args)
        barrier.wait()
        return result

    checking._released = released_then_wait
    reports, errors = [], []

    def round_():
        try:
            reports.append(triggers_check(refresh=False))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=round_) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        checking._released = decide
    assert not errors
    assert sorted(len(r.releases) for r in reports) == [0, 1]
    assert versions(project) == ["2.0.0"]
    assert TriggerRelease.objects.count() == 1
    trigger.refresh_from_db()
    assert trigger.last_error == "" and trigger.failures == 0


def test_a_trigger_refuses_unknown_packages_and_another_projects_channel(
    project, bare_project, admin_user
):
    from django.core.exceptions import ValidationError

    from releases.channels import channel_default_create

    with pytest.raises(ValidationError) as exc:
        trigger_create(project=project, user=admin_user, name="X", packages=["nope"])
    assert "Unknown package reference nope" in str(exc.value)
    other = channel_default_create(bare_project)
    with pytest.raises(ValidationError) as exc:
        trigger_create(project=project, user=admin_user, name="X", channel=other)
    assert "not a channel of Hello Color" in str(exc.value)
    assert not Trigger.objects.exists()
