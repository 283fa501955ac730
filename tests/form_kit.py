"""Rendered forms in tests: read one the way a browser would submit it (``<template>`` content
excluded), read the errors shown under a field, build the POST of the lifecycle form."""

import re
from html.parser import HTMLParser

from django.utils.datastructures import MultiValueDict


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self.template_depth = 0
        self.select: str | None = None
        self.select_value: str | None = None
        self.first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self.template_depth += 1
        if self.template_depth:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "select" and a.get("name"):
            self.select, self.select_value, self.first_option = a["name"], None, None
        elif tag == "option" and self.select:
            value = a.get("value", "")
            if self.first_option is None:
                self.first_option = value
            if "selected" in a:
                self.select_value = value

    def handle_endtag(self, tag):
        if tag == "template":
            self.template_depth -= 1
        elif tag == "select" and self.select and not self.template_depth:
            value = self.select_value if self.select_value is not None else self.first_option
            self.fields.append((self.select, value or ""))
            self.select = None


def form_data(html: str, **overrides) -> MultiValueDict:
    reader = _FormReader()
    reader.feed(html)
    data = MultiValueDict()
    for name, value in reader.fields:
        data.appendlist(name, value)
    for name, value in overrides.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


def as_post(data: MultiValueDict) -> dict:
    return {k: data.getlist(k) for k in data}


def field_errors(response, field: str) -> list[str]:
    """The error messages rendered under ``field`` (its wrapper has class has-error)."""
    html = response.content.decode()
    match = re.search(
        rf'<div class="field has-error[^"]*">\s*<label for="id_{field}">'
        rf'(?:(?!<div class="field).)*?<ul class="field-error">(.*?)</ul>',
        html,
        re.S,
    )
    return re.findall(r"<li>(.*?)</li>", match.group(1)) if match else []


def phase_post(name="Train", slug="", phases=(), total=None, initial=0) -> dict:
    """POST data of the lifecycle form. ``phases``: dicts with name, environments, automatic…"""
    data = {
        "name": name,
        "slug": slug,
        "description": "",
        "phases-TOTAL_FORMS": str(len(phases) if total is None else total),
        "phases-INITIAL_FORMS": str(initial),
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "1000",
    }
    for i, phase in enumerate(phases):
        prefix = f"phases-{i}-"
        data[prefix + "name"] = phase["name"]
        data[prefix + "minimum_environments"] = str(phase.get("minimum", 0))
        data[prefix + "environments"] = [str(e.pk) for e in phase.get("environments", ())]
        data[prefix + "automatic_environments"] = [str(e.pk) for e in phase.get("automatic", ())]
        data[prefix + "ORDER"] = str(phase.get("order", i + 1))
        data[prefix + "DELETE"] = "True" if phase.get("delete") else "False"
        if phase.get("optional"):
            data[prefix + "is_optional"] = "on"
    return data
