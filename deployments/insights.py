"""Delivery insights: the four DORA figures of one environment, for one project or for all.

The definitions live here; the pages and the API only show them.

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

Hot path: every figure is aggregate SQL over the deployments table, never a loop over rows —
five queries whatever the history: the counts per bucket and period (one ``GROUP BY``), then
lead time and time to recover, each per bucket and per period. The rows that count are found
with correlated subqueries that probe indexes (a release's earlier success, a project ×
environment's previous and next deployment). Percentiles are PostgreSQL's ``PERCENTILE_CONT``;
SQLite (the embedded default) gets the same aggregate as a function registered on its
connections (:func:`sqlite_register`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    Aggregate,
    Case,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDay, TruncWeek
from django.utils import timezone

from deployserver.core.access import Access
from releases.models import Environment, Lifecycle, Project
from releases.selectors import environment_list, lifecycle_effective_phases, lifecycle_list

from .models import Deployment

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
SUCCESS = Deployment.State.SUCCESS
FAILED = Deployment.State.FAILED
ROLLED_BACK = "rolled back"  # the ECS step's failure message says "Rolled back to <arn>."


class PercentileCont(Aggregate):
    """``PERCENTILE_CONT(fraction) WITHIN GROUP (ORDER BY expression)``: NULLs are ignored."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="percentile_cont(%(expressions)s, %(fraction)s)",
            **extra_context,
        )


class Seconds(Func):
    """``end - start`` in seconds, as a float (NULL when either is NULL)."""

    arg_joiner = " - "
    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    output_field = FloatField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_sqlite(self, compiler, connection, **extra_context):
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        sql = f"((julianday({end_sql}) - julianday({start_sql})) * 86400.0)"
        return sql, (*end_params, *start_params)


class _SqlitePercentile:
    """The SQLite side of :class:`PercentileCont`: linear interpolation, as PostgreSQL does."""

    def __init__(self):
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value, fraction):
        if value is not None:
            self.values.append(float(value))
            self.fraction = float(fraction)

    def finalize(self):
        return percentile_cont(sorted(self.values), self.fraction)


def percentile_cont(ordered: list[float], fraction: float) -> float | None:
    """PostgreSQL's ``percentile_cont`` over an ordered list (None when it is empty)."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def sqlite_register(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: give SQLite connections ``percentile_cont``."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("percentile_cont", 2, _SqlitePercentile)


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


def _before(prefix: str = "") -> Q:
    """Finished before the outer row (ties broken by id): an order on (finished_at, id)."""
    return Q(finished_at__lt=OuterRef(f"{prefix}finished_at")) | Q(
        finished_at=OuterRef(f"{prefix}finished_at"), pk__lt=OuterRef(f"{prefix}pk")
    )


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
    trunc = TruncDay if bucket_kind == "day" else TruncWeek
    in_period = Case(When(finished_at__gte=since, then=1), default=0, output_field=IntegerField())

    scope = _deployments(project, environment, access)
    window = scope.filter(finished_at__gte=before, finished_at__lt=until)

    # 1. Counts per bucket and period: one GROUP BY over the finished deployments.
    count_rows = (
        window.filter(state__in=[SUCCESS, FAILED])
        .annotate(bucket=trunc("finished_at"), in_period=in_period)
        .values("bucket", "in_period")
        .annotate(
            ok=Count("pk", filter=Q(state=SUCCESS)),
            failed=Count("pk", filter=Q(state=FAILED)),
            rolled_back=Count("pk", filter=Q(state=FAILED, error__icontains=ROLLED_BACK)),
        )
        .order_by()
    )

    # 2. Lead time: each release's first successful deployment there, if it is in the window.
    # A scalar subquery, not EXISTS: PostgreSQL then probes the partial index
    # ``deployment_first_success`` per row rather than hashing every success there ever was.
    earlier_success = Subquery(
        Deployment.objects.filter(
            _before(),
            release=OuterRef("release"),
            environment=environment,
            state=SUCCESS,
            finished_at__lte=OuterRef("finished_at"),
        )
        .order_by()
        .values("pk")[:1]
    )
    firsts = (
        window.filter(state=SUCCESS)
        .annotate(earlier=earlier_success)
        .filter(earlier__isnull=True)
        .annotate(seconds=Seconds(F("finished_at"), F("release__created_at")))
    )

    # 3. Outages: a failure after a success (or nothing), until the next success.
    previous_state = Subquery(
        Deployment.objects.filter(
            _before(),
            project=OuterRef("project"),
            environment=environment,
            state__in=[SUCCESS, FAILED],
            finished_at__lte=OuterRef("finished_at"),
        )
        .order_by("-finished_at", "-pk")
        .values("state")[:1]
    )
    next_success = Subquery(
        Deployment.objects.filter(
            project=OuterRef("project"),
            environment=environment,
            state=SUCCESS,
            finished_at__gt=OuterRef("finished_at"),
        )
        .order_by("finished_at", "pk")
        .values("finished_at")[:1]
    )
    outages = (
        window.filter(state=FAILED)
        .annotate(previous_state=Coalesce(previous_state, Value("")))
        .filter(previous_state__in=["", SUCCESS])
        .annotate(seconds=Seconds(next_success, F("finished_at")))
    )

    lead_aggregates = {
        "n": Count("pk"),
        "median": PercentileCont("seconds", 0.5),
        "p90": PercentileCont("seconds", 0.9),
    }
    outage_aggregates = {
        "n": Count("pk"),
        "recovered": Count("seconds"),
        "median": PercentileCont("seconds", 0.5),
    }

    def per_period(rows: QuerySet, aggregates: dict) -> dict[int, dict]:
        grouped = rows.annotate(in_period=in_period).values("in_period")
        return {row["in_period"]: row for row in grouped.annotate(**aggregates).order_by()}

    def per_bucket(rows: QuerySet, aggregates: dict) -> dict[datetime, dict]:
        grouped = rows.filter(finished_at__gte=since).annotate(bucket=trunc("finished_at"))
        grouped = grouped.values("bucket").annotate(**aggregates).order_by()
        return {row["bucket"]: row for row in grouped}

    periods = {1: PeriodFigures(), 0: PeriodFigures()}
    counted: dict[datetime, dict[str, int]] = {}
    for row in count_rows:
        figures = periods[row["in_period"]]
        figures.deployments += row["ok"]
        figures.failed += row["failed"]
        figures.rolled_back += row["rolled_back"]
        if row["in_period"]:
            counted[row["bucket"]] = row
    for flag, row in per_period(firsts, lead_aggregates).items():
        periods[flag].releases = row["n"]
        periods[flag].lead_time_median = row["median"]
        periods[flag].lead_time_p90 = row["p90"]
    for flag, row in per_period(outages, outage_aggregates).items():
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
    leads = per_bucket(firsts, lead_aggregates)
    recoveries = per_bucket(outages, outage_aggregates)
    for start, end in _bucket_bounds(since, until, bucket_kind):
        bucket = Bucket(start=max(start, since), end=min(end, until))
        if row := counted.get(start):
            bucket.deployments, bucket.failed = row["ok"], row["failed"]
            bucket.rolled_back = row["rolled_back"]
        if row := leads.get(start):
            bucket.lead_time_median, bucket.lead_time_p90 = row["median"], row["p90"]
        if row := recoveries.get(start):
            bucket.recovery_median, bucket.outages = row["median"], row["n"]
        result.buckets.append(bucket)
    return result


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
