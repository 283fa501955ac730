"""Encryption at rest with the master key(s).

``DEPLOYSERVER_MASTER_KEY`` holds one or more Fernet keys separated by commas. The first one
encrypts; all of them decrypt, so a key can be rotated: put the new key first, run
``manage.py rotate_master_key``, then drop the old one.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


class DecryptionError(Exception):
    """A stored value could not be decrypted with any of the configured master keys."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "DEPLOYSERVER_MASTER_KEY must be one or more url-safe base64 Fernet keys "
            "separated by commas (generate one with `manage.py generate_master_key`)."
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.MASTER_KEYS))


def encrypt(value: str) -> str:
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token.startswith(PREFIX):
        raise DecryptionError("value is not an encrypted token")
    try:
        return fernet().decrypt(token[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "stored secret cannot be decrypted with the configured master key(s)"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a stored token under the first (newest) master key."""
    return PREFIX + fernet().rotate(token[len(PREFIX) :].encode()).decode()


def generate_key() -> str:
    return Fernet.generate_key().decode()


class EncryptedTextField(models.TextField):
    """A text field stored as a Fernet token; Python code sees the clear value.

    The column never holds the clear text. An empty string stays empty (meaning "not set").
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)


def encrypted_fields():
    """Every (model, field) pair that stores encrypted values, for key rotation."""
    from django.apps import apps

    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field
