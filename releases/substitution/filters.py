"""The filters substitution expressions may apply: ``#{Name | ToLower}``.

Each entry maps a filter's lower-case name to its function and how many arguments it takes.
"""

from __future__ import annotations

import base64
import html
import json
import urllib.parse
from collections.abc import Callable


def _replace(value: str, old: str, new: str = "") -> str:
    return value.replace(old, new)


def _truncate(value: str, length: str) -> str:
    return value[: int(length)]


def _json_escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


# name (lower case) -> (function, minimum args, maximum args)
FILTERS: dict[str, tuple[Callable[..., str], int, int]] = {
    "tolower": (str.lower, 0, 0),
    "toupper": (str.upper, 0, 0),
    "trim": (str.strip, 0, 0),
    "replace": (_replace, 1, 2),
    "jsonescape": (_json_escape, 0, 0),
    "tobase64": (lambda v: base64.b64encode(v.encode()).decode("ascii"), 0, 0),
    "htmlescape": (html.escape, 0, 0),
    "uriescape": (lambda v: urllib.parse.quote(v, safe=""), 0, 0),
    "truncate": (_truncate, 1, 1),
}
_FILTER_NAMES = (
    "ToLower, ToUpper, Trim, Replace, JsonEscape, ToBase64, HtmlEscape, UriEscape, Truncate"
)
