"""Queue a deployment's run once the transaction that queued or freed it has committed.

The task is sent by its name (``deployments.run``, see ``deployments.tasks``): the worker that
receives it runs the engine, and nothing that queues work needs to import the engine's task.

The deployment row is the truth; the message only wakes a worker up. Sending fails fast (no
retries, a short connect timeout) and a failure is never raised: it is logged, the row's
``enqueued_at`` is emptied, and the dispatcher (``deployments.dispatch``, run by beat) sends it
again once the queue is back. A message sent twice is harmless: only a queued deployment starts.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from celery import current_app
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from .models import Deployment

logger = logging.getLogger(__name__)

RUN_TASK = "deployments.run"
CHECK_TASK = "deployments.check"

# What publishing raises when the broker cannot be reached or cannot take the message: kombu
# wraps most (OperationalError), a Redis restarted empty may refuse to route (InconsistencyError).
BROKER_ERRORS = (KombuError, RedisError, OSError)

# Said by the API (``note``) and the pages when a deployment was queued but could not be sent.
QUEUE_UNREACHABLE = "The queue is unreachable; it will start when the queue is back."

# Publishing waits at most this long (seconds) for the broker to connect or answer, once.
PUBLISH_TIMEOUT = 2.0


def broker_connection():
    """A connection for sending only, that gives up quickly: the worker's own are untouched."""
    return current_app.connection_for_write(
        connect_timeout=PUBLISH_TIMEOUT,
        transport_options={
            "socket_connect_timeout": PUBLISH_TIMEOUT,
            "socket_timeout": PUBLISH_TIMEOUT,
            "max_retries": 0,
        },
    )


def enqueue(deployment_id: int, *, connection=None) -> datetime | None:
    """Send the run task for ``deployment_id`` now (carrying the id, never the object).

    Returns when it was sent, recorded as the row's ``enqueued_at``; ``None`` (and the row's
    ``enqueued_at`` emptied) if the queue could not be reached. ``connection`` (from
    ``broker_connection``) lets a caller sending many reuse one.
    """
    try:
        if connection is None:
            with broker_connection() as conn:
                _send(deployment_id, conn)
        else:
            _send(deployment_id, connection)
    except BROKER_ERRORS as exc:
        logger.warning(
            "deployment %s: the queue is unreachable (%s); the dispatcher will send it again",
            deployment_id,
            exc,
        )
        Deployment.objects.filter(pk=deployment_id).update(enqueued_at=None)
        return None
    sent_at = timezone.now()
    Deployment.objects.filter(pk=deployment_id).update(enqueued_at=sent_at)
    return sent_at


def _send(deployment_id: int, conn) -> None:
    conn.ensure_connection(max_retries=0, timeout=PUBLISH_TIMEOUT)
    current_app.send_task(RUN_TASK, args=[deployment_id], connection=conn, retry=False)


def enqueue_after_commit(deployment_id: int, *, instance: Deployment | None = None) -> None:
    """Send the run task once the current transaction commits (at once outside one).

    ``instance``, the caller's copy of the row, is told the outcome: its ``enqueued_at`` is set
    and ``enqueue_failed`` says whether the queue was unreachable (see ``queue_note``).
    """

    def send() -> None:
        sent_at = enqueue(deployment_id)
        if instance is not None:
            instance.enqueued_at = sent_at
            instance.enqueue_failed = sent_at is None

    transaction.on_commit(send)


def queue_note(deployment: Deployment) -> str | None:
    """What to tell whoever just queued ``deployment`` if its message could not be sent."""
    if getattr(deployment, "enqueue_failed", False) and deployment.state == "queued":
        return QUEUE_UNREACHABLE
    return None


def check_soon(at: datetime) -> None:
    """Have a check round run at ``at`` (rounded up to a quarter second): one message per
    quarter second whoever asks (the cache remembers who sent it), for the first worker free.

    The rounds' own schedule; beat also sends a round every ``DEPLOYSERVER_CHECK_SECONDS``, so a
    message lost here (a queue outage, a worker killed holding it) delays checks, never loses
    them. Sent after the current transaction commits, so the round sees what it must check.
    """
    slot = math.ceil(at.timestamp() * 4) / 4
    delay = max(0.0, slot - timezone.now().timestamp())

    def send() -> None:
        try:
            if not cache.add(f"deployserver:check-round:{slot}", 1, timeout=int(delay) + 2):
                return  # a round for that moment is already on its way
        except Exception:  # noqa: BLE001 - without the cache a duplicate round is harmless
            logger.debug("check round dedup unavailable", exc_info=True)
        try:
            with broker_connection() as conn:
                conn.ensure_connection(max_retries=0, timeout=PUBLISH_TIMEOUT)
                current_app.send_task(
                    CHECK_TASK,
                    countdown=delay,
                    expires=delay + 120,
                    connection=conn,
                    retry=False,
                )
        except BROKER_ERRORS as exc:
            logger.warning("the queue is unreachable (%s); beat's check rounds go on", exc)

    transaction.on_commit(send)
