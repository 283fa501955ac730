"""Release notes: Markdown (CommonMark) rendered to safe HTML.

markdown-it-py renders the notes with raw HTML off, so anything typed as HTML comes out as
text; nh3 then keeps only the tags below and a link's ``href`` and ``title``. Links may point
to http, https and mailto URLs or to a site-relative ``/…`` path, and get
``rel="noopener noreferrer nofollow"``; any other link stays text. Single line breaks are kept,
headings start at ``<h3>`` (the page already has h1 and h2) and images are not shown (their
Markdown stays text). Bare URLs are not linked: write ``<https://…>`` or ``[text](https://…)``.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

TAGS = {"p", "br", "hr", "strong", "em", "code", "pre", "ul", "ol", "li", "a", "blockquote"}
TAGS |= {f"h{level}" for level in range(1, 7)}
# "*" replaces nh3's default attributes for every tag (lang, title): none.
ATTRIBUTES = {"a": {"href", "title"}, "*": set()}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"
# The page already has h1 and h2: ``#`` is an h3.
HEADING_SHIFT = 2


def _link_allowed(url: str) -> bool:
    """http, https, mailto, or a path on this site (``/…`` but not ``//host``)."""
    scheme, colon, _ = url.partition(":")
    if colon and scheme.lower() in URL_SCHEMES:
        return True
    return url.startswith("/") and not url.startswith("//")


def _shift_headings(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable("image")
    md.validateLink = _link_allowed
    md.core.ruler.push("shift_headings", _shift_headings)
    return md


_MD = _markdown()


def notes_html(text: str) -> SafeString:
    """Render release notes (see the module docstring) as safe HTML."""
    rendered = _MD.render(text or "")
    cleaned = nh3.clean(
        rendered,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
    )
    return mark_safe(cleaned.strip())  # noqa: S308 - sanitized by nh3 against the allow-list
