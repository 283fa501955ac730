"""Writes and rules for feeds, and the reads that go to a registry.

Registry listings are cached in the Django cache (Redis in production) per feed and package for
``FEED_CACHE_SECONDS`` (60 by default); ``refresh=True`` fetches again. Editing a feed or its AWS
account changes the cache keys, so a listing never outlives the settings it was fetched with.
Registry failures raise ``feeds.registries.RegistryError`` (``status`` 404 or 502).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from deployserver.core.access import Action, require
from deployserver.core.audit import (
    audit_record,
    audited_delete,
    audited_save,
    secret_unbind,
    secret_unbound,
)
from deployserver.core.models import AuditEvent

from .models import Feed
from .registries import RegistryError, Tag, check_reference, registry_for
from .versions import PackageVersion, VersionListing, split_tags

__all__ = [
    "PackageVersion",
    "RegistryError",
    "VersionListing",
    "feed_create",
    "feed_delete",
    "feed_for_hook_token",
    "feed_hook_token_rotate",
    "feed_image_reference",
    "feed_packages",
    "feed_password_unbound",
    "feed_repository_reference",
    "feed_resolve_digest",
    "feed_test",
    "feed_update",
    "feed_version_listing",
    "feed_versions",
]

FEED_FIELDS = (
    "name",
    "slug",
    "feed_type",
    "account",
    "region",
    "registry_id",
    "url",
    "username",
    "password",
)
# Masked in the audit log; the hook token is never in a service's data, only made here.
FEED_SECRETS = ("password", "hook_token", "hook_token_hash")
ECR_ONLY = {"account": None, "region": "", "registry_id": ""}
DOCKER_ONLY = {"url": "", "username": "", "password": ""}


def _cache_seconds() -> int:
    return settings.FEED_CACHE_SECONDS


# Writes -------------------------------------------------------------------------------------


def _prepare(feed: Feed) -> None:
    """Rules across a feed's fields, once the submitted ones are set."""
    # Fields of the other feed type are cleared, so switching type leaves nothing stale behind.
    for name, empty in (DOCKER_ONLY if feed.is_ecr else ECR_ONLY).items():
        setattr(feed, name, empty)
    if feed.is_ecr and not feed.region and feed.account_id:
        feed.region = feed.account.region
    if not feed.username:
        # Anonymous access: a password without a username means nothing.
        feed.password = ""


@transaction.atomic
def feed_create(*, user, **data) -> Feed:
    require(user, Action.ADMIN)
    feed = audited_save(
        Feed(),
        user=user,
        data=data,
        fields=FEED_FIELDS,
        secret_fields=FEED_SECRETS,
        prepare=_prepare,
    )
    _set_hook_token(feed)
    return feed


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _set_hook_token(feed: Feed) -> str:
    token = secrets.token_urlsafe(32)
    feed.hook_token, feed.hook_token_hash = token, _token_hash(token)
    # Not through save(): the feed's updated_at (and so its cached listings) stay as they are.
    Feed.objects.filter(pk=feed.pk).update(
        hook_token=feed.hook_token, hook_token_hash=feed.hook_token_hash
    )
    return token


@transaction.atomic
def feed_hook_token_rotate(*, feed: Feed, user) -> str:
    """Give ``feed`` a new push hook token (the old URL answers 404 from now on)."""
    require(user, Action.ADMIN)
    token = _set_hook_token(feed)
    audit_record(
        user=user,
        action=AuditEvent.Action.UPDATE,
        obj=feed,
        summary=f"Made a new push hook URL for feed {feed.name}",
    )
    return token


def feed_for_hook_token(token: str) -> Feed | None:
    """The feed whose push hook token is ``token``, or None.

    The lookup is by the token's SHA-256, so the time it takes says nothing about how much of a
    guessed token was right.
    """
    if not token or len(token) > 200:
        return None
    return Feed.objects.filter(hook_token_hash=_token_hash(token)).first()


# A stored password was entered for one registry and one user: it never follows them elsewhere.
PASSWORD_BOUND_TO = ("url", "username")


def feed_password_unbound(feed: Feed, data: dict) -> list[str]:
    """The fields whose change in ``data`` clears ``feed``'s stored password (none supplied)."""
    return secret_unbound(feed, data, secret="password", bound_to=PASSWORD_BOUND_TO)


@transaction.atomic
def feed_update(*, feed: Feed, user, **data) -> Feed:
    """Update a feed. An empty or missing ``password`` keeps the stored one, unless the URL or
    the username changes: then the password is cleared unless the same update supplies it."""
    require(user, Action.ADMIN)
    notes = secret_unbind(feed, data, secret="password", bound_to=PASSWORD_BOUND_TO)
    return audited_save(
        feed,
        user=user,
        data=data,
        fields=FEED_FIELDS,
        secret_fields=FEED_SECRETS,
        prepare=_prepare,
        list_changes=True,
        secret_notes=notes,
    )


@transaction.atomic
def feed_delete(*, feed: Feed, user) -> None:
    """Delete a feed no process or release refers to (refused, naming them, otherwise)."""
    require(user, Action.ADMIN)
    audited_delete(feed, user=user)


# Registry reads -----------------------------------------------------------------------------


def _cache_key(feed: Feed, kind: str, package_id: str = "") -> str:
    stamps = [feed.updated_at.timestamp() if feed.updated_at else 0]
    if feed.account_id:
        stamps.append(feed.account.updated_at.timestamp())
    # Package ids may hold any character; a hash keeps the key short and safe for any backend.
    package = hashlib.sha1(package_id.encode()).hexdigest()[:20]
    return f"feeds:{kind}:{feed.pk}:{'-'.join(f'{s:.6f}' for s in stamps)}:{package}"


def feed_test(feed: Feed) -> str:
    """Authenticate against the registry and list it: a summary such as ``3 repositories``."""
    return registry_for(feed).test()


def feed_packages(feed: Feed, q: str = "", *, refresh: bool = False) -> list[str]:
    """Repository names containing ``q``, sorted; the full list is cached, ``q`` filters it."""
    key = _cache_key(feed, "packages")
    names = None if refresh else cache.get(key)
    if names is None:
        names = registry_for(feed).repositories()
        cache.set(key, names, _cache_seconds())
    needle = q.strip().lower()
    return [n for n in names if needle in n.lower()]


def feed_version_listing(feed: Feed, package_id: str, *, refresh: bool = False) -> VersionListing:
    """One repository's tags split into versions (newest first) and other tags, cached."""
    # Hot path: a warm call is one cache read; tuples unpickle much faster than dataclasses.
    check_reference(package_id)
    key = _cache_key(feed, "versions", package_id)
    cached = None if refresh else cache.get(key)
    if cached is not None:
        fetched_at, versions, other = cached
        return VersionListing(
            [PackageVersion(*v) for v in versions],
            [Tag(*t) for t in other],
            fetched_at,
            from_cache=True,
        )
    versions, other = split_tags(registry_for(feed).tags(package_id))
    listing = VersionListing(versions, other, datetime.now(UTC))
    cache.set(
        key,
        (
            listing.fetched_at,
            [(v.version, v.tag, v.digest, v.pushed_at, v.size) for v in versions],
            [(t.tag, t.digest, t.pushed_at, t.size) for t in other],
        ),
        _cache_seconds(),
    )
    return listing


def feed_versions(
    feed: Feed, package_id: str, *, pre: bool = False, refresh: bool = False
) -> list[PackageVersion]:
    """A repository's versions, newest first by SemVer precedence; pre-releases with ``pre``."""
    return feed_version_listing(feed, package_id, refresh=refresh).select(pre=pre)


def feed_resolve_digest(feed: Feed, package_id: str, tag: str) -> str:
    """The digest a tag points at now (ECR: DescribeImages; Docker v2: one manifest HEAD)."""
    check_reference(package_id, tag)
    return registry_for(feed).digest(package_id, tag)


def feed_image_reference(
    feed: Feed, package_id: str, *, tag: str | None = None, digest: str | None = None
) -> str:
    """``host/repo@sha256:…`` when a digest is given, else ``host/repo:tag``."""
    check_reference(package_id, tag)
    return registry_for(feed).image_reference(package_id, tag=tag, digest=digest)


def feed_repository_reference(feed: Feed, package_id: str) -> str:
    """``host/repo``, the image reference without tag or digest."""
    check_reference(package_id)
    return registry_for(feed).repository_reference(package_id)
