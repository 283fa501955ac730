"""``make run``: the whole server on the embedded defaults, in one command.

Generates ``SECRET_KEY`` and ``DEPLOYSERVER_MASTER_KEY`` once into ``<data dir>/secrets.env``
(kept across restarts, never committed), then hands over to ``manage.py run_embedded``, which
migrates, creates the admin user, starts the local AWS sandbox and runs web + worker + beat.
This module must not load Django settings: they refuse to load until the secrets exist.
"""

import os
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

BASE_DIR = Path(__file__).resolve().parent.parent


def ensure_secrets(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secrets.env"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"SECRET_KEY={secrets.token_urlsafe(50)}\n")
            fh.write(f"DEPLOYSERVER_MASTER_KEY={Fernet.generate_key().decode()}\n")
    return path


def main() -> None:
    data_dir = Path(os.environ.get("DEPLOYSERVER_DATA_DIR", BASE_DIR / "data")).resolve()
    os.environ["DEPLOYSERVER_DATA_DIR"] = str(data_dir)
    ensure_secrets(data_dir)
    if os.environ.get("DEPLOYSERVER_SANDBOX", "1") != "0":
        # The sandbox's AWS endpoint listens on loopback, which the default policy refuses.
        os.environ.setdefault("DEPLOYSERVER_ENDPOINT_POLICY", "any")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deployserver.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], "run_embedded", *sys.argv[1:]])


if __name__ == "__main__":
    main()
