"""Docker Registry HTTP API v2 feeds: Docker Hub, GHCR, self-hosted ``registry`` servers.

Authentication: none, HTTP Basic, or the Bearer-token flow (a 401 with ``WWW-Authenticate:
Bearer realm=…,service=…,scope=…`` → fetch a token from the realm → retry). Listings follow
``Link: <…>; rel="next"`` pagination. Tag listings carry no digests: a digest costs one ``HEAD``
of the tag's manifest, so it is only fetched for a chosen tag. A transient failure (a 5xx answer
or a connection reset) of a GET or HEAD is retried twice with a short backoff; a 4xx is not.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from deployserver.core.endpoints import EndpointRefused, PolicyAdapter

from .base import Registry, RegistryNotFound, RegistryUnavailable, Tag, count_summary

# (connect, read) seconds: a dead or silent registry must answer the user within ~5 s.
TIMEOUT = (3.05, 5)
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
# A GET or HEAD answered 5xx, or cut off by the registry, is sent again (at most twice, 0 s then
# 0.2 s later). Neither a 4xx, a refused connection nor a timeout is: those answers stand, and a
# timeout already cost the user its full wait.
RETRIES = 2
RETRY_BACKOFF = 0.1
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Safety net against a registry whose Link headers loop.
MAX_PAGES = 1000
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class _TransientRetry(Retry):
    """urllib3's Retry, except that a read timeout is never retried (it counts as a read error
    there, like a connection reset, which is)."""

    def increment(self, method=None, url=None, response=None, error=None, *args, **kwargs):
        if isinstance(error, ReadTimeoutError):
            raise error
        return super().increment(method, url, response, error, *args, **kwargs)


def _retrying_adapter() -> PolicyAdapter:
    retry = _TransientRetry(
        total=RETRIES,
        connect=0,
        read=RETRIES,
        status=RETRIES,
        other=0,
        allowed_methods=frozenset({"GET", "HEAD"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=RETRY_BACKOFF,
        # The last 5xx answer is reported as such (see _request), not as "too many retries".
        raise_on_status=False,
        # A long Retry-After would outlast the few seconds a user waits for the registry.
        respect_retry_after_header=False,
    )
    return PolicyAdapter(max_retries=retry)


class DockerRegistry(Registry):
    """One Docker Registry v2 endpoint, at the feed's URL."""

    catalog_page_size = 1000
    tags_page_size = 1000

    def __init__(self, feed):
        super().__init__(feed)
        self.base = feed.url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "deployserver"
        # Retries, and every connection (redirects and token services included) checked
        # against the endpoint policy.
        self.session.mount("http://", _retrying_adapter())
        self.session.mount("https://", _retrying_adapter())
        self._basic = None
        if feed.username:
            raw = f"{feed.username}:{feed.password}".encode()
            self._basic = "Basic " + base64.b64encode(raw).decode()
        self._bearer: str | None = None

    # Interface ----------------------------------------------------------------------------

    def test(self) -> str:
        self._request("GET", f"{self.base}/v2/")
        try:
            count = len(self.repositories())
        except RegistryNotFound:
            # Docker Hub and some others do not offer the catalog; the credentials still work.
            return "Connected; this registry does not list its repositories"
        return count_summary(count, "repository", "repositories")

    def repositories(self, q: str = "") -> list[str]:
        needle = q.strip().lower()
        names: list[str] = []
        for data in self._pages(f"{self.base}/v2/_catalog?n={self.catalog_page_size}"):
            names.extend(data.get("repositories") or ())
        return sorted(n for n in names if needle in n.lower())

    def tags(self, package_id: str) -> list[Tag]:
        url = f"{self.base}/v2/{package_id}/tags/list?n={self.tags_page_size}"
        result: list[Tag] = []
        for data in self._pages(url, what=f"Repository {package_id}"):
            result.extend(Tag(t) for t in data.get("tags") or ())
        return result

    def digest(self, package_id: str, tag: str) -> str:
        url = f"{self.base}/v2/{package_id}/manifests/{tag}"
        what = f"Tag {tag} of repository {package_id}"
        headers = {"Accept": MANIFEST_TYPES}
        resp = self._request("HEAD", url, headers=headers, what=what)
        digest = resp.headers.get("Docker-Content-Digest")
        if not digest:
            # Some registries only send the digest with the body; it is the body's sha256.
            resp = self._request("GET", url, headers=headers, what=what)
            digest = resp.headers.get("Docker-Content-Digest") or (
                "sha256:" + hashlib.sha256(resp.content).hexdigest()
            )
        return digest

    def host(self) -> str:
        host = urlsplit(self.base).netloc
        # Docker Hub's API host is not the name people (and docker pull) use.
        return "docker.io" if host == "registry-1.docker.io" else host

    # HTTP ---------------------------------------------------------------------------------

    def _pages(self, url: str, *, what: str = "") -> list[dict]:
        """Every page of a listing, following ``Link: rel="next"``."""
        pages, seen = [], set()
        while url and url not in seen and len(pages) < MAX_PAGES:
            seen.add(url)
            resp = self._request("GET", url, what=what)
            try:
                pages.append(resp.json())
            except ValueError as exc:
                raise RegistryUnavailable(f"The registry answered {url} with non-JSON") from exc
            nxt = resp.links.get("next", {}).get("url")
            url = urljoin(url, nxt) if nxt else ""
        return pages

    def _request(
        self, method: str, url: str, *, headers: dict | None = None, what: str = ""
    ) -> requests.Response:
        headers = dict(headers or {})
        auth = f"Bearer {self._bearer}" if self._bearer else self._basic
        if auth:
            headers["Authorization"] = auth
        resp = self._send(method, url, headers)
        challenge = resp.headers.get("WWW-Authenticate", "")
        if resp.status_code == 401 and challenge.lower().startswith("bearer"):
            # A token is scoped (catalog, one repository): a new scope needs a new token.
            self._bearer = self._fetch_token(challenge)
            headers["Authorization"] = f"Bearer {self._bearer}"
            resp = self._send(method, url, headers)
        if resp.status_code == 401:
            if self._basic:
                raise RegistryUnavailable(
                    f"Bad credentials: {self.host()} refused the username and password (401)"
                )
            raise RegistryUnavailable(
                f"Authentication required: {self.host()} answered 401; set a username and password"
            )
        if resp.status_code == 404:
            reason = _error_text(resp) or "not found"
            raise RegistryNotFound(f"{what}: {reason}" if what else f"{url}: {reason}")
        if resp.status_code == 403:
            raise RegistryUnavailable(f"Access denied by {self.host()} (403): {_error_text(resp)}")
        if resp.status_code >= 400:
            raise RegistryUnavailable(
                f"{self.host()} answered {resp.status_code} {resp.reason}: {_error_text(resp)}"
            )
        return resp

    def _fetch_token(self, challenge: str) -> str:
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = params.pop("realm", "")
        if not realm:
            raise RegistryUnavailable(f"{self.host()} sent a Bearer challenge without a realm")
        headers = {"Authorization": self._basic} if self._basic else {}
        resp = self._send("GET", realm, headers, params=params)
        if resp.status_code in (401, 403):
            raise RegistryUnavailable(
                f"Bad credentials: the token service {urlsplit(realm).netloc} "
                f"refused them ({resp.status_code})"
            )
        if resp.status_code >= 400:
            raise RegistryUnavailable(
                f"The token service {urlsplit(realm).netloc} answered {resp.status_code}"
            )
        try:
            data = resp.json()
            return data.get("token") or data["access_token"]
        except (ValueError, KeyError) as exc:
            raise RegistryUnavailable("The token service answered without a token") from exc

    def _send(
        self, method: str, url: str, headers: dict, params: dict | None = None
    ) -> requests.Response:
        host = urlsplit(url).netloc
        try:
            return self.session.request(
                method, url, headers=headers, params=params, timeout=TIMEOUT, allow_redirects=True
            )
        except EndpointRefused as exc:
            raise RegistryUnavailable(str(exc)) from exc
        except requests.exceptions.SSLError as exc:
            raise RegistryUnavailable(f"TLS error talking to {host}: {_root_cause(exc)}") from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise RegistryUnavailable(
                f"Timeout: no connection to {host} within {TIMEOUT[0]:.0f} s"
            ) from exc
        except requests.exceptions.ReadTimeout as exc:
            raise RegistryUnavailable(
                f"Timeout: {host} did not answer within {TIMEOUT[1]} s"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            text = str(exc)
            if "NameResolution" in text or "Name or service not known" in text:
                raise RegistryUnavailable(f"Unknown host: {host} does not resolve") from exc
            raise RegistryUnavailable(f"Connection refused: {host}") from exc
        except requests.exceptions.RequestException as exc:
            raise RegistryUnavailable(f"{host}: {exc}") from exc


def _error_text(resp: requests.Response) -> str:
    """The registry's own error message (``{"errors": [{"code", "message"}]}``), if any."""
    try:
        errors = resp.json().get("errors") or []
        return "; ".join(e.get("message") or e.get("code", "") for e in errors)
    except (ValueError, AttributeError):
        return resp.text[:200].strip()


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    if exc.args and isinstance(exc.args[-1], BaseException):
        exc = exc.args[-1]
    return str(exc)[:300]
