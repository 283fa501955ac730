"""The environment form."""

from django import forms

from ..models import Environment
from . import SLUG_HELP


class EnvironmentForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(max_length=100, required=False, help_text=SLUG_HELP)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    sort_order = forms.IntegerField(
        min_value=0,
        required=False,
        help_text="Environments are listed and promoted in this order. Left blank: last.",
    )
    requires_approval = forms.BooleanField(
        required=False,
        help_text="Deployments here wait until an approver in this environment approves them.",
    )
    approval_by_other = forms.BooleanField(
        label="Approval by someone else",
        required=False,
        help_text="Whoever queued a deployment may not approve it themselves.",
    )

    @classmethod
    def for_environment(cls, environment: Environment, data=None) -> "EnvironmentForm":
        return cls(data, initial={name: getattr(environment, name) for name in cls.base_fields})

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if data["sort_order"] is None:
            # The service puts a new environment last; an edited one keeps its place.
            data.pop("sort_order")
        return data
