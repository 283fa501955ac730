"""Run the whole server on the embedded defaults: web, worker, beat and the AWS sandbox.

Started by ``make run`` (through ``python -m deployserver.embedded``, which creates the secrets
first). Migrates, makes sure an ``admin`` user exists, starts the local AWS sandbox (unless
``DEPLOYSERVER_SANDBOX=0``) and seeds the demo, then runs gunicorn and a Celery worker with beat
until interrupted. If one of them dies, everything stops.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

import sandbox


class Command(BaseCommand):
    help = "Run web + worker + beat (and the local AWS sandbox) on the embedded defaults."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("DEPLOYSERVER_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--sandbox-port",
            type=int,
            default=int(os.environ.get("DEPLOYSERVER_SANDBOX_PORT", "5055")),
        )
        parser.add_argument(
            "--no-sandbox",
            action="store_true",
            default=os.environ.get("DEPLOYSERVER_SANDBOX", "1").lower()
            in ("0", "false", "no", "off"),
            help="Do not start the local AWS sandbox (use real AWS accounts).",
        )

    def handle(self, *args, bind, sandbox_port, no_sandbox, **options):
        if not no_sandbox and not sandbox.moto_installed():
            raise CommandError(sandbox.INSTALL_HINT)
        data_dir = Path(settings.DATA_DIR)
        data_dir.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        password = self._admin(data_dir)

        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "deployserver.settings")
        if not no_sandbox:
            self._sandbox(sandbox_port)
            # Sandbox rollouts take seconds, not minutes: follow them closely in the demo.
            env.setdefault("DEPLOYSERVER_ROLLOUT_POLL_SECONDS", "1")
        host, _, port = bind.rpartition(":")
        processes = self._start(env, bind, data_dir)
        self.stdout.write(
            self.style.SUCCESS(
                f"\ndeployserver is starting at http://{host}:{port}/\n"
                f"Log in as admin with password: {password}\n"
                "Stop with Ctrl-C.\n"
            )
        )
        self._supervise(processes)

    def _sandbox(self, port: int) -> None:
        """Start the moto server and seed the demo."""
        # Here, not at the top: moto is optional (the ``sandbox`` extra) and only the sandbox
        # needs it.
        from sandbox import seed

        endpoint = seed.start_server(port)
        seed.seed(endpoint)
        self.stdout.write(f"AWS sandbox (moto) at {endpoint}")

    def _start(self, env: dict, bind: str, data_dir: Path) -> list[subprocess.Popen]:
        """The Celery worker (with beat) and gunicorn."""
        return [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "deployserver",
                    "worker",
                    "--beat",
                    "--loglevel=INFO",
                    "--concurrency=2",
                    f"--schedule={data_dir / 'celerybeat-schedule'}",
                ],
                env=env,
            ),
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "deployserver.wsgi",
                    "--bind",
                    bind,
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--access-logfile",
                    "-",
                ],
                env=env,
            ),
        ]

    def _admin(self, data_dir: Path) -> str:
        """Create the admin user; its password comes from the environment or a kept file."""
        password_file = data_dir / "admin-password"
        password = os.environ.get("DEPLOYSERVER_ADMIN_PASSWORD", "")
        if not password and password_file.exists():
            password = password_file.read_text().strip()
        if not password:
            password = secrets.token_urlsafe(12)
            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(password + "\n")
        users = get_user_model().objects
        user = users.filter(username="admin").first()
        if user is None:
            users.create_superuser("admin", "admin@localhost", password)
        elif os.environ.get("DEPLOYSERVER_ADMIN_PASSWORD") and not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        return password

    def _supervise(self, processes: list[subprocess.Popen]) -> None:
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for proc in processes:
                    if proc.poll() is not None:
                        name = "worker" if "celery" in proc.args else "web server"
                        raise CommandError(f"the {name} exited with status {proc.returncode}")
                time.sleep(0.5)
        finally:
            for proc in processes:
                if proc.poll() is None:
                    proc.terminate()
            for proc in processes:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
