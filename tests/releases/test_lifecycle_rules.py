"""Lifecycle rules as a table: which environments a release may be deployed to, and why not."""

import pytest

from releases.models import Environment
from releases.promotion import release_progression
from releases.selectors import EffectivePhase

DEV, DEV2, TEST, PROD, QA = (
    Environment(pk=pk, name=name, slug=name.lower(), sort_order=pk)
    for pk, name in enumerate(("Dev", "Dev2", "Test", "Prod", "QA"), start=1)
)
BY_NAME = {e.name: e for e in (DEV, DEV2, TEST, PROD, QA)}


def phase(name, *envs, optional=False, minimum=0):
    return EffectivePhase(name, tuple(envs), (), optional, minimum)


STANDARD = [phase("Dev", DEV), phase("Test", TEST), phase("Prod", PROD)]
TWO_DEVS = [phase("Build", DEV, DEV2), phase("Test", TEST), phase("Prod", PROD)]
TWO_DEVS_ONE_NEEDED = [phase("Build", DEV, DEV2, minimum=1), phase("Test", TEST)]
OPTIONAL_TEST = [phase("Dev", DEV), phase("Test", TEST, optional=True), phase("Prod", PROD)]
TWO_OPTIONAL = [
    phase("Dev", DEV),
    phase("QA", QA, optional=True),
    phase("Test", TEST, optional=True),
    phase("Prod", PROD),
]  # noqa: E501
PROD_ONLY = [phase("Hotfix", PROD)]

CASES = [
    # (id, phases, deployments so far, deployable, blocked: {env: reason fragment})
    (
        "a new release may only go to the first phase",
        STANDARD,
        [],
        ["Dev"],
        {
            "Test": "Test opens after phase Dev has a successful deployment to Dev.",
            "Prod": "Prod opens after phase Dev has a successful deployment to Dev.",
        },
    ),
    (
        "a success in Dev opens Test, not Prod",
        STANDARD,
        [("Dev", "success")],
        ["Dev", "Test"],
        {"Prod": "Prod opens after phase Test has a successful deployment to Test."},
    ),
    (
        "a failed Dev deployment opens nothing",
        STANDARD,
        [("Dev", "failed")],
        ["Dev"],
        {"Test": "after phase Dev"},
    ),
    (
        "an executing Dev deployment opens nothing",
        STANDARD,
        [("Dev", "executing")],
        ["Dev"],
        {"Test": "after phase Dev"},
    ),
    (
        "a queued Dev deployment opens nothing",
        STANDARD,
        [("Dev", "queued")],
        ["Dev"],
        {"Test": "after phase Dev"},
    ),
    (
        "a failure after a success keeps the phase complete",
        STANDARD,
        [("Dev", "success"), ("Dev", "failed")],
        ["Dev", "Test"],
        {"Prod": "after phase Test"},
    ),
    (
        "Dev and Test succeeded: every environment is open",
        STANDARD,
        [("Dev", "success"), ("Test", "success")],
        ["Dev", "Test", "Prod"],
        {},
    ),
    (
        "a phase needs all of its environments by default",
        TWO_DEVS,
        [("Dev", "success")],
        ["Dev", "Dev2"],
        {"Test": "after phase Build has a successful deployment to all of Dev, Dev2"},
    ),
    (
        "both environments of the phase succeeded",
        TWO_DEVS,
        [("Dev", "success"), ("Dev2", "success")],
        ["Dev", "Dev2", "Test"],
        {"Prod": "after phase Test"},
    ),
    (
        "a minimum of one environment is enough",
        TWO_DEVS_ONE_NEEDED,
        [("Dev2", "success")],
        ["Dev", "Dev2", "Test"],
        {},
    ),
    (
        "a minimum of one: nothing succeeded yet",
        TWO_DEVS_ONE_NEEDED,
        [("Dev", "failed")],
        ["Dev", "Dev2"],
        {"Test": "after phase Build has a successful deployment to 1 of Dev, Dev2"},
    ),
    (
        "an optional phase can be skipped",
        OPTIONAL_TEST,
        [("Dev", "success")],
        ["Dev", "Test", "Prod"],
        {},
    ),
    (
        "an optional phase opens only with the phase before it",
        OPTIONAL_TEST,
        [],
        ["Dev"],
        {"Test": "after phase Dev", "Prod": "after phase Dev"},
    ),
    (
        "two optional phases in a row are both skippable",
        TWO_OPTIONAL,
        [("Dev", "success")],
        ["Dev", "QA", "Test", "Prod"],
        {},
    ),
    (
        "an environment outside the lifecycle is never open",
        PROD_ONLY,
        [],
        ["Prod"],
        {"Dev": "Dev is not in the lifecycle Standard.", "Test": "not in the lifecycle"},
    ),
    (
        "redeploying to an environment already reached is allowed even if its phase is closed",
        STANDARD,
        [("Prod", "success")],
        ["Dev", "Prod"],
        {"Test": "after phase Dev"},
    ),
    (
        "redeploying after a failure in Test is allowed",
        STANDARD,
        [("Dev", "success"), ("Test", "failed")],
        ["Dev", "Test"],
        {"Prod": "after phase Test"},
    ),
]


@pytest.mark.parametrize(
    "phases, done, deployable, blocked", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_lifecycle_case(phases, done, deployable, blocked):
    progression = release_progression(
        phases=phases,
        environments=[DEV, DEV2, TEST, PROD, QA],
        deployments=[(BY_NAME[name].pk, state) for name, state in done],
        lifecycle_name="Standard",
    )
    assert sorted(e.name for e in progression.deployable) == sorted(deployable)
    for name, reason in blocked.items():
        assert reason in progression.reason(BY_NAME[name]), progression.blocked
    in_lifecycle = {e.pk for p in phases for e in p.environments}
    assert {BY_NAME[n].pk for n in deployable} | set(progression.blocked) >= in_lifecycle


NEXT_CASES = [
    ("a new release is promoted to the first environment", STANDARD, [], "Dev"),
    ("after Dev succeeded the next is Test", STANDARD, [("Dev", "success")], "Test"),
    (
        "an optional phase is the next one when it is open",
        OPTIONAL_TEST,
        [("Dev", "success")],
        "Test",
    ),
    ("nothing to promote to while Dev is still running", STANDARD, [("Dev", "executing")], None),
    (
        "nothing to promote to once every environment was reached",
        STANDARD,
        [("Dev", "success"), ("Test", "success"), ("Prod", "success")],
        None,
    ),
    (
        "the other environment of an incomplete phase comes next",
        TWO_DEVS,
        [("Dev", "success")],
        "Dev2",
    ),
]


@pytest.mark.parametrize(
    "phases, done, expected", [c[1:] for c in NEXT_CASES], ids=[c[0] for c in NEXT_CASES]
)
def test_next_environment_to_promote_to(phases, done, expected):
    progression = release_progression(
        phases=phases,
        environments=[DEV, DEV2, TEST, PROD, QA],
        deployments=[(BY_NAME[name].pk, state) for name, state in done],
        lifecycle_name="Standard",
    )
    assert (progression.next_environment.name if progression.next_environment else None) == (
        expected
    )
