"""Forms of the core pages: AWS accounts, API keys, the audit filter.

Forms only check the shape of the input; the rules (uniqueness, formats a model validates) live in
the services, whose ``ValidationError`` is put back on the form by ``deployserver.web.pages``.
"""

from datetime import datetime, time, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from .models import AwsAccount


class AwsAccountForm(forms.Form):
    """Create or edit an AWS account. The secret is never rendered back into the page."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    access_key_id = forms.CharField(label="Access key ID", max_length=128)
    # Required on create: the account service says so (one answer for page, API and admin).
    secret_access_key = forms.CharField(
        label="Secret access key",
        max_length=512,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    region = forms.CharField(
        label="Default region", max_length=32, help_text="For example eu-west-1."
    )
    role_arn = forms.CharField(
        label="Role ARN to assume",
        max_length=600,
        required=False,
        help_text="The keys above are then only used to assume this role.",
    )
    external_id = forms.CharField(
        label="External ID", max_length=256, required=False, help_text="Only with a role."
    )
    endpoint_url = forms.CharField(
        label="Endpoint URL",
        max_length=300,
        required=False,
        help_text="For moto, LocalStack or a VPC endpoint, such as http://127.0.0.1:5000.",
    )

    def __init__(self, *args, account: AwsAccount | None = None, **kwargs):
        if account is not None:
            kwargs.setdefault(
                "initial",
                {
                    name: getattr(account, name)
                    for name in self.base_fields
                    if name != "secret_access_key"
                },
            )
        super().__init__(*args, **kwargs)
        if account is not None:
            self.fields["secret_access_key"].help_text = (
                "Leave blank to keep the current secret. Changing the endpoint URL or the role "
                "clears it unless you enter it again."
            )


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the key is for, such as ci-pipeline.")
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The key stops working at the end of this day.",
    )

    def clean_expires_on(self):
        value = self.cleaned_data["expires_on"]
        if value is not None and value < timezone.localdate():
            raise ValidationError("Pick today or a later day.")
        return value

    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


class AuditFilterForm(forms.Form):
    object_type = forms.ChoiceField(required=False, label="Object type")

    def __init__(self, *args, object_types: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", "All object types")] + [
            (t, t) for t in object_types
        ]
