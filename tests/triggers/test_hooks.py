"""Registry push hooks: a real docker-registry notifying the running server, an ECR EventBridge
event, and every refusal (wrong token, malformed body, too many guesses)."""

import json
import time

import pytest
from django.test import override_settings

from feeds.services import feed_create, feed_hook_token_rotate, feed_update
from releases.models import DeploymentProcess, Release
from tests.factories import ProjectFactory, ecs_step
from tests.feeds.registry_kit import start_registry
from tests.scenarios import push
from triggers.services import trigger_create

EVENTS_TYPE = "application/vnd.docker.distribution.events.v1+json"


def registry_envelope(repository: str, tag: str | None, action: str = "push") -> dict:
    target = {
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "size": 528,
        "digest": "sha256:" + "a" * 64,
        "length": 528,
        "repository": repository,
        "url": f"http://registry/v2/{repository}/manifests/sha256:{'a' * 64}",
    }
    if tag:
        target["tag"] = tag
    return {
        "events": [
            {
                "id": "320678d8-ca14-430f-8bb6-4ca139cd83f7",
                "timestamp": "2026-11-30T07:00:00Z",
                "action": action,
                "target": target,
                "request": {"id": "x", "addr": "127.0.0.1", "method": "PUT"},
                "actor": {},
                "source": {"addr": "registry:5000"},
            }
        ]
    }


def ecr_event(repository: str, tag: str, *, action="PUSH", result="SUCCESS") -> dict:
    return {
        "version": "0",
        "id": "13cde686-328b-6117-af20-0e5566167482",
        "detail-type": "ECR Image Action",
        "source": "aws.ecr",
        "account": "123456789012",
        "time": "2026-11-30T07:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "result": result,
            "repository-name": repository,
            "image-digest": "sha256:" + "b" * 64,
            "action-type": action,
            "image-tag": tag,
        },
    }


def post(client, token: str, body, content_type="application/json"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(f"/api/hooks/registry/{token}/", data=data, content_type=content_type)


def wait_for_release(project, version: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if Release.objects.filter(project=project, packages__web__version=version).exists():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(
        f"no release of {version} within {timeout}s: "
        f"{list(Release.objects.values_list('packages__web__version', flat=True))}"
    )


# Refusals and parsing ---------------------------------------------------------------------------


def test_a_wrong_token_is_404_and_a_malformed_body_400(api_client, release_feed):
    assert post(api_client, "not-the-token", registry_envelope("a", "1.0.0")).status_code == 404
    token = release_feed.hook_token
    for body, message in (
        (b"{not json", "not JSON"),
        ([1, 2], "not a JSON object"),
        ({"hello": 1}, "Expected a Docker Registry"),
        ({"events": {"a": 1}}, "events is not a list"),
        ({"events": [{"action": "push", "target": {"tag": "1.0.0"}}]}, "repository is missing"),
        ({"detail-type": "EC2 Instance State"}, "Unexpected detail-type"),
        ({"detail-type": "ECR Image Action", "detail": []}, "detail is not an object"),
        ("[" * 100_000, ""),
    ):
        response = post(api_client, token, body)
        assert response.status_code == 400, (body, response.content)
        assert message in response.json()["detail"]


def test_pulls_untagged_pushes_and_failed_ecr_actions_are_accepted_and_ignored(
    api_client, release_feed
):
    token = release_feed.hook_token
    for body in (
        registry_envelope("hello-color", "1.0.0", action="pull"),
        registry_envelope("hello-color", None),
        ecr_event("hello-color", "1.0.0", result="FAILURE"),
        ecr_event("hello-color", "1.0.0", action="DELETE"),
    ):
        response = post(api_client, token, body, content_type=EVENTS_TYPE)
        assert response.status_code == 202
        assert response.json() == {"feed": release_feed.pk, "pushed": [], "check": "none"}


@override_settings(DEPLOYSERVER_HOOK_ATTEMPTS=5)
def test_guessing_tokens_is_throttled_per_address(api_client, release_feed):
    for _ in range(5):
        assert post(api_client, "guess", {"events": []}).status_code == 404
    response = post(api_client, release_feed.hook_token, {"events": []})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_a_rotated_token_retires_the_old_url(api_client, release_feed, admin_user):
    old = release_feed.hook_token
    new = feed_hook_token_rotate(feed=release_feed, user=admin_user)
    assert post(api_client, old, {"events": []}).status_code == 404
    assert post(api_client, new, {"events": []}).status_code == 202
    release_feed.refresh_from_db()
    # Stored encrypted, looked up by hash: the clear token is in no column.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT hook_token, hook_token_hash FROM feeds_feed")
        stored = cursor.fetchone()
    assert new not in stored[0] and new != stored[1] and stored[0].startswith("fernet:")


def test_a_burst_of_100_pushes_schedules_one_check(api_client, release_feed):
    answers = [
        post(api_client, release_feed.hook_token, ecr_event("hello-color", f"3.0.{n}")).json()
        for n in range(100)
    ]
    assert [a["check"] for a in answers].count("scheduled") == 1
    assert {a["check"] for a in answers[1:]} == {"pending"}


# Real parts ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_push_to_a_notifying_registry_becomes_a_release_within_5_s(
    live_server, celery_worker_process, standard_lifecycle, admin_user, tmp_path
):
    feed = feed_create(
        user=admin_user, name="Local", feed_type="docker-registry", url="http://127.0.0.1:1"
    )
    registry = start_registry(
        tmp_path / "registry",
        notify_url=f"{live_server.url}/api/hooks/registry/{feed.hook_token}/",
    )
    try:
        feed_update(feed=feed, user=admin_user, url=registry.url)
        registry.push("hello-color", "1.0.0")
        project = ProjectFactory(name="Pushed", slug="pushed", lifecycle=standard_lifecycle)
        # The process as stored (its variables are not what this test is about).
        DeploymentProcess.objects.create(project=project, steps=[ecs_step(feed)])
        trigger_create(project=project, user=admin_user, name="On push")
        wait_for_release(project, "1.0.0", 10)  # the push of 1.0.0 notified us too

        registry.push("hello-color", "1.1.0")
        elapsed = wait_for_release(project, "1.1.0", 5)
    finally:
        registry.stop()
    assert Release.objects.filter(project=project).count() == 2
    print(f"\n[registry hook] push → release in {elapsed:.2f} s")


@pytest.mark.django_db(transaction=True)
def test_an_ecr_eventbridge_event_becomes_a_release(
    live_server, celery_worker_process, project, release_feed, admin_user, ecr_client
):
    import requests

    trigger_create(project=project, user=admin_user, name="On push")
    token = release_feed.hook_token
    push(ecr_client, "2.3.0")
    response = requests.post(
        f"{live_server.url}/api/hooks/registry/{token}/",
        json=ecr_event("hello-color", "2.3.0"),
        timeout=10,
    )
    assert response.status_code == 202, response.text
    assert response.json()["pushed"] == ["hello-color"]
    wait_for_release(project, "2.3.0", 10)
    # The payload's tag is never trusted: a "pushed" tag the registry does not have is nothing.
    requests.post(
        f"{live_server.url}/api/hooks/registry/{token}/",
        json=ecr_event("hello-color", "9.9.9"),
        timeout=10,
    )
    time.sleep(2)
    assert list(
        Release.objects.filter(project=project).values_list("packages__web__version", flat=True)
    ) == ["2.3.0"]
