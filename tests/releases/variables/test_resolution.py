"""Which value applies in which environment: the precedence table."""

import pytest

from releases.variables import VariableSpec, variables_clashes, variables_resolve

DEV, TEST, PROD = 1, 2, 3
NAMES = {DEV: "Dev", TEST: "Test", PROD: "Prod"}


def spec(name, value, *envs):
    return VariableSpec(name, value, environments=frozenset(envs))


# Each row: the values of one name, the environment asked for, the value that must apply.
PRECEDENCE = [
    ([spec("Color", "red")], DEV, "red"),
    ([spec("Color", "red")], None, "red"),
    ([spec("Color", "red"), spec("Color", "blue", DEV)], DEV, "blue"),
    ([spec("Color", "red"), spec("Color", "blue", DEV)], PROD, "red"),
    ([spec("Color", "blue", DEV), spec("Color", "red")], DEV, "blue"),
    ([spec("Color", "red"), spec("Color", "blue", DEV, TEST)], TEST, "blue"),
    (
        [spec("Color", "red"), spec("Color", "blue", DEV), spec("Color", "green", PROD)],
        PROD,
        "green",
    ),
    ([spec("Color", "red"), spec("COLOR", "blue", DEV)], DEV, "blue"),
    ([spec("Color", "blue", DEV)], PROD, None),
    ([spec("Color", "blue", DEV)], None, None),
]


@pytest.mark.parametrize(("variables", "environment", "expected"), PRECEDENCE)
def test_precedence(variables, environment, expected):
    resolved = {k.lower(): v for k, v in variables_resolve(variables, environment).items()}
    assert resolved.get("color") == expected


def test_names_keep_their_spelling_in_the_result():
    assert variables_resolve([spec("Web.Port", "80")], DEV) == {"Web.Port": "80"}


def test_a_snapshot_with_two_equal_values_is_refused_not_guessed():
    with pytest.raises(ValueError, match="apply equally"):
        variables_resolve([spec("Color", "red", DEV), spec("Color", "blue", DEV, PROD)], DEV)


@pytest.mark.parametrize(
    ("variables", "clash_row", "message"),
    [
        ([spec("Color", "red"), spec("color", "blue")], 1, "already has an unscoped value"),
        ([spec("Color", "a", DEV), spec("Color", "b", DEV)], 1, "already has a value for Dev"),
        ([spec("Color", "a", DEV, TEST), spec("Color", "b", TEST)], 1, "value for Test"),
    ],
)
def test_equally_specific_values_clash(variables, clash_row, message):
    clashes = variables_clashes(variables, NAMES)
    assert list(clashes) == [clash_row]
    assert message in clashes[clash_row]


def test_disjoint_scopes_and_one_unscoped_value_do_not_clash():
    variables = [spec("Color", "red"), spec("Color", "a", DEV), spec("Color", "b", TEST, PROD)]
    assert variables_clashes(variables, NAMES) == {}
