"""Brute-force throttling: failed sign-ins per account and per address, invalid API keys per
address.

Counters live in the Django cache (Redis in production, shared by every web process), one key per
account or address, expiring with their window. After ``LOGIN_ATTEMPTS`` failed sign-ins for an
account (or four times that from one address) within ``LOGIN_LOCKOUT_SECONDS``, sign-in is
refused for the rest of the window with a clear message; the lockout is written to the audit log
once per window, so an attacker cannot flood it. After ``API_KEY_ATTEMPTS`` invalid API keys from
one address within ``API_KEY_WINDOW_SECONDS``, the API answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import time

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest

from .models import AuditEvent

ADDRESS_FACTOR = 4  # one address may fail for a few accounts (a shared office NAT) before a lock


def client_address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") if request is not None else "") or "unknown"


def _key(kind: str, value: str) -> str:
    # Hashed: usernames and addresses as typed by an attacker make poor cache keys.
    return f"throttle:{kind}:{hashlib.sha256(value.lower().encode()).hexdigest()}"


class Window:
    """A failure counter for one key that expires ``seconds`` after its first failure."""

    def __init__(self, kind: str, value: str, *, limit: int, seconds: int):
        self.key = _key(kind, value)
        self.limit, self.seconds = limit, seconds

    def count(self) -> int:
        return (cache.get(self.key) or (0, 0))[0]

    def retry_after(self) -> int:
        """Seconds until the window closes, when it is full; 0 when not blocked."""
        count, started = cache.get(self.key) or (0, 0)
        if count < self.limit:
            return 0
        return max(1, int(started + self.seconds - time.time()))

    def fail(self) -> int:
        """Count one failure; returns the count. Racy by a few under concurrency, which only
        shifts the lock by as many attempts: no counter is ever lost for good."""
        count, started = cache.get(self.key) or (0, time.time())
        count += 1
        remaining = max(1, int(started + self.seconds - time.time()))
        cache.set(self.key, (count, started), remaining)
        return count

    def reset(self) -> None:
        cache.delete(self.key)


def login_windows(username: str, address: str) -> tuple[Window, Window]:
    attempts, seconds = (
        settings.DEPLOYSERVER_LOGIN_ATTEMPTS,
        settings.DEPLOYSERVER_LOGIN_LOCKOUT_SECONDS,
    )
    return (
        Window("login-account", username, limit=attempts, seconds=seconds),
        Window("login-address", address, limit=attempts * ADDRESS_FACTOR, seconds=seconds),
    )


def api_key_window(address: str) -> Window:
    return Window(
        "api-key-address",
        address,
        limit=settings.DEPLOYSERVER_API_KEY_ATTEMPTS,
        seconds=settings.DEPLOYSERVER_API_KEY_WINDOW_SECONDS,
    )


def _record_lockout(what: str, address: str, attempts: int) -> None:
    AuditEvent.objects.create(
        actor_name="system",
        action=AuditEvent.Action.OTHER,
        object_type="auth.user" if what.startswith("account") else "auth.address",
        object_repr=what[:200],
        summary=f"Sign-in locked for {what} after {attempts} failed attempts (from {address})"[
            :500
        ],
    )


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing an account or address with too many recent failures."""

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        address = client_address(self.request)
        account, origin = login_windows(username, address)
        wait = max(account.retry_after(), origin.retry_after())
        if wait:
            raise forms.ValidationError(
                f"Too many failed sign-ins; try again in {_minutes(wait)}.", code="throttled"
            )
        try:
            return super().clean()
        except forms.ValidationError:
            for window, what in ((account, f"account '{username}'"), (origin, address)):
                if window.fail() == window.limit:
                    _record_lockout(what, address, window.limit)
            raise
        finally:
            if self.user_cache is not None:
                account.reset()
