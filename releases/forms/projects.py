"""The project settings form."""

from django import forms

from ..models import Lifecycle, Project
from . import SLUG_HELP


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(max_length=100, required=False, help_text=SLUG_HELP)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    lifecycle = forms.ModelChoiceField(
        queryset=Lifecycle.objects.order_by("-is_default", "name"),
        empty_label=None,
        help_text="The order in which releases of this project move through environments.",
    )
    version_template = forms.CharField(
        max_length=100,
        required=False,
        label="Release number template",
        help_text=Project._meta.get_field("version_template").help_text,
    )
    pin_digest = forms.BooleanField(
        required=False,
        initial=True,
        label="Deploy by image digest",
        help_text=Project._meta.get_field("pin_digest").help_text,
    )

    def __init__(self, *args, project: Project | None = None, default_lifecycle=None, **kwargs):
        if project is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": project.name,
                    "slug": project.slug,
                    "description": project.description,
                    "lifecycle": project.lifecycle_id,
                    "version_template": project.version_template,
                    "pin_digest": project.pin_digest,
                },
            )
        elif default_lifecycle is not None:
            kwargs.setdefault("initial", {"lifecycle": default_lifecycle.pk})
        super().__init__(*args, **kwargs)
