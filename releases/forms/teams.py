"""The team form: name, members, and a formset of grants (role × projects × environments)."""

from django import forms
from django.contrib.auth import get_user_model

from deployserver.core.models import Role

from ..models import Environment, Project
from ..teams import GrantSpec


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    members = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text="Hold Ctrl (⌘ on a Mac) to choose several.",
    )


class GrantForm(forms.Form):
    role = forms.ChoiceField(choices=[("", "—"), *Role.choices], required=False)
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.order_by("name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="None chosen: every project.",
    )
    environments = forms.ModelMultipleChoiceField(
        queryset=Environment.objects.order_by("sort_order", "name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="None chosen: every environment.",
    )

    def spec(self) -> GrantSpec | None:
        data = self.cleaned_data
        if not data.get("role") or data.get("DELETE"):
            return None
        return GrantSpec(
            role=data["role"],
            projects=tuple(data["projects"]),
            environments=tuple(data["environments"]),
        )


GrantFormSet = forms.formset_factory(GrantForm, extra=2, can_delete=True)
