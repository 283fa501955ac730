"""The interface every registry client implements, and the errors they raise."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feeds.models import Feed


class RegistryError(Exception):
    """A registry call failed; ``str()`` is a message fit for a user, ``status`` an HTTP status."""

    status = 502

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class RegistryNotFound(RegistryError):
    """The repository, tag or image does not exist in the registry."""

    status = 404


class RegistryUnavailable(RegistryError):
    """The registry could not be reached or refused us: network, TLS, credentials, 5xx."""

    status = 502


class InvalidReference(RegistryError):
    """A repository name or tag that no registry accepts; asking would only mislead."""

    status = 400


# The grammar of the OCI distribution spec (ECR uses the same).
REPOSITORY_NAME = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
TAG_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def check_reference(package_id: str, tag: str | None = None) -> None:
    """Refuse names the registry would never have, before they reach a URL or an API call."""
    if len(package_id) > 255 or not REPOSITORY_NAME.fullmatch(package_id):
        raise InvalidReference(
            f"{package_id!r} is not a repository name (lower-case letters, digits, "
            "separators . _ - and / between path components)."
        )
    if tag is not None and not TAG_NAME.fullmatch(tag):
        raise InvalidReference(f"{tag!r} is not an image tag.")


@dataclass(frozen=True, slots=True)
class Tag:
    """One tag of a repository, with what the registry tells about its image."""

    tag: str
    digest: str | None = None
    pushed_at: datetime | None = None
    size: int | None = None


class Registry(ABC):
    """A client for one feed's registry. Instances are cheap and short-lived (one per call)."""

    def __init__(self, feed: Feed):
        self.feed = feed

    @abstractmethod
    def test(self) -> str:
        """Authenticate and list repositories; a short summary such as ``3 repositories``."""

    @abstractmethod
    def repositories(self, q: str = "") -> list[str]:
        """Repository names containing ``q`` (case-insensitive), sorted."""

    @abstractmethod
    def tags(self, package_id: str) -> list[Tag]:
        """Every tag of a repository, in no particular order. Raises ``RegistryNotFound``."""

    @abstractmethod
    def digest(self, package_id: str, tag: str) -> str:
        """The manifest digest (``sha256:…``) a tag points at. Raises ``RegistryNotFound``."""

    @abstractmethod
    def host(self) -> str:
        """The registry host as it appears in image references (``host[:port]``)."""

    def repository_reference(self, package_id: str) -> str:
        """``host/repo``: an image reference without its tag or digest."""
        return f"{self.host()}/{package_id}"

    def image_reference(
        self, package_id: str, *, tag: str | None = None, digest: str | None = None
    ) -> str:
        """``host/repo@digest`` when a digest is given, else ``host/repo:tag``."""
        if not tag and not digest:
            raise ValueError("an image reference needs a tag or a digest")
        base = self.repository_reference(package_id)
        return f"{base}@{digest}" if digest else f"{base}:{tag}"


def count_summary(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"
