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

Hot path: every figure is aggregate SQL over the deployments table, never a loop over rows.
On PostgreSQL the four figures are one statement whatever the history (:data:`_FIGURES_SQL`):
each figure reads the period's deployments once through an index that covers what it needs
(``deployment_env_finished``), and groups per period and per bucket at once (``GROUPING
SETS``). A release's first success is the earliest of its successes in the window; only a release
created before the window is checked for a success before it (a deployment cannot finish before
its release exists). An outage's start and end are found per failed deployment by probing the
project × environment's index (``deployment_finished``): failures are few. Other databases
(SQLite, the embedded default) get the same figures from the ORM with correlated subqueries, five
queries. Percentiles are ``PERCENTILE_CONT``; SQLite gets the same aggregate as a function
registered on its connections (:func:`sqlite_register`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
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

from deployserver.core.access import Access, Action
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
    aggregate = _aggregate_sql if connection.vendor == "postgresql" else _aggregate_orm
    found = aggregate(project, environment, before, since, until, bucket_kind, access)

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


# PostgreSQL: one statement ----------------------------------------------------------------------

# ``{window}``: the deployments ``d`` of the environment (and project) that finished in the period
# or the one before; ``{bucket}``: ``d.finished_at``'s bucket. Each figure reads the window once
# through an index that covers it, and groups per period and per bucket at once.
_FIGURES_SQL = """
WITH firsts AS (
    -- Each release's first success in the window: its first there unless one came before.
    SELECT d.release_id, MIN(d.finished_at) AS finished_at
    FROM deployments_deployment d
    WHERE {window} AND d.state = %(success)s
    GROUP BY d.release_id
), leads AS (
    SELECT f.finished_at, f.finished_at - r.created_at AS duration
    FROM firsts f
    JOIN releases_release r ON r.id = f.release_id
    -- Only a release created before the window can have succeeded there before it.
    WHERE r.created_at >= %(before)s OR NOT EXISTS (
        SELECT FROM deployments_deployment x
        WHERE x.release_id = f.release_id AND x.environment_id = %(environment)s
            AND x.state = %(success)s AND x.finished_at < %(before)s
        OFFSET 0
    )
), outages AS (
    -- A failure whose previous finished deployment there is not a failure, until the next success.
    SELECT d.finished_at, (
        SELECT x.finished_at FROM deployments_deployment x
        WHERE x.project_id = d.project_id AND x.environment_id = %(environment)s
            AND x.state = %(success)s AND x.finished_at > d.finished_at
        ORDER BY x.finished_at
        LIMIT 1
    ) - d.finished_at AS duration
    FROM deployments_deployment d
    WHERE {window} AND d.state = %(failed)s AND COALESCE((
        SELECT x.state FROM deployments_deployment x
        WHERE x.project_id = d.project_id AND x.environment_id = %(environment)s
            AND x.state IN (%(success)s, %(failed)s)
            AND (x.finished_at, x.id) < (d.finished_at, d.id)
        ORDER BY x.finished_at DESC, x.id DESC
        LIMIT 1
    ), '') <> %(failed)s
)
SELECT 'count' AS figure, d.finished_at >= %(since)s AS in_period, {bucket} AS bucket,
    0 AS whole_period, COUNT(*) FILTER (WHERE d.state = %(success)s) AS n,
    COUNT(*) FILTER (WHERE d.state = %(failed)s) AS m, NULL::float8 AS median, NULL::float8 AS p90
FROM deployments_deployment d
WHERE {window} AND d.state IN (%(success)s, %(failed)s)
GROUP BY 2, 3
UNION ALL
SELECT 'rolled back', d.finished_at >= %(since)s, {bucket}, 0, COUNT(*), 0, NULL, NULL
FROM deployments_deployment d
WHERE {window} AND d.state = %(failed)s AND UPPER(d.error::text) LIKE UPPER(%(rolled_back)s)
GROUP BY 2, 3
UNION ALL
SELECT 'lead', in_period, bucket, GROUPING(bucket), COUNT(*), COUNT(seconds),
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY seconds),
    PERCENTILE_CONT(0.9) WITHIN GROUP (ORDER BY seconds)
FROM (
    SELECT d.finished_at >= %(since)s AS in_period,
        CASE WHEN d.finished_at >= %(since)s THEN {bucket} END AS bucket,
        EXTRACT(EPOCH FROM d.duration) AS seconds
    FROM leads d
) lead
GROUP BY GROUPING SETS ((in_period), (in_period, bucket))
UNION ALL
SELECT 'outage', in_period, bucket, GROUPING(bucket), COUNT(*), COUNT(seconds),
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY seconds), NULL
FROM (
    SELECT d.finished_at >= %(since)s AS in_period,
        CASE WHEN d.finished_at >= %(since)s THEN {bucket} END AS bucket,
        EXTRACT(EPOCH FROM d.duration) AS seconds
    FROM outages d
) outage
GROUP BY GROUPING SETS ((in_period), (in_period, bucket))
"""


def _visible_projects(access: Access | None, environment: Environment) -> list[int] | None:
    """The projects whose deployments to ``environment`` the caller may see; ``None``: all."""
    if access is None or access.sees_everything:
        return None
    return [
        pk
        for pk in Project.objects.values_list("pk", flat=True)
        if access.allows(Action.VIEW, pk, environment)
    ]


def _aggregate_sql(
    project, environment, before, since, until, bucket_kind, access=None
) -> _Aggregates:
    """The figures in one statement (PostgreSQL), whatever the history."""
    params = {
        "environment": environment.pk,
        "project": project.pk if project is not None else None,
        "before": before,
        "since": since,
        "until": until,
        "success": SUCCESS,
        "failed": FAILED,
        "rolled_back": f"%{ROLLED_BACK}%",
    }
    window = (
        "d.environment_id = %(environment)s AND d.finished_at >= %(before)s"
        " AND d.finished_at < %(until)s"
    )
    if project is not None:
        window += " AND d.project_id = %(project)s"
    visible = _visible_projects(access, environment)
    if visible is not None:
        # Only what the caller may see counts: no figure reveals another team's deployments.
        window += " AND d.project_id = ANY(%(visible)s)"
        params["visible"] = visible
    # The bucket as Django's TruncDay / TruncWeek computes it: in the current time zone.
    tzname = timezone.get_current_timezone_name()
    trunc, trunc_params = connection.ops.datetime_trunc_sql(
        bucket_kind, "d.finished_at", (), tzname
    )
    for i, value in enumerate(trunc_params):
        trunc = trunc.replace("%s", f"%(trunc_{i})s", 1)
        params[f"trunc_{i}"] = value
    sql = _FIGURES_SQL.format(window=window, bucket=trunc)
    found = _Aggregates()
    counts: dict[tuple[bool, datetime], dict] = {}
    tz = timezone.get_current_timezone()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for figure, in_period, bucket, whole_period, n, m, median, p90 in cursor.fetchall():
            if bucket is not None:
                bucket = timezone.make_aware(bucket.replace(tzinfo=None), tz)
            if figure in ("count", "rolled back"):
                row = counts.setdefault(
                    (in_period, bucket),
                    {"in_period": int(in_period), "bucket": bucket, "ok": 0, "failed": 0},
                )
                row.setdefault("rolled_back", 0)
                if figure == "count":
                    row["ok"], row["failed"] = n, m
                else:
                    row["rolled_back"] = n
                continue
            if figure == "lead":
                row = {"n": n, "median": median, "p90": p90}
                periods, buckets = found.leads, found.lead_buckets
            else:
                row = {"n": n, "recovered": m, "median": median}
                periods, buckets = found.outages, found.outage_buckets
            if whole_period:  # GROUPING(bucket): the row of a period, not of one bucket
                periods[int(in_period)] = row
            elif in_period:
                buckets[bucket] = row
    found.counts = list(counts.values())
    return found


# Other databases (SQLite, the embedded default): the ORM, a query per figure and grouping -------


def _aggregate_orm(
    project, environment, before, since, until, bucket_kind, access=None
) -> _Aggregates:
    """The figures with correlated subqueries: five queries, whatever the history."""
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

    return _Aggregates(
        counts=list(count_rows),
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
