"""Retention: old releases are deleted with their deployments and logs, never what is deployed.

Each release follows the retention of the lifecycle it follows (its channel's, else its
project's): ``retention_releases`` keeps that many of the project's newest releases on that
lifecycle, ``retention_days`` keeps the releases made in that many days; a release is deleted
only when neither keeps it (0 switches a rule off; both 0 keeps everything). Whatever the rules,
a release stays while it is the current one in any environment (its latest successful
deployment there), or the one that was current before it there (what a rollback needs), or it
has a deployment that has not finished. Audit events are never deleted: one is added per
deleted release.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from deployserver.core.models import AuditEvent
from releases.models import Channel, Lifecycle, Project, Release, lifecycle_in_force

from .models import Deployment

log = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class Policy:
    releases: int
    days: int

    @property
    def keeps_everything(self) -> bool:
        return not self.releases and not self.days

    def describe(self) -> str:
        parts = []
        if self.releases:
            parts.append(f"the newest {self.releases}")
        if self.days:
            parts.append(f"those of the last {self.days} days")
        return " and ".join(parts)


def retention_protected(release_ids: list[int] | None = None) -> set[int]:
    """Releases that must stay: current or previous in an environment, or still deploying."""
    table = Deployment._meta.db_table
    # Per project × environment, the releases with a successful deployment there, ranked by
    # their latest success: rank 1 is current, rank 2 the one before it.
    sql = f"""
        SELECT release_id FROM (
            SELECT release_id, ROW_NUMBER() OVER (
                PARTITION BY project_id, environment_id ORDER BY MAX(id) DESC
            ) AS rank
            FROM {table} WHERE state = %s
            GROUP BY project_id, environment_id, release_id
        ) ranked WHERE rank <= 2
    """  # noqa: S608 - the table name comes from the model, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [Deployment.State.SUCCESS])
        protected = {row[0] for row in cursor.fetchall()}
    unfinished = Deployment.objects.exclude(state__in=Deployment.FINISHED)
    if release_ids is not None:
        unfinished = unfinished.filter(release_id__in=release_ids)
    protected.update(unfinished.values_list("release_id", flat=True))
    return protected


def retention_candidates(*, now: datetime | None = None) -> list[tuple[int, str]]:
    """``(release id, why)`` of every release the rules no longer keep, protected ones left out."""
    now = now or timezone.now()
    policies = {
        pk: Policy(n, days)
        for pk, n, days in Lifecycle.objects.values_list(
            "pk", "retention_releases", "retention_days"
        )
    }
    if all(p.keeps_everything for p in policies.values()):
        return []
    project_lifecycle = dict(Project.objects.values_list("pk", "lifecycle_id"))
    channel_lifecycle = dict(Channel.objects.values_list("pk", "lifecycle_id"))
    groups: dict[tuple[int, int], list[tuple[int, datetime]]] = defaultdict(list)
    rows = Release.objects.order_by("project_id", "-created_at", "-id").values_list(
        "pk", "project_id", "channel_id", "created_at"
    )
    for pk, project_id, channel_id, created_at in rows.iterator(chunk_size=5000):
        lifecycle_id = lifecycle_in_force(
            channel_lifecycle.get(channel_id), project_lifecycle[project_id]
        )
        if not policies[lifecycle_id].keeps_everything:
            groups[(project_id, lifecycle_id)].append((pk, created_at))
    expired: list[tuple[int, str]] = []
    for (_, lifecycle_id), releases in groups.items():
        policy = policies[lifecycle_id]
        cutoff = now - timedelta(days=policy.days) if policy.days else None
        for position, (pk, created_at) in enumerate(releases):
            kept_by_count = bool(policy.releases) and position < policy.releases
            kept_by_age = cutoff is not None and created_at >= cutoff
            if not kept_by_count and not kept_by_age:
                expired.append((pk, f"the lifecycle keeps {policy.describe()}"))
    if not expired:
        return []
    protected = retention_protected()
    return [(pk, why) for pk, why in expired if pk not in protected]


def retention_apply(*, now: datetime | None = None) -> int:
    """Delete the releases retention no longer keeps; returns how many were deleted."""
    candidates = retention_candidates(now=now)
    deleted = 0
    for start in range(0, len(candidates), BATCH):
        deleted += _delete_batch(dict(candidates[start : start + BATCH]))
    if deleted:
        log.info("retention deleted %s releases", deleted)
    return deleted


@transaction.atomic
def _delete_batch(reasons: dict[int, str]) -> int:
    # Creating a deployment locks its release row first: holding these locks, a deployment
    # queued since the candidates were chosen is seen by the check below.
    releases = list(
        Release.objects.select_for_update(of=("self",))
        .filter(pk__in=list(reasons))
        .select_related("project")
    )
    protected = retention_protected([r.pk for r in releases])
    doomed = [r for r in releases if r.pk not in protected]
    if not doomed:
        return 0
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor_name="system",
            action=AuditEvent.Action.DELETE,
            object_type=Release._meta.label_lower,
            object_id=str(r.pk),
            object_repr=str(r)[:200],
            summary=_summary(r, reasons[r.pk]),
        )
        for r in doomed
    )
    Release.objects.filter(pk__in=[r.pk for r in doomed]).delete()
    return len(doomed)


def _summary(release: Release, why: str) -> str:
    return f"Retention deleted release {release.version} of {release.project.name} ({why})"[:500]
