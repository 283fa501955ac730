"""AWS ECR feeds, through boto3 clients made by ``deployserver.core.aws`` (role assumed too).

Listings use boto3 paginators. The registry credentials from ``GetAuthorizationToken`` (valid
12 hours on AWS) are cached in the Django cache, encrypted, until shortly before they expire; a
token whose expiry has already passed is never cached.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
    SSLError,
)
from django.core.cache import cache

from deployserver.core import aws, crypto

from .base import (
    InvalidReference,
    Registry,
    RegistryNotFound,
    RegistryUnavailable,
    Tag,
    count_summary,
)

# Renew the registry token this long before AWS says it expires.
TOKEN_RENEW_BEFORE = timedelta(minutes=30)
# The registry host never changes for a feed; remember it so image references cost no AWS call.
HOST_CACHE_SECONDS = 24 * 3600
# A feed page must say quickly that AWS is unreachable: short connect timeout, one retry.
CLIENT_CONFIG = {
    "connect_timeout": 3,
    "read_timeout": 20,
    "retries": {"mode": "standard", "max_attempts": 2},
}
NOT_FOUND_CODES = {"RepositoryNotFoundException", "ImageNotFoundException"}
CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "AccessDeniedException",
    "AccessDenied",
}


def ecr_client(account, region: str):
    """An ECR client for ``account`` in ``region``, reused for a few minutes."""
    return aws.cached_client(account, "ecr", region, **CLIENT_CONFIG)


def clear_clients() -> None:
    aws.clear_clients()


@dataclass(frozen=True)
class EcrAuthorization:
    """Docker credentials for an ECR registry, as GetAuthorizationToken returns them."""

    username: str
    password: str
    proxy_endpoint: str
    expires_at: datetime


class EcrRegistry(Registry):
    """One ECR registry (an account's own, or ``registry_id``'s) in one region."""

    def __init__(self, feed, *, client=None):
        super().__init__(feed)
        self._client = client

    @property
    def client(self):
        if self._client is None:
            with self._errors():
                self._client = ecr_client(self.feed.account, self.feed.region)
        return self._client

    def _registry(self) -> dict:
        return {"registryId": self.feed.registry_id} if self.feed.registry_id else {}

    def _cache_key(self, kind: str) -> str:
        account = self.feed.account
        stamp = f"{account.updated_at.timestamp():.6f}" if account.updated_at else "0"
        scope = self.feed.registry_id or "own"
        return f"feeds:ecr-{kind}:{account.pk}:{stamp}:{self.feed.region}:{scope}"

    # Interface ----------------------------------------------------------------------------

    def test(self) -> str:
        self.authorization()
        return count_summary(len(self.repositories()), "repository", "repositories")

    def repositories(self, q: str = "") -> list[str]:
        needle = q.strip().lower()
        names = []
        with self._errors():
            pages = self.client.get_paginator("describe_repositories").paginate(**self._registry())
            for page in pages:
                names.extend(r["repositoryName"] for r in page["repositories"])
        return sorted(n for n in names if needle in n.lower())

    def tags(self, package_id: str) -> list[Tag]:
        # Hot path: thousands of images; one Tag per tag, untagged images skipped.
        result: list[Tag] = []
        append = result.append
        with self._errors():
            pages = self.client.get_paginator("describe_images").paginate(
                repositoryName=package_id,
                filter={"tagStatus": "TAGGED"},
                PaginationConfig={"PageSize": 1000},
                **self._registry(),
            )
            for page in pages:
                for image in page["imageDetails"]:
                    digest = image.get("imageDigest")
                    pushed_at = image.get("imagePushedAt")
                    if pushed_at is not None:
                        # botocore gives local-time zone objects that are slow to (un)pickle.
                        pushed_at = pushed_at.astimezone(UTC)
                    size = image.get("imageSizeInBytes")
                    for tag in image.get("imageTags") or ():
                        append(Tag(tag, digest, pushed_at, size))
        return result

    def digest(self, package_id: str, tag: str) -> str:
        with self._errors():
            images = self.client.describe_images(
                repositoryName=package_id, imageIds=[{"imageTag": tag}], **self._registry()
            )["imageDetails"]
        if not images:
            raise RegistryNotFound(f"Tag {tag} was not found in repository {package_id}.")
        return images[0]["imageDigest"]

    def host(self) -> str:
        key = self._cache_key("host")
        host = cache.get(key)
        if host is None:
            host = urlsplit(self.authorization().proxy_endpoint).netloc
            cache.set(key, host, HOST_CACHE_SECONDS)
        return host

    # Registry credentials -----------------------------------------------------------------

    def authorization(self) -> EcrAuthorization:
        """Docker credentials for the registry, from the cache while they stay valid."""
        key = self._cache_key("token")
        cached = cache.get(key)
        if cached is not None:
            try:
                return _load_authorization(crypto.decrypt(cached))
            except crypto.DecryptionError:
                cache.delete(key)
        params = {"registryIds": [self.feed.registry_id]} if self.feed.registry_id else {}
        with self._errors():
            data = self.client.get_authorization_token(**params)["authorizationData"][0]
        username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        auth = EcrAuthorization(username, password, data["proxyEndpoint"], data["expiresAt"])
        ttl = (auth.expires_at - datetime.now(UTC) - TOKEN_RENEW_BEFORE).total_seconds()
        if ttl > 0:
            cache.set(key, crypto.encrypt(_dump_authorization(auth)), int(ttl))
        return auth

    # Errors -------------------------------------------------------------------------------

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn AWS and network failures into registry errors a user can act on."""
        try:
            yield
        except aws.AwsError as exc:
            raise RegistryUnavailable(str(exc)) from exc
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code, message = err.get("Code", ""), err.get("Message") or str(exc)
            if code in NOT_FOUND_CODES:
                raise RegistryNotFound(message) from exc
            if code in CREDENTIAL_CODES:
                raise RegistryUnavailable(
                    f"Bad credentials: AWS refused the account's keys ({code}: {message})"
                ) from exc
            raise RegistryUnavailable(f"{code}: {message}") from exc
        except SSLError as exc:
            raise RegistryUnavailable(f"TLS error: {exc}") from exc
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            raise RegistryUnavailable(f"Timeout: {exc}") from exc
        except EndpointConnectionError as exc:
            url = exc.kwargs.get("endpoint_url", "")
            if self.feed.account.endpoint_url:
                raise RegistryUnavailable(f"Connection refused: {url}") from exc
            raise RegistryUnavailable(
                f"Unknown region {self.feed.region} or no network: could not connect to {url}"
            ) from exc
        except ParamValidationError as exc:
            # A name ECR's own rules refuse (e.g. a one-letter repository): the caller's input.
            raise InvalidReference(f"ECR refuses this request: {exc}") from exc
        except BotoCoreError as exc:
            raise RegistryUnavailable(str(exc)) from exc


def _dump_authorization(auth: EcrAuthorization) -> str:
    return json.dumps(
        {
            "username": auth.username,
            "password": auth.password,
            "proxy_endpoint": auth.proxy_endpoint,
            "expires_at": auth.expires_at.isoformat(),
        }
    )


def _load_authorization(raw: str) -> EcrAuthorization:
    data = json.loads(raw)
    return EcrAuthorization(
        data["username"],
        data["password"],
        data["proxy_endpoint"],
        datetime.fromisoformat(data["expires_at"]),
    )
