"""Forms of the release pages. They check shapes; the services decide the rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms

from feeds.models import Feed
from feeds.registries import RegistryError
from feeds.services import feed_versions
from feeds.versions import PackageVersion
from releases.channels import channel_check
from releases.models import Channel, Project
from releases.process import process_for
from releases.releasing import allowed_versions, package_refs


@dataclass
class PackagePicker:
    """One package reference of the process and the versions its channel allows, newest first."""

    ref: str
    step: str
    feed_name: str
    package_id: str
    versions: list[PackageVersion] = field(default_factory=list)  # all the channel accepts
    default: str = ""  # the newest the channel allows without asking (stable unless a rule says)
    hidden: int = 0  # versions of the feed the channel's rules leave out
    error: str = ""

    @property
    def field_name(self) -> str:
        return f"package-{self.ref}"


def package_pickers(project: Project, channel: Channel) -> list[PackagePicker]:
    """A picker per package reference of the project's process, under ``channel``'s rules."""
    refs = package_refs(process_for(project).steps)
    feeds = Feed.objects.select_related("account").in_bulk({r.feed_id for r in refs})
    pickers = []
    for ref in refs:
        feed = feeds.get(ref.feed_id)
        picker = PackagePicker(ref.ref, ref.step, feed.name if feed else "?", ref.package_id)
        if feed is None:
            picker.error = "Its feed no longer exists; fix the process."
        else:
            try:
                every = feed_versions(feed, ref.package_id, pre=True)
            except RegistryError as exc:
                picker.error = str(exc)
            else:
                # Every version the rules accept is selectable (pre-releases too, when no rule
                # forbids them); the preselected one is what the API would pick by itself.
                picker.versions = [
                    v for v in every if channel_check(channel, ref.ref, v.version) is None
                ]
                newest = allowed_versions(channel, ref.ref, every)
                picker.default = newest[0].version if newest else ""
                picker.hidden = len(every) - len(picker.versions)
        pickers.append(picker)
    return pickers


class ReleaseForm(forms.Form):
    version = forms.CharField(
        max_length=100,
        required=False,
        help_text="A semantic version such as 1.4.2, unique in the project. "
        "Left blank: the next one.",
    )
    channel = forms.ChoiceField(help_text="Its rules decide which package versions are allowed.")
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown: **bold**, *italic*, `code`, lists, links.",
    )

    def __init__(self, *args, channels: list[Channel], pickers: list[PackagePicker], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [(c.slug, c.name) for c in channels]
        self.pickers = pickers
        for picker in pickers:
            choices = [(v.version, _label(v)) for v in picker.versions]
            self.fields[picker.field_name] = forms.ChoiceField(
                label=picker.ref, choices=choices, required=bool(choices)
            )
            if choices:
                self.initial.setdefault(picker.field_name, picker.default or choices[0][0])

    def picker_fields(self):
        return [(picker, self[picker.field_name]) for picker in self.pickers]

    def packages(self) -> dict[str, str]:
        return {
            p.ref: self.cleaned_data[p.field_name]
            for p in self.pickers
            if self.cleaned_data.get(p.field_name)
        }


def _label(version: PackageVersion) -> str:
    label = version.version
    if version.tag != version.version:
        label += f" ({version.tag})"
    if version.is_prerelease:
        label += " · pre-release"
    if version.pushed_at:
        label += f" · pushed {version.pushed_at:%Y-%m-%d %H:%M}"
    return label
