"""Substitution: nesting, escapes, filters, cycles, unicode, and errors that list every offender."""

import pytest

from releases.substitution import SubstitutionError, Values, substitute, substitute_tree

VALUES = {
    "Prefix": "shop",
    "Environment.Name": "Dev",
    "Color": "Red",
    "Padded": "  spaced  ",
    "Ref": "web",
    "Package[web].Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello:1.0.1",
    "Service": "#{Prefix}-#{Environment.Name | ToLower}",
    "Deep": "#{Service}-svc",
    "Quote": 'say "hi"\nnow',
    "Greeting": "Grüße, 東京 🚀",
}


def test_a_plain_name_is_replaced_by_its_value():
    assert substitute("color=#{Color}", VALUES) == "color=Red"


def test_names_are_case_insensitive():
    assert substitute("#{color} #{COLOR} #{environment.name}", VALUES) == "Red Red Dev"


def test_two_references_side_by_side():
    assert substitute("#{Prefix}-#{Environment.Name}", VALUES) == "shop-Dev"


def test_values_that_hold_expressions_are_substituted_in_turn():
    assert substitute("#{Deep}", VALUES) == "shop-dev-svc"


def test_an_expression_inside_an_index_is_resolved_first():
    assert substitute("#{Package[#{Ref}].Image}", VALUES).endswith("/hello:1.0.1")


def test_indexed_package_variables_resolve():
    assert substitute("#{Package[web].Image}", VALUES).startswith("123456789012.dkr.ecr")


def test_double_hash_writes_a_literal_expression():
    assert substitute("##{Color} is #{Color}", VALUES) == "#{Color} is Red"


def test_a_lone_hash_and_braces_are_plain_text():
    assert substitute("a # b } {c} #x", VALUES) == "a # b } {c} #x"


def test_text_without_expressions_is_returned_unchanged():
    assert substitute("", VALUES) == ""
    assert substitute("plain", VALUES) == "plain"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("#{Color | ToLower}", "red"),
        ("#{Color | ToUpper}", "RED"),
        ("[#{Padded | Trim}]", "[spaced]"),
        ('#{Color | Replace "R" "B"}', "Bed"),
        ('#{Color | Replace "e"}', "Rd"),
        ("#{Quote | JsonEscape}", 'say \\"hi\\"\\nnow'),
        ("#{Color | ToBase64}", "UmVk"),
        ("#{Color|tolower|toupper}", "RED"),
        ("#{Color | Truncate 2}", "Re"),
        ("#{ Color }", "Red"),
    ],
)
def test_filters(template, expected):
    assert substitute(template, VALUES) == expected


def test_unicode_values_and_filters_keep_every_character():
    assert substitute("#{Greeting}", VALUES) == "Grüße, 東京 🚀"
    assert substitute("#{Greeting | ToUpper}", VALUES) == "GRÜSSE, 東京 🚀"
    assert substitute("#{Greeting | JsonEscape}", VALUES) == "Grüße, 東京 🚀"
    encoded = substitute("#{Greeting | ToBase64}", VALUES)
    import base64

    assert base64.b64decode(encoded).decode() == "Grüße, 東京 🚀"


def test_unicode_names_resolve():
    assert substitute("#{Größe}", {"größe": "XL"}) == "XL"


def test_every_undefined_name_is_listed_never_a_silent_literal():
    with pytest.raises(SubstitutionError) as caught:
        substitute("#{Colour}-#{Missing}-#{Color}", VALUES)
    assert caught.value.unresolved == ["Colour", "Missing"]
    assert "#{Colour} is not defined" in str(caught.value)
    assert "#{Missing} is not defined" in str(caught.value)


def test_an_undefined_name_inside_a_value_says_which_value():
    with pytest.raises(SubstitutionError) as caught:
        substitute("#{Outer}", {"Outer": "#{Inner}"})
    assert caught.value.unresolved == ["Inner"]
    assert "in the value of Outer" in str(caught.value)


def test_a_reference_cycle_is_an_error_naming_the_cycle():
    with pytest.raises(SubstitutionError) as caught:
        substitute("#{A}", {"A": "x#{B}", "B": "#{C}", "C": "#{a}"})
    assert caught.value.cycles == [["A", "B", "C", "a"]]
    assert "A → B → C → a" in str(caught.value)


def test_a_self_reference_is_a_cycle():
    with pytest.raises(SubstitutionError) as caught:
        substitute("#{Self}", {"Self": "#{Self}!"})
    assert caught.value.cycles == [["Self", "Self"]]


def test_a_cycle_and_an_undefined_name_are_both_reported():
    with pytest.raises(SubstitutionError) as caught:
        substitute("#{A} #{Nope}", {"A": "#{B}", "B": "#{A}"})
    assert caught.value.unresolved == ["Nope"]
    assert len(caught.value.cycles) == 1


def test_a_shared_dependency_is_not_a_cycle():
    assert substitute("#{A}", {"A": "#{B}#{B}", "B": "#{C}", "C": "c"}) == "cc"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("#{Color", "is not closed"),
        ("#{}", "without a name"),
        ("#{Color | Shout}", "unknown filter 'Shout'"),
        ("#{Color | Replace}", "Replace takes 1 to 2 argument"),
        ("#{Color | ToLower 1}", "ToLower takes 0 argument"),
        ('#{Color | Replace "a}', "not closed"),
        ("#{Color | }", "empty filter"),
    ],
)
def test_malformed_expressions_are_errors(template, message):
    with pytest.raises(SubstitutionError) as caught:
        substitute(template, VALUES)
    assert message in str(caught.value)


def test_a_tree_is_substituted_and_problems_carry_their_field_path():
    data = {"cluster": "#{Prefix}", "containers": [{"image": "#{Nope}", "port": 80}], "n": None}
    assert substitute_tree({"a": ["#{Color}", 1, True]}, VALUES) == {"a": ["Red", 1, True]}
    with pytest.raises(SubstitutionError) as caught:
        substitute_tree(data, VALUES)
    assert caught.value.field_errors() == {"containers[0].image": ["#{Nope} is not defined"]}
    assert caught.value.field_errors("steps[0].properties") == {
        "steps[0].properties.containers[0].image": ["#{Nope} is not defined"]
    }


def test_prepared_values_are_reused_and_case_insensitive():
    values = Values({"Name": "x"})
    assert "NAME" in values and len(values) == 1
    assert substitute("#{name}", values) == "x"
    assert list(values.names()) == ["Name"]


def test_no_python_is_evaluated():
    with pytest.raises(SubstitutionError):
        substitute("#{__import__('os').getcwd()}", {})
