from django.contrib import admin

from .models import Delivery, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "format", "enabled"]
    # The secret is write-only everywhere, the admin included.
    exclude = ["secret"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["event_name", "webhook", "delivery_id", "state", "attempts", "status_code"]
    list_filter = ["state", "event_name"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
