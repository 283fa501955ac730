"""Writes and rules for the core objects: AWS accounts and API keys."""

import hashlib
import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from .audit import audit_record, diff, snapshot
from .models import ApiKey, AuditEvent, AwsAccount

ACCOUNT_SECRETS = ("secret_access_key",)
ACCOUNT_FIELDS = (
    "name",
    "slug",
    "description",
    "access_key_id",
    "secret_access_key",
    "region",
    "role_arn",
    "external_id",
    "endpoint_url",
)


def _apply(obj, data: dict, fields: tuple[str, ...]) -> None:
    unknown = set(data) - set(fields)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    for name, value in data.items():
        setattr(obj, name, value)


@transaction.atomic
def aws_account_create(*, user, **data) -> AwsAccount:
    data.setdefault("slug", slugify(data.get("name", "")))
    account = AwsAccount()
    _apply(account, data, ACCOUNT_FIELDS)
    account.full_clean()
    account.save()
    audit_record(
        user=user,
        action=AuditEvent.Action.CREATE,
        obj=account,
        summary=f"Created AWS account {account.name}",
        changes=snapshot(account, secret_fields=ACCOUNT_SECRETS),
    )
    return account


@transaction.atomic
def aws_account_update(*, account: AwsAccount, user, **data) -> AwsAccount:
    """Update an account. An empty or missing ``secret_access_key`` keeps the stored one."""
    if not data.get("secret_access_key"):
        data.pop("secret_access_key", None)
    before = snapshot(account, secret_fields=ACCOUNT_SECRETS)
    _apply(account, data, ACCOUNT_FIELDS)
    account.full_clean()
    account.save()
    changes = diff(before, snapshot(account, secret_fields=ACCOUNT_SECRETS))
    if "secret_access_key" in data:
        changes["secret_access_key"] = ["********", "******** (replaced)"]
    if changes:
        audit_record(
            user=user,
            action=AuditEvent.Action.UPDATE,
            obj=account,
            summary=f"Updated AWS account {account.name}: {', '.join(sorted(changes))}",
            changes=changes,
        )
    return account


@transaction.atomic
def aws_account_delete(*, account: AwsAccount, user) -> None:
    audit_record(
        user=user,
        action=AuditEvent.Action.DELETE,
        obj=account,
        summary=f"Deleted AWS account {account.name}",
    )
    try:
        account.delete()
    except ProtectedError as exc:
        users = sorted({str(o) for o in exc.protected_objects})
        raise ValidationError(
            f"AWS account {account.name} is used by {', '.join(users)}; change those first."
        ) from exc


def hash_api_key(key: str) -> str:
    # The key has 256 bits of entropy, so a fast unsalted hash is enough to find it safely.
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, user, name: str, expires_at: datetime | None = None, actor=None
) -> tuple[ApiKey, str]:
    """Create an API key for ``user``; returns the row and the clear key (shown only once)."""
    key = "ds_" + secrets.token_urlsafe(32)
    api_key = ApiKey(
        user=user, name=name, prefix=key[:10], key_hash=hash_api_key(key), expires_at=expires_at
    )
    api_key.full_clean()
    api_key.save()
    audit_record(
        user=actor or user,
        action=AuditEvent.Action.CREATE,
        obj=api_key,
        summary=f"Created API key {api_key.prefix}… for {user.get_username()}",
    )
    return api_key, key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, user) -> None:
    audit_record(
        user=user,
        action=AuditEvent.Action.DELETE,
        obj=api_key,
        summary=f"Revoked API key {api_key.prefix}…",
    )
    api_key.delete()
