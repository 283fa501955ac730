"""``notifications.dispatch``: turn new events into deliveries and send what is due (sent when
an event commits, and by beat every ``DEPLOYSERVER_EVENTS_SECONDS``)."""

from celery import shared_task

from .delivery import notifications_dispatch


@shared_task(name="notifications.dispatch", ignore_result=True)
def dispatch() -> None:
    notifications_dispatch()
