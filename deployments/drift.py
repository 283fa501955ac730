"""Drift: does each ECS service run what its project × environment's last successful deployment
set there?

A *round* (``drift_check``: the ``deployments.drift`` task, sent by beat every
``DRIFT_CHECK_SECONDS``, and ``POST /api/drift/check/``) takes, for every project × environment,
its last successful deployment and each ECS deploy step of it: the task definition it registered
and what it set on the service (recorded in the step's outputs at deploy time; for deployments
made before that was recorded, worked out again from the release, as the deployment did). It
reads every service at once (``aws_ecs.drift``: one DescribeServices per 10 services of a
cluster) and writes one ``ServiceDrift`` row per project × environment × step.

Rules kept here:

- A project × environment with a deployment executing is left alone until the next round: the
  engine follows its rollout, and what it is compared against is about to change.
- ``since`` moves only when the state changes; ``short_since`` (tasks short of desired) carries
  over from round to round, so "degraded" waits for ``DRIFT_GRACE_SECONDS`` of it.
- Rows are written by upserts: two rounds at once cost their AWS calls twice, nothing more.
- Reasons never hold a sensitive value (masked as on the release page's diff).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from deployserver.core.aws import AwsError
from deployserver.core.events import absolute_url, event_record
from releases.models import Environment, Project
from releases.releasing import release_variable_specs
from releases.steps import StepValidationError
from releases.substitution import SubstitutionError

from .aws_ecs import diff
from .aws_ecs import drift as ecs_drift
from .aws_ecs.runner import plan_values, step_packages
from .aws_ecs.step import ECS_DEPLOY
from .models import Deployment, ServiceDrift
from .runners import CheckRound

logger = logging.getLogger(__name__)

State = ServiceDrift.State
# The worst state of a project × environment's services is the one its cell shows.
SEVERITY = [State.MISSING, State.DEGRADED, State.DRIFTED, State.UNKNOWN, State.IN_SYNC]
# Shown on the page of a deployment whose services drifted: redeploying it sets them back.
RESTORABLE = (State.DRIFTED, State.DEGRADED)

clock = timezone.now  # a seam for tests


@dataclass
class DriftRound:
    """What one round did: the rows it wrote, and its cost."""

    rows: list[ServiceDrift]
    calls: CheckRound
    seconds: float
    skipped: int  # project × environments with a deployment executing

    def figures(self) -> dict:
        return {
            "services": len(self.rows),
            "groups": self.calls.groups,
            "calls": dict(self.calls.calls),
            "seconds": round(self.seconds, 3),
            "skipped": self.skipped,
        }


def _scoped(queryset: QuerySet, project: Project | None, environment: Environment | None):
    if project is not None:
        queryset = queryset.filter(project=project)
    if environment is not None:
        queryset = queryset.filter(environment=environment)
    return queryset


def last_successes(
    *, project: Project | None = None, environment: Environment | None = None
) -> QuerySet[Deployment]:
    """Each project × environment's last successful deployment, unless one is executing there."""
    same_pair = {"project": OuterRef("project"), "environment": OuterRef("environment")}
    later = Deployment.objects.filter(
        **same_pair, state=Deployment.State.SUCCESS, finished_at__gt=OuterRef("finished_at")
    )
    executing = Deployment.objects.filter(**same_pair, state=Deployment.State.EXECUTING)
    return (
        _scoped(Deployment.objects.filter(state=Deployment.State.SUCCESS), project, environment)
        .exclude(Exists(later))
        .exclude(Exists(executing))
        .select_related("release__project", "environment")
        .defer("release__variables_snapshot", "cursor")
        .order_by("project_id", "environment_id", "finished_at", "pk")
    )


def _planned(deployment: Deployment, step: dict) -> dict:
    """What an ECS step set, worked out again from its release (the deployment did the same)."""
    release = deployment.release
    specs = release_variable_specs(release)
    packages = step_packages(release, step, pin_digest=release.project.pin_digest)
    values = plan_values(release, deployment.environment, specs, packages, str(deployment.pk))
    plan = ECS_DEPLOY.build_plan(step.get("properties") or {}, values, packages)
    return {
        "aws_account": plan.aws_account,
        "region": plan.region,
        "desired_count": plan.update_service.get("desiredCount"),
        "deployment_configuration": plan.update_service.get("deploymentConfiguration") or {},
    }


def _set_by(deployment: Deployment):
    """Who set a task definition ARN after ``deployment``: a later (failed or cancelled)
    deployment of the same project × environment, in words; "" when none of ours did."""

    def find(arn: str) -> str:
        later = (
            Deployment.objects.filter(
                project_id=deployment.project_id,
                environment_id=deployment.environment_id,
                pk__gt=deployment.pk,
            )
            .filter(Q(outputs__task_definition_arn=arn) | Q(outputs__steps__icontains=arn))
            .order_by("-pk")
            .values_list("pk", "state")
            .first()
        )
        return f"by deployment {later[0]}, {later[1]}" if later else ""

    return find


def drift_check(
    *, project: Project | None = None, environment: Environment | None = None
) -> DriftRound:
    """Check every ECS service of the last successful deployments (of one project and/or
    environment, if given) and write their rows; see the module's rules."""
    started = time.perf_counter()
    now = clock()
    grace = float(settings.DRIFT_GRACE_SECONDS)
    before = {
        (r.project_id, r.environment_id, r.step): r
        for r in _scoped(ServiceDrift.objects.all(), project, environment)
    }
    rows: dict[tuple, ServiceDrift] = {}
    targets: list[ecs_drift.Expected] = []
    deployments = {(d.project_id, d.environment_id): d for d in last_successes(
        project=project, environment=environment)}  # fmt: skip
    for (project_id, environment_id), deployment in deployments.items():
        steps_out = (deployment.outputs or {}).get("steps") or {}
        for step in deployment.release.process_snapshot or []:
            name = step.get("name", "")
            out = steps_out.get(name) or {}
            if step.get("type") != ECS_DEPLOY.type or not out.get("task_definition_arn"):
                continue
            key = (project_id, environment_id, name)
            row = ServiceDrift(
                project_id=project_id,
                environment_id=environment_id,
                step=name,
                deployment=deployment,
                cluster=out.get("cluster", ""),
                service=out.get("service", ""),
                checked_at=now,
            )
            rows[key] = row
            if "aws_account" not in out:
                try:
                    out = {**out, **_planned(deployment, step)}
                except (SubstitutionError, StepValidationError, AwsError) as exc:
                    row.state, row.reasons = (
                        State.UNKNOWN,
                        [f"What deployment {deployment.pk} set could not be worked out: {exc}"],
                    )
                    continue
            previous = before.get(key)
            targets.append(
                ecs_drift.Expected(
                    key=key,
                    account=out["aws_account"],
                    region=out["region"],
                    cluster=row.cluster,
                    service=row.service,
                    task_definition=out["task_definition_arn"],
                    desired_count=out.get("desired_count"),
                    deployment_configuration=out.get("deployment_configuration") or {},
                    short_since=previous.short_since if previous else None,
                    secrets=lambda d=deployment: diff.deployed_secrets(d.project_id, d.environment),
                    set_by=_set_by(deployment),
                )
            )
    calls = CheckRound()
    observed = ecs_drift.services_observe(targets, now=now, grace=grace, round_=calls)
    for key, row in rows.items():
        if key in observed:
            seen = observed[key]
            row.state, row.reasons, row.short_since = seen.state, seen.reasons, seen.short_since
        previous = before.get(key)
        row.since = previous.since if previous and previous.state == row.state else now
    with transaction.atomic():
        written = _save(list(rows.values()))
        for key, row in rows.items():
            previous = before.get(key)
            if row.state in ALARMING and (previous is None or previous.state != row.state):
                _drift_event(row)
    _forget_others(project, environment, set(rows), set(deployments))
    result = DriftRound(
        written, calls, time.perf_counter() - started, _executing(project, environment)
    )
    logger.info("drift round: %s", result.figures())
    return result


ALARMING = (State.DRIFTED, State.DEGRADED, State.MISSING)


def _drift_event(row: ServiceDrift) -> None:
    """``drift.detected`` for a service that just became drifted, degraded or missing (in the
    round's transaction: the outbox)."""
    deployment = row.deployment
    release, project, environment = deployment.release, deployment.project, deployment.environment
    event_record(
        "drift.detected",
        {
            "project": {"slug": project.slug, "name": project.name},
            "environment": {"slug": environment.slug, "name": environment.name},
            "release": {"id": release.pk, "version": release.version},
            "drift": {
                "step": row.step,
                "cluster": row.cluster,
                "service": row.service,
                "state": row.state,
                "reasons": list(row.reasons or []),
                "deployment": deployment.pk,
                "url": absolute_url(reverse("deployment-detail", args=[deployment.pk]) + "#drift"),
            },
        },
        project_id=project.pk,
        environment_id=environment.pk,
    )


def _save(rows: list[ServiceDrift]) -> list[ServiceDrift]:
    if not rows:
        return []
    return ServiceDrift.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["project", "environment", "step"],
        update_fields=[
            "deployment", "cluster", "service", "state", "reasons", "checked_at", "since",
            "short_since",
        ],
    )  # fmt: skip


def _forget_others(project, environment, kept: set[tuple], pairs: set[tuple]) -> None:
    """Rows of a checked project × environment whose step is no longer deployed, and rows of
    pairs without a successful deployment any more (none executing there)."""
    busy = set(
        _scoped(Deployment.objects.filter(state=Deployment.State.EXECUTING), project, environment)
        .values_list("project_id", "environment_id")
        .distinct()
    )
    stale = [
        pk
        for pk, p, e, step in _scoped(ServiceDrift.objects.all(), project, environment).values_list(
            "pk", "project_id", "environment_id", "step"
        )
        if (p, e, step) not in kept and (p, e) not in busy
    ]
    if stale:
        ServiceDrift.objects.filter(pk__in=stale).delete()


def _executing(project, environment) -> int:
    executing = Deployment.objects.filter(state=Deployment.State.EXECUTING)
    return (
        _scoped(executing, project, environment).values("project", "environment").distinct().count()
    )


# Reads ---------------------------------------------------------------------------------------


def drift_list(
    *, project: Project | None = None, environment: Environment | None = None
) -> QuerySet[ServiceDrift]:
    """The rows, with what the API and pages show of their relations (one query)."""
    return _scoped(
        ServiceDrift.objects.select_related("project", "environment", "deployment__release").defer(
            "deployment__release__process_snapshot",
            "deployment__release__variables_snapshot",
            "deployment__cursor",
            "deployment__outputs",
        ),
        project,
        environment,
    ).order_by("project__name", "environment__sort_order", "environment__name", "step")


@dataclass(frozen=True)
class CellDrift:
    """A project × environment's drift as a cell shows it: the worst state of its services."""

    state: str
    reasons: list[str]
    deployment: int
    checked_at: datetime

    @property
    def label(self) -> str:
        return State(self.state).label


def drift_cells(project_ids: list[int] | None = None) -> dict[tuple[int, int], CellDrift]:
    """``{(project id, environment id): CellDrift}`` (one query)."""
    rows = ServiceDrift.objects.all()
    if project_ids is not None:
        rows = rows.filter(project_id__in=project_ids)
    grouped: dict[tuple[int, int], list[tuple]] = {}
    for row in rows.values_list(
        "project_id", "environment_id", "state", "reasons", "deployment_id", "checked_at", "service"
    ).order_by("step"):
        grouped.setdefault((row[0], row[1]), []).append(row[2:])
    cells = {}
    for key, members in grouped.items():
        worst = min(members, key=lambda m: SEVERITY.index(m[0]))
        many = len(members) > 1
        reasons = [
            f"{service}: {reason}" if many else reason
            for state, texts, _, _, service in members
            for reason in texts
        ]
        cells[key] = CellDrift(worst[0], reasons, worst[2], min(m[3] for m in members))
    return cells
