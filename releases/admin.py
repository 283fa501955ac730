"""Django admin for environments, lifecycles and projects.

Saves and deletes go through ``releases.services`` so the admin obeys the same rules and leaves
the same audit trail as the pages and the API. Phases are shown read-only: they are edited as a
whole in the lifecycle page's phase editor, where their rules are checked together.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .models import Environment, Lifecycle, Phase, Project


class ServiceAdmin(admin.ModelAdmin):
    """A model admin whose writes call ``<entity>_create/_update/_delete`` services."""

    entity: str  # "environment", "lifecycle", "project"
    service_fields: tuple[str, ...]
    actions = None  # the bulk delete action would bypass the services

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in self.service_fields}
        if change:
            # The form already wrote its values on ``obj``; the service needs the stored row
            # to record what changed.
            stored = type(obj).objects.get(pk=obj.pk)
            update = getattr(services, f"{self.entity}_update")
            saved = update(user=request.user, **{self.entity: stored}, **data)
        else:
            saved = getattr(services, f"{self.entity}_create")(user=request.user, **data)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        try:
            getattr(services, f"{self.entity}_delete")(user=request.user, **{self.entity: obj})
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))


@admin.register(Environment)
class EnvironmentAdmin(ServiceAdmin):
    entity = "environment"
    service_fields = ("name", "slug", "description", "sort_order")
    fields = service_fields
    list_display = ["name", "slug", "sort_order"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


class PhaseInline(admin.TabularInline):
    model = Phase
    fields = ["sort_order", "name", "is_optional", "minimum_environments", "environment_names"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Environments")
    def environment_names(self, phase):
        return ", ".join(
            f"{pe.environment.name}{' (auto)' if pe.automatic else ''}"
            for pe in phase.phase_environments.select_related("environment")
        )


@admin.register(Lifecycle)
class LifecycleAdmin(ServiceAdmin):
    entity = "lifecycle"
    service_fields = ("name", "slug", "description")
    fields = service_fields
    list_display = ["name", "slug", "is_default"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PhaseInline]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Project)
class ProjectAdmin(ServiceAdmin):
    entity = "project"
    service_fields = ("name", "slug", "description", "lifecycle", "version_template", "pin_digest")
    fields = service_fields
    list_display = ["name", "slug", "lifecycle"]
    list_select_related = ["lifecycle"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]
