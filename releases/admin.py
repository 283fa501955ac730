"""Django admin for environments, lifecycles (phases inline) and projects."""

from django.contrib import admin

from .models import Environment, Lifecycle, Phase, PhaseEnvironment, Project


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "sort_order"]
    list_editable = ["sort_order"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


class PhaseInline(admin.StackedInline):
    model = Phase
    extra = 0
    fields = ["name", "sort_order", "is_optional", "minimum_environments"]
    show_change_link = True


class PhaseEnvironmentInline(admin.TabularInline):
    model = PhaseEnvironment
    extra = 0
    fields = ["environment", "automatic"]


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    list_display = ["name", "lifecycle", "sort_order", "is_optional"]
    inlines = [PhaseEnvironmentInline]

    def save_formset(self, request, form, formset, change):
        # A phase's environments repeat its lifecycle (the database keeps one per lifecycle).
        for obj in formset.save(commit=False):
            obj.lifecycle = form.instance.lifecycle
            obj.save()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(Lifecycle)
class LifecycleAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_default"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PhaseInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "lifecycle"]
    list_select_related = ["lifecycle"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]
