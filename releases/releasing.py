"""Cutting releases: version numbers, package versions under channel rules, frozen snapshots."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from deployserver.core import crypto
from deployserver.core.access import Action, require
from deployserver.core.audit import audit_record
from deployserver.core.events import absolute_url, event_record
from deployserver.core.models import AuditEvent
from feeds.models import Feed
from feeds.registries import RegistryError
from feeds.services import feed_image_reference, feed_resolve_digest, feed_versions
from feeds.versions import PackageVersion, parse_tag, precedence_key

from .channels import channel_allows_prerelease, channel_check, channel_default_create
from .models import Channel, Project, Release
from .process import process_for
from .variables import VariableSpec, variable_specs

FIRST_VERSION = "0.0.1"


@dataclass(frozen=True)
class PackageRef:
    """One package a process deploys; ``ref`` is how releases and channels name it."""

    ref: str
    step: str
    name: str
    feed_id: int
    package_id: str


def package_refs(steps: list[dict]) -> list[PackageRef]:
    """The process's package references. A package name used by two steps is ``step/name``."""
    names = [p["name"] for step in steps for p in step.get("packages", [])]
    return [
        PackageRef(
            ref=p["name"] if names.count(p["name"]) == 1 else f"{step['name']}/{p['name']}",
            step=step["name"],
            name=p["name"],
            feed_id=p["feed"],
            package_id=p["package_id"],
        )
        for step in steps
        for p in step.get("packages", [])
    ]


def release_next_version(project: Project) -> str:
    """The next free version: from the project's template (``1.2.i``) or the last patch + 1."""
    versions = [
        v for v in (parse_tag(x) for x in project.releases.values_list("version", flat=True)) if v
    ]
    template = project.version_template.strip()
    if template and "i" in template:
        prefix = template[: template.index("i")]
        used = [
            int(m.group(1))
            for v in versions
            if (m := re.fullmatch(re.escape(prefix) + r"(\d+)(.*)", str(v)))
        ]
        candidate = template.replace("i", str(max(used) + 1 if used else 0), 1)
        if parse_tag(candidate):
            return candidate
    if not versions:
        return FIRST_VERSION
    newest = max(versions, key=precedence_key)
    return str(newest.bump_patch() if not newest.prerelease else newest.finalize_version())


def allowed_versions(
    channel: Channel, ref: str, versions: list[PackageVersion]
) -> list[PackageVersion]:
    """The versions of ``ref`` the channel allows, newest first (stable only unless a rule
    admits pre-releases)."""
    pre = channel_allows_prerelease(channel, ref)
    return [
        v
        for v in versions
        if (pre or not v.is_prerelease) and channel_check(channel, ref, v.version) is None
    ]


def _nearest(versions: list[PackageVersion], wanted: str, count: int = 5) -> str:
    target = parse_tag(wanted)
    if target is None or not versions:
        return ", ".join(v.version for v in versions[:count]) or "none"
    key = precedence_key(target)
    ranked = sorted(versions, key=lambda v: abs(_distance(precedence_key(parse_tag(v.tag)), key)))
    return ", ".join(v.version for v in ranked[:count])


def _distance(a: tuple, b: tuple) -> int:
    # Major, minor and patch weigh in that order; good enough to suggest neighbours.
    return (a[0] - b[0]) * 1_000_000 + (a[1] - b[1]) * 1_000 + (a[2] - b[2])


def _find(versions: list[PackageVersion], wanted: str) -> PackageVersion | None:
    wanted_clean = wanted[1:] if wanted[:1] == "v" else wanted
    return next(
        (v for v in versions if wanted in (v.version, v.tag) or v.version == wanted_clean), None
    )


def _choose(
    channel: Channel, ref: PackageRef, feed: Feed, wanted: str | None
) -> tuple[PackageVersion, str]:
    versions = feed_versions(feed, ref.package_id, pre=True)
    if wanted:
        match = _find(versions, wanted)
        if match is None:
            # The listing may come from the cache: look again for an image pushed since.
            versions = feed_versions(feed, ref.package_id, pre=True, refresh=True)
            match = _find(versions, wanted)
        if match is None:
            raise ValidationError(
                {
                    "packages": [
                        f"{ref.ref}: version {wanted} is not in {feed.name}/{ref.package_id}. "
                        f"Nearest versions: {_nearest(versions, wanted)}."
                    ]
                }
            )
        broken = channel_check(channel, ref.ref, match.version)
        if broken:
            raise ValidationError({"packages": [f"{ref.ref} {match.version}: {broken}"]})
        return match, "chosen"
    allowed = allowed_versions(channel, ref.ref, versions)
    if not allowed:
        raise ValidationError(
            {
                "packages": [
                    f"{ref.ref}: {feed.name}/{ref.package_id} has no version that "
                    f"channel {channel.name} allows."
                ]
            }
        )
    return allowed[0], "newest"


def _snapshot_variables(specs: list[VariableSpec]) -> list[dict]:
    return [
        {
            "name": s.name,
            "type": s.type,
            "value": crypto.encrypt(s.value) if s.sensitive else s.value,
            "environments": sorted(s.environments),
        }
        for s in specs
    ]


def release_variable_specs(release: Release) -> list[VariableSpec]:
    """The release's frozen variables, sensitive values decrypted (for a deployment only)."""
    return [
        VariableSpec(
            v["name"],
            crypto.decrypt(v["value"]) if v["type"] == "sensitive" else v["value"],
            v["type"],
            frozenset(v["environments"]),
        )
        for v in release.variables_snapshot
    ]


def release_variables_changed(release: Release) -> bool:
    """Whether the project's variables differ from the release's snapshot."""

    def key(specs):
        return sorted((s.name, s.type, s.value, tuple(sorted(s.environments))) for s in specs)

    return key(release_variable_specs(release)) != key(variable_specs(release.project))


def _check_request(
    project: Project, channel: Channel, refs: list[PackageRef], packages: dict, version: str | None
) -> str | None:
    """Refuse a channel of another project, unknown package references and a bad or taken
    explicit version; returns the version stripped (None: number automatically)."""
    if channel.project_id != project.pk:
        raise ValidationError(
            {"channel": [f"Channel {channel.name} is not a channel of {project.name}."]}
        )
    unknown = sorted(set(packages) - {r.ref for r in refs})
    if unknown:
        known = ", ".join(r.ref for r in refs) or "none"
        raise ValidationError(
            {
                "packages": [
                    f"Unknown package reference {', '.join(unknown)} (the process has: {known})."
                ]
            }
        )
    if not version:
        return None
    version = version.strip()
    if parse_tag(version) is None or version.startswith("v"):
        raise ValidationError(
            {"version": [f"'{version}' is not a semantic version such as 1.4.2."]}
        )
    if project.releases.filter(version=version).exists():
        raise ValidationError({"version": [f"{project.name} already has a release {version}."]})
    return version


def _pin_packages(channel: Channel, refs: list[PackageRef], packages: dict) -> dict[str, dict]:
    """Choose each package's version (asked for, or the newest the channel allows) and pin the
    digest its tag names now."""
    feeds = Feed.objects.in_bulk({r.feed_id for r in refs})
    pinned: dict[str, dict] = {}
    for ref in refs:
        feed = feeds.get(ref.feed_id)
        if feed is None:
            raise ValidationError(
                {"packages": [f"{ref.ref}: its feed no longer exists; fix the process."]}
            )
        try:
            chosen, how = _choose(channel, ref, feed, packages.get(ref.ref))
            # Asked of the registry now, not taken from a cached listing: the release pins the
            # image the tag names at this moment.
            digest = feed_resolve_digest(feed, ref.package_id, chosen.tag) or chosen.digest
        except RegistryError as exc:
            raise ValidationError({"packages": [f"{ref.ref}: {exc}"]}) from exc
        pinned[ref.ref] = {
            "step": ref.step,
            "name": ref.name,
            "feed": feed.pk,
            "feed_name": feed.name,
            "package_id": ref.package_id,
            "version": chosen.version,
            "tag": chosen.tag,
            "digest": digest,
            "image": feed_image_reference(feed, ref.package_id, tag=chosen.tag),
        }
    return pinned


def _save_numbered(release: Release, *, numbered: bool) -> None:
    """Save ``release``, giving it the next number first when ``numbered``."""
    project = release.project
    try:
        with transaction.atomic():
            if numbered:
                # Automatic numbers are handed out one project at a time: the project row lock
                # is held until the caller's transaction commits, so the next creator sees
                # this release and takes the number after it.
                Project.objects.select_for_update().filter(pk=project.pk).first()
                release.version = release_next_version(project)
            release.full_clean()
            release.save()
    except IntegrityError as exc:  # a concurrent release took the same explicit version
        raise ValidationError(
            {"version": [f"{project.name} already has a release {release.version}."]}
        ) from exc


def _audit_created(release: Release, user) -> None:
    audit_record(
        user=user,
        action=AuditEvent.Action.CREATE,
        obj=release,
        summary=f"Created release {release.version} of {release.project.name}",
        changes={
            "version": release.version,
            "channel": release.channel.name,
            "packages": {ref: f"{p['tag']}@{p['digest']}" for ref, p in release.packages.items()},
        },
    )


@transaction.atomic
def release_create(
    *,
    project: Project,
    user,
    version: str | None = None,
    channel: Channel | None = None,
    packages: dict[str, str] | None = None,
    notes: str = "",
) -> Release:
    """Create a release: pin each package's version (tag and digest) and freeze the process and
    the variables. Missing packages take the newest version the channel allows."""
    require(user, Action.RELEASE, project)
    channel = channel or channel_default_create(project)
    process = process_for(project)
    refs = package_refs(process.steps)
    packages = dict(packages or {})
    version = _check_request(project, channel, refs, packages, version)
    release = Release(
        project=project,
        channel=channel,
        # A first guess for automatic numbering; the number is taken under the lock on saving.
        version=version or release_next_version(project),
        notes=notes,
        packages=_pin_packages(channel, refs, packages),
        process_snapshot=process.steps,
        variables_snapshot=_snapshot_variables(variable_specs(project)),
        variables_snapshot_at=timezone.now(),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    _save_numbered(release, numbered=version is None)
    _audit_created(release, user)
    _event_created(release)
    return release


def _event_created(release: Release) -> None:
    """``release.created`` in the outbox, in the release's transaction."""
    event_record(
        "release.created",
        {
            "project": {"slug": release.project.slug, "name": release.project.name},
            "release": {
                "id": release.pk,
                "version": release.version,
                "channel": release.channel.slug,
                "notes": release.notes,
                "packages": {
                    ref: {"version": p["version"], "tag": p["tag"], "digest": p["digest"]}
                    for ref, p in release.packages.items()
                },
                "created_by": release.created_by.get_username() if release.created_by else None,
                "url": absolute_url(reverse("project-release", args=[release.pk])),
            },
        },
        project_id=release.project_id,
    )


@transaction.atomic
def release_snapshot_update(*, release: Release, user) -> Release:
    """Replace the release's variable snapshot with the project's current variables."""
    require(user, Action.RELEASE, release.project)
    release.variables_snapshot = _snapshot_variables(variable_specs(release.project))
    release.variables_snapshot_at = timezone.now()
    release.save(update_fields=["variables_snapshot", "variables_snapshot_at"])
    audit_record(
        user=user,
        action=AuditEvent.Action.UPDATE,
        obj=release,
        summary=f"Updated the variable snapshot of release {release.version} "
        f"of {release.project.name}",
    )
    return release


@transaction.atomic
def release_delete(*, release: Release, user) -> None:
    """Delete a release that was never deployed. Deployment history and task logs are kept:
    a release with deployments stays (the lifecycle's retention removes old ones by its rules)."""
    require(user, Action.EDIT, release.project)
    # Queueing a deployment locks the release row first: holding it, none can slip in.
    Release.objects.select_for_update().filter(pk=release.pk).first()
    count = release.deployments.count()
    if count:
        raise ValidationError(
            f"Release {release.version} has {count} deployment{'s' if count > 1 else ''}; "
            "it stays so that their history and logs are kept."
        )
    audit_record(
        user=user,
        action=AuditEvent.Action.DELETE,
        obj=release,
        summary=f"Deleted release {release.version} of {release.project.name}",
    )
    release.delete()
