"""The trigger form: shapes only; ``triggers.services`` decides."""

from __future__ import annotations

from django import forms

from releases.models import Project

from .models import Trigger
from .services import trigger_package_refs


class TriggerForm(forms.Form):
    name = forms.CharField(max_length=100)
    channel = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="The default channel",
        help_text="Releases are made in this channel, with the versions its rules allow.",
    )
    packages = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The packages whose new versions make a release; none ticked: all of them.",
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, project: Project, trigger: Trigger | None = None, **kwargs):
        if trigger is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": trigger.name,
                "channel": trigger.channel_id,
                "packages": trigger.packages,
                "enabled": trigger.enabled,
            }
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = project.channels.order_by("-is_default", "name")
        self.fields["packages"].choices = [(r, r) for r in trigger_package_refs(project)]
