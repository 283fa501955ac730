"""Bad requests get a clear answer, never a 500: JSON under ``/api/``, a page elsewhere.

- A NUL character in the query string (which PostgreSQL cannot store or compare) is refused with
  400 before any view runs.
- A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused with 413.
- JSON nested too deeply for the parser is a 400, not a ``RecursionError``.
- Under ``/api/``, Django's own 400/403/404/500 answers are JSON like every other API answer.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from deployserver.core.access import AccessDenied

log = logging.getLogger(__name__)

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def refusal(request: HttpRequest, status: int, detail: str) -> HttpResponse:
    """A refusal in the form the caller reads: JSON for the API, a page for a browser."""
    if is_api(request):
        return JsonResponse({"detail": detail}, status=status)
    return render(request, "error.html", {"status": status, "detail": detail}, status=status)


class RequestGuardMiddleware:
    """Refuse what no view can handle before it reaches one (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return refusal(request, 400, "The query string holds a NUL character (%00).")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refusal(request, 400, "The Content-Length header is not a number.")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return refusal(
                request, 413, f"The request body is {length} bytes; at most {limit} are accepted."
            )
        return self.get_response(request)


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, with a nesting too deep for Python's parser answered as a 400 and
    NUL characters (which PostgreSQL cannot store) refused."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc
        if _holds_nul(data):
            raise ParseError("JSON parse error - strings may not hold NUL (\\u0000) characters.")
        return data


def _holds_nul(data) -> bool:
    """Whether any string (key or value) in parsed JSON holds a NUL; iterative, so a document
    as deep as the parser accepts is walked without recursion."""
    pending = [data]
    while pending:
        node = pending.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return True
        elif isinstance(node, dict):
            pending.extend(node.keys())
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return False


# handler400/403/404/500 (wired in deployserver.urls): JSON under /api/, Django's pages elsewhere.


def bad_request(request, exception=None):
    if is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    """403 with the reason the access rule gave; a refused write is audited (rate-limited)."""
    if isinstance(exception, AccessDenied):
        exception.record()
    detail = str(exception) if exception and str(exception) else ""
    if is_api(request):
        return JsonResponse({"detail": detail or "You may not do this."}, status=403)
    return render(request, "403.html", {"detail": detail}, status=403)


def page_not_found(request, exception=None):
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api(request):
        return JsonResponse(
            {"detail": "The server failed to answer this request; the error was logged."},
            status=500,
        )
    return defaults.server_error(request)
