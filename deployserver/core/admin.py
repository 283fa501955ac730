"""Django admin for the core models. Secrets are never shown; API keys and audit are read-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from . import services
from .access import access_for
from .models import ApiKey, AuditEvent, AwsAccount

# The admin site is for administrators by the access rule (superusers, or the admin role over
# everything) who are also staff: Django's per-model permissions alone never let anyone in.
_staff_check = admin.site.has_permission
admin.site.has_permission = lambda request: (
    _staff_check(request) and access_for(request.user).is_admin
)


class AwsAccountAdminForm(forms.ModelForm):
    # Write-only: the stored secret is never rendered. The account service decides what a blank
    # one means (refused on create, kept on update unless the endpoint or role changes).
    secret_access_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the current secret. Changing the endpoint URL or the role "
        "clears it unless you enter it again.",
    )

    class Meta:
        model = AwsAccount
        fields = list(services.ACCOUNT_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.fields["secret_access_key"].help_text = ""

    def clean(self):
        cleaned = super().clean()
        try:
            services.aws_account_secret_check(self.instance, cleaned)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


@admin.register(AwsAccount)
class AwsAccountAdmin(admin.ModelAdmin):
    """Writes go through the account services so the audit trail stays complete."""

    form = AwsAccountAdminForm
    list_display = ["name", "access_key_id", "region", "role_arn", "endpoint_url"]
    search_fields = ["name", "access_key_id"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if change:
            fresh = AwsAccount.objects.get(pk=obj.pk)
            saved = services.aws_account_update(account=fresh, user=request.user, **data)
        else:
            saved = services.aws_account_create(user=request.user, **data)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.aws_account_delete(account=obj, user=request.user)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at"]
    list_filter = ["user"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at"]
    fields = ["user", "name", "prefix", "key_hash", "expires_at", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        # Keys are made on the API keys page or with `manage.py create_api_key`: shown once there.
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_name", "action", "object_type", "object_repr", "summary"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "summary", "actor_name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
