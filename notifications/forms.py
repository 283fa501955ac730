"""The webhook form: shapes only; ``notifications.services`` decides."""

from __future__ import annotations

from django import forms

from deployserver.core.events import EVENT_NAMES
from releases.models import Environment, Project

from .models import Webhook


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=100)
    url = forms.CharField(
        max_length=500,
        label="URL",
        widget=forms.PasswordInput(render_value=False),
        help_text="Where events are POSTed (http:// or https://). Kept encrypted and never "
        "shown again (a Slack webhook URL is a credential); left blank when editing, the stored "
        "one is kept.",
    )
    secret = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text="Signs each body (X-Deployserver-Signature). Left blank when editing, the "
        "stored one is kept unless the URL changes.",
    )
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in EVENT_NAMES], widget=forms.CheckboxSelectMultiple
    )
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.order_by("name"),
        required=False,
        help_text="None chosen: every project.",
    )
    environments = forms.ModelMultipleChoiceField(
        queryset=Environment.objects.all(),
        required=False,
        help_text="None chosen: every environment.",
    )
    format = forms.ChoiceField(choices=Webhook.Format.choices)
    enabled = forms.BooleanField(required=False, initial=True)

    @classmethod
    def for_webhook(cls, webhook: Webhook, data=None) -> WebhookForm:
        initial = {
            "name": webhook.name,
            "events": webhook.events,
            "projects": list(webhook.projects.all()),
            "environments": list(webhook.environments.all()),
            "format": webhook.format,
            "enabled": webhook.enabled,
        }
        form = cls(data, initial=initial)
        form.fields["url"].required = False
        form.fields["url"].widget.attrs["placeholder"] = f"{webhook.url_display} (kept)"
        return form
