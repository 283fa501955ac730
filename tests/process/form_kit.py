"""Read a rendered form the way a browser would submit it (``<template>`` content excluded)."""

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
