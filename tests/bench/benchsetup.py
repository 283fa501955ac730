"""The start every benchmark script shares: Django configured from the environment.

Defaults: PostgreSQL on this machine (database ``deployserver``), the test master key, a local
memory cache and broker; set ``DATABASE_URL``, ``CACHE_URL`` or ``CELERY_BROKER_URL`` to
measure against other services. Call ``setup_django()`` before importing project code.
"""

import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def setup_django(**defaults: str) -> None:
    """Configure and set up Django; ``defaults`` add or override environment defaults."""
    sys.path.insert(0, str(ROOT))
    values = {
        "DJANGO_SETTINGS_MODULE": "deployserver.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/deployserver",
        "SECRET_KEY": "bench",
        "DEPLOYSERVER_MASTER_KEY": (ROOT / "tests/master.key").read_text().strip(),
        "CACHE_URL": "locmemcache://",
        "CELERY_BROKER_URL": "memory://",
        # The benchmarks' moto servers and registries listen on loopback.
        "DEPLOYSERVER_ENDPOINT_POLICY": "any",
        **defaults,
    }
    for name, value in values.items():
        os.environ.setdefault(name, value)
    import django

    # whitenoise warns once per client when collectstatic has not run; irrelevant to figures.
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
    django.setup()
