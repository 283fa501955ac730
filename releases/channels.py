"""Channels: version rules per package reference, and the services that write them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import nodesemver
import semver
from django.core.exceptions import ValidationError
from django.db import transaction

from deployserver.core.access import Action, require
from deployserver.core.audit import audit_record, audited_save
from deployserver.core.models import AuditEvent

from .models import Channel, Project

CHANNEL_FIELDS = ("name", "slug", "description", "lifecycle", "rules")
RULE_KEYS = {"packages", "version_range", "prerelease"}
# ``==1.2.3`` was accepted before npm-style ranges; it still means ``=1.2.3``.
_OLD_EQUALS = re.compile(r"(^|[\s|])==(?=[\sv\d])")
RANGE_FORMS = ">=1.0.0 <2.0.0, ^1.2, ~1.2.3, 1.x or 1.2.3; join alternatives with ||"


@dataclass(frozen=True)
class Rule:
    packages: tuple[str, ...]
    version_range: str
    prerelease: str

    def applies_to(self, ref: str) -> bool:
        return not self.packages or ref in self.packages

    def describe(self) -> str:
        parts = []
        if self.version_range:
            parts.append(f"version range {self.version_range}")
        if self.prerelease:
            parts.append(f"pre-release pattern {self.prerelease}")
        return " and ".join(parts) or "no constraint"

    def allows(self, version: str) -> bool:
        parsed = semver.Version.parse(version)
        if self.version_range and not _in_range(version, self.version_range):
            return False
        if self.prerelease:
            return re.search(self.prerelease, parsed.prerelease or "") is not None
        return True


def _parse_range(version_range: str) -> nodesemver.Range:
    """The npm-style range ``version_range`` (commas also separate comparators, ``==`` is ``=``),
    parsed strictly; ValueError naming the accepted forms for anything else."""
    text = _OLD_EQUALS.sub(r"\1=", version_range.replace(",", " ")).strip()
    refusal = ValueError(
        f"'{version_range.strip()}' is not a version comparison or range (use {RANGE_FORMS})."
    )
    # npm reads an empty alternative (``1.2.3 ||``) as "any version": a typo, refused.
    if not text or any(not part.strip() for part in text.split("||")):
        raise refusal
    try:
        return nodesemver.make_range(text, loose=False)
    except ValueError as exc:
        raise refusal from exc


def _in_range(version: str, version_range: str) -> bool:
    """Whether ``version`` satisfies one alternative of the range, every comparator compared by
    semver precedence. Unlike npm's default, a pre-release is not excluded here: whether a
    channel takes pre-releases is its pre-release pattern's business (see ``Rule.allows``)."""
    try:
        parsed = _parse_range(version_range)
    except ValueError:
        return False  # a range stored before the current rules: nothing satisfies it
    return any(all(c.test(version) for c in alternative) for alternative in parsed.set)


def comparators(version_range: str) -> list[str]:
    """``"^1.2 || 2.0.x"`` → ``[">=1.2.0 <2.0.0", ">=2.0.0 <2.1.0"]``: the comparators of each
    alternative; ValueError with the accepted forms for anything that is not a range."""
    return [" ".join(c.value for c in alt) or "*" for alt in _parse_range(version_range).set]


def channel_rules(channel: Channel) -> list[Rule]:
    return [
        Rule(tuple(r.get("packages") or ()), r.get("version_range", ""), r.get("prerelease", ""))
        for r in channel.rules or []
    ]


def channel_check(channel: Channel, ref: str, version: str) -> str | None:
    """The first rule of ``channel`` that ``version`` of ``ref`` breaks, described; else None."""
    for rule in channel_rules(channel):
        if rule.applies_to(ref) and not rule.allows(version):
            return f"Channel {channel.name} allows {ref} only with {rule.describe()}."
    return None


def channel_allows_prerelease(channel: Channel, ref: str) -> bool:
    """Whether a pre-release of ``ref`` could satisfy the channel (then the newest may be one)."""
    return any(
        r.applies_to(ref) and r.prerelease and not re.fullmatch(r"\^?\$", r.prerelease)
        for r in channel_rules(channel)
    )


def _clean_rules(rules: Iterable) -> list[dict]:
    if not isinstance(rules, list):
        raise ValidationError({"rules": ["Rules are a list of objects."]})
    errors, cleaned = [], []
    for index, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or set(rule) - RULE_KEYS:
            errors.append(f"Rule {index}: only {', '.join(sorted(RULE_KEYS))} are allowed.")
            continue
        packages = rule.get("packages") or []
        if not isinstance(packages, list) or not all(isinstance(p, str) for p in packages):
            errors.append(f"Rule {index}: packages is a list of package reference names.")
        version_range = (rule.get("version_range") or "").strip()
        prerelease = rule.get("prerelease") or ""
        if version_range:
            try:
                comparators(version_range)
            except ValueError as exc:
                errors.append(f"Rule {index}: {exc}")
        try:
            re.compile(prerelease)
        except re.error as exc:
            errors.append(f"Rule {index}: the pre-release pattern is not a valid regex ({exc}).")
        if not version_range and not prerelease:
            errors.append(f"Rule {index}: give a version range, a pre-release pattern or both.")
        cleaned.append(
            {"packages": packages, "version_range": version_range, "prerelease": prerelease}
        )
    if errors:
        raise ValidationError({"rules": errors})
    return cleaned


def _save(channel: Channel, *, user, data: dict) -> Channel:
    if "rules" in data:
        data["rules"] = _clean_rules(data["rules"])
    return audited_save(
        channel,
        user=user,
        data=data,
        fields=CHANNEL_FIELDS,
        describe=lambda c: f"channel {c.name} of {c.project.name}",
    )


@transaction.atomic
def channel_create(*, project: Project, user, **data) -> Channel:
    require(user, Action.EDIT, project)
    return _save(Channel(project=project), user=user, data=data)


@transaction.atomic
def channel_update(*, channel: Channel, user, **data) -> Channel:
    require(user, Action.EDIT, channel.project)
    return _save(channel, user=user, data=data)


@transaction.atomic
def channel_delete(*, channel: Channel, user) -> None:
    require(user, Action.EDIT, channel.project)
    if channel.is_default:
        raise ValidationError("The default channel of a project cannot be deleted.")
    if channel.releases.exists():
        raise ValidationError(
            f"Channel {channel.name} has releases; delete them or keep the channel."
        )
    audit_record(
        user=user,
        action=AuditEvent.Action.DELETE,
        obj=channel,
        summary=f"Deleted channel {channel.name} of {channel.project.name}",
    )
    channel.delete()


def channel_default(project: Project) -> Channel | None:
    """The project's default channel (made with the project; a read, never a write)."""
    return project.channels.filter(is_default=True).first()


def channel_default_create(project: Project) -> Channel:
    """The project's default channel, created when missing (only services call this)."""
    channel = channel_default(project)
    if channel is None:
        channel, _ = Channel.objects.get_or_create(
            project=project, slug="default", defaults={"name": "Default", "is_default": True}
        )
    return channel


def channel_resolve(project: Project, slug: str | None) -> Channel | None:
    """The channel a release of ``project`` is made in: the one named ``slug``, else the default.

    An unknown slug is refused, never replaced by the default: the release page and the API
    both ask this function, so they answer the same.
    """
    if not slug:
        return channel_default(project)
    channel = project.channels.filter(slug=slug).first()
    if channel is None:
        raise ValidationError({"channel": [f"{project.name} has no channel '{slug}'."]})
    return channel
