from django.contrib import admin

from .models import Trigger, TriggerRelease


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "channel", "enabled", "last_checked_at", "failures"]
    list_filter = ["enabled"]
    readonly_fields = ["last_checked_at", "last_found", "last_error", "failures"]


@admin.register(TriggerRelease)
class TriggerReleaseAdmin(admin.ModelAdmin):
    list_display = ["project", "channel", "release", "created_at"]
    readonly_fields = ["trigger", "project", "channel", "version_set", "versions", "release"]
