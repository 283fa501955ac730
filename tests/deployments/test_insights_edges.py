"""The insights at the edges of their window: ties, outages that start or end outside it, releases
older than it, another time zone. PostgreSQL computes the figures in one statement; the ORM path
(SQLite's) must give the same figures from the same history."""

from dataclasses import asdict
from datetime import timedelta

import pytest
from django.utils import timezone

from deployments import insights as module
from deployments.insights import insights
from tests.deployments.history import FAILED, HOUR, NOW, OK, at
from tests.factories import ProjectFactory, deployed_at, release_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def edges(history):
    """Besides the history: Edge, in Prod, with what the window's edges make hard to see.

    - 3.0.0, created 20 Apr (before the 30-day window and the one before it), first succeeds on
      2 Jun (in the window): lead time 43 days.
    - 3.0.1 succeeds twice at the same instant (14 Jun 09:00): one lead time, 9 h.
    - A failure on 27 Apr (before both periods) and another on 2 May 06:00 (previous period): the
      second is not a new outage, the previous deployment failed.
    - A failure on 18 Jun 10:00, a success at that same instant (not later: no recovery), then the
      next success on 18 Jun 13:00: recovered in 3 h.
    - A failure on 30 Jun 11:00, recovered only after the period ends (1 Jul 02:00): 15 h.
    """
    prod = history["prod"]
    edge = ProjectFactory(name="Edge", slug="edge", lifecycle=history["shop"].lifecycle)
    old = release_at(edge, "3.0.0", at(4, 20))
    deployed_at(old, prod, FAILED, at(4, 27))
    deployed_at(old, prod, FAILED, at(5, 2, 6))
    deployed_at(old, prod, OK, at(6, 2))
    twice = release_at(edge, "3.0.1", at(6, 14))
    deployed_at(twice, prod, OK, at(6, 14, 9))
    deployed_at(twice, prod, OK, at(6, 14, 9))
    broken = release_at(edge, "3.0.2", at(6, 18))
    deployed_at(broken, prod, FAILED, at(6, 18, 10))
    deployed_at(twice, prod, OK, at(6, 18, 10))
    deployed_at(twice, prod, OK, at(6, 18, 13))
    late = release_at(edge, "3.0.3", at(6, 30))
    deployed_at(late, prod, FAILED, at(6, 30, 11))
    deployed_at(twice, prod, OK, at(7, 1, 2))
    return {**history, "edge": edge}


def test_the_edges_of_the_window(edges):
    figures = insights(environment=edges["prod"], project=edges["edge"], days=30, now=NOW)
    now, before = figures.current, figures.previous
    assert (now.deployments, now.failed) == (5, 2)
    assert now.releases == 2
    assert now.lead_time_median == pytest.approx((43 * 24 * HOUR + 9 * HOUR) / 2)
    assert (now.outages, now.recovered) == (2, 2)
    assert now.recovery_median == pytest.approx((3 * HOUR + 15 * HOUR) / 2)
    assert (before.failed, before.outages, before.recovered) == (1, 0, 0)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_one_statement_gives_what_the_orm_gives(edges, monkeypatch, zone):
    sql = module._aggregate_sql
    with timezone.override(zone):
        for environment in (edges["prod"], edges["dev"]):
            for project in (None, edges["shop"], edges["edge"]):
                for days in module.PERIODS:
                    for now in (NOW, NOW - timedelta(days=9, hours=5)):
                        monkeypatch.setattr(module, "_aggregate_sql", sql)
                        one = insights(environment=environment, project=project, days=days, now=now)
                        monkeypatch.setattr(module, "_aggregate_sql", module._aggregate_orm)
                        orm = insights(environment=environment, project=project, days=days, now=now)
                        assert asdict(one) == asdict(orm), (environment, project, days, now)
