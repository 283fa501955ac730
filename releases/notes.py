"""Release notes: a small, safe subset of Markdown rendered to HTML.

Everything is escaped first; only the markup below is then produced, so notes can never
inject HTML or scripts. Supported: paragraphs (single line breaks kept), ``#``–``###``
headings, ``-``/``*`` and ``1.`` lists, fenced code blocks, ```code```, ``**bold**``,
``*italic*`` and ``[text](https://…)`` links (http, https, mailto and site-relative ``/…`` only).
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_HEADING = re.compile(r"^(#{1,3})\s+(.+)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.+)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.+)$")
_CODE_SPAN = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)|(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|mailto:|/)[^)\s]*)\)")


def _inline(text: str) -> str:
    """Escape ``text`` and apply the inline markup; code spans are left as typed."""
    parts = _CODE_SPAN.split(text)
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(f"<code>{escape(part)}</code>")
            continue
        html = escape(part)
        html = _LINK.sub(r'<a href="\2" rel="nofollow noopener">\1</a>', html)
        html = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", html)
        html = _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", html)
        out.append(html)
    return "".join(out)


def notes_html(text: str) -> SafeString:
    """Render release notes (see the module docstring) as safe HTML."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            body = "".join(f"<li>{_inline(item)}</li>" for item in items)
            blocks.append(f"<{list_tag}>{body}</{list_tag}>")
            items.clear()
            list_tag = ""

    index = 0
    while index < len(lines):
        line = lines[index]
        if line.strip().startswith("```"):
            flush()
            code = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            blocks.append(f"<pre><code>{escape(chr(10).join(code))}</code></pre>")
        elif not line.strip():
            flush()
        elif heading := _HEADING.match(line):
            flush()
            level = len(heading.group(1)) + 2  # the page already has h1 and h2
            blocks.append(f"<h{level}>{_inline(heading.group(2).strip())}</h{level}>")
        elif (bullet := _BULLET.match(line)) or (numbered := _NUMBERED.match(line)):
            tag = "ul" if bullet else "ol"
            if paragraph or (items and list_tag != tag):
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1))
        else:
            if items:
                flush()
            paragraph.append(line.strip())
        index += 1
    flush()
    return mark_safe("\n".join(blocks))  # noqa: S308 - every piece above was escaped
