"""Drift of ECS services: what a service runs now against what a deployment set there.

Compared, for each service: the task definition (the ARN the deployment registered), the desired
count (only when the step set one: a count the step leaves alone belongs to whoever scales the
service), the deployment configuration (minimum/maximum percent, circuit breaker) — each
difference a reason such as "desired count 2 → 5 (changed outside deployserver)" — and health:
fewer tasks running than desired for longer than the grace period, or a rollout that has been in
progress that long (stuck), or one that failed.

Reads are batched: one ``DescribeServices`` per 10 services of an account × region × cluster
(``aws.describe_services``); a ``DescribeTaskDefinition`` only for a service that runs another
task definition than the one deployed, to say what differs inside it (each revision read once
per round, sensitive values masked as on the release page's diff).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from deployserver.core.aws import AwsError
from deployserver.core.models import AwsAccount

from ..runners import CheckRound
from .aws import call, describe_services, short_arn
from .diff import change_text, changes_between, service_fields, task_definition_fields
from .runner import ecs_for

IN_SYNC, DRIFTED, DEGRADED, MISSING, UNKNOWN = (
    "in_sync",
    "drifted",
    "degraded",
    "missing",
    "unknown",
)
OUTSIDE = "changed outside deployserver"
# A task definition's differences are listed up to this many; more are counted.
MAX_DETAILS = 4


@dataclass
class Expected:
    """What one deployment set on one service, and what the last round saw of its health."""

    key: Hashable
    account: str
    region: str
    cluster: str
    service: str
    task_definition: str
    desired_count: int | None
    deployment_configuration: dict
    short_since: datetime | None = None
    # Asked only when the service runs another task definition: the values to mask, and who
    # else set that revision ("by deployment 12, failed"; "" when nobody we know of).
    secrets: Callable[[], list[str]] = list
    set_by: Callable[[str], str] = lambda arn: ""


@dataclass
class Observed:
    state: str
    reasons: list[str] = field(default_factory=list)
    short_since: datetime | None = None


def services_observe(
    targets: Sequence[Expected], *, now: datetime, grace: float, round_: CheckRound
) -> dict[Hashable, Observed]:
    """Each target's state now: batched reads per account × region × cluster (see the module)."""
    accounts = {a.slug: a for a in AwsAccount.objects.filter(slug__in={t.account for t in targets})}
    groups: dict[tuple[str, str, str], list[Expected]] = {}
    for target in targets:
        groups.setdefault((target.account, target.region, target.cluster), []).append(target)
    revisions: dict[tuple, dict | None] = {}
    out: dict[Hashable, Observed] = {}
    for (slug, region, cluster), members in groups.items():
        round_.groups += 1
        account = accounts.get(slug)
        if account is None:
            for t in members:
                out[t.key] = Observed(UNKNOWN, [f"No AWS account '{slug}' (step property "
                                                "aws_account)."])  # fmt: skip
            continue
        try:
            ecs = ecs_for(account, region)
            described, calls = describe_services(ecs, cluster, [t.service for t in members])
            round_.count("DescribeServices", calls)
        except AwsError as exc:
            round_.count("DescribeServices")
            gone = exc.code == "ClusterNotFoundException"
            for t in members:
                out[t.key] = (
                    Observed(MISSING, [f"Cluster {cluster} was not found ({region})."])
                    if gone
                    else Observed(UNKNOWN, [f"AWS could not be read: {exc}"])
                )
            continue
        for t in members:
            out[t.key] = _observe(t, described.get(t.service), ecs, now, grace, round_, revisions)
    return out


def _observe(
    t: Expected, service: dict | None, ecs, now: datetime, grace: float, round_, revisions
) -> Observed:
    if service is None:
        return Observed(MISSING, [f"Service {t.service} was not found in cluster {t.cluster}."])
    if service.get("status") not in (None, "ACTIVE"):
        return Observed(
            MISSING, [f"Service {t.service} in cluster {t.cluster} is {service.get('status')}."]
        )
    drift = []
    running_td = service.get("taskDefinition", "")
    if running_td != t.task_definition:
        drift.append(_task_definition_reason(t, running_td, ecs, round_, revisions))
    drift += _service_reasons(t, service)
    health, short_since = _health(service, t.short_since, now, grace)
    state = DRIFTED if drift else DEGRADED if health else IN_SYNC
    return Observed(state, drift + health, short_since)


def _task_definition_reason(t: Expected, running: str, ecs, round_, revisions) -> str:
    who = t.set_by(running) or OUTSIDE
    text = f"task definition {short_arn(t.task_definition)} → {short_arn(running)} ({who})"
    before = _revision(ecs, t, t.task_definition, round_, revisions)
    now = _revision(ecs, t, running, round_, revisions)
    if before is None or now is None:
        return text
    changes = changes_between(before, now, t.secrets())
    if not changes:
        return text
    details = [change_text(c) for c in changes[:MAX_DETAILS]]
    if len(changes) > MAX_DETAILS:
        details.append(f"{len(changes) - MAX_DETAILS} more")
    return f"{text}: " + "; ".join(details)


def _revision(ecs, t: Expected, arn: str, round_: CheckRound, revisions) -> dict | None:
    """A task definition's fields, read once per round (``None`` if it cannot be read)."""
    key = (t.account, t.region, arn)
    if key not in revisions:
        round_.count("DescribeTaskDefinition")
        try:
            found = call(ecs.describe_task_definition, taskDefinition=arn)["taskDefinition"]
            revisions[key] = task_definition_fields(found)
        except AwsError:
            revisions[key] = None
    return revisions[key]


def _service_reasons(t: Expected, service: dict) -> list[str]:
    desired = t.desired_count if t.desired_count is not None else service.get("desiredCount")
    expected = service_fields(desired, t.deployment_configuration)
    current = service_fields(
        service.get("desiredCount"), service.get("deploymentConfiguration") or {}
    )
    if not t.deployment_configuration:  # not known: compare the count alone
        expected = {k: v for k, v in expected.items() if k == "service.desired_count"}
        current = {k: v for k, v in current.items() if k in expected}
    return [f"{change_text(c)} ({OUTSIDE})" for c in changes_between(expected, current, [])]


def _health(
    service: dict, short_since: datetime | None, now: datetime, grace: float
) -> tuple[list[str], datetime | None]:
    """Reasons the service is degraded, and since when it has been short of tasks."""
    reasons = []
    running, desired = service.get("runningCount", 0), service.get("desiredCount", 0)
    if running < desired:
        short_since = short_since or now
        if (now - short_since).total_seconds() >= grace:
            reasons.append(
                f"{running} of {desired} tasks running, for {_duration(now - short_since)}."
            )
    else:
        short_since = None
    primary = next(
        (d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), {}
    )
    rollout = primary.get("rolloutState")
    if rollout == "FAILED":
        reasons.append(
            f"The rollout of {short_arn(primary.get('taskDefinition', ''))} failed: "
            f"{primary.get('rolloutStateReason') or 'no reason given'}"
        )
    elif rollout == "IN_PROGRESS" and isinstance(primary.get("createdAt"), datetime):
        age = now - primary["createdAt"]
        if age.total_seconds() >= grace:
            reasons.append(
                f"A rollout of {short_arn(primary.get('taskDefinition', ''))} has been in "
                f"progress for {_duration(age)} (stuck?)."
            )
    return reasons, short_since


def _duration(delta: timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
