"""``{{ release.notes|release_notes }}``: release notes as safe HTML (see releases.notes)."""

from django import template

from ..notes import notes_html

register = template.Library()


@register.filter(name="release_notes")
def release_notes(text: str):
    return notes_html(text)


@register.filter(name="short_digest")
def short_digest(digest: str) -> str:
    """``sha256:0123456789ab…`` → ``0123456789ab``."""
    return (digest or "").partition(":")[2][:12] or (digest or "")[:12]
