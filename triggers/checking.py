"""Trigger checks: read each watched package's listing once, and release new version sets.

A round (``triggers_check``) takes every enabled trigger (or those watching one feed, for a push
hook), lists each feed × package they watch **once** — fresh from the registry, which also
refreshes the feed cache everyone else reads; ECR tokens come from their cache — and asks of
each trigger: does a watched package have a version the channel accepts that is newer than the
newest release's (in that channel)? Then a release is made of the newest allowed versions,
its lifecycle's automatic environments queued as for any release.

Exactly one release per new version set, whoever checks at the same time (two beats, a slow
round overlapping the next, a push hook): the release is made in the transaction that inserts
its ``TriggerRelease`` row, unique per project × channel × version set; a second inserter waits
for the first to commit and then fails, creating nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from deployments.services import release_publish
from deployserver.core.audit import audit_record
from deployserver.core.models import AuditEvent
from feeds.models import Feed
from feeds.registries import RegistryError
from feeds.services import feed_version_listing
from feeds.versions import VersionListing, parse_tag, precedence_key
from releases.channels import channel_default
from releases.models import Channel, Release
from releases.process import process_for
from releases.releasing import PackageRef, allowed_versions, package_refs

from .models import Trigger, TriggerRelease

logger = logging.getLogger(__name__)

# How many of a channel's latest releases say what was released last.
RECENT_RELEASES = 50


@dataclass
class RoundReport:
    """What a round did, for the tasks' logs and the benchmark."""

    triggers: int = 0
    listings: int = 0
    releases: list[int] = field(default_factory=list)
    failures: int = 0
    seconds: float = 0.0


def _watched(trigger: Trigger) -> list[PackageRef]:
    refs = package_refs(process_for(trigger.project).steps)
    return [r for r in refs if not trigger.packages or r.ref in trigger.packages]


def _released(project_id: int, channel: Channel) -> dict[str, tuple]:
    """Reference → precedence key of the newest version released in ``channel`` lately."""
    newest: dict[str, tuple] = {}
    recent = (
        Release.objects.filter(project_id=project_id, channel=channel)
        .order_by("-pk")
        .values_list("packages", flat=True)[:RECENT_RELEASES]
    )
    for packages in recent:
        for ref, pinned in (packages or {}).items():
            parsed = parse_tag(pinned.get("version") or "")
            if parsed is not None:
                key = precedence_key(parsed)
                if ref not in newest or key > newest[ref]:
                    newest[ref] = key
    return newest


def version_set_key(versions: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(versions.items())).encode()).hexdigest()


def _fail(trigger: Trigger, message: str) -> None:
    Trigger.objects.filter(pk=trigger.pk).update(
        last_checked_at=timezone.now(), last_error=message[:2000], failures=F("failures") + 1
    )
    failures = Trigger.objects.values_list("failures", flat=True).get(pk=trigger.pk)
    if failures == settings.FEED_TRIGGER_UNHEALTHY_AFTER:
        logger.warning("trigger %s of %s is unhealthy: %s", trigger, trigger.project, message)


def _succeed(trigger: Trigger, found: dict) -> None:
    Trigger.objects.filter(pk=trigger.pk).update(
        last_checked_at=timezone.now(), last_found=found, last_error="", failures=0
    )


def _release(trigger: Trigger, channel: Channel, versions: dict[str, str]) -> Release | None:
    """Make the release of ``versions`` unless someone made it already (None then)."""
    project = trigger.project
    key = version_set_key(versions)
    if TriggerRelease.objects.filter(project=project, channel=channel, version_set=key).exists():
        return None
    listed = ", ".join(f"{ref} {v}" for ref, v in sorted(versions.items()))
    try:
        with transaction.atomic():
            guard = TriggerRelease.objects.create(
                trigger=trigger,
                project=project,
                channel=channel,
                version_set=key,
                versions=versions,
            )
            release = release_publish(
                project=project,
                user=None,
                channel=channel,
                packages=versions,
                notes=f"Created by trigger **{trigger.name}**: {listed}.",
            )
            guard.release = release
            guard.save(update_fields=["release"])
            audit_record(
                user=None,
                action=AuditEvent.Action.OTHER,
                obj=trigger,
                summary=f"Trigger {trigger.name} created release {release.version} of "
                f"{project.name} ({listed})",
                changes={"release": release.pk, "versions": versions},
            )
    except IntegrityError:
        return None  # another round made this version set's release first
    return release


def trigger_evaluate(
    trigger: Trigger,
    refs: list[PackageRef],
    listings: dict[tuple[int, str], VersionListing],
    errors: dict[tuple[int, str], str],
) -> Release | None:
    """Decide for one trigger from the round's listings; record what it saw."""
    project = trigger.project
    if not refs:
        _fail(trigger, f"{project.name}'s process deploys no package this trigger watches.")
        return None
    failed = [
        f"{r.ref}: {errors[(r.feed_id, r.package_id)]}"
        for r in refs
        if (r.feed_id, r.package_id) in errors
    ]
    if failed:
        _fail(trigger, " ".join(failed))
        return None
    channel = trigger.channel or channel_default(project)
    if channel is None:
        _fail(trigger, f"{project.name} has no default channel.")
        return None
    released = _released(project.pk, channel)
    found: dict[str, str | None] = {}
    newer = False
    for ref in refs:
        allowed = allowed_versions(
            channel, ref.ref, listings[(ref.feed_id, ref.package_id)].versions
        )
        if not allowed:
            found[ref.ref] = None
            continue
        found[ref.ref] = allowed[0].version
        key = precedence_key(parse_tag(allowed[0].version))
        if ref.ref not in released or key > released[ref.ref]:
            newer = True
    release = None
    if newer and all(found.values()):
        try:
            release = _release(trigger, channel, dict(found))
        except ValidationError as exc:
            _fail(trigger, "Could not create the release: " + " ".join(exc.messages))
            return None
    _succeed(trigger, found)
    return release


def triggers_check(*, feed_id: int | None = None, refresh: bool = True) -> RoundReport:
    """One round over every enabled trigger (only those watching ``feed_id`` if given)."""
    started = time.monotonic()
    report = RoundReport()
    plans: list[tuple[Trigger, list[PackageRef]]] = []
    for trigger in Trigger.objects.filter(enabled=True).select_related("project", "channel"):
        refs = _watched(trigger)
        if feed_id is not None and not any(r.feed_id == feed_id for r in refs):
            continue
        plans.append((trigger, refs))
    needed = sorted({(r.feed_id, r.package_id) for _, refs in plans for r in refs})
    feeds = Feed.objects.select_related("account").in_bulk({f for f, _ in needed})
    listings: dict[tuple[int, str], VersionListing] = {}
    errors: dict[tuple[int, str], str] = {}
    for key in needed:  # once per feed × package, whatever the number of triggers watching it
        feed = feeds.get(key[0])
        if feed is None:
            errors[key] = "its feed no longer exists"
            continue
        try:
            listings[key] = feed_version_listing(feed, key[1], refresh=refresh)
            report.listings += 1
        except RegistryError as exc:
            errors[key] = f"{feed.name}/{key[1]}: {exc}"
    for trigger, refs in plans:
        report.triggers += 1
        try:
            release = trigger_evaluate(trigger, refs, listings, errors)
        except Exception as exc:  # noqa: BLE001 - one trigger's trouble never stops the round
            logger.exception("trigger %s of %s failed", trigger.pk, trigger.project)
            _fail(trigger, f"Internal error: {type(exc).__name__}: {exc}")
            release = None
        if release is not None:
            report.releases.append(release.pk)
    report.failures = Trigger.objects.filter(
        pk__in=[t.pk for t, _ in plans], failures__gt=0
    ).count()
    report.seconds = time.monotonic() - started
    return report
