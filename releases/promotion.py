"""Lifecycle rules: which environments a release may be deployed to now, and why not.

Pure functions over the lifecycle's effective phases and the release's deployments so far
(``releases`` cannot read deployments; the caller passes them in).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .models import Environment
from .selectors import EffectivePhase

SUCCESS = "success"


@dataclass
class Progression:
    """Where a release stands in its lifecycle."""

    deployable: list[Environment] = field(default_factory=list)
    blocked: dict[int, str] = field(default_factory=dict)  # environment id → reason
    open_phases: list[int] = field(default_factory=list)  # indexes of the phases now open
    next_environment: Environment | None = None

    def allows(self, environment: Environment) -> bool:
        return any(e.pk == environment.pk for e in self.deployable)

    def reason(self, environment: Environment) -> str:
        return self.blocked.get(environment.pk, "")


def _phase_complete(phase: EffectivePhase, succeeded: set[int]) -> bool:
    done = sum(1 for env in phase.environments if env.pk in succeeded)
    needed = phase.minimum_environments or len(phase.environments)
    return done >= min(needed, len(phase.environments))


def _needs(phase: EffectivePhase) -> str:
    names = ", ".join(env.name for env in phase.environments)
    if phase.minimum_environments and phase.minimum_environments < len(phase.environments):
        return f"{phase.minimum_environments} of {names}"
    return names if len(phase.environments) == 1 else f"all of {names}"


def release_progression(
    *,
    phases: list[EffectivePhase],
    environments: Iterable[Environment],
    deployments: Iterable[tuple[int, str]],
    lifecycle_name: str,
) -> Progression:
    """Compute what a release may do next.

    ``deployments`` are ``(environment_id, state)`` pairs of this release's deployments. The
    first phase is open; the next one opens once the previous phase is complete (successful
    deployments to all its environments, or to its minimum number) or, when the previous phase
    is optional, as soon as that phase is open. An environment already deployed to may always
    be deployed to again.
    """
    states: dict[int, set[str]] = {}
    for environment_id, state in deployments:
        states.setdefault(environment_id, set()).add(state)
    succeeded = {env_id for env_id, s in states.items() if SUCCESS in s}
    progression = Progression()
    in_lifecycle: dict[int, int] = {}
    blocking: tuple[str, str] | None = None  # (phase name, what it needs)
    for index, phase in enumerate(phases):
        for env in phase.environments:
            in_lifecycle[env.pk] = index
        if blocking is None:
            progression.open_phases.append(index)
            if not _phase_complete(phase, succeeded) and not phase.is_optional:
                blocking = (phase.name, _needs(phase))
    for env in environments:
        index = in_lifecycle.get(env.pk)
        if index is None:
            progression.blocked[env.pk] = f"{env.name} is not in the lifecycle {lifecycle_name}."
        elif index in progression.open_phases or env.pk in states:
            progression.deployable.append(env)
        else:
            name, needs = blocking or ("", "")
            progression.blocked[env.pk] = (
                f"{env.name} opens after phase {name} has a successful deployment to {needs}."
            )
    # The next environment to promote to: the first deployable one, in lifecycle order, that
    # this release has never been deployed to (a failed or running one is redeployed instead).
    ordered = sorted(progression.deployable, key=lambda e: (in_lifecycle[e.pk], e.sort_order))
    progression.next_environment = next((e for e in ordered if e.pk not in states), None)
    return progression
