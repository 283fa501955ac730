"""Delivery insights: the four DORA figures of one environment, for one project or for all.

The definitions live here and in :mod:`.record`; the pages and the API only show them.

- **Deployment frequency**: successful deployments to the environment that finished in the
  period (per day and per week).
- **Change failure rate**: failed ÷ (successful + failed) deployments that finished in the period
  (a cancelled one is neither). *Rolled back*: the failed ones whose error says the service was
  rolled back to what ran before.
- **Lead time for changes**: for each release whose *first* successful deployment to the
  environment finished in the period, the time from the release's creation to that end (median
  and 90th percentile).
- **Time to recover**: an outage starts with a failed deployment that follows a success (or
  nothing) in the same project × environment — failures in a row are one outage, timed from the
  first — and ends with the next successful deployment there. Median over the outages that
  started in the period and have ended; the others are counted as not recovered.

Each figure comes for the period and for the one before it (the trend), and per bucket of the
period (weeks; days for a 7-day period).

Hot path: every figure is aggregate SQL over the deployments that finished in the two periods,
six queries whatever the history, on PostgreSQL and SQLite alike. Which deployment is a
release's first success, which failure opens an outage and when it recovered depend on a
deployment's neighbours: they are kept on the deployment when it ends (:mod:`.record`), so a
period is read through an index that covers each figure (``deployment_env_finished``,
``deployment_lead``, ``deployment_outage``) and nothing else is looked up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case, Count, IntegerField, Q, QuerySet, When
from django.db.models.functions import TruncDay, TruncWeek
from django.utils import timezone

from deployserver.core.access import Access
from releases.models import Environment, Lifecycle, Project
from releases.selectors import environment_list, lifecycle_effective_phases, lifecycle_list

from ..models import Deployment
from .aggregates import PercentileCont

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
SUCCESS = Deployment.State.SUCCESS
FAILED = Deployment.State.FAILED
ROLLED_BACK = "rolled back"  # the ECS step's failure message says "Rolled back to <arn>."


# Scope: the environment shown by default, the period -----------------------------------------


def environment_default(
    environments: list[Environment], lifecycle: Lifecycle | None
) -> Environment | None:
    """The last environment of ``lifecycle`` (Prod, usually), else the last one there is."""
    if lifecycle is not None:
        phases = lifecycle_effective_phases(lifecycle, environments)
        for phase in reversed(phases):
            if phase.environments:
                return phase.environments[-1]
    return environments[-1] if environments else None


def insights_scope(project: Project | None) -> tuple[list[Environment], Environment | None]:
    """The environments to choose from, and the default one: the last of the project's lifecycle
    (all projects: of the default lifecycle). Three queries (environments, lifecycle, phases)."""
    environments = list(environment_list())
    lifecycles = lifecycle_list()
    if project is not None:
        lifecycle = lifecycles.filter(pk=project.lifecycle_id).first()
    else:
        lifecycle = lifecycles.filter(is_default=True).first()
    return environments, environment_default(environments, lifecycle)


# Figures ---------------------------------------------------------------------------------------


@dataclass
class Bucket:
    """One bar of a chart: a week (or a day) of the period."""

    start: datetime
    end: datetime
    deployments: int = 0  # successful
    failed: int = 0
    rolled_back: int = 0
    lead_time_median: float | None = None  # seconds
    lead_time_p90: float | None = None
    recovery_median: float | None = None
    outages: int = 0

    @property
    def failure_rate(self) -> float | None:
        total = self.deployments + self.failed
        return self.failed / total if total else None


@dataclass
class PeriodFigures:
    """The figures of one period."""

    deployments: int = 0  # successful
    failed: int = 0
    rolled_back: int = 0
    releases: int = 0  # releases whose first success there is in the period
    lead_time_median: float | None = None
    lead_time_p90: float | None = None
    outages: int = 0
    recovered: int = 0
    recovery_median: float | None = None

    @property
    def failure_rate(self) -> float | None:
        total = self.deployments + self.failed
        return self.failed / total if total else None


@dataclass
class Insights:
    project: Project | None
    environment: Environment
    days: int
    since: datetime
    until: datetime
    bucket: str  # "week" or "day"
    current: PeriodFigures
    previous: PeriodFigures
    buckets: list[Bucket] = field(default_factory=list)

    def per_day(self) -> float:
        return self.current.deployments / self.days

    def per_week(self) -> float:
        return self.current.deployments * 7 / self.days

    @property
    def is_empty(self) -> bool:
        """Nothing finished in the period: the series is empty."""
        return not (self.current.deployments or self.current.failed)


def _deployments(
    project: Project | None, environment: Environment, access: Access | None
) -> QuerySet[Deployment]:
    deployments = Deployment.objects.filter(environment=environment)
    if project is not None:
        deployments = deployments.filter(project=project)
    if access is not None:
        # Only what the caller may see counts: no figure reveals another team's deployments.
        deployments = access.filter(deployments, project="project_id", environment="environment_id")
    return deployments


@dataclass
class _Aggregates:
    """What the queries return: counts per (in period?, bucket), then lead time and outages per
    period (1: this one, 0: the one before) and per bucket of this period."""

    counts: list[dict] = field(default_factory=list)  # in_period, bucket, ok, failed, rolled_back
    leads: dict[int, dict] = field(default_factory=dict)  # n, median, p90
    outages: dict[int, dict] = field(default_factory=dict)  # n, recovered, median
    lead_buckets: dict[datetime, dict] = field(default_factory=dict)
    outage_buckets: dict[datetime, dict] = field(default_factory=dict)


def insights(
    *,
    environment: Environment,
    project: Project | None = None,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
    access: Access | None = None,
) -> Insights:
    """The four figures of ``environment`` (one ``project``, or all) over the last ``days``."""
    if days not in PERIODS:
        raise ValueError(f"days must be one of {PERIODS}")
    until = now or timezone.now()
    since = until - timedelta(days=days)
    before = since - timedelta(days=days)
    bucket_kind = "day" if days <= 7 else "week"
    found = _aggregate(project, environment, before, since, until, bucket_kind, access)

    periods = {1: PeriodFigures(), 0: PeriodFigures()}
    counted: dict[datetime, dict[str, int]] = {}
    for row in found.counts:
        figures = periods[row["in_period"]]
        figures.deployments += row["ok"]
        figures.failed += row["failed"]
        figures.rolled_back += row["rolled_back"]
        if row["in_period"]:
            counted[row["bucket"]] = row
    for flag, row in found.leads.items():
        periods[flag].releases = row["n"]
        periods[flag].lead_time_median = row["median"]
        periods[flag].lead_time_p90 = row["p90"]
    for flag, row in found.outages.items():
        periods[flag].outages = row["n"]
        periods[flag].recovered = row["recovered"]
        periods[flag].recovery_median = row["median"]

    result = Insights(
        project=project,
        environment=environment,
        days=days,
        since=since,
        until=until,
        bucket=bucket_kind,
        current=periods[1],
        previous=periods[0],
    )
    if result.is_empty:
        return result
    for start, end in _bucket_bounds(since, until, bucket_kind):
        bucket = Bucket(start=max(start, since), end=min(end, until))
        if row := counted.get(start):
            bucket.deployments, bucket.failed = row["ok"], row["failed"]
            bucket.rolled_back = row["rolled_back"]
        if row := found.lead_buckets.get(start):
            bucket.lead_time_median, bucket.lead_time_p90 = row["median"], row["p90"]
        if row := found.outage_buckets.get(start):
            bucket.recovery_median, bucket.outages = row["median"], row["n"]
        result.buckets.append(bucket)
    return result


def _aggregate(project, environment, before, since, until, bucket_kind, access) -> _Aggregates:
    """The figures of both periods: six queries, whatever the history."""
    trunc = TruncDay if bucket_kind == "day" else TruncWeek
    in_period = Case(When(finished_at__gte=since, then=1), default=0, output_field=IntegerField())
    window = _deployments(project, environment, access).filter(
        finished_at__gte=before, finished_at__lt=until
    )

    def per_bucket_and_period(rows: QuerySet, **aggregates) -> QuerySet:
        grouped = rows.annotate(bucket=trunc("finished_at"), in_period=in_period)
        return grouped.values("bucket", "in_period").annotate(**aggregates).order_by()

    # Counts per bucket and period: one GROUP BY over the finished deployments, read from an
    # index alone; the rolled back ones (their error says so) from an index of their own.
    counts = {
        (row["bucket"], row["in_period"]): {**row, "rolled_back": 0}
        for row in per_bucket_and_period(
            window.filter(state__in=[SUCCESS, FAILED]),
            ok=Count("pk", filter=Q(state=SUCCESS)),
            failed=Count("pk", filter=Q(state=FAILED)),
        )
    }
    rolled_back = window.filter(state=FAILED, error__icontains=ROLLED_BACK)
    for row in per_bucket_and_period(rolled_back, n=Count("*")):
        counts[(row["bucket"], row["in_period"])]["rolled_back"] = row["n"]
    # A release's first success there carries its lead time; a failure that opened an outage
    # carries its recovery time, empty while it has not recovered (see .record).
    firsts = window.filter(lead_seconds__isnull=False)
    outages = window.filter(opens_outage=True)
    lead_aggregates = {
        "n": Count("*"),
        "median": PercentileCont("lead_seconds", 0.5),
        "p90": PercentileCont("lead_seconds", 0.9),
    }
    outage_aggregates = {
        "n": Count("*"),
        "recovered": Count("recovery_seconds"),
        "median": PercentileCont("recovery_seconds", 0.5),
    }

    def per_period(rows: QuerySet, aggregates: dict) -> dict[int, dict]:
        grouped = rows.annotate(in_period=in_period).values("in_period")
        return {row["in_period"]: row for row in grouped.annotate(**aggregates).order_by()}

    def per_bucket(rows: QuerySet, aggregates: dict) -> dict[datetime, dict]:
        grouped = rows.filter(finished_at__gte=since).annotate(bucket=trunc("finished_at"))
        grouped = grouped.values("bucket").annotate(**aggregates).order_by()
        return {row["bucket"]: row for row in grouped}

    return _Aggregates(
        counts=list(counts.values()),
        leads=per_period(firsts, lead_aggregates),
        outages=per_period(outages, outage_aggregates),
        lead_buckets=per_bucket(firsts, lead_aggregates),
        outage_buckets=per_bucket(outages, outage_aggregates),
    )


def _bucket_bounds(since: datetime, until: datetime, kind: str):
    """The buckets covering [since, until): weeks from Monday 00:00 (or days), local time."""
    local = timezone.localtime(since).replace(hour=0, minute=0, second=0, microsecond=0)
    step = timedelta(days=1)
    if kind == "week":
        local -= timedelta(days=local.weekday())
        step = timedelta(days=7)
    tz = timezone.get_current_timezone()
    start = local.replace(tzinfo=None)
    while True:
        aware = timezone.make_aware(start, tz)
        if aware >= until:
            return
        following = start + step
        yield aware, timezone.make_aware(following, tz)
        start = following
