"""The ``deployserver`` command line: how fast it starts, and how soon a pipeline learns a
deployment succeeded.

    .venv/bin/python tests/bench/cli.py

Prints (a) start-up of ``deployserver --help`` (median); (b) for the same deployments, the time
from ``success`` in the database (``finished_at``) to the exit of ``deployserver deployment
watch`` and of the curl polling loop a README reader would write (the log URL every second,
until ``"finished":true``), median and p95 (goal for the command: p95 ≤ 1 s); (c) the
deployments' own duration on the server (queued → success) and the command's wall time.

Serves the API over HTTP from a threaded WSGI server in this process, with the sandbox's moto
(rollouts progressing) and a real Celery worker process, on PostgreSQL in a throwaway
``<name>_bench`` database and Redis (``CELERY_BROKER_URL``, default db 15).
"""

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")

# deploy.py configures Django for the engine benchmarks (Redis broker, queue of its own, 0.2 s
# rollout checks, 1 s sandbox rollouts); its worker runner is reused here.
from deploy import Workers, pct  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "10"))
STARTS = 20
CURL_SLEEP = 1.0
SCRIPT = Path(sys.executable).with_name("deployserver")
CURL_LOOP = """\
until curl -s -H "Authorization: Token $KEY" "$API/deployments/$ID/log/?after=0" \
  | grep -q '"finished":true'; do sleep {sleep}; done
"""


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def figure_a() -> None:
    times = []
    for _ in range(STARTS):
        started = time.perf_counter()
        subprocess.run([str(SCRIPT), "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(
        f"(a) start-up, `deployserver --help`: median {median * 1000:.0f} ms, max "
        f"{max(times) * 1000:.0f} ms ({STARTS} runs); goal < 300 ms: "
        f"{'met' if median < 0.3 else 'NOT met'}"
    )


def exited_at(proc: subprocess.Popen, into: dict, name: str) -> threading.Thread:
    """A thread noting the wall-clock moment ``proc`` exits."""

    def wait():
        proc.wait()
        into[name] = time.time()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread


def one_deployment(url: str, key: str, release) -> dict:
    from deployments.models import Deployment
    from deployments.services import deployment_create
    from releases.models import Environment

    deployment = deployment_create(
        release=release, environment=Environment.objects.get(slug="dev"), user=None
    )
    env = dict(os.environ, DEPLOYSERVER_URL=url, DEPLOYSERVER_API_KEY=key)
    started = time.time()
    ended: dict = {}
    cli = subprocess.Popen(
        [str(SCRIPT), "deployment", "watch", str(deployment.pk)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    curl = subprocess.Popen(
        ["bash", "-c", CURL_LOOP.format(sleep=CURL_SLEEP)],
        env=dict(env, KEY=key, API=f"{url}/api", ID=str(deployment.pk)),
    )
    threads = [exited_at(cli, ended, "cli"), exited_at(curl, ended, "curl")]
    for thread in threads:
        thread.join(120)
    if cli.returncode != 0:
        raise RuntimeError(f"deployserver exited {cli.returncode}: {cli.stderr.read().decode()}")
    deployment = Deployment.objects.get(pk=deployment.pk)
    if deployment.state != "success":
        raise RuntimeError(f"deployment {deployment.pk} {deployment.state}: {deployment.error}")
    finished = deployment.finished_at.timestamp()
    return {
        "cli": ended["cli"] - finished,
        "curl": ended["curl"] - finished,
        "server": (deployment.finished_at - deployment.created_at).total_seconds(),
        "cli_wall": ended["cli"] - started,
    }


def figure_b_c(url: str, key: str, release) -> None:
    one_deployment(url, key, release)  # warm-up: worker imports, boto3 clients
    runs = [one_deployment(url, key, release) for _ in range(RUNS)]

    def column(name):
        return [r[name] for r in runs]

    cli, curl = column("cli"), column("curl")
    print(
        f"(b) `success` in the database → exit, {RUNS} deployments followed by both at once:\n"
        f"    deployserver deployment watch: median {statistics.median(cli) * 1000:.0f} ms, "
        f"p95 {pct(cli, 95) * 1000:.0f} ms; goal p95 ≤ 1 s: "
        f"{'met' if pct(cli, 95) <= 1.0 else 'NOT met'}\n"
        f"    curl polling the log every {CURL_SLEEP:g} s (README): median "
        f"{statistics.median(curl) * 1000:.0f} ms, p95 {pct(curl, 95) * 1000:.0f} ms"
    )
    server, wall = column("server"), column("cli_wall")
    print(
        f"(c) the deployment on the server (queued → success, sandbox rollout of "
        f"{os.environ['DEPLOYSERVER_SANDBOX_ROLLOUT_SECONDS']} s): median "
        f"{statistics.median(server) * 1000:.0f} ms; the command from start to exit: median "
        f"{statistics.median(wall) * 1000:.0f} ms"
    )


def main() -> None:
    from django.contrib.auth import get_user_model
    from moto.server import ThreadedMotoServer

    from deployserver.core.services import api_key_create
    from releases.releasing import release_create
    from sandbox import rollouts, seed
    from tests.conftest import free_port, wait_for_port

    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    if not SCRIPT.exists():
        sys.exit(f"{SCRIPT} is missing: install the project (make install)")
    figure_a()
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    rollouts.install()
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    wait_for_port(port)
    web = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    web.set_app(get_wsgi_application())
    threading.Thread(target=web.serve_forever, daemon=True).start()
    workers = None
    try:
        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
        _, key = api_key_create(user=user, name="bench")
        account = seed.seed_database(f"http://127.0.0.1:{port}")
        seed.seed_aws(account)
        project = seed.seed_project(account)
        release = release_create(project=project, user=user, packages={"web": "1.0.1"})
        workers = Workers(1, "cli")
        figure_b_c(f"http://127.0.0.1:{web.server_port}", key, release)
    finally:
        if workers is not None:
            workers.stop()
        web.shutdown()
        web.server_close()
        moto.stop()
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
