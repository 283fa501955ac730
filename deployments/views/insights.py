"""The insights pages: the four DORA figures of an environment, for all projects or for one.

A link has no error answer to give: an unknown period or environment in the query shows the
defaults (the API answers 400 instead). The figures come from ``deployments.insights``; this
module only words them and draws their charts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from deployserver.core.access import access_for
from releases.models import Environment, Project
from releases.selectors import project_visible

from .. import insights as figures
from ..charts import Chart, Series, bar_chart, duration_text, duration_unit, line_chart


@dataclass(frozen=True)
class Trend:
    """A figure against the period before: the words, and whether that is better or worse."""

    text: str
    verdict: str  # "good", "bad" or "flat"


def _trend(now, before, *, lower_is_better: bool, points: bool = False, days: int) -> Trend | None:
    """``now`` against ``before``: a relative change, or percentage points for a rate."""
    if now is None or before is None:
        return None
    period = f"the {days} days before"
    if points:
        change = round((now - before) * 100)
        text = f"{abs(change)} pts"
    else:
        if before == 0:
            return Trend(f"none in {period}", "flat") if now else None
        change = round((now - before) / before * 100)
        text = f"{abs(change)}%"
    if change == 0:
        return Trend(f"same as {period}", "flat")
    better = (change < 0) == lower_is_better
    return Trend(f"{'▲' if change > 0 else '▼'} {text} vs {period}", "good" if better else "bad")


def _label(bucket: figures.Bucket, kind: str) -> str:
    local = timezone.localtime(bucket.start)
    return f"{local.day} {local:%b}" if kind == "week" else f"{local:%a} {local.day}"


def _span(bucket: figures.Bucket, kind: str) -> str:
    start = timezone.localtime(bucket.start)
    if kind == "day":
        return f"{start:%a} {start.day} {start:%b}"
    return f"Week of {start.day} {start:%b}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _duration_ticks(values) -> tuple[float, Callable[[float], str]]:
    size, unit = duration_unit(max((v for v in values if v is not None), default=0))
    return size, lambda v: f"{v:g} {unit}" if v else "0"


def _charts(result: figures.Insights) -> dict[str, Chart]:
    buckets, kind = result.buckets, result.bucket
    labels = [_label(b, kind) for b in buckets]
    spans = [_span(b, kind) for b in buckets]
    env = result.environment.name

    frequency = bar_chart(
        f"Deployments to {env} per {kind}",
        labels,
        [
            Series("Successful", "ok", [b.deployments for b in buckets]),
            Series("Failed", "failed", [b.failed for b in buckets]),
        ],
        [
            f"{span}: {_plural(b.deployments, 'successful deployment')}, {b.failed} failed"
            for span, b in zip(spans, buckets, strict=True)
        ],
        whole=True,
    )

    lead_values = [b.lead_time_median for b in buckets] + [b.lead_time_p90 for b in buckets]
    size, tick = _duration_ticks(lead_values)
    lead = line_chart(
        f"Lead time to {env} per {kind}",
        labels,
        [  # the median drawn last, on top: with one release in a bucket both are the same
            Series("90th percentile", "p90", [_scaled(b.lead_time_p90, size) for b in buckets]),
            Series("Median", "median", [_scaled(b.lead_time_median, size) for b in buckets]),
        ],
        [
            f"{span}: median {duration_text(b.lead_time_median)}, "
            f"p90 {duration_text(b.lead_time_p90)}"
            if b.lead_time_median is not None
            else f"{span}: no release reached {env}"
            for span, b in zip(spans, buckets, strict=True)
        ],
        tick_label=tick,
    )

    failure = bar_chart(
        f"Change failure rate in {env} per {kind}",
        labels,
        [Series("Failure rate", "failed", [_percent(b.failure_rate) for b in buckets])],
        [
            f"{span}: {b.failed} of {b.deployments + b.failed} failed"
            + (f", {b.rolled_back} rolled back" if b.rolled_back else "")
            if b.deployments + b.failed
            else f"{span}: no deployments"
            for span, b in zip(spans, buckets, strict=True)
        ],
        tick_label=lambda v: f"{v:g}%",
    )
    size, tick = _duration_ticks([b.recovery_median for b in buckets])
    recovery = bar_chart(
        f"Time to recover in {env} per {kind}",
        labels,
        [Series("Median", "recover", [_scaled(b.recovery_median, size) for b in buckets])],
        [
            f"{span}: {_plural(b.outages, 'outage')}, median recovery "
            f"{duration_text(b.recovery_median)}"
            if b.outages
            else f"{span}: no outage"
            for span, b in zip(spans, buckets, strict=True)
        ],
        tick_label=tick,
    )
    return {"frequency": frequency, "lead": lead, "failure": failure, "recovery": recovery}


def _scaled(seconds: float | None, size: float) -> float | None:
    return None if seconds is None else seconds / size


def _percent(rate: float | None) -> float | None:
    return None if rate is None else rate * 100


def _cards(result: figures.Insights) -> list[dict]:
    """The four figures in words, each with its trend."""
    now, before, days = result.current, result.previous, result.days
    per_week = result.per_week()
    if result.per_day() >= 1:
        frequency = f"{result.per_day():.1f}", "a day"
    else:
        frequency = f"{per_week:.1f}" if per_week < 10 else f"{per_week:.0f}", "a week"
    rate = now.failure_rate
    return [
        {
            "key": "frequency",
            "title": "Deployment frequency",
            "value": frequency[0],
            "unit": frequency[1],
            "detail": f"{_plural(now.deployments, 'successful deployment')} in {days} days",
            "trend": _trend(
                now.deployments,
                before.deployments,
                lower_is_better=False,
                days=days,
            ),
        },
        {
            "key": "lead",
            "title": "Lead time for changes",
            "value": duration_text(now.lead_time_median),
            "unit": "median",
            "detail": f"p90 {duration_text(now.lead_time_p90)} · "
            f"{_plural(now.releases, 'release')} reached {result.environment.name}",
            "trend": _trend(
                now.lead_time_median, before.lead_time_median, lower_is_better=True, days=days
            ),
        },
        {
            "key": "failure",
            "title": "Change failure rate",
            "value": "—" if rate is None else f"{rate * 100:.0f}%",
            "unit": "",
            "detail": f"{now.failed} of {now.deployments + now.failed} failed"
            + f" · {now.rolled_back} rolled back",
            "trend": _trend(
                rate, before.failure_rate, lower_is_better=True, points=True, days=days
            ),
        },
        {
            "key": "recovery",
            "title": "Time to recover",
            "value": duration_text(now.recovery_median),
            "unit": "median",
            "detail": f"{_plural(now.outages, 'outage')}, {now.recovered} recovered",
            "trend": _trend(
                now.recovery_median, before.recovery_median, lower_is_better=True, days=days
            ),
        },
    ]


def _choose(request, project: Project | None) -> tuple[list[Environment], Environment | None, int]:
    environments, default = figures.insights_scope(project)
    slug = request.GET.get("environment", "")
    environment = next((e for e in environments if e.slug == slug), default)
    try:
        days = int(request.GET.get("days", ""))
    except ValueError:
        days = figures.DEFAULT_DAYS
    return environments, environment, days if days in figures.PERIODS else figures.DEFAULT_DAYS


def _page(request, project: Project | None):
    environments, environment, days = _choose(request, project)
    context = {
        "project": project,
        "environments": environments,
        "environment": environment,
        "days": days,
        "periods": figures.PERIODS,
    }
    if environment is not None:
        result = figures.insights(
            environment=environment, project=project, days=days, access=access_for(request.user)
        )
        context["result"] = result
        context["cards"] = _cards(result)
        if not result.is_empty:
            charts = _charts(result)
            for card in context["cards"]:
                card["chart"] = charts[card["key"]]
    return render(request, "deployments/insights.html", context)


@login_required
def insights(request):
    """Every project's deployments to one environment."""
    return _page(request, None)


@login_required
def project_insights(request, slug: str):
    return _page(request, project_visible(request.user, slug))
