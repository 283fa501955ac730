"""A known deployment history with fixed times, for the insights' tests and screenshots."""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from deployments import insights as module
from deployments.insights import insights
from deployments.models import Deployment
from releases.models import Environment, Project
from tests.factories import ProjectFactory, deployed_at, release_at

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)  # a Sunday
HOUR = 3600.0
OK, FAILED, CANCELLED = (
    Deployment.State.SUCCESS,
    Deployment.State.FAILED,
    Deployment.State.CANCELLED,
)


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


def build_history(dev_test_prod, standard_lifecycle, *, weeks_later: int = 0) -> dict:
    """Shop and Search on Dev → Test → Prod. With 30 days (from 31 May 12:00):

    Shop in Prod — successes: 1.0.1 (3 Jun), 1.0.2 (10 Jun 12:00), 0.9.0 (15 Jun, a redeploy of
    a release first deployed in March), 1.0.3 (20 Jun, 21 Jun, 25 Jun 04:00): 6. Failures: 1.0.2
    at 06:00 (rolled back) and 08:00, 1.0.4 on 25 Jun 02:00: 3. Lead times 48 h, 12 h, 1 h.
    Outages: 10 Jun 06:00 → 12:00 (the 08:00 failure is the same outage) and 25 Jun 02:00 → 04:00.
    The 30 days before: 1.0.0 succeeded on 12 May (lead 48 h), failed and recovered on 20 May
    (10 h). Search in Prod: 2.0.0, lead 6 h, on 29 Jun. Dev and a cancelled deployment never
    count for Prod.

    ``weeks_later`` moves it all that many weeks on (weekdays stay), for pages seen today.
    """
    later = timedelta(weeks=weeks_later)

    def at(month: int, day: int, hour: int = 0) -> datetime:
        return datetime(2024, month, day, hour, tzinfo=UTC) + later

    dev, prod = dev_test_prod["dev"], dev_test_prod["prod"]
    shop = ProjectFactory(name="Shop", slug="shop", lifecycle=standard_lifecycle)
    search = ProjectFactory(name="Search", slug="search", lifecycle=standard_lifecycle)

    old = release_at(shop, "0.9.0", at(3, 1))
    deployed_at(old, prod, OK, at(3, 2))
    deployed_at(old, prod, OK, at(6, 15))

    r0 = release_at(shop, "1.0.0", at(5, 10))
    deployed_at(r0, prod, OK, at(5, 12))
    deployed_at(r0, prod, FAILED, at(5, 20), error="Tasks stopped.")
    deployed_at(r0, prod, OK, at(5, 20, 10))

    r1 = release_at(shop, "1.0.1", at(6, 1, 10))
    deployed_at(r1, dev, OK, at(6, 2, 10))
    deployed_at(r1, prod, OK, at(6, 3, 10))

    r2 = release_at(shop, "1.0.2", at(6, 10))
    deployed_at(r2, prod, FAILED, at(6, 10, 6), error="Tasks stopped. Rolled back to web:7.")
    deployed_at(r2, prod, FAILED, at(6, 10, 8), error="Timed out.")
    deployed_at(r2, prod, OK, at(6, 10, 12))

    r3 = release_at(shop, "1.0.3", at(6, 20))
    deployed_at(r3, prod, OK, at(6, 20, 1))
    deployed_at(r3, prod, OK, at(6, 21))

    r4 = release_at(shop, "1.0.4", at(6, 25))
    deployed_at(r4, prod, FAILED, at(6, 25, 2))
    deployed_at(r3, prod, OK, at(6, 25, 4))
    deployed_at(r4, prod, CANCELLED, at(6, 26))

    s1 = release_at(search, "2.0.0", at(6, 29))
    deployed_at(s1, dev, FAILED, at(6, 29, 3))
    deployed_at(s1, prod, OK, at(6, 29, 6))
    return {"shop": shop, "search": search, "dev": dev, "prod": prod}


def build_edges(history: dict) -> dict:
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


KEPT = ("lead_seconds", "opens_outage", "recovery_seconds")


def kept() -> dict:
    rows = Deployment.objects.order_by("pk").values_list("pk", *KEPT)
    return {pk: values for pk, *values in rows}


def every_figure() -> list[dict]:
    """Every figure, per bucket too, of the history there is, seen from several time zones: as
    JSON would carry them, durations to the millisecond."""
    places = Deployment.objects.values("project", "environment")
    environments = Environment.objects.filter(pk__in=places.values("environment")).order_by("slug")
    projects = [None, *Project.objects.filter(pk__in=places.values("project")).order_by("slug")]
    found = []
    for zone in ("UTC", "America/New_York", "Asia/Kolkata"):
        with timezone.override(zone):
            for environment in environments:
                for project in projects:
                    for days in module.PERIODS:
                        for now in (NOW, NOW - timedelta(days=9, hours=5)):
                            figures = insights(
                                environment=environment, project=project, days=days, now=now
                            )
                            found.append(_plain(asdict(figures)))
    return found


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, int | str | None):
        return value
    return str(value)  # times, and the project and environment by name
