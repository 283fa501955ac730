"""``/healthz`` reports the database and the broker; 503 when either is down."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

GET_HEALTHZ = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def healthz_in_subprocess(env: dict[str, str], **changes) -> dict:
    """Ask a fresh process: the Celery app and the database connection are set up per process."""
    result = subprocess.run(
        [sys.executable, "-c", GET_HEALTHZ],
        cwd=ROOT,
        env={**env, **changes},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_healthz_answers_200_when_the_database_and_the_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_answers_503_when_the_broker_is_down(worker_env):
    answer = healthz_in_subprocess(worker_env, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    assert answer["status"] == 503
    assert answer["body"]["status"] == "unavailable"
    assert answer["body"]["database"]["ok"] is True
    assert answer["body"]["broker"]["ok"] is False
    assert "127.0.0.1:1" in answer["body"]["broker"]["error"]


def test_healthz_answers_503_when_the_database_is_down(worker_env):
    answer = healthz_in_subprocess(
        worker_env, DATABASE_URL="postgres://postgres@127.0.0.1:1/deployserver"
    )
    assert answer["status"] == 503
    assert answer["body"]["database"]["ok"] is False
    assert answer["body"]["broker"]["ok"] is True


def test_healthz_needs_no_credentials_and_only_answers_get(client, db):
    assert client.post("/healthz").status_code == 405
