from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from deployserver.core.events import listeners_changed

        from .models import Webhook

        # Events wake the dispatcher only while a webhook listens: say when that may change.
        post_save.connect(listeners_changed, sender=Webhook, dispatch_uid="webhook-saved")
        post_delete.connect(listeners_changed, sender=Webhook, dispatch_uid="webhook-deleted")
