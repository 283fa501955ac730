"""How the engine runs each step type during a deployment.

``releases.steps.REGISTRY`` knows what a step type accepts; this registry knows how the engine
runs it. Both are filled together, beside each step type (``deployments.aws_ecs.register``).

A step runs in two kinds of short turns, never a long one:

- ``start(run, step)`` does the step's actions (AWS calls in flight, a worker held) and returns
  ``None`` when the step is over, or a *wait*: a JSON-able dict saying what to follow next (a
  rollout). The engine stores it and frees the worker.
- ``check(items)`` is given every due wait of this step type at once, as ``(run, step, wait)``
  triples, so it can batch its reads (one DescribeServices per 10 services), and answers each
  with a ``Check``: still waiting (with the updated wait), done, or failed (``StepFailed``).
- ``cancel(run, step, wait)`` (optional) undoes what a cancel must not leave running (a task is
  stopped) and says what it did, to finish the sentence "Cancelled by <who> …".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import DeploymentRun

Wait = dict[str, Any]


@dataclass
class Check:
    """One due wait, checked: ``wait`` (still waiting, updated), else done, or ``failed``."""

    wait: Wait | None = None
    failed: str | None = None


@dataclass
class CheckRound:
    """What one check round of a step type cost, for the log and the operators' status."""

    calls: dict[str, int] = field(default_factory=dict)
    groups: int = 0

    def count(self, name: str, n: int = 1) -> None:
        self.calls[name] = self.calls.get(name, 0) + n

    @property
    def total(self) -> int:
        return sum(self.calls.values())


Starter = Callable[["DeploymentRun", dict[str, Any]], "Wait | None"]
Item = tuple["DeploymentRun", dict[str, Any], Wait]
Checker = Callable[[Sequence[Item], CheckRound], list[Check]]


Canceller = Callable[["DeploymentRun", dict[str, Any], Wait], str]


@dataclass(frozen=True)
class StepRunner:
    start: Starter
    check: Checker | None = None
    cancel: Canceller | None = None


RUNNERS: dict[str, StepRunner] = {}


def runner_register(step_type: str, runner: StepRunner) -> None:
    RUNNERS[step_type] = runner


def runner_for(step_type: str | None) -> StepRunner | None:
    return RUNNERS.get(step_type or "")
