import os

import pytest
from django.db import connection

from tests.conftest import _database_url


@pytest.fixture
def worker_env(db) -> dict[str, str]:
    """The environment of this test run, pointed at the test database, for subprocesses."""
    return {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict["NAME"])}
