"""Writes and rules for the core objects: AWS accounts and API keys."""

import hashlib
import secrets
from datetime import datetime

from django.db import transaction

from .audit import audit_record, audited_delete, audited_save
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


@transaction.atomic
def aws_account_create(*, user, **data) -> AwsAccount:
    return audited_save(
        AwsAccount(), user=user, data=data, fields=ACCOUNT_FIELDS, secret_fields=ACCOUNT_SECRETS
    )


@transaction.atomic
def aws_account_update(*, account: AwsAccount, user, **data) -> AwsAccount:
    """Update an account. An empty or missing ``secret_access_key`` keeps the stored one."""
    if not data.get("secret_access_key"):
        data.pop("secret_access_key", None)
    return audited_save(
        account,
        user=user,
        data=data,
        fields=ACCOUNT_FIELDS,
        secret_fields=ACCOUNT_SECRETS,
        list_changes=True,
    )


@transaction.atomic
def aws_account_delete(*, account: AwsAccount, user) -> None:
    audited_delete(account, user=user)


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
