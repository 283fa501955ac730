"""Shared fixtures: real PostgreSQL, Redis, moto server, Celery worker process and Chromium.

Tests that need a service are marked ``integration`` here, from the fixtures they use (see
``INTEGRATION_FIXTURES``); the others are pure and run anywhere. When any integration test is
selected, the run refuses to start unless DATABASE_URL points at PostgreSQL and
CELERY_BROKER_URL / CACHE_URL at Redis (``make test`` does); ``make test-pure`` runs the rest.
The data fixtures (environments, projects, the sandbox) live in ``tests/scenarios.py``.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

pytest_plugins = ["tests.scenarios"]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# A test using any of these (directly or through another fixture) needs PostgreSQL, Redis, moto,
# a registry, a worker or a browser: it is an integration test.
INTEGRATION_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
    "moto_server",
    "celery_worker_process",
    "_celery_worker",
    "registry_auth",
    "registry_anon",
    "page",
}


def _is_integration(item: pytest.Item) -> bool:
    return (
        item.get_closest_marker("django_db") is not None
        or item.get_closest_marker("e2e") is not None
        or not INTEGRATION_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
    )


def _services_problems() -> list[str]:
    problems = []
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append("DATABASE_URL must point at PostgreSQL")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        problems.append("CELERY_BROKER_URL must point at Redis")
    if "RedisCache" not in settings.CACHES["default"]["BACKEND"]:
        problems.append("CACHE_URL must point at Redis")
    return problems


def pytest_itemcollected(item):
    """Mark integration tests as they are collected, before ``-m`` selects."""
    if _is_integration(item):
        item.add_marker(pytest.mark.integration)


def pytest_collection_finish(session):
    """Integration tests run on the real services only: with one selected, check them."""
    if not any(item.get_closest_marker("integration") for item in session.items):
        return
    problems = _services_problems()
    if problems:
        pytest.exit(
            "The integration tests run on real services: "
            + "; ".join(problems)
            + '. Use `make test` (or `make test-pure` for the tests marked "not integration").',
            returncode=4,
        )


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")):
        return True
    return "transactional_db" in item.fixturenames or "live_server" in item.fixturenames


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Run transactional tests (live server, real worker) last, as Django's runner does.

    They flush every table when they end, which also removes the rows data migrations made (the
    default lifecycle). pytest-django orders them last, but pytest then groups the tests of the
    session-scoped browser parameter together, pulling browser tests in among the others.
    """
    items.sort(key=_is_transactional)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


# Users and clients -----------------------------------------------------------------------------


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.org", "admin-pass-1")


@pytest.fixture
def viewer_user(django_user_model):
    """A member of a team with the viewer role over everything: reads, but every write is 403."""
    from deployserver.core.models import Grant, Team

    user = django_user_model.objects.create_user("viewer", "viewer@example.org", "viewer-pass-1")
    team = Team.objects.create(name="Viewers")
    team.members.add(user)
    Grant.objects.create(team=team, role="viewer")
    return user


@pytest.fixture
def admin_client(client, admin_user):
    """The Django test client, signed in as the admin."""
    client.force_login(admin_user)
    return client


@pytest.fixture
def viewer_client(client, viewer_user):
    client.force_login(viewer_user)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def admin_api(api_client, admin_user):
    """An API client authenticated with a real API key of the admin user."""
    from deployserver.core.services import api_key_create

    _, key = api_key_create(user=admin_user, name="tests")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api_client


# The cache ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def empty_cache(request):
    """Every integration test starts and ends with an empty cache (the run's own Redis db):
    registry listings and ECR tokens live there, and ECR clients in this process.

    Pure tests touch no cache, so nothing is cleared for them.
    """
    if request.node.get_closest_marker("integration") is None:
        yield
        return
    from django.core.cache import cache

    from feeds.registries.ecr import clear_clients

    cache.clear()
    clear_clients()
    yield
    cache.clear()


# AWS: a moto server over HTTP ------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server():
    """A moto server on loopback for the whole session; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def moto(moto_server):
    """The moto endpoint, with all of its state reset before the test.

    The server runs in this process, so its state is reset here directly — what its
    ``/moto-api/reset`` endpoint does, without an HTTP round trip whose timeout a loaded machine
    can outlast.
    """
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    return moto_server


@pytest.fixture
def aws_account(db, moto, admin_user):
    from deployserver.core.services import aws_account_create

    return aws_account_create(
        user=admin_user,
        name="Sandbox",
        access_key_id="AKIAIOSFODNN7EXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1",
        endpoint_url=moto,
    )


# Celery: a real worker process over Redis ------------------------------------------------------


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"


WORKER_NAME = f"tests-{os.getpid()}@{socket.gethostname()}"


@pytest.fixture(scope="session")
def _celery_worker(django_db_setup, django_db_blocker):
    """One ``celery worker`` process for the session, on the test database, idle at first.

    It listens to a queue nobody sends to; ``celery_worker_process`` makes it take the app's
    queue for the length of one test, so tests without it see their tasks stay queued.
    """
    from django.db import connection

    from deployserver.celery import app

    env = dict(os.environ)
    env["DATABASE_URL"] = _database_url(connection.settings_dict["NAME"])
    (ROOT / "data").mkdir(exist_ok=True)  # not in a fresh clone: data/ is ignored by git
    log = open(ROOT / "data" / "test-worker.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "deployserver",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            f"tests-idle-{os.getpid()}",
            "-n",
            f"tests-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"celery worker exited with {proc.returncode}; see data/test-worker.log"
            )
        if app.control.ping(timeout=0.5, destination=[WORKER_NAME]):
            break
    else:
        proc.kill()
        raise RuntimeError("celery worker did not answer a ping within 30 s")
    yield proc
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def celery_worker_process(_celery_worker):
    """The worker process, consuming the app's queue during this test; tests using it need
    ``transactional_db``. Yields the Popen object.
    """
    from deployserver.celery import app

    queue = app.conf.task_default_queue

    def control(command: str) -> None:
        replies = getattr(app.control, command)(
            queue, destination=[WORKER_NAME], reply=True, timeout=5
        )
        if not replies or "ok" not in replies[0].get(WORKER_NAME, {}):
            raise RuntimeError(f"celery worker did not {command} {queue}: {replies!r}")

    control("add_consumer")
    yield _celery_worker
    control("cancel_consumer")


# Browser -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }
