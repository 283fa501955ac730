"""The outbox: ``event_record`` writes an event in the caller's transaction, and wakes the
dispatcher once that transaction commits.

The row is the truth and the message only wakes someone up: if the queue is unreachable, or the
worker dies holding the message, beat's dispatch round (every ``DEPLOYSERVER_EVENTS_SECONDS``)
finds the event anyway. Wake-ups are merged: one message per tenth of a second whoever asks.
"""

from __future__ import annotations

import logging
import math
import time

from celery import current_app
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .models import Event

logger = logging.getLogger(__name__)

DISPATCH_TASK = "notifications.dispatch"
EVENT_NAMES = (
    "release.created",
    "deployment.awaiting_approval",
    "deployment.queued",
    "deployment.started",
    "deployment.succeeded",
    "deployment.failed",
    "deployment.cancelled",
    "drift.detected",
)


def absolute_url(path: str) -> str:
    """``path`` on the server as people reach it (``DEPLOYSERVER_PUBLIC_URL``), for links."""
    return settings.DEPLOYSERVER_PUBLIC_URL.rstrip("/") + path


def event_record(
    name: str,
    payload: dict,
    *,
    project_id: int | None = None,
    environment_id: int | None = None,
) -> Event:
    """Record event ``name`` with ``payload`` in the current transaction (the outbox)."""
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown event {name!r}")
    event = Event.objects.create(
        name=name, payload=payload, project_id=project_id, environment_id=environment_id
    )
    if _someone_listens():
        transaction.on_commit(dispatch_soon)
    return event


LISTENERS_KEY = "deployserver:events:listeners"


def _someone_listens() -> bool:
    """Whether any webhook is enabled (kept in the shared cache, forgotten whenever a webhook
    is saved or deleted): without one, no wake-up is sent per event — beat's dispatch round
    still settles the outbox."""
    try:
        known = cache.get(LISTENERS_KEY)
    except Exception:  # noqa: BLE001 - without the cache, ask the database
        known = None
    if known is None:
        known = apps.get_model("notifications", "Webhook").objects.filter(enabled=True).exists()
        try:
            cache.set(LISTENERS_KEY, known, timeout=300)
        except Exception:  # noqa: BLE001
            logger.debug("could not remember whether webhooks listen", exc_info=True)
    return known


def listeners_changed(**_kwargs) -> None:
    """A webhook was saved or deleted: ask the database again at the next event."""
    try:
        cache.delete(LISTENERS_KEY)
    except Exception:  # noqa: BLE001 - the key expires by itself
        logger.warning("could not forget whether webhooks listen", exc_info=True)


def dispatch_soon() -> None:
    """Have a dispatch run at the end of this tenth of a second: one message per tenth
    whoever asks. The message runs after the slot ends, so it sees every event committed in
    the slot; one asked for later is a later slot's (a duplicate is harmless)."""
    now = time.time()
    slot = math.ceil(now * 10)
    try:
        if not cache.add(f"deployserver:events-dispatch:{slot}", 1, timeout=5):
            return
    except Exception:  # noqa: BLE001 - without the cache a duplicate wake-up is harmless
        logger.debug("event dispatch dedup unavailable", exc_info=True)
    countdown = max(0.0, slot / 10 - now) + 0.01
    try:
        with current_app.connection_for_write(
            connect_timeout=2,
            transport_options={"socket_connect_timeout": 2, "socket_timeout": 2, "max_retries": 0},
        ) as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
            current_app.send_task(
                DISPATCH_TASK, connection=conn, retry=False, countdown=countdown, expires=120
            )
    except Exception as exc:  # noqa: BLE001 - beat's dispatch round finds the event anyway
        logger.warning("events: the queue is unreachable (%s); beat's round will dispatch", exc)
