"""Check rounds: every waiting deployment whose check is due, read together.

A round (``deployments_check``: sent for the time the next check is due, and by beat every few
seconds) claims every due deployment, earliest first, with ``SKIP LOCKED`` — rounds on several
workers share the work, never the same deployment — lets each step type check all of its waits
at once (one DescribeServices per 10 services of a cluster) and either puts a deployment back to
waiting or carries it on (next step, rollback, end) in the same round (``DeploymentRun.resume``).

- **Nothing is done twice**: a round claims a waiting deployment by a conditional UPDATE, so a
  duplicated or redelivered round finds nothing to do.
- **Fairness and back-pressure**: at most ``ROUND_LIMIT`` deployments per round, earliest due
  first; more due at once are left to the next round, sent at once, so one round never holds a
  worker for long and several workers share a burst.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from .engine import DeploymentRun, Ticker
from .enqueue import check_soon
from .exceptions import StepFailed
from .models import Deployment
from .runners import Check, CheckRound, runner_for
from .selectors import LAST_ROUND_KEY

logger = logging.getLogger(__name__)

EXECUTING, WAITING = Deployment.State.EXECUTING, Deployment.Phase.WAITING
CHECKING = Deployment.Phase.CHECKING

ROUND_LIMIT = 250


def _claim_due(worker: str, limit: int) -> list[int]:
    """Take the due waiting deployments, earliest due first, that no other round has taken."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Deployment.objects.select_for_update(skip_locked=True)
            .filter(state=EXECUTING, phase=WAITING, next_check_at__lte=now)
            .order_by("next_check_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Deployment.objects.filter(pk__in=ids).update(
                phase=CHECKING, heartbeat_at=now, worker=worker[:200]
            )
    return ids


def deployments_check(*, worker: str = "", limit: int = ROUND_LIMIT) -> dict:
    """One check round: every due waiting deployment (at most ``limit``), batched per step
    type; then the next round is sent for when the next check is due. Returns its figures."""
    started = time.monotonic()
    ids = _claim_due(worker, limit)
    figures = {"rollouts": len(ids), "calls": {}, "groups": 0}
    if ids:
        deployments = Deployment.objects.select_related(
            "release", "release__project", "environment", "created_by"
        ).filter(pk__in=ids)
        runs = sorted(
            (DeploymentRun(d, worker=worker) for d in deployments),
            key=lambda r: (r.deployment.next_check_at, r.deployment.pk),
        )
        with Ticker(runs):
            figures.update(_check_runs(runs))
        figures["seconds"] = round(time.monotonic() - started, 3)
        figures["at"] = timezone.now().isoformat()
        logger.info(
            "check round: %s rollouts in %s groups, AWS calls %s, %.2f s",
            figures["rollouts"],
            figures["groups"],
            figures["calls"] or "none",
            figures["seconds"],
        )
        try:
            cache.set(LAST_ROUND_KEY, figures, timeout=3600)
        except Exception:  # noqa: BLE001 - the figures are for operators; a round never fails on them
            logger.warning("could not record the check round's figures", exc_info=True)
    nxt = (
        Deployment.objects.filter(state=EXECUTING, phase=WAITING)
        .aggregate(due=Min("next_check_at"))
        .get("due")
    )
    if nxt is not None:
        check_soon(nxt)
    return figures


def _check_runs(runs: list[DeploymentRun]) -> dict:
    by_type: dict[str, list] = {}
    for run in runs:
        index = run.cursor.get("step", 0)
        steps = run.release.process_snapshot or []
        step = steps[index] if index < len(steps) else {}
        if run.deployment.cancel_requested_at is not None:
            run.log.step = run._step_name(index)
            run.cancel_waiting(runner_for(step.get("type")), step)
            continue
        by_type.setdefault(step.get("type") or "", []).append((run, step, run.cursor["wait"]))
    calls: dict[str, int] = {}
    groups = 0
    for step_type, items in by_type.items():
        runner = runner_for(step_type)
        round_ = CheckRound()
        try:
            if runner is None or runner.check is None:
                raise StepFailed(f"Step type '{step_type}' cannot be waited for.")
            checks = runner.check(items, round_)
        except Exception as exc:  # noqa: BLE001 - every end is recorded, never "executing"
            logger.exception("check round of %s failed", step_type or "unknown steps")
            checks = [Check(failed=f"Internal error: {type(exc).__name__}: {exc}")] * len(items)
        for (run, _, _), check in zip(items, checks, strict=True):
            _note_round(run, check, round_)
            run.resume(check)
        for name, count in round_.calls.items():
            calls[name] = calls.get(name, 0) + count
        groups += round_.groups
    return {"calls": calls, "groups": groups}


def _note_round(run: DeploymentRun, check: Check, round_: CheckRound) -> None:
    """A verbose line when the AWS calls a check round costs change (not on every round)."""
    described = round_.calls.get("DescribeServices", 0)
    wait = check.wait if check.wait is not None else run.cursor.get("wait") or {}
    if wait.get("round_calls") == described:
        return
    others = ", ".join(f"{k} {v}" for k, v in round_.calls.items() if k != "DescribeServices")
    run.log.verbose(
        f"Checked in a round of {described} DescribeServices call(s) for {round_.groups} "
        f"cluster(s); other AWS calls this round: {others or 'none'}."
    )
    if check.wait is not None:
        check.wait["round_calls"] = described
