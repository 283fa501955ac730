"""The REST API over HTTP (the standard library's urllib): JSON in and out, token auth, and
answers sorted into the exit codes of ``errors``.

Network blips are retried with backoff for ``retry_seconds`` (a window that starts at the first
failure and is reset by an answer): a GET always; a POST only when the connection was refused or
the name did not resolve, so the server cannot have seen it — a POST whose answer was lost is not
sent twice (it could queue a second deployment).
"""

import http.client
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from .errors import Refused, Unavailable, UsageError

USER_AGENT = "deployserver-cli"
REQUEST_TIMEOUT = 30.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 8.0
MAX_PAGE_SIZE = 500  # the API's own ceiling


def server_url(raw: str | None) -> str:
    """The server's base URL from ``--server``/``DEPLOYSERVER_URL`` (a trailing ``/api`` too)."""
    if not raw:
        raise UsageError("no server: set DEPLOYSERVER_URL or pass --server")
    url = raw.strip().rstrip("/")
    if url.endswith("/api"):
        url = url[: -len("/api")]
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--server must be an http:// or https:// URL, not {raw!r}")
    return url


def refusal_reason(data, fallback: str) -> str:
    """The server's reason from a 4xx body: ``{"detail": ...}`` or DRF's field errors."""
    if isinstance(data, dict):
        parts = []
        for field, value in data.items():
            messages = value if isinstance(value, list) else [value]
            text = " ".join(m if isinstance(m, str) else json.dumps(m) for m in messages)
            parts.append(text if field in ("detail", "non_field_errors") else f"{field}: {text}")
        if parts:
            return "; ".join(parts)
    if isinstance(data, list) and data:
        return "; ".join(str(m) for m in data)
    return fallback


class _Blip(Exception):
    """A failure worth trying again; ``unsent`` when the request cannot have reached the app."""

    def __init__(self, problem: str, *, unsent: bool):
        super().__init__(problem)
        self.unsent = unsent


class Client:
    """One server and key. Methods return the decoded JSON or raise a ``CliError``."""

    def __init__(self, server: str, api_key: str | None, *, retry_seconds: float = 60.0):
        self.server = server
        self.api_key = api_key
        self.retry_seconds = retry_seconds

    def get(self, path: str, params: dict | None = None):
        return self._request("GET", path, params=params)

    def post(self, path: str, body: dict | None = None):
        return self._request("POST", path, body=body if body is not None else {})

    def get_list(self, path: str, params: dict | None = None, *, limit: int = 50) -> list:
        """Up to ``limit`` objects of a paginated list, reading as many pages as that takes."""
        params = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        size = min(limit, MAX_PAGE_SIZE)
        found: list = []
        page = 1
        while len(found) < limit:
            answer = self.get(path, {**params, "page_size": size, "page": page})
            if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
                raise Unavailable(f"invalid answer from {self.server}{path}: not a list page")
            found.extend(answer["results"])
            if not answer.get("next"):
                break
            page += 1
        return found[:limit]

    # The wire -----------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params=None, body=None):
        url = self.server + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        deadline = None
        backoff = FIRST_BACKOFF
        while True:
            try:
                return self._once(method, url, path, data)
            except _Blip as blip:
                if method != "GET" and not blip.unsent:
                    raise Unavailable(
                        f"{method} {path}: {blip}; the server may have acted on it, "
                        "so it is not sent again"
                    ) from None
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.retry_seconds
                if now >= deadline:
                    raise Unavailable(
                        f"{self.server} unreachable for {self.retry_seconds:g} s: {blip}"
                    ) from None
                time.sleep(min(backoff, deadline - now))
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _once(self, method: str, url: str, path: str, data: bytes | None):
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.api_key:
            headers["Authorization"] = f"Token {self.api_key}"
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        except urllib.error.URLError as exc:
            reason = exc.reason
            unsent = isinstance(reason, ConnectionRefusedError | socket.gaierror)
            raise _Blip(str(reason), unsent=unsent) from None
        except (OSError, http.client.HTTPException) as exc:
            raise _Blip(str(exc) or type(exc).__name__, unsent=False) from None
        return self._answer(method, path, status, raw)

    def _answer(self, method: str, path: str, status: int, raw: bytes):
        try:
            data = json.loads(raw) if raw else None
            is_json = True
        except ValueError:
            data, is_json = None, False
        if status < 300:
            if not is_json:
                raise Unavailable(
                    f"invalid answer from {self.server}{path}: not JSON "
                    "(is DEPLOYSERVER_URL the server's address?)"
                )
            return data
        if status >= 500:
            # A proxy's 502/503/504 (not the API's JSON) is a blip; the API's own 5xx is an answer.
            if status in (502, 503, 504) and not is_json:
                raise _Blip(f"{status} from the server", unsent=False)
            reason = refusal_reason(data, f"the server failed ({method} {path})")
            raise Unavailable(f"{status}: {reason}")
        if status == 401:
            detail = refusal_reason(data, "")
            if not self.api_key:
                raise Refused(401, "no API key: set DEPLOYSERVER_API_KEY or pass --api-key", data)
            if not detail or detail.lower().startswith("invalid api key"):
                raise Refused(401, "invalid API key", data)
            raise Refused(401, detail, data)
        if status == 404 and not is_json:
            raise Refused(404, f"{path} not found (is DEPLOYSERVER_URL the server's address?)")
        raise Refused(status, refusal_reason(data, f"{method} {path} refused"), data)
