"""Channels: version rules per package reference, and the services that write them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import semver
from django.core.exceptions import ValidationError
from django.db import transaction

from deployserver.core.audit import audit_record, audited_save
from deployserver.core.models import AuditEvent

from .models import Channel, Project

CHANNEL_FIELDS = ("name", "slug", "description", "lifecycle", "rules")
RULE_KEYS = {"packages", "version_range", "prerelease"}
_COMPARATOR = re.compile(r"^(>=|<=|==|!=|>|<|=)?\s*v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$")


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
        if self.version_range and not all(parsed.match(c) for c in comparators(self.version_range)):
            return False
        if self.prerelease:
            return re.search(self.prerelease, parsed.prerelease or "") is not None
        return True


def comparators(version_range: str) -> list[str]:
    """``">=1.0.0 <2.0.0"`` → ``[">=1.0.0", "<2.0.0"]``, each in the form semver.match takes."""
    out = []
    for token in re.split(r"[\s,]+", version_range.strip()):
        if not token:
            continue
        m = _COMPARATOR.match(token)
        if not m:
            raise ValueError(
                f"'{token}' is not a version comparison (use >=1.0.0, <2.0.0, =1.2.3 …)."
            )
        op = m.group(1) or "=="
        out.append(("==" if op == "=" else op) + m.group(2))
    return out


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
    return _save(Channel(project=project), user=user, data=data)


@transaction.atomic
def channel_update(*, channel: Channel, user, **data) -> Channel:
    return _save(channel, user=user, data=data)


@transaction.atomic
def channel_delete(*, channel: Channel, user) -> None:
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


def channel_default(project: Project) -> Channel:
    """The project's default channel, created when missing."""
    channel = project.channels.filter(is_default=True).first()
    if channel is None:
        channel, _ = Channel.objects.get_or_create(
            project=project, slug="default", defaults={"name": "Default", "is_default": True}
        )
    return channel
