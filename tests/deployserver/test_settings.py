"""Settings come from the environment; with DEBUG off the secrets have no default."""

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from deployserver.core import crypto
from tests.conftest import ROOT

SHOW_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"], "debug": settings.DEBUG,
    "secret_key": settings.SECRET_KEY, "master_keys": settings.MASTER_KEYS,
}))
"""


def load_settings(tmp_path, **environ) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with nothing but ``environ`` set."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "deployserver.settings",
        "DEPLOYSERVER_DATA_DIR": str(tmp_path),
        **environ,
    }
    return subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_debug_the_server_refuses_to_start_without_both_secrets(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode != 0
    assert (
        "ImproperlyConfigured: SECRET_KEY and DEPLOYSERVER_MASTER_KEY must be set when DEBUG "
        "is off" in result.stderr
    )


def test_without_debug_a_missing_master_key_alone_is_named(tmp_path):
    result = load_settings(tmp_path, SECRET_KEY="s3cret", DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DEPLOYSERVER_MASTER_KEY must be set" in result.stderr


def test_debug_runs_on_the_embedded_defaults_in_the_data_directory(tmp_path):
    result = load_settings(tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(tmp_path / "deployserver.sqlite3")
    assert loaded["broker"] == "filesystem://"
    assert loaded["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert loaded["secret_key"] and loaded["master_keys"]


def test_urls_switch_to_postgresql_and_redis(tmp_path):
    result = load_settings(
        tmp_path,
        SECRET_KEY="s3cret",
        DEPLOYSERVER_MASTER_KEY=crypto.generate_key(),
        DATABASE_URL="postgres://deploy:pw@db.example:5432/deployserver",
        CELERY_BROKER_URL="redis://redis.example:6379/0",
        CACHE_URL="redis://redis.example:6379/1",
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "deployserver"
    assert loaded["broker"] == "redis://redis.example:6379/0"
    assert loaded["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert loaded["debug"] is False


def test_secrets_kept_in_the_data_directory_are_read_and_the_environment_wins(tmp_path):
    old, new = crypto.generate_key(), crypto.generate_key()
    (tmp_path / "secrets.env").write_text(f"SECRET_KEY=from-file\nDEPLOYSERVER_MASTER_KEY={old}\n")
    loaded = json.loads(load_settings(tmp_path).stdout)
    assert (loaded["secret_key"], loaded["master_keys"]) == ("from-file", [old])
    loaded = json.loads(load_settings(tmp_path, DEPLOYSERVER_MASTER_KEY=f"{new}, {old}").stdout)
    assert loaded["master_keys"] == [new, old]


def test_a_master_key_that_is_not_a_fernet_key_is_refused_with_a_hint(settings):
    settings.MASTER_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="generate_master_key"):
        crypto.encrypt("x")
