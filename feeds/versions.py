"""Image tags as semantic versions: parsing, SemVer 2 precedence, and one repository's listing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import semver

from .registries import Tag


@dataclass(frozen=True, slots=True)
class PackageVersion:
    """One image tag that parses as a semantic version.

    ``version`` is the normalised version (no leading ``v``); ``tag`` is spelt as in the registry.
    """

    version: str
    tag: str
    digest: str | None = None
    pushed_at: datetime | None = None
    size: int | None = None

    @property
    def is_prerelease(self) -> bool:
        return "-" in self.version.partition("+")[0]


def parse_tag(tag: str) -> semver.Version | None:
    """The semantic version a tag names (``1.2.3``, ``v1.2.3-rc.1``), or None."""
    text = tag[1:] if tag[:1] == "v" else tag
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        return None


def precedence_key(version: semver.Version) -> tuple:
    """A sort key with SemVer 2 precedence (build metadata ignored).

    Comparing these tuples is several times faster than comparing ``semver.Version`` objects,
    which matters on repositories with thousands of tags.
    """
    if not version.prerelease:
        return (version.major, version.minor, version.patch, (1,))
    # A pre-release sorts before its release; numeric identifiers sort numerically and before
    # alphanumeric ones; a longer identifier list wins when the shared prefix is equal.
    parts = tuple(
        (0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.prerelease.split(".")
    )
    return (version.major, version.minor, version.patch, (0, *parts))


def split_tags(tags: Iterable[Tag]) -> tuple[list[PackageVersion], list[Tag]]:
    """Versions newest first by precedence (pre-releases included), and the other tags by name."""
    # Hot path: runs over every tag of a repository on each cold listing.
    keyed = []
    other = []
    for t in tags:
        version = parse_tag(t.tag)
        if version is None:
            other.append(t)
        else:
            # A tag that parses is already the normalised text once the "v" is dropped.
            text = t.tag[1:] if t.tag[:1] == "v" else t.tag
            keyed.append(
                (
                    precedence_key(version),
                    t.tag,
                    PackageVersion(text, t.tag, t.digest, t.pushed_at, t.size),
                )
            )
    keyed.sort(key=lambda item: (item[0], item[1]), reverse=True)
    other.sort(key=lambda t: t.tag)
    return [item[2] for item in keyed], other


@dataclass
class VersionListing:
    """Everything one repository's tags say, as cached: versions and the non-semver tags."""

    versions: list[PackageVersion]
    other: list[Tag]
    fetched_at: datetime
    from_cache: bool = False

    def select(
        self, *, pre: bool = False, q: str = "", limit: int | None = None
    ) -> list[PackageVersion]:
        """Versions newest first; pre-releases only with ``pre``; ``q`` matches within the tag."""
        needle = q.strip().lower()
        result = [
            v
            for v in self.versions
            if (pre or not v.is_prerelease) and (not needle or needle in v.tag.lower())
        ]
        return result[:limit] if limit is not None else result

    def other_tags(self, *, q: str = "") -> list[Tag]:
        needle = q.strip().lower()
        return [t for t in self.other if needle in t.tag.lower()]
