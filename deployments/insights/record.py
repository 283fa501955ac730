"""What the insights keep on each deployment when it ends: the two figures that depend on its
neighbours, so that reading a period never has to look for them.

- ``lead_seconds``: on a release's *first* successful deployment to an environment (the earliest
  by ``finished_at``, ties by id), the seconds from the release's creation to that end; empty on
  every other deployment.
- ``opens_outage``: a failed deployment whose previous finished deployment (success or failure)
  in the same project × environment is not a failure — failures in a row are one outage, opened
  by the first. ``recovery_seconds``: on such a deployment, the seconds to the next successful
  deployment there that finished strictly later; empty while it has not recovered.

These rules live here and only here, as two UPDATE statements over a scope of deployments
(:func:`_leads_update`, :func:`_outages_update`). :func:`insights_record` applies them to the few
rows a deployment that just ended can change — it is called in the transaction that ends it —
and :func:`insights_rebuild` to a whole history (the migration that added the columns, and
``manage.py insights_rebuild``). A history written out of order gives the same columns as one
written in order. Deleting old releases (retention) does not rewrite them: an outage that
happened stays recovered when the release that fixed it is deleted.
"""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from ..models import Deployment
from .aggregates import Seconds

SUCCESS, FAILED = "success", "failed"  # Deployment.State, spelt out for the migration's models


def _before(prefix: str = "") -> Q:
    """Finished before the outer row (ties broken by id): an order on (finished_at, id)."""
    return Q(finished_at__lt=OuterRef(f"{prefix}finished_at")) | Q(
        finished_at=OuterRef(f"{prefix}finished_at"), pk__lt=OuterRef(f"{prefix}pk")
    )


def _leads_update(scope: QuerySet) -> None:
    """Keep ``lead_seconds`` of the successful deployments in ``scope``: set on a release's first
    success in the environment, empty on the others."""
    model = scope.model
    earlier = Exists(
        model._default_manager.filter(
            _before(),
            release=OuterRef("release"),
            environment=OuterRef("environment"),
            state=SUCCESS,
        )
    )
    created = Subquery(
        model._meta.get_field("release")
        .related_model._default_manager.filter(pk=OuterRef("release"))
        .values("created_at")[:1]
    )
    successes = scope.filter(state=SUCCESS)
    successes.filter(earlier, lead_seconds__isnull=False).update(lead_seconds=None)
    successes.filter(~earlier).update(lead_seconds=Seconds(F("finished_at"), created))


def _outages_update(scope: QuerySet) -> None:
    """Keep ``opens_outage`` and ``recovery_seconds`` of the failed deployments in ``scope``."""
    model = scope.model
    same_place = {"project": OuterRef("project"), "environment": OuterRef("environment")}
    previous_state = Subquery(
        model._default_manager.filter(_before(), **same_place, state__in=[SUCCESS, FAILED])
        .order_by("-finished_at", "-pk")
        .values("state")[:1]
    )
    next_success = Subquery(
        model._default_manager.filter(
            **same_place, state=SUCCESS, finished_at__gt=OuterRef("finished_at")
        )
        .order_by("finished_at", "pk")
        .values("finished_at")[:1]
    )
    failures = scope.filter(state=FAILED).annotate(previous=Coalesce(previous_state, Value("")))
    failures.exclude(previous=FAILED).update(
        opens_outage=True, recovery_seconds=Seconds(next_success, F("finished_at"))
    )
    failures.filter(previous=FAILED).exclude(
        opens_outage=False, recovery_seconds__isnull=True
    ).update(opens_outage=False, recovery_seconds=None)


def insights_rebuild(scope: QuerySet | None = None) -> None:
    """Compute the kept figures of every deployment in ``scope`` (all of them by default)."""
    if scope is None:
        scope = Deployment.objects.all()
    _leads_update(scope)
    _outages_update(scope)


def insights_record(deployment) -> None:
    """Keep the figures a deployment that just ended as a success or a failure changes.

    Its release's successes in its environment (which one is first), and in its project ×
    environment the failures from the last success that finished before it (whose outage it may
    end, or continue) to the first success that finished after it (the failures between may now
    follow it). Ends come in order, so there is nothing after it, in practice.
    """
    if deployment.state not in (SUCCESS, FAILED) or deployment.finished_at is None:
        return
    model = type(deployment)
    rows = model._default_manager
    if deployment.state == SUCCESS:
        _leads_update(
            rows.filter(release_id=deployment.release_id, environment_id=deployment.environment_id)
        )
    place = rows.filter(project_id=deployment.project_id, environment_id=deployment.environment_id)
    successes = place.filter(state=SUCCESS).values_list("finished_at", flat=True)
    since = successes.filter(finished_at__lt=deployment.finished_at).order_by("-finished_at")
    until = successes.filter(finished_at__gt=deployment.finished_at).order_by("finished_at")
    scope = place
    if (start := since.first()) is not None:
        scope = scope.filter(finished_at__gte=start)
    if (end := until.first()) is not None:
        scope = scope.filter(finished_at__lte=end)
    _outages_update(scope)
