"""Writes for webhooks: create, update (a blank secret keeps the stored one, unless the URL
changes), delete, redeliver — each audited, the secret never in the record."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from deployserver.core.access import Action, require
from deployserver.core.audit import (
    audit_record,
    audited_delete,
    audited_save,
    secret_unbind,
)
from deployserver.core.events import EVENT_NAMES, dispatch_soon
from deployserver.core.models import AuditEvent

from .models import Delivery, Webhook

WEBHOOK_FIELDS = ("name", "url", "secret", "events", "format", "enabled")
WEBHOOK_SECRETS = ("url", "secret")


def _prepare(webhook: Webhook) -> None:
    events = webhook.events
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ValidationError({"events": ["Events is a list of event names."]})
    unknown = sorted(set(events) - set(EVENT_NAMES))
    if unknown:
        raise ValidationError(
            {"events": [f"Unknown event {', '.join(unknown)} (known: {', '.join(EVENT_NAMES)})."]}
        )
    if not events:
        raise ValidationError({"events": ["Choose at least one event."]})
    webhook.events = [e for e in EVENT_NAMES if e in events]


def _save(webhook: Webhook, *, user, data: dict, **options) -> Webhook:
    require(user, Action.ADMIN)
    projects = data.pop("projects", None)
    environments = data.pop("environments", None)
    webhook = audited_save(
        webhook,
        user=user,
        data=data,
        fields=WEBHOOK_FIELDS,
        secret_fields=WEBHOOK_SECRETS,
        prepare=_prepare,
        **options,
    )
    if projects is not None:
        webhook.projects.set(projects)
    if environments is not None:
        webhook.environments.set(environments)
    return webhook


@transaction.atomic
def webhook_create(*, user, **data) -> Webhook:
    return _save(Webhook(), user=user, data=data)


@transaction.atomic
def webhook_update(*, webhook: Webhook, user, **data) -> Webhook:
    """A blank or missing ``secret`` keeps the stored one, unless ``url`` changes (then it is
    cleared unless the same update sends one): a secret never follows its receiver elsewhere."""
    notes = secret_unbind(webhook, data, secret="secret", bound_to=("url",))
    return _save(webhook, user=user, data=data, list_changes=True, secret_notes=notes)


@transaction.atomic
def webhook_delete(*, webhook: Webhook, user) -> None:
    require(user, Action.ADMIN)
    audited_delete(webhook, user=user)


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery, user) -> Delivery:
    """Send a delivery's event again, as a new delivery (a new id: a receiver that already
    took the first one must not discard this one as a duplicate), with the same content."""
    require(user, Action.ADMIN)
    body = delivery.body
    copy = Delivery(
        webhook=delivery.webhook,
        event=delivery.event,
        event_name=delivery.event_name,
        redelivery_of=delivery,
        next_attempt_at=timezone.now(),
    )
    data = json.loads(body)
    if "delivery" in data:
        data["delivery"] = str(copy.delivery_id)
        body = json.dumps(data, separators=(",", ":"), sort_keys=True)
    copy.body = body
    copy.save()
    audit_record(
        user=user,
        action=AuditEvent.Action.OTHER,
        obj=delivery.webhook,
        summary=f"Redelivered {delivery.event_name} ({delivery.delivery_id}) to "
        f"{delivery.webhook.name} as {copy.delivery_id}",
    )
    transaction.on_commit(dispatch_soon)
    return copy
