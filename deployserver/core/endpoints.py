"""Where the server may connect: the one rule for feed, AWS endpoint and webhook destinations.

``DEPLOYSERVER_ENDPOINT_POLICY`` says which addresses an outgoing connection may reach:

- ``private`` (default): anything but loopback (the server's own Redis, PostgreSQL, admin ports),
  link-local and unspecified addresses; private networks are allowed, since on-premise registries
  and chat servers live there;
- ``public``: public (globally routable) addresses only, for hosted installs;
- ``any``: everything (the local sandbox and the tests).

The cloud metadata addresses (169.254.169.254, fd00:ec2::254) are refused under every policy:
they hand out the host's own credentials. The rule is checked on the URL when it is saved and on
every resolved address when a connection is made (``PolicyAdapter``), so a name that resolves
somewhere else later (DNS rebinding) is still refused.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

POLICIES = ("private", "public", "any")
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class EndpointRefused(ValueError):
    """A destination the endpoint policy does not allow; ``str()`` says why, for a user."""


def endpoint_policy() -> str:
    policy = getattr(settings, "DEPLOYSERVER_ENDPOINT_POLICY", "private")
    return policy if policy in POLICIES else "private"


def address_refusal(address: Address, policy: str | None = None) -> str | None:
    """Why ``address`` may not be reached under ``policy``, or None when it may."""
    policy = policy or endpoint_policy()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address, which is never reached"
    if policy == "any":
        return None
    if address.is_loopback or address.is_unspecified:
        return f"{address} is a loopback address (policy '{policy}')"
    if address.is_link_local:
        return f"{address} is a link-local address (policy '{policy}')"
    if address.is_multicast:
        return f"{address} is a multicast address (policy '{policy}')"
    if policy == "public" and not address.is_global:
        return f"{address} is not a public address (policy 'public')"
    return None


def _resolve(host: str, port: int) -> list[tuple]:
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []


def check_endpoint(url: str, *, policy: str | None = None) -> None:
    """Refuse ``url`` when its host is, or resolves to, an address the policy forbids.

    A host that does not resolve now is not refused here: the check at connect time covers it.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 80
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        addresses = [
            ipaddress.ip_address(info[4][0].split("%")[0]) for info in _resolve(host, port)
        ]
    for address in addresses:
        reason = address_refusal(address, policy)
        if reason:
            shown = host if str(address) == host else f"{host} ({address})"
            raise EndpointRefused(f"{shown} is not allowed: {reason}.")


def _connect_checked(host: str, port: int, timeout, source_address, socket_options):
    """Connect to an allowed address of ``host``: the address checked is the one connected to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)  # gaierror: no such host
    last: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        reason = address_refusal(ipaddress.ip_address(sockaddr[0].split("%")[0]))
        if reason:
            raise EndpointRefused(f"{host} is not allowed: {reason}.")
        sock = socket.socket(family, kind, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            last = exc
            sock.close()
    raise last or OSError(f"no address of {host} answered")


class _CheckedConnectionMixin:
    """urllib3's own ``_new_conn``, with the policy checked between resolving and connecting."""

    def _new_conn(self):
        try:
            return _connect_checked(
                self._dns_host, self.port, self.timeout, self.source_address, self.socket_options
            )
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc


class _CheckedHTTPConnection(_CheckedConnectionMixin, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnectionMixin, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class PolicyAdapter(HTTPAdapter):
    """A requests transport whose every connection (redirects and token realms included) is
    checked against the endpoint policy on the address actually connected to."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _CheckedHTTPPool,
            "https": _CheckedHTTPSPool,
        }
