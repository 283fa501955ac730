"""Writes for triggers: create, update, delete, each audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from deployserver.core.access import Action, require
from deployserver.core.audit import audited_delete, audited_save
from releases.models import Channel, Project
from releases.process import process_for
from releases.releasing import package_refs

from .models import Trigger

TRIGGER_FIELDS = ("name", "channel", "packages", "enabled")


def trigger_package_refs(project: Project) -> list[str]:
    """The package references a trigger of ``project`` may watch (its process's)."""
    return [r.ref for r in package_refs(process_for(project).steps)]


def _prepare(trigger: Trigger) -> None:
    project = trigger.project
    trigger.name = (trigger.name or "").strip()
    if trigger.channel is not None and trigger.channel.project_id != project.pk:
        raise ValidationError(
            {"channel": [f"Channel {trigger.channel.name} is not a channel of {project.name}."]}
        )
    packages = trigger.packages or []
    if not isinstance(packages, list) or not all(isinstance(p, str) for p in packages):
        raise ValidationError({"packages": ["Packages is a list of package reference names."]})
    known = trigger_package_refs(project)
    unknown = sorted(set(packages) - set(known))
    if unknown:
        raise ValidationError(
            {
                "packages": [
                    f"Unknown package reference {', '.join(unknown)} "
                    f"(the process has: {', '.join(known) or 'none'})."
                ]
            }
        )
    trigger.packages = sorted(set(packages))
    if (
        Trigger.objects.filter(project=project, name__iexact=trigger.name)
        .exclude(pk=trigger.pk)
        .exists()
    ):
        raise ValidationError({"name": [f"{project.name} already has a trigger {trigger.name}."]})


def _describe(trigger: Trigger) -> str:
    return f"trigger {trigger.name} of {trigger.project.name}"


@transaction.atomic
def trigger_create(*, project: Project, user, **data) -> Trigger:
    require(user, Action.EDIT, project)
    return audited_save(
        Trigger(project=project),
        user=user,
        data=data,
        fields=TRIGGER_FIELDS,
        prepare=_prepare,
        describe=_describe,
    )


@transaction.atomic
def trigger_update(*, trigger: Trigger, user, **data) -> Trigger:
    require(user, Action.EDIT, trigger.project)
    return audited_save(
        trigger,
        user=user,
        data=data,
        fields=TRIGGER_FIELDS,
        prepare=_prepare,
        describe=_describe,
        list_changes=True,
    )


@transaction.atomic
def trigger_delete(*, trigger: Trigger, user) -> None:
    require(user, Action.EDIT, trigger.project)
    audited_delete(trigger, user=user)


def channel_of(project: Project, slug: str | None) -> Channel | None:
    """The channel ``slug`` of ``project`` (None: the default); refused when unknown."""
    if not slug:
        return None
    channel = project.channels.filter(slug=slug).first()
    if channel is None:
        raise ValidationError({"channel": [f"{project.name} has no channel '{slug}'."]})
    return channel
