"""Webhook deliveries: events recorded with the state change (outbox), signed bodies, the same
delivery id and body on every retry, filters, formats, the endpoint policy."""

import hashlib
import hmac
import json
import time

import pytest

from deployments.services import deployment_cancel, deployment_create
from deployserver.core.models import Event
from notifications.delivery import notifications_dispatch
from notifications.models import Delivery
from notifications.services import delivery_redeliver, webhook_create
from releases.releasing import release_create

from .receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec-0123456789abcdef"
DEPLOYMENT_EVENTS = [
    "deployment.queued",
    "deployment.started",
    "deployment.succeeded",
    "deployment.failed",
    "deployment.cancelled",
]


def verify(secret: str, body: bytes, header: str) -> bool:
    """The receiver's check, as the README shows it."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def dispatch_until(condition, timeout=15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, list(Delivery.objects.values())
        notifications_dispatch()
        time.sleep(0.05)


@pytest.fixture
def fast_retries(settings):
    settings.DEPLOYSERVER_WEBHOOK_BACKOFF = [0.1] * 6


def test_a_receiver_failing_3_times_gets_one_body_under_one_id_signed(
    bare_project, dev_test_prod, admin_user, fast_retries
):
    with Receiver(answer=lambda n: 500 if n < 3 else 200) as receiver:
        webhook_create(
            user=admin_user,
            name="CI",
            url=receiver.url,
            secret=SECRET,
            events=["deployment.queued"],
        )
        release = release_create(project=bare_project, user=admin_user)
        deployment = deployment_create(
            release=release, environment=dev_test_prod["dev"], user=admin_user
        )
        dispatch_until(lambda: receiver.delivered())
        notifications_dispatch()  # nothing more to send
    assert [r.status for r in receiver.requests] == [500, 500, 500, 200]
    assert len({r.delivery for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    (got,) = receiver.delivered()
    assert verify(SECRET, got.body, got.signature)
    assert not verify("another secret", got.body, got.signature)
    body = json.loads(got.body)
    assert got.event == body["event"] == "deployment.queued"
    assert body["delivery"] == got.delivery
    assert body["project"]["slug"] == "bare" and body["environment"]["slug"] == "dev"
    assert body["release"]["version"] == release.version
    assert body["deployment"]["id"] == deployment.pk
    assert body["deployment"]["url"].endswith(f"/deployments/{deployment.pk}/")
    delivery = Delivery.objects.get()
    assert delivery.state == "delivered" and delivery.attempts == 4
    assert delivery.status_code == 200 and delivery.response_excerpt == "ok"


def test_events_are_recorded_in_the_transaction_of_the_change(
    bare_project, dev_test_prod, admin_user
):
    release = release_create(project=bare_project, user=admin_user)
    deployment = deployment_create(
        release=release, environment=dev_test_prod["dev"], user=admin_user
    )
    deployment_cancel(deployment=deployment, user=admin_user)
    assert list(Event.objects.values_list("name", flat=True)) == [
        "release.created",
        "deployment.queued",
        "deployment.cancelled",
    ]
    # A change that is rolled back leaves no event.
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        release_create(project=bare_project, user=admin_user)
        raise RuntimeError("rolled back")
    assert Event.objects.count() == 3


def test_filters_by_project_environment_and_event(
    bare_project, project, dev_test_prod, admin_user, fast_retries
):
    with Receiver() as receiver:
        webhook_create(
            user=admin_user,
            name="Prod of Bare",
            url=receiver.url,
            events=DEPLOYMENT_EVENTS,
            projects=[bare_project],
            environments=[dev_test_prod["prod"]],
        )
        webhook_create(
            user=admin_user, name="Releases", url=receiver.url, events=["release.created"]
        )
        release = release_create(project=bare_project, user=admin_user)
        deployment_create(release=release, environment=dev_test_prod["dev"], user=admin_user)
        dispatch_until(lambda: len(receiver.delivered()) >= 1)
        time.sleep(0.2)
        notifications_dispatch()
    # Dev is filtered out; the release event reaches the second webhook only.
    assert [r.event for r in receiver.requests] == ["release.created"]
    assert not verify(SECRET, receiver.requests[0].body, receiver.requests[0].signature)
    assert receiver.requests[0].signature == ""  # no secret, no signature


def test_slack_format(bare_project, dev_test_prod, admin_user, fast_retries):
    with Receiver() as receiver:
        webhook_create(
            user=admin_user,
            name="Slack",
            url=receiver.url,
            events=["deployment.cancelled"],
            format="slack",
        )
        release = release_create(project=bare_project, user=admin_user)
        deployment = deployment_create(
            release=release, environment=dev_test_prod["dev"], user=admin_user
        )
        deployment_cancel(deployment=deployment, user=admin_user)
        dispatch_until(lambda: receiver.delivered())
    message = json.loads(receiver.delivered()[0].body)
    assert message["text"] == f":no_entry_sign: Bare {release.version} to Dev: cancelled"
    fields = " ".join(f["text"] for f in message["blocks"][1]["fields"])
    for part in ("*Project*\nBare", "*Environment*\nDev", "*State*\ncancelled", "*By*\nadmin"):
        assert part in fields
    assert message["blocks"][-1]["elements"][0]["url"].endswith(f"/deployments/{deployment.pk}/")


def test_a_receiver_that_never_answers_2xx_is_given_up_after_the_last_retry(
    bare_project, admin_user, fast_retries
):
    with Receiver(answer=lambda n: 503) as receiver:
        webhook_create(user=admin_user, name="Down", url=receiver.url, events=["release.created"])
        release_create(project=bare_project, user=admin_user)
        dispatch_until(lambda: Delivery.objects.filter(state="failed").exists())
    assert len(receiver.requests) == 7  # the first attempt and 6 retries
    delivery = Delivery.objects.get()
    assert delivery.attempts == 7 and delivery.status_code == 503
    assert delivery.error == "The receiver answered 503."


def test_redeliver_sends_the_same_content_under_a_new_id(bare_project, admin_user, fast_retries):
    with Receiver() as receiver:
        webhook_create(user=admin_user, name="Again", url=receiver.url, events=["release.created"])
        release_create(project=bare_project, user=admin_user)
        dispatch_until(lambda: receiver.delivered())
        copy = delivery_redeliver(delivery=Delivery.objects.get(), user=admin_user)
        dispatch_until(lambda: len(receiver.delivered()) == 2)
    first, second = (json.loads(r.body) for r in receiver.delivered())
    assert second["delivery"] == str(copy.delivery_id) != first["delivery"]
    assert {**second, "delivery": None} == {**first, "delivery": None}


def test_the_endpoint_policy_is_checked_on_the_address_at_send_time(
    bare_project, admin_user, settings
):
    with Receiver() as receiver:
        webhook_create(
            user=admin_user,
            name="Local",
            url=receiver.url.replace("127.0.0.1", "localhost"),
            events=["release.created"],
        )
        # The name now leads somewhere the policy refuses (as after a DNS change).
        settings.DEPLOYSERVER_ENDPOINT_POLICY = "private"
        release_create(project=bare_project, user=admin_user)
        notifications_dispatch()
    assert receiver.requests == []
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1
    assert "loopback address (policy 'private')" in delivery.error


def test_metadata_and_loopback_urls_are_refused_when_saved(admin_user, settings):
    from django.core.exceptions import ValidationError

    for policy, url, reason in (
        ("any", "http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
        ("any", "http://[fd00:ec2::254]/", "cloud metadata address"),
        ("private", "http://127.0.0.1:6379/", "loopback"),
        ("public", "http://10.0.0.5/hook", "not a public address"),
    ):
        settings.DEPLOYSERVER_ENDPOINT_POLICY = policy
        with pytest.raises(ValidationError) as exc:
            webhook_create(user=admin_user, name="X", url=url, events=["release.created"])
        assert reason in str(exc.value), (policy, url)


def test_a_failed_connection_is_recorded_without_the_urls_secret_path(bare_project, admin_user):
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}/services/T000/B000/XXXXsecretXXXX"
    webhook_create(user=admin_user, name="Gone", url=url, events=["release.created"])
    release_create(project=bare_project, user=admin_user)
    notifications_dispatch()
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1 and delivery.error.startswith("ConnectionError")
    assert "XXXXsecretXXXX" not in delivery.error and "127.0.0.1" in delivery.error
