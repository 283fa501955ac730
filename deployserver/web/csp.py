"""The Content-Security-Policy header, on every response.

Scripts come from this site only: no inline script, no event-handler attribute, no eval. The
pages attach their behaviours from ``static/js``, htmx runs with ``allowEval`` off, and Swagger
UI loads its start-up script as a separate response (drf-spectacular's split view). Styles may
be inline (style attributes, htmx's indicator style, Swagger UI's own).

The policy is ``settings.CONTENT_SECURITY_POLICY``, a dict of directive → list of sources; an
empty list writes the directive alone (``upgrade-insecure-requests``). A view that needs another
policy sets the header itself and keeps it.
"""

from django.conf import settings

HEADER = "Content-Security-Policy"

DEFAULT_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def build_policy(directives: dict[str, list[str]]) -> str:
    """``{"script-src": ["'self'"], …}`` → ``"script-src 'self'; …"``, in the dict's order."""
    return "; ".join(
        " ".join([name, *sources]) for name, sources in directives.items() if sources is not None
    )


def merge_policy(base: dict[str, list[str]], extra: str) -> dict[str, list[str]]:
    """Add the sources of ``extra`` (``"img-src https://a; connect-src https://b"``) to ``base``.

    A directive ``base`` lacks is added; a source already there is not repeated.
    """
    merged = {name: list(sources) for name, sources in base.items()}
    for part in extra.split(";"):
        words = part.split()
        if not words:
            continue
        name, sources = words[0].lower(), words[1:]
        current = merged.setdefault(name, [])
        current.extend(s for s in sources if s not in current)
    return merged


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.value = build_policy(getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_POLICY))

    def __call__(self, request):
        response = self.get_response(request)
        if self.value and HEADER not in response:
            response[HEADER] = self.value
        return response
