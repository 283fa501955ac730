"""The insights at the edges of their window: ties, outages that start or end outside it, releases
older than it, another time zone. What each deployment keeps when it ends must be what a rebuild
of the whole history gives, whatever order the history was written in."""

import random
from io import StringIO

import pytest
from django.core.management import call_command

from deployments.insights import insights, insights_rebuild
from deployments.models import Deployment
from tests.deployments.history import (
    FAILED,
    HOUR,
    NOW,
    OK,
    at,
    build_edges,
    every_figure,
    kept,
)
from tests.factories import ProjectFactory, deployed_at, release_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def edges(history):
    return build_edges(history)


def test_the_edges_of_the_window(edges):
    figures = insights(environment=edges["prod"], project=edges["edge"], days=30, now=NOW)
    now, before = figures.current, figures.previous
    assert (now.deployments, now.failed) == (5, 2)
    assert now.releases == 2
    assert now.lead_time_median == pytest.approx((43 * 24 * HOUR + 9 * HOUR) / 2)
    assert (now.outages, now.recovered) == (2, 2)
    assert now.recovery_median == pytest.approx((3 * HOUR + 15 * HOUR) / 2)
    assert (before.failed, before.outages, before.recovered) == (1, 0, 0)


def test_what_each_end_kept_is_what_a_rebuild_of_the_history_gives(edges):
    recorded, figures = kept(), every_figure()
    assert any(lead for lead, _, _ in recorded.values())
    assert any(opens for _, opens, _ in recorded.values())
    Deployment.objects.update(lead_seconds=None, opens_outage=False, recovery_seconds=None)
    insights_rebuild()
    assert kept() == recorded
    assert every_figure() == figures


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_history_written_out_of_order_keeps_what_one_written_in_order_keeps(
    dev_test_prod, standard_lifecycle, seed
):
    """Ends written in a shuffled order (a late import, a clock skew): each end rewrites only its
    neighbours, and the result is what the whole history gives."""
    prod = dev_test_prod["prod"]
    project = ProjectFactory(name="Shuffled", slug="shuffled", lifecycle=standard_lifecycle)
    releases = [release_at(project, f"1.0.{n}", at(6, 1 + n)) for n in range(6)]
    ends = [
        (releases[n // 3], FAILED if n % 3 == 1 or n in (7, 8, 13) else OK, at(6, 2 + n // 3, n))
        for n in range(18)
    ]
    ends.append((releases[2], OK, at(6, 4, 7)))  # a tie with an end of the same time
    random.Random(seed).shuffle(ends)
    for release, state, finished_at in ends:
        deployed_at(release, prod, state, finished_at)
    recorded = kept()
    assert sum(opens for _, opens, _ in recorded.values()) >= 2
    Deployment.objects.update(lead_seconds=None, opens_outage=False, recovery_seconds=None)
    insights_rebuild()
    assert kept() == recorded


def test_the_rebuild_command_computes_what_the_ends_kept(edges):
    recorded = kept()
    Deployment.objects.update(lead_seconds=None, opens_outage=False, recovery_seconds=None)
    out = StringIO()
    call_command("insights_rebuild", stdout=out)
    assert kept() == recorded
    assert f"computed for {len(recorded)} deployments" in out.getvalue()
