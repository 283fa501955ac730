"""Celery: configured for JSON with time limits, and tasks run in a real worker over Redis."""

import os

import pytest
from celery.exceptions import TimeoutError as CeleryTimeoutError
from django.conf import settings

from deployserver.celery import app
from deployserver.core.tasks import ping
from tests.conftest import WORKER_NAME


@pytest.mark.integration  # reads the broker the suite runs on: Redis
def test_the_celery_app_speaks_json_only_with_explicit_time_limits():
    assert app.main == "deployserver"
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT > 0
    assert app.conf.task_time_limit > app.conf.task_soft_time_limit
    assert app.conf.broker_url.startswith("redis://")
    assert "deployserver.ping" in app.tasks


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_in_the_worker_process_and_its_result_comes_back_over_redis(
    celery_worker_process,
):
    result = ping.delay()
    answer = result.get(timeout=30)
    assert result.successful()
    assert answer["pid"] != os.getpid()
    # The prefork pool runs the task in a child of the worker process the fixture started.
    assert celery_worker_process.pid in (answer["pid"], answer["ppid"])
    assert app.backend.__class__.__name__ == "RedisBackend"


def test_the_worker_takes_tasks_only_during_tests_that_ask_for_it(_celery_worker):
    result = ping.delay()
    with pytest.raises(CeleryTimeoutError):
        result.get(timeout=2)
    queue = app.conf.task_default_queue
    app.control.add_consumer(queue, destination=[WORKER_NAME], reply=True, timeout=5)
    try:
        assert result.get(timeout=30)["ppid"] == _celery_worker.pid
    finally:
        app.control.cancel_consumer(queue, destination=[WORKER_NAME], reply=True, timeout=5)
