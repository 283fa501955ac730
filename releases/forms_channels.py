"""Forms of the channel pages. They check shapes; ``releases.channels`` decides the rules."""

from __future__ import annotations

from django import forms

from .models import Channel, Lifecycle, Project
from .process import process_for
from .releasing import package_refs

SLUG_HELP = "Used in URLs and the API. Left blank, it is made from the name."


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(max_length=100, required=False, help_text=SLUG_HELP)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    lifecycle = forms.ModelChoiceField(
        queryset=Lifecycle.objects.order_by("-is_default", "name"),
        required=False,
        empty_label="The project's lifecycle",
        help_text="Releases of this channel follow this lifecycle instead of the project's.",
    )

    @classmethod
    def for_channel(cls, channel: Channel, data=None) -> ChannelForm:
        initial = {
            "name": channel.name,
            "slug": channel.slug,
            "description": channel.description,
            "lifecycle": channel.lifecycle_id,
        }
        return cls(data, initial=initial)


class RuleForm(forms.Form):
    """One version rule: which package references, a version range, a pre-release pattern."""

    packages = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None checked: every package.",
    )
    version_range = forms.CharField(
        required=False, max_length=200, help_text="For example >=1.0.0 <2.0.0"
    )
    prerelease = forms.CharField(
        required=False,
        max_length=200,
        label="Pre-release pattern",
        help_text="A regex on the pre-release part: ^$ stable only, ^rc release candidates.",
    )

    def __init__(self, *args, refs: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["packages"].choices = [(r, r) for r in refs]

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("version_range") and not data.get("prerelease")

    def rule(self) -> dict:
        data = self.cleaned_data
        return {
            "packages": list(data.get("packages") or []),
            "version_range": data.get("version_range", ""),
            "prerelease": data.get("prerelease", ""),
        }


class BaseRuleFormSet(forms.BaseFormSet):
    def __init__(self, *args, refs: list[str] = (), **kwargs):
        self.refs = list(refs)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {"refs": self.refs}

    def rules(self) -> list[dict]:
        """The rules kept: neither removed nor left blank."""
        return [
            form.rule()
            for form in self.forms
            if not (self.can_delete and self._should_delete_form(form)) and not form.is_blank
        ]


RuleFormSet = forms.formset_factory(RuleForm, formset=BaseRuleFormSet, extra=1, can_delete=True)


def channel_rule_refs(project: Project, channel: Channel | None) -> list[str]:
    """Package references a rule may name: the process's, plus any an existing rule names."""
    refs = [r.ref for r in package_refs(process_for(project).steps)]
    for rule in (channel.rules if channel else None) or []:
        refs += [p for p in rule.get("packages", []) if p not in refs]
    return refs
