"""Release notes: a small Markdown subset, everything else escaped."""

import pytest

from deployments.notes import notes_html
from deployments.templatetags.release_notes import short_digest

CASES = [
    ("plain text", "<p>plain text</p>"),
    ("two\nlines", "<p>two<br>lines</p>"),
    ("one\n\ntwo", "<p>one</p>\n<p>two</p>"),
    ("# Title", "<h3>Title</h3>"),
    ("### Small", "<h5>Small</h5>"),
    ("**bold** and *it* and _it_", "<p><strong>bold</strong> and <em>it</em> and <em>it</em></p>"),
    ("snake_case_name and 2*3*4", "<p>snake_case_name and 2*3*4</p>"),
    ("`<b>x</b>`", "<p><code>&lt;b&gt;x&lt;/b&gt;</code></p>"),
    ("`**not bold**`", "<p><code>**not bold**</code></p>"),
    ("- a\n- b", "<ul><li>a</li><li>b</li></ul>"),
    ("1. a\n2. b", "<ol><li>a</li><li>b</li></ol>"),
    ("intro\n- a", "<p>intro</p>\n<ul><li>a</li></ul>"),
    ("```\n<tag> & more\n```", "<pre><code>&lt;tag&gt; &amp; more</code></pre>"),
    (
        "[docs](https://example.org/a?b=1&c=2)",
        '<p><a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener">docs</a></p>',
    ),
    ("[home](/projects/)", '<p><a href="/projects/" rel="nofollow noopener">home</a></p>'),
]


@pytest.mark.parametrize("text, html", CASES)
def test_markdown_subset(text, html):
    assert notes_html(text) == html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        '[x](https://a.org/" onmouseover="alert(1))',
        "# <iframe src=//evil>",
        "- <b onclick=alert(1)>",
    ],
)
def test_nothing_a_user_types_becomes_markup_or_script(text):
    html = notes_html(text)
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert "<b " not in html
    assert 'href="javascript' not in html
    assert '" onmouseover' not in html


def test_empty_notes_render_nothing():
    assert notes_html("") == "" and notes_html(None) == ""


def test_short_digest():
    assert short_digest("sha256:0123456789abcdef0123") == "0123456789ab"
    assert short_digest("") == ""
