"""The one door to AWS credentials: boto3 sessions and clients built from an ``AwsAccount``.

Nothing else in the project constructs AWS credentials. Clients use botocore's adaptive retry
mode and short timeouts; an account's ``endpoint_url`` (moto, LocalStack, VPC endpoints) applies
to every client made from it. With a ``role_arn`` the account's keys only assume that role; the
temporary credentials are cached per process until shortly before they expire. ``cached_client``
keeps built clients for a few minutes, less than that margin.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from .endpoints import EndpointRefused, check_endpoint

if TYPE_CHECKING:
    from .models import AwsAccount

ROLE_SESSION_NAME = "deployserver"
_RENEW_BEFORE = timedelta(minutes=5)
# Building a boto3 client costs 50-300 ms (service model, endpoint rules): more than parsing a
# thousand tags. Clients are thread-safe, so each process reuses one per account version,
# service, region and config for less than the margin above: a reused client never holds
# assumed-role keys about to expire.
CLIENT_REUSE_SECONDS = (_RENEW_BEFORE - timedelta(minutes=1)).total_seconds()


class AwsError(Exception):
    """An AWS call failed; ``str()`` is a message fit for a user or a deployment log."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None):
        super().__init__(message)
        self.code = code
        self.status = status


def describe_error(exc: BaseException) -> AwsError:
    """Turn a botocore exception into an ``AwsError`` with AWS's own code and message."""
    if isinstance(exc, AwsError):
        return exc
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "")
        message = err.get("Message") or str(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        op = getattr(exc, "operation_name", "")
        return AwsError(
            f"{op}: {code}: {message}" if op else f"{code}: {message}", code=code, status=status
        )
    if isinstance(exc, BotoCoreError):
        return AwsError(str(exc), code=type(exc).__name__)
    return AwsError(str(exc), code=type(exc).__name__)


def client_config(**overrides: Any) -> Config:
    options = {
        "retries": {"mode": "adaptive", "max_attempts": settings.AWS_MAX_ATTEMPTS},
        "connect_timeout": settings.AWS_CONNECT_TIMEOUT,
        "read_timeout": settings.AWS_READ_TIMEOUT,
        "user_agent_extra": "deployserver",
    }
    options.update(overrides)
    return Config(**options)


@dataclass(frozen=True)
class _RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: datetime


_role_cache: dict[tuple, _RoleCredentials] = {}
_role_lock = threading.Lock()


def _base_session(account: AwsAccount, region: str) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=account.access_key_id,
        aws_secret_access_key=account.secret_access_key,
        region_name=region,
    )


def _assume_role(account: AwsAccount, region: str) -> _RoleCredentials:
    key = (account.pk, account.access_key_id, account.role_arn, account.endpoint_url)
    now = datetime.now(UTC)
    with _role_lock:
        cached = _role_cache.get(key)
        if cached and cached.expires_at - _RENEW_BEFORE > now:
            return cached
    sts = _base_session(account, region).client(
        "sts", endpoint_url=_endpoint(account), config=client_config()
    )
    params = {"RoleArn": account.role_arn, "RoleSessionName": ROLE_SESSION_NAME}
    if account.external_id:
        params["ExternalId"] = account.external_id
    try:
        creds = sts.assume_role(**params)["Credentials"]
    except (ClientError, BotoCoreError) as exc:
        raise describe_error(exc) from exc
    result = _RoleCredentials(
        creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], creds["Expiration"]
    )
    if result.expires_at - _RENEW_BEFORE > now:
        with _role_lock:
            _role_cache[key] = result
    return result


def session_for(account: AwsAccount, region: str | None = None) -> boto3.Session:
    """A boto3 session with the account's credentials (or its assumed role's)."""
    region = region or account.region
    if not account.secret_access_key:
        raise AwsError(
            f"AWS account {account.name} has no secret access key (it is cleared when the "
            "endpoint URL or the role changes); enter it again.",
            code="NoSecretAccessKey",
        )
    if not account.role_arn:
        return _base_session(account, region)
    creds = _assume_role(account, region)
    return boto3.Session(
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        aws_session_token=creds.session_token,
        region_name=region,
    )


def _endpoint(account: AwsAccount) -> str | None:
    """The account's endpoint URL, checked against the endpoint policy now (its name may
    resolve elsewhere than when it was saved)."""
    if not account.endpoint_url:
        return None
    try:
        check_endpoint(account.endpoint_url)
    except EndpointRefused as exc:
        raise AwsError(str(exc), code="EndpointRefused") from exc
    return account.endpoint_url


def client(account: AwsAccount, service: str, region: str | None = None, **config: Any):
    """A boto3 client for ``service`` in ``region`` (default: the account's region)."""
    endpoint = _endpoint(account)
    return session_for(account, region).client(
        service, endpoint_url=endpoint, config=client_config(**config)
    )


_clients: dict[tuple, tuple[float, Any]] = {}
_clients_lock = threading.Lock()


def cached_client(
    account: AwsAccount,
    service: str,
    region: str | None = None,
    *,
    factory: Callable[..., Any] | None = None,
    **config: Any,
):
    """A client from ``factory`` (default ``client``, looked up at each call so tests may swap
    it), reused for ``CLIENT_REUSE_SECONDS``.

    The key holds the account's pk, ``updated_at`` and endpoint, so an edited account gets a new
    client at once; it holds the factory too, so a swapped factory gets its own clients.
    """
    factory = factory or client
    region = region or account.region
    key = (
        factory,
        account.pk,
        account.updated_at,
        account.endpoint_url,
        service,
        region,
        repr(sorted(config.items())),
    )
    now = time.monotonic()
    with _clients_lock:
        hit = _clients.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    made = factory(account, service, region, **config)
    with _clients_lock:
        for stale in [k for k, (until, _) in _clients.items() if until <= now]:
            del _clients[stale]
        _clients[key] = (now + CLIENT_REUSE_SECONDS, made)
    return made


def clear_clients() -> None:
    """Forget every reused client (tests start from none)."""
    with _clients_lock:
        _clients.clear()


def account_check(account: AwsAccount) -> str:
    """Call STS GetCallerIdentity; returns the ARN the credentials act as."""
    try:
        return client(account, "sts").get_caller_identity()["Arn"]
    except (ClientError, BotoCoreError) as exc:
        raise describe_error(exc) from exc
