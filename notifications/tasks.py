"""``notifications.dispatch``: turn new events into deliveries and send what is due (sent when
an event commits, and by beat every ``DEPLOYSERVER_EVENTS_SECONDS``)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from deployserver.core.models import Event

from .delivery import notifications_dispatch
from .models import Delivery


@shared_task(name="notifications.dispatch", ignore_result=True)
def dispatch() -> None:
    notifications_dispatch()


@shared_task(name="notifications.purge", ignore_result=True)
def purge() -> None:
    """Drop dispatched events and finished deliveries older than
    ``DEPLOYSERVER_EVENTS_KEEP_DAYS`` (pending deliveries are kept whatever their age)."""
    before = timezone.now() - timedelta(days=settings.DEPLOYSERVER_EVENTS_KEEP_DAYS)
    Delivery.objects.filter(created_at__lt=before).exclude(state=Delivery.State.PENDING).delete()
    Event.objects.filter(dispatched_at__lt=before).delete()
