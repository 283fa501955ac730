"""Trigger tasks: the polling round (beat, every ``FEED_TRIGGER_SECONDS``) and the check of one
feed a push hook asks for."""

import logging

from celery import shared_task

from .checking import triggers_check
from .hooks import check_feed_started

logger = logging.getLogger(__name__)


@shared_task(name="triggers.poll", ignore_result=True)
def triggers_poll() -> None:
    report = triggers_check()
    if report.triggers:
        logger.info(
            "trigger round: %s triggers, %s listings, releases %s, %.2f s",
            report.triggers,
            report.listings,
            report.releases or "none",
            report.seconds,
        )


@shared_task(name="triggers.check_feed", ignore_result=True)
def triggers_check_feed(feed_id: int) -> None:
    check_feed_started(feed_id)
    report = triggers_check(feed_id=feed_id)
    logger.info("push hook check of feed %s: releases %s", feed_id, report.releases or "none")
