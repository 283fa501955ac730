"""Writes and rules for the core objects: AWS accounts and API keys."""

import hashlib
import secrets
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from .access import Action, require
from .audit import audit_record, audited_delete, audited_save, secret_unbind, secret_unbound
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


# The secret was entered for one endpoint and one role: it never follows them elsewhere.
SECRET_BOUND_TO = ("endpoint_url", "role_arn")
SECRET_REQUIRED = "This field is required."


def aws_account_secret_check(account: AwsAccount | None, data: dict) -> None:
    """A new account (``account`` None or unsaved) needs a secret access key.

    On an update a blank or missing secret keeps the stored one (see ``aws_account_update``).
    The page, the API and the admin all get this one answer.
    """
    creating = account is None or account.pk is None
    if creating and not data.get("secret_access_key"):
        raise ValidationError({"secret_access_key": [SECRET_REQUIRED]})


@transaction.atomic
def aws_account_create(*, user, **data) -> AwsAccount:
    require(user, Action.ADMIN)
    aws_account_secret_check(None, data)
    return audited_save(
        AwsAccount(), user=user, data=data, fields=ACCOUNT_FIELDS, secret_fields=ACCOUNT_SECRETS
    )


def aws_account_secret_unbound(account: AwsAccount, data: dict) -> list[str]:
    """The fields whose change in ``data`` clears ``account``'s stored secret (none supplied)."""
    return secret_unbound(account, data, secret="secret_access_key", bound_to=SECRET_BOUND_TO)


@transaction.atomic
def aws_account_update(*, account: AwsAccount, user, **data) -> AwsAccount:
    """Update an account. An empty or missing ``secret_access_key`` keeps the stored one, unless
    the endpoint URL or the role changes: then it is cleared unless the same update supplies it."""
    require(user, Action.ADMIN)
    notes = secret_unbind(account, data, secret="secret_access_key", bound_to=SECRET_BOUND_TO)
    return audited_save(
        account,
        user=user,
        data=data,
        fields=ACCOUNT_FIELDS,
        secret_fields=ACCOUNT_SECRETS,
        list_changes=True,
        secret_notes=notes,
    )


@transaction.atomic
def aws_account_delete(*, account: AwsAccount, user) -> None:
    require(user, Action.ADMIN)
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
