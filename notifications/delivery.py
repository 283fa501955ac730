"""Turning outbox events into deliveries, and sending them.

``notifications_dispatch`` (the ``notifications.dispatch`` task: sent when an event commits,
and by beat every ``DEPLOYSERVER_EVENTS_SECONDS``) does two things, each safe to run on several
workers at once:

1. **Fan-out**: takes undispatched events (``SKIP LOCKED``) and, in the same transaction that
   marks them dispatched, creates one ``Delivery`` per matching enabled webhook — its id and its
   body fixed there, once (unique per event × webhook).
2. **Sending**: takes due pending deliveries (``SKIP LOCKED``), leases each (``next_attempt_at``
   moved past the attempt's timeout, so a worker killed mid-send leaves it due again later),
   and POSTs them in parallel: ``X-Deployserver-Event``, ``X-Deployserver-Delivery`` (the same
   on every attempt), ``X-Deployserver-Signature: sha256=<HMAC-SHA256 of the body>``. A 2xx is
   delivered; anything else is retried after ``DEPLOYSERVER_WEBHOOK_BACKOFF`` (with ±20 %
   jitter) until the delays run out, then ``failed``.

Every connection goes through ``PolicyAdapter`` (the endpoint policy, checked on the address
connected to), and redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from deployserver.core.endpoints import EndpointRefused, PolicyAdapter
from deployserver.core.models import Event

from .models import Delivery, Webhook
from .payloads import body_for

logger = logging.getLogger(__name__)

BATCH = 200
SENDERS = 8
EXCERPT = 500


def lease_seconds() -> float:
    """How long an attempt holds its delivery: past its connect and read timeouts, with room
    to record the answer; then another worker may send it again (same id, same body)."""
    timeout = settings.DEPLOYSERVER_WEBHOOK_TIMEOUT
    return 2 * timeout + max(2.0, timeout)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _matches(webhook: Webhook, event: Event, projects: set, environments: set) -> bool:
    if event.name not in (webhook.events or []):
        return False
    if projects and event.project_id not in projects:
        return False
    # Release events belong to no environment: an environment filter only narrows deployments.
    return not (environments and event.environment_id and event.environment_id not in environments)


def fan_out(limit: int = 1000) -> int:
    """Create the deliveries of undispatched events; returns how many were made."""
    made = 0
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True)
            .order_by("pk")[:limit]
        )
        if not events:
            return 0
        webhooks = [
            (w, {p.pk for p in w.projects.all()}, {e.pk for e in w.environments.all()})
            for w in Webhook.objects.filter(enabled=True).prefetch_related(
                "projects", "environments"
            )
        ]
        now = timezone.now()
        rows = []
        for event in events:
            for webhook, projects, environments in webhooks:
                if _matches(webhook, event, projects, environments):
                    delivery_id = uuid.uuid4()
                    rows.append(
                        Delivery(
                            webhook=webhook,
                            event=event,
                            event_name=event.name,
                            delivery_id=delivery_id,
                            body=body_for(webhook.format, event, str(delivery_id)),
                            next_attempt_at=now,
                        )
                    )
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        made = len(rows)
        Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
    return made


def _claim_due(limit: int) -> list[Delivery]:
    now = timezone.now()
    lease = now + timedelta(seconds=lease_seconds())
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=Delivery.State.PENDING, next_attempt_at__lte=now)
            .select_related("webhook")
            .order_by("next_attempt_at", "pk")[:limit]
        )
        Delivery.objects.filter(pk__in=[d.pk for d in due]).update(next_attempt_at=lease)
    return due


@dataclass
class Attempt:
    status_code: int | None = None
    duration_ms: int = 0
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _session() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "deployserver-webhooks"
    session.mount("http://", PolicyAdapter())
    session.mount("https://", PolicyAdapter())
    return session


def send(delivery: Delivery, session: requests.Session | None = None) -> Attempt:
    """One POST of ``delivery``'s stored body; never raises."""
    webhook = delivery.webhook
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "X-Deployserver-Event": delivery.event_name,
        "X-Deployserver-Delivery": str(delivery.delivery_id),
    }
    if webhook.secret:
        headers["X-Deployserver-Signature"] = signature(webhook.secret, body)
    started = time.monotonic()
    attempt = Attempt()
    try:
        response = (session or _session()).post(
            webhook.url,
            data=body,
            headers=headers,
            timeout=settings.DEPLOYSERVER_WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
        attempt.status_code = response.status_code
        attempt.excerpt = response.text[:EXCERPT]
        if not attempt.ok:
            attempt.error = f"The receiver answered {response.status_code}."
    except EndpointRefused as exc:
        attempt.error = str(exc)
    except requests.RequestException as exc:
        cause = exc.__context__ if isinstance(exc.__context__, EndpointRefused) else None
        # The URL's path and query may be a secret of their own (a Slack webhook's is): the
        # error shown and stored names the host only.
        text = str(exc)
        parts = urlsplit(webhook.url)
        for secret_part in (parts.path, parts.query):
            if len(secret_part) > 1:
                text = text.replace(secret_part, "/…")
        attempt.error = str(cause) if cause else f"{type(exc).__name__}: {text}"[:500]
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    return attempt


def _record(delivery: Delivery, attempt: Attempt) -> None:
    now = timezone.now()
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts,
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "response_excerpt": attempt.excerpt,
        "error": attempt.error[:1000],
    }
    backoff = settings.DEPLOYSERVER_WEBHOOK_BACKOFF
    if attempt.ok:
        fields.update(state=Delivery.State.DELIVERED, delivered_at=now, next_attempt_at=None)
    elif attempts > len(backoff):
        fields.update(state=Delivery.State.FAILED, next_attempt_at=None)
    else:
        delay = backoff[attempts - 1] * random.uniform(0.8, 1.2)  # noqa: S311 - jitter only
        fields["next_attempt_at"] = now + timedelta(seconds=delay)
    # Only the holder of the attempt records it: a redelivery reset in between is kept.
    Delivery.objects.filter(
        pk=delivery.pk, state=Delivery.State.PENDING, attempts=delivery.attempts
    ).update(**fields)


def _send_and_record(delivery: Delivery, session: requests.Session) -> bool:
    try:
        attempt = send(delivery, session)
        _record(delivery, attempt)
        return attempt.ok
    finally:
        connection.close()


def deliver_due(limit: int = BATCH) -> dict:
    """Send every due delivery (in batches); returns counts of this call."""
    counts = {"sent": 0, "delivered": 0}
    session = _session()
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        while True:
            due = _claim_due(limit)
            if not due:
                break
            results = list(pool.map(lambda d: _send_and_record(d, session), due))
            counts["sent"] += len(results)
            counts["delivered"] += sum(results)
            if len(due) < limit:
                break
    close_old_connections()
    return counts


def notifications_dispatch() -> dict:
    made = 0
    while True:
        batch = fan_out()
        made += batch
        if not batch:
            break
    return {"made": made, **deliver_due()}
