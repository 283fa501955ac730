"""Query-string flags, parsed one way by the pages and the API.

``?pre=1``, ``?refresh=true``, ``?other=on``: a flag is on for ``1``, ``true``, ``yes`` or
``on`` and off for ``0``, ``false``, ``no``, ``off`` or nothing (any case). Any other value is
not a flag value: the API answers 400 naming the parameter (:class:`FlagField`); a page, which
has no error answer to give for a link, treats it as off.
"""

from rest_framework import serializers

TRUE_VALUES = frozenset({"1", "true", "yes", "on"})
FALSE_VALUES = frozenset({"", "0", "false", "no", "off"})


def parse_flag(value: str | None) -> bool:
    """The flag's value; ``ValueError`` when ``value`` is not one a flag takes."""
    text = (value or "").strip().lower()
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise ValueError(f"'{value}' is not a flag value; use 1/true/yes/on or 0/false/no/off.")


def query_flag(query, name: str) -> bool:
    """Flag ``name`` of a page's query (``request.GET``); off when absent or not a flag value."""
    try:
        return parse_flag(query.get(name))
    except ValueError:
        return False


class FlagField(serializers.BooleanField):
    """A query-string flag in an API parameter serializer: :func:`parse_flag`, 400 otherwise."""

    default_error_messages = {"invalid": "Not a flag value; use 1/true/yes/on or 0/false/no/off."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        try:
            return parse_flag(str(data))
        except ValueError:
            self.fail("invalid")


def query_params(serializer_class, request) -> dict:
    """The request's query parameters validated by ``serializer_class``; 400 with field errors."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
