"""The embedded default (SQLite) gives the insights PostgreSQL gives: the same history, written
through the same factories into a fresh SQLite database migrated from nothing, has every figure
alike — as each end kept them and as a rebuild of the whole history (the migration's) gives them.
SQLite has no PERCENTILE_CONT and computes seconds with julianday: this is where that shows."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.deployments.history import build_edges, every_figure

pytestmark = pytest.mark.django_db

ON_SQLITE = """
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from deployments.insights import insights_rebuild
from deployments.models import Deployment
from tests.deployments.history import build_edges, build_history, every_figure
from tests.factories import make_dev_test_prod, make_standard_lifecycle
environments = make_dev_test_prod()
build_edges(build_history(environments, make_standard_lifecycle(environments)))
recorded = every_figure()
Deployment.objects.update(lead_seconds=None, opens_outage=False, recovery_seconds=None)
insights_rebuild()
print(json.dumps({"recorded": recorded, "rebuilt": every_figure()}))
"""


def test_sqlite_gives_the_figures_postgresql_gives(history, tmp_path):
    build_edges(history)
    on_postgresql = every_figure()
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "deployserver.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "CELERY_BROKER_URL": "memory://",
        "SECRET_KEY": "sqlite-insights",
        "DEPLOYSERVER_MASTER_KEY": (ROOT / "tests/master.key").read_text().strip(),
        "DEPLOYSERVER_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", ON_SQLITE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    on_sqlite = json.loads(result.stdout.strip().splitlines()[-1])
    assert any(figures["buckets"] for figures in on_postgresql)
    assert on_sqlite["recorded"] == on_postgresql
    assert on_sqlite["rebuilt"] == on_postgresql
