"""Registry clients behind one interface: ``registry_for(feed)`` picks the one for a feed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import (
    InvalidReference,
    Registry,
    RegistryError,
    RegistryNotFound,
    RegistryUnavailable,
    Tag,
    check_reference,
)

if TYPE_CHECKING:
    from feeds.models import Feed

__all__ = [
    "InvalidReference",
    "check_reference",
    "Registry",
    "RegistryError",
    "RegistryNotFound",
    "RegistryUnavailable",
    "Tag",
    "registry_for",
]


def registry_for(feed: Feed) -> Registry:
    """The client for ``feed``'s type (imported lazily: only ECR feeds need boto3)."""
    if feed.feed_type == "aws-ecr":
        from .ecr import EcrRegistry

        return EcrRegistry(feed)
    if feed.feed_type == "docker-registry":
        from .docker import DockerRegistry

        return DockerRegistry(feed)
    raise RegistryError(f"Unknown feed type {feed.feed_type!r}", status=400)
