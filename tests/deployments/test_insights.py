"""The delivery insights, from a known history with fixed times (``tests.deployments.history``),
against figures worked out by hand."""

from datetime import UTC, datetime

import pytest

from deployments.insights import insights, insights_scope, percentile_cont
from tests.deployments.history import HOUR, NOW, at
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_the_figures_of_one_project_match_the_hand_worked_ones(history):
    figures = insights(environment=history["prod"], project=history["shop"], days=30, now=NOW)
    now = figures.current
    assert (now.deployments, now.failed, now.rolled_back) == (6, 3, 1)
    assert now.failure_rate == pytest.approx(3 / 9)
    assert figures.per_day() == pytest.approx(0.2)
    assert figures.per_week() == pytest.approx(1.4)
    # Lead times 1 h, 12 h, 48 h: the median is 12 h, p90 = 12 + 0.8 × 36 = 40.8 h.
    assert now.releases == 3
    assert now.lead_time_median == pytest.approx(12 * HOUR)
    assert now.lead_time_p90 == pytest.approx(40.8 * HOUR)
    # Outages of 6 h and 2 h.
    assert (now.outages, now.recovered) == (2, 2)
    assert now.recovery_median == pytest.approx(4 * HOUR)


def test_the_previous_period_gives_the_trend(history):
    before = insights(environment=history["prod"], project=history["shop"], days=30, now=NOW)
    before = before.previous
    assert (before.deployments, before.failed, before.rolled_back) == (2, 1, 0)
    assert before.lead_time_median == pytest.approx(48 * HOUR)
    assert before.releases == 1
    assert before.recovery_median == pytest.approx(10 * HOUR)


def test_weekly_buckets_start_on_monday_and_split_the_figures(history):
    figures = insights(environment=history["prod"], project=history["shop"], days=30, now=NOW)
    assert figures.bucket == "week"
    starts = [b.start for b in figures.buckets]
    # The first bucket starts with the period (Friday 31 May 12:00), the others on Mondays.
    assert starts == [
        datetime(2024, 5, 31, 12, tzinfo=UTC),
        at(6, 3),
        at(6, 10),
        at(6, 17),
        at(6, 24),
    ]
    assert figures.buckets[-1].end == NOW
    assert [b.deployments for b in figures.buckets] == [0, 1, 2, 2, 1]
    assert [b.failed for b in figures.buckets] == [0, 0, 2, 0, 1]
    assert [b.rolled_back for b in figures.buckets] == [0, 0, 1, 0, 0]
    assert [b.lead_time_median for b in figures.buckets] == [None, 48 * HOUR, 12 * HOUR, HOUR, None]
    assert [b.recovery_median for b in figures.buckets] == [None, None, 6 * HOUR, None, 2 * HOUR]
    assert figures.buckets[2].failure_rate == pytest.approx(0.5)
    assert figures.buckets[0].failure_rate is None


def test_all_projects_together(history):
    figures = insights(environment=history["prod"], days=30, now=NOW)
    assert (figures.current.deployments, figures.current.failed) == (7, 3)
    # Lead times 1, 6, 12, 48 h: median 9 h; p90 = 12 + 0.7 × 36 = 37.2 h.
    assert figures.current.lead_time_median == pytest.approx(9 * HOUR)
    assert figures.current.lead_time_p90 == pytest.approx(37.2 * HOUR)


def test_seven_days_use_daily_buckets_and_their_own_previous_period(history):
    figures = insights(environment=history["prod"], project=history["shop"], days=7, now=NOW)
    assert figures.bucket == "day"
    assert len(figures.buckets) == 8  # 23 Jun 12:00 … 30 Jun 12:00
    assert (figures.current.deployments, figures.current.failed) == (1, 1)
    assert figures.current.lead_time_median is None
    assert figures.current.recovery_median == pytest.approx(2 * HOUR)
    assert figures.previous.deployments == 2
    assert figures.previous.lead_time_median == pytest.approx(HOUR)


def test_another_environment_counts_its_own_deployments(history):
    figures = insights(environment=history["dev"], project=history["shop"], days=30, now=NOW)
    assert (figures.current.deployments, figures.current.failed) == (1, 0)
    assert figures.current.lead_time_median == pytest.approx(24 * HOUR)
    everyone = insights(environment=history["dev"], days=30, now=NOW)
    assert (everyone.current.deployments, everyone.current.failed) == (1, 1)
    assert everyone.current.outages == 1 and everyone.current.recovered == 0
    assert everyone.current.recovery_median is None


def test_a_project_without_deployments_has_empty_series(history):
    quiet = ProjectFactory(name="Quiet", slug="quiet", lifecycle=history["shop"].lifecycle)
    figures = insights(environment=history["prod"], project=quiet, days=90, now=NOW)
    assert figures.is_empty
    assert figures.buckets == []
    assert figures.current.failure_rate is None
    assert figures.current.lead_time_median is None
    assert figures.current.recovery_median is None
    assert figures.per_week() == 0


def test_the_default_environment_is_the_last_of_the_lifecycle(history):
    environments, default = insights_scope(history["shop"])
    assert [e.slug for e in environments] == ["dev", "test", "prod"]
    assert default == history["prod"]
    assert insights_scope(None)[1] == history["prod"]  # the default lifecycle: environment order


def test_percentile_cont_interpolates_like_postgresql():
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([5.0], 0.9) == 5.0
    assert percentile_cont([1.0, 12.0, 48.0], 0.9) == pytest.approx(40.8)
    assert percentile_cont([1.0, 6.0, 12.0, 48.0], 0.5) == pytest.approx(9.0)
