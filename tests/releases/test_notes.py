"""Release notes: Markdown (CommonMark) with raw HTML off, sanitized against an allow-list."""

import re

import pytest

from releases.notes import notes_html
from releases.templatetags.release_notes import release_notes, short_digest

REL = 'rel="noopener noreferrer nofollow"'

ALLOWED_TAG = re.compile(
    r"</?(p|br|hr|strong|em|code|pre|ul|ol|li|blockquote|h[1-6])>"
    r'|<a href="(https?://|mailto:|/)[^"]*"( title="[^"]*")? rel="noopener noreferrer nofollow">'
    r"|</a>"
)

CASES = [
    ("plain text", "<p>plain text</p>"),
    ("two\nlines", "<p>two<br>\nlines</p>"),
    ("one\n\ntwo", "<p>one</p>\n<p>two</p>"),
    ("# Title", "<h3>Title</h3>"),
    ("### Small", "<h5>Small</h5>"),
    ("#### Smaller\n###### Smallest", "<h6>Smaller</h6>\n<h6>Smallest</h6>"),
    ("**bold** and *it* and _it_", "<p><strong>bold</strong> and <em>it</em> and <em>it</em></p>"),
    ("snake_case_name and 2 * 3 * 4", "<p>snake_case_name and 2 * 3 * 4</p>"),
    (r"2\*3\*4", "<p>2*3*4</p>"),
    ("`<b>x</b>`", "<p><code>&lt;b&gt;x&lt;/b&gt;</code></p>"),
    ("`**not bold**`", "<p><code>**not bold**</code></p>"),
    ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
    ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"),
    ("intro\n- a", "<p>intro</p>\n<ul>\n<li>a</li>\n</ul>"),
    ("```\n<tag> & more\n```", "<pre><code>&lt;tag&gt; &amp; more\n</code></pre>"),
    ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
    (
        "[docs](https://example.org/a?b=1&c=2)",
        f'<p><a href="https://example.org/a?b=1&amp;c=2" {REL}>docs</a></p>',
    ),
    # Underscores in a URL are part of the URL, not emphasis.
    (
        "[docs](https://example.com/_private_/page)",
        f'<p><a href="https://example.com/_private_/page" {REL}>docs</a></p>',
    ),
    (
        "see <https://example.com/_private_/page>",
        f'<p>see <a href="https://example.com/_private_/page" {REL}>'
        "https://example.com/_private_/page</a></p>",
    ),
    ("[home](/projects/)", f'<p><a href="/projects/" {REL}>home</a></p>'),
    ("[mail](mailto:ops@example.org)", f'<p><a href="mailto:ops@example.org" {REL}>mail</a></p>'),
    ('[t](/a "Title")', f'<p><a href="/a" title="Title" {REL}>t</a></p>'),
    # Other schemes and other hosts without a scheme stay text.
    ("[f](ftp://example.org/x)", "<p>[f](ftp://example.org/x)</p>"),
    ("[e](//evil.example/x)", "<p>[e](//evil.example/x)</p>"),
]


@pytest.mark.parametrize("text, html", CASES)
def test_markdown(text, html):
    assert notes_html(text) == html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "![x](javascript:alert(1))",
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "<javascript:alert(1)>",
        '[x](https://a.org/" onmouseover="alert(1))',
        '[x](https://a.org/ "t\\" onmouseover=\\"alert(1)")',
        "# <iframe src=//evil>",
        "- <b onclick=alert(1)>",
        "<a href='javascript:alert(1)'>x</a>",
        "<div style='x'>raw</div>",
        "<!-- comment --><p onclick=alert(1)>p</p>",
        "```\n</code></pre><script>alert(1)</script>\n```",
        "`</code><script>alert(1)</script>`",
    ],
)
def test_nothing_a_user_types_becomes_markup_or_script(text):
    html = notes_html(text)
    # Whatever was typed as HTML is escaped: every "<" left opens a tag of the allow-list.
    tags = re.findall(r"<[^>]*>", html)
    assert all(ALLOWED_TAG.fullmatch(tag) for tag in tags), tags
    # Attribute values are quoted and escaped; the names are only those of the allow-list.
    names = {n for tag in tags for n in re.findall(r'\s([^\s=]+)="[^"]*"', tag)}
    assert names <= {"href", "title", "rel"}


def test_every_link_gets_the_rel_and_only_allowed_attributes():
    html = notes_html("[a](https://a.org) [b](/b) <http://c.org>")
    assert html.count("<a ") == 3 and html.count(REL) == 3


def test_the_template_filter_renders_the_same():
    assert release_notes("*Hi*") == notes_html("*Hi*") == "<p><em>Hi</em></p>"


def test_empty_notes_render_nothing():
    assert notes_html("") == "" and notes_html(None) == ""


def test_short_digest():
    assert short_digest("sha256:0123456789abcdef0123") == "0123456789ab"
    assert short_digest("") == ""
