"""Audit events, and the writes that leave one: every service that creates, updates or deletes
records an event here, through ``audited_save`` and ``audited_delete`` where the write is a plain
one (fields in, ``full_clean()``, save)."""

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils.text import capfirst, slugify

from .models import AuditEvent
from .throttling import Window

logger = logging.getLogger(__name__)

MASK = "********"
M = TypeVar("M", bound=models.Model)


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


def _about(obj: models.Model) -> tuple[int | None, int | None]:
    """The project and environment ids an event about ``obj`` belongs to (for who may read it)."""
    label = obj._meta.label_lower
    project_id = obj.pk if label == "releases.project" else getattr(obj, "project_id", None)
    environment_id = (
        obj.pk if label == "releases.environment" else getattr(obj, "environment_id", None)
    )
    return project_id, environment_id


def audit_record(
    *,
    user,
    action: str,
    obj: models.Model,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    actor = user if user is not None and getattr(user, "is_authenticated", False) else None
    project_id, environment_id = _about(obj)
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor else "system",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk or ""),
        object_repr=str(obj)[:200],
        summary=summary[:500],
        changes=changes or {},
        project_id=project_id,
        environment_id=environment_id,
    )


# A refused write is recorded once per user × action × target per window, and at most
# REFUSALS_PER_USER times per user in it: probing cannot flood the log.
REFUSAL_WINDOW_SECONDS = 600
REFUSALS_PER_USER = 20


def audit_refusal(*, user, action: str, project=None, environment=None, reason: str) -> bool:
    """Record a refused write (rate-limited); returns whether it was recorded."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    target = next((o for o in (environment, project) if isinstance(o, models.Model)), None)
    what = f"{getattr(project, 'pk', '-')}:{getattr(environment, 'pk', '-')}"
    try:
        if not cache.add(f"refusal:{user.pk}:{action}:{what}", 1, REFUSAL_WINDOW_SECONDS):
            return False
        window = Window(
            "refusals", str(user.pk), limit=REFUSALS_PER_USER, seconds=REFUSAL_WINDOW_SECONDS
        )
        if window.retry_after():
            return False
        window.fail()
    except Exception:  # noqa: BLE001 - without the cache every refusal is recorded
        logger.warning("refusal rate limit unavailable", exc_info=True)
    return bool(
        AuditEvent.objects.create(
            actor=user,
            actor_name=user.get_username(),
            action=AuditEvent.Action.OTHER,
            object_type=target._meta.label_lower if target is not None else "auth.user",
            object_id=str(target.pk if target is not None else user.pk),
            object_repr=str(target if target is not None else user.get_username())[:200],
            summary=f"Refused {action} to {user.get_username()}: {reason}"[:500],
            project_id=getattr(project, "pk", None),
            environment_id=getattr(environment, "pk", None),
        )
    )


def _describe(obj: models.Model) -> str:
    return f"{obj._meta.verbose_name} {obj}"


def assign_fields(obj: models.Model, data: dict, fields: Iterable[str]) -> None:
    """Set ``data`` on ``obj``, refusing names outside ``fields``; a blank slug follows the name."""
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    for name, value in data.items():
        setattr(obj, name, value)
    if hasattr(obj, "slug") and not obj.slug:
        obj.slug = slugify(obj.name or "")[:100]


def audited_save(
    obj: M,
    *,
    user,
    data: dict,
    fields: Iterable[str],
    secret_fields: tuple[str, ...] = (),
    prepare: Callable[[M], None] | None = None,
    describe: Callable[[M], str] = _describe,
    list_changes: bool = False,
    secret_notes: dict[str, str] | None = None,
) -> M:
    """Create (``obj`` unsaved) or update ``obj`` from ``data`` and record what changed.

    ``prepare`` runs after the data is set and before ``full_clean()`` (rules across fields).
    Secrets are masked in the record; one given on an update is recorded as replaced. The summary
    is "Created <describe(obj)>" or "Updated <describe(obj)>", with the changed field names after
    it when ``list_changes``. ``secret_notes`` records, for a secret, why it changed (such as
    "(cleared: url changed)", see ``secret_unbind``). An update that changes nothing records
    nothing.
    """
    creating = obj.pk is None
    before = {} if creating else snapshot(obj, secret_fields=secret_fields)
    assign_fields(obj, data, fields)
    if prepare is not None:
        prepare(obj)
    obj.full_clean()
    obj.save()
    after = snapshot(obj, secret_fields=secret_fields)
    if creating:
        audit_record(
            user=user,
            action=AuditEvent.Action.CREATE,
            obj=obj,
            summary=f"Created {describe(obj)}",
            changes=after,
        )
        return obj
    changes = diff(before, after)
    for name in secret_fields:
        if name in data and getattr(obj, name):
            changes[name] = [before[name], f"{MASK} (replaced)"]
    for name, note in (secret_notes or {}).items():
        changes[name] = [before[name], note]
    if changes:
        summary = f"Updated {describe(obj)}"
        if list_changes:
            summary += f": {', '.join(sorted(changes))}"
        audit_record(
            user=user, action=AuditEvent.Action.UPDATE, obj=obj, summary=summary, changes=changes
        )
    return obj


def secret_unbound(obj: models.Model, data: dict, *, secret: str, bound_to: Iterable[str]):
    """The fields of ``bound_to`` whose change in ``data`` clears ``obj``'s stored ``secret``.

    A stored secret was entered for one destination (a URL, a user, a role): it never follows
    them elsewhere. None when ``data`` supplies the secret again or none is stored.
    """
    if data.get(secret) or not getattr(obj, secret):
        return []
    return [name for name in bound_to if name in data and data[name] != getattr(obj, name)]


def secret_unbind(
    obj: models.Model, data: dict, *, secret: str, bound_to: Iterable[str]
) -> dict[str, str]:
    """Apply the stored-secret rule of an update of ``obj`` to ``data``, in place.

    A blank or missing ``secret`` keeps the stored one, unless a field of ``bound_to`` changes:
    then it is cleared. Returns the ``secret_notes`` for ``audited_save``.
    """
    unbound = secret_unbound(obj, data, secret=secret, bound_to=bound_to)
    if not data.get(secret):
        data.pop(secret, None)
    if not unbound:
        return {}
    data[secret] = ""
    return {secret: f"(cleared: {' and '.join(unbound)} changed)"}


def delete_protected(obj: models.Model) -> None:
    """Delete ``obj``; when other records still refer to it, refuse naming a few of them."""
    try:
        with transaction.atomic():
            obj.delete()
    except ProtectedError as exc:
        users = sorted({f"{o._meta.verbose_name} {o}" for o in exc.protected_objects})
        more = f" and {len(users) - 3} more" if len(users) > 3 else ""
        raise ValidationError(
            f"{capfirst(_describe(obj))} is still used by {', '.join(users[:3])}{more}; "
            "change those first."
        ) from exc


def audited_delete(obj: models.Model, *, user) -> None:
    """Record "Deleted <verbose name> <obj>" and delete ``obj`` (see ``delete_protected``)."""
    audit_record(
        user=user, action=AuditEvent.Action.DELETE, obj=obj, summary=f"Deleted {_describe(obj)}"
    )
    delete_protected(obj)
