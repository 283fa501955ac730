"""Brute force is slowed down: failed sign-ins lock an account (and an address) for a while,
with a clear message and one audit entry; invalid API keys from one address get 429."""

import pytest
from django.core.cache import cache

from deployserver.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_counters():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_failed_sign_ins_lock_the_account_even_for_the_right_password(client, admin_user):
    for _ in range(5):
        response = sign_in(client, "admin", "wrong")
        assert response.status_code == 200 and "Please enter a correct username" in (
            response.content.decode()
        )
    response = sign_in(client, "admin", "admin-pass-1")
    assert response.status_code == 200
    assert "Too many failed sign-ins; try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session

    locks = AuditEvent.objects.filter(summary__startswith="Sign-in locked for account 'admin'")
    assert locks.count() == 1
    for _ in range(10):  # further attempts are refused without flooding the audit log
        sign_in(client, "admin", "wrong")
    assert locks.count() == 1


def test_a_successful_sign_in_resets_the_count(client, admin_user):
    for _ in range(4):
        sign_in(client, "admin", "wrong")
    assert sign_in(client, "admin", "admin-pass-1").status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, "admin", "wrong")
    assert sign_in(client, "admin", "admin-pass-1").status_code == 302


def test_one_address_trying_many_accounts_is_locked_out(client, admin_user):
    for n in range(20):
        sign_in(client, f"user{n}", "wrong", address="10.9.9.9")
    response = sign_in(client, "admin", "admin-pass-1", address="10.9.9.9")
    assert "Too many failed sign-ins" in response.content.decode()
    assert sign_in(client, "admin", "admin-pass-1", address="10.0.0.2").status_code == 302


def test_invalid_api_keys_from_one_address_are_answered_429_with_retry_after(admin_api):
    from rest_framework.test import APIClient

    api_client = APIClient()
    for _ in range(20):
        response = api_client.get(
            "/api/projects/", HTTP_AUTHORIZATION="Token not-a-key", REMOTE_ADDR="10.0.0.7"
        )
        assert response.status_code == 401
    response = api_client.get(
        "/api/projects/", HTTP_AUTHORIZATION="Token not-a-key", REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "Too many invalid API keys" in response.json()["detail"]
    # Another address is not affected.
    assert admin_api.get("/api/projects/", REMOTE_ADDR="10.0.0.8").status_code == 200
