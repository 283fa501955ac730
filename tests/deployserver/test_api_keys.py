"""API keys: shown once, stored hashed, optional expiry; the create_api_key command."""

import hashlib
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from deployserver.core.models import ApiKey, AuditEvent
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def create_api_key(*args) -> list[str]:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def test_create_api_key_prints_the_key_as_its_last_line_and_it_works(api_client, admin_user):
    key = create_api_key("admin", "--name", "ci")[-1]
    api_key = ApiKey.objects.get(user=admin_user)
    assert api_key.name == "ci"
    assert api_key.expires_at is None
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/projects/").status_code == 200


def test_only_the_hash_of_the_key_is_stored(admin_user):
    key = create_api_key("admin")[-1]
    row = ApiKey.objects.values().get()
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(row)
    assert key.startswith(row["prefix"])
    assert key not in str(list(AuditEvent.objects.values()))


def test_keys_are_random(admin_user):
    assert create_api_key("admin")[-1] != create_api_key("admin")[-1]


def test_a_key_with_an_expiry_stops_working_after_it(api_client, admin_user):
    key = create_api_key("admin", "--expires-in-days", "2")[-1]
    api_key = ApiKey.objects.get()
    assert abs(api_key.expires_at - (timezone.now() + timedelta(days=2))) < timedelta(minutes=1)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/projects/").status_code == 200
    ApiKey.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = api_client.get("/api/projects/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_create_api_key_for_an_unknown_user_fails_clearly(admin_user):
    with pytest.raises(CommandError, match="There is no user called 'nobody'"):
        create_api_key("nobody")
    assert not ApiKey.objects.exists()


def test_create_api_key_refuses_a_non_positive_expiry(admin_user):
    with pytest.raises(CommandError, match="--expires-in-days must be 1 or more"):
        create_api_key("admin", "--expires-in-days", "0")


def test_last_used_is_written_at_most_once_a_minute(api_client, admin_user):
    key = create_api_key("admin")[-1]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    api_client.get("/api/projects/")
    first = ApiKey.objects.get().last_used_at
    api_client.get("/api/projects/")
    assert ApiKey.objects.get().last_used_at == first
    ApiKey.objects.update(last_used_at=timezone.now() - timedelta(minutes=5))
    api_client.get("/api/projects/")
    assert ApiKey.objects.get().last_used_at > first


def test_the_command_exits_non_zero_for_an_unknown_user(worker_env):
    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "nobody"],
        cwd=ROOT,
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "There is no user called 'nobody'" in result.stderr
    assert result.stdout == ""
