"""Audit events: every service that creates, updates or deletes records one here."""

from typing import Any

from django.db import models

from .models import AuditEvent

MASK = "********"


def snapshot(obj: models.Model, *, secret_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """The concrete field values of ``obj`` as JSON-friendly data, secrets replaced by a mask."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in ("created_at", "updated_at"):
            continue
        value = field.value_from_object(obj)
        if field.name in secret_fields:
            value = MASK if value else ""
        elif value is not None and not isinstance(value, bool | int | float | str | list | dict):
            value = str(value)
        data[field.attname if field.is_relation else field.name] = value
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def audit_record(
    *,
    user,
    action: str,
    obj: models.Model,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor else "system",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk or ""),
        object_repr=str(obj)[:200],
        summary=summary[:500],
        changes=changes or {},
    )
