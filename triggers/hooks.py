"""Registry push hooks: ``POST /api/hooks/registry/<token>/``.

Accepts the Docker Registry v2 notification envelope (``{"events": [{"action": "push",
"target": {"repository", "tag", …}}]}``) and the ECR "ECR Image Action" EventBridge event. A
hook only asks for a check of its feed, soon: the versions are read from the feed, never taken
from the payload. Pushes close together share one check (``check_feed_soon``), so a burst of
pushes costs a few registry listings, not one per push. Pulls, untagged manifests and failed ECR
actions are accepted and ignored (the registry retries anything but a 2xx).
"""

from __future__ import annotations

import json
import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache

from deployserver.core.throttling import Window

logger = logging.getLogger(__name__)

CHECK_FEED_TASK = "triggers.check_feed"
# Pushes within this many seconds of the first share its check.
HOOK_DELAY_SECONDS = 0.5
# A pending check's mark outlives a lost message by at most this; polling covers the rest.
PENDING_SECONDS = 30


class MalformedHook(ValueError):
    """The body is neither notification shape; ``str()`` says what is wrong."""


def pushed_repositories(body: bytes) -> list[str]:
    """The repositories a hook's body says were pushed with a tag (possibly none)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedHook("The body is not JSON.") from exc
    if not isinstance(data, dict):
        raise MalformedHook("The body is not a JSON object.")
    if "events" in data:
        return _registry_pushes(data["events"])
    if "detail-type" in data:
        return _ecr_pushes(data)
    raise MalformedHook(
        'Expected a Docker Registry notification envelope ({"events": [...]}) or an ECR '
        'EventBridge event ("detail-type": "ECR Image Action").'
    )


def _registry_pushes(events) -> list[str]:
    if not isinstance(events, list):
        raise MalformedHook("events is not a list.")
    pushed = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("target", {}), dict):
            raise MalformedHook(f"events[{index}] is not a notification event.")
        target = event.get("target") or {}
        if event.get("action") != "push" or not target.get("tag"):
            continue  # pulls, and manifests pushed without a tag
        repository = target.get("repository")
        if not isinstance(repository, str) or not repository:
            raise MalformedHook(f"events[{index}].target.repository is missing.")
        pushed.append(repository)
    return sorted(set(pushed))


def _ecr_pushes(event: dict) -> list[str]:
    if event.get("detail-type") != "ECR Image Action":
        raise MalformedHook(f"Unexpected detail-type {str(event.get('detail-type'))[:80]!r}.")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise MalformedHook("detail is not an object.")
    repository = detail.get("repository-name")
    if not isinstance(repository, str) or not repository:
        raise MalformedHook("detail.repository-name is missing.")
    if (
        detail.get("action-type") != "PUSH"
        or detail.get("result") != "SUCCESS"
        or not detail.get("image-tag")
    ):
        return []
    return [repository]


def hook_throttle(address: str) -> Window:
    """Wrong tokens per address: guessing a 256-bit token is hopeless, and slowed down too."""
    return Window(
        "hook",
        address,
        limit=settings.DEPLOYSERVER_HOOK_ATTEMPTS,
        seconds=settings.DEPLOYSERVER_HOOK_WINDOW_SECONDS,
    )


def _pending_key(feed_id: int) -> str:
    return f"triggers:feed-check-pending:{feed_id}"


def check_feed_soon(feed_id: int) -> bool:
    """Have the feed's triggers checked in ``HOOK_DELAY_SECONDS``, unless a check not started
    yet will already see this push; True if a message was sent."""
    if not cache.add(_pending_key(feed_id), 1, timeout=PENDING_SECONDS):
        return False
    try:
        current_app.send_task(
            CHECK_FEED_TASK, args=[feed_id], countdown=HOOK_DELAY_SECONDS, expires=300, retry=False
        )
    except Exception as exc:  # noqa: BLE001 - the next poll round checks the feed anyway
        cache.delete(_pending_key(feed_id))
        logger.warning(
            "feed %s: the queue is unreachable (%s); polling will check it", feed_id, exc
        )
        return False
    return True


def check_feed_started(feed_id: int) -> None:
    """A check of the feed starts now: a push from here on needs a check of its own."""
    cache.delete(_pending_key(feed_id))
