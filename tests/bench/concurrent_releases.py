"""Concurrent release creation: 20 clients POST an auto-numbered release of one project at the
same moment, over HTTP to a threaded server (releases are numbered one at a time under the
project's row lock). Prints how many succeeded, whether the numbers are distinct, and the
latency of the requests (median, p95, max), over several rounds.

    .venv/bin/python tests/bench/concurrent_releases.py
"""

import statistics
import sys
import threading
import time

from benchsetup import setup_django

setup_django()

import requests  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

CLIENTS = 20
ROUNDS = 5


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def one_round(url: str, key: str) -> tuple[list[float], list[int], list[str]]:
    barrier = threading.Barrier(CLIENTS)
    times: list[float] = []
    statuses: list[int] = []
    versions: list[str] = []
    lock = threading.Lock()

    def create():
        barrier.wait()
        start = time.perf_counter()
        response = requests.post(url, json={}, headers={"Authorization": f"Token {key}"})
        elapsed = (time.perf_counter() - start) * 1000
        with lock:
            times.append(elapsed)
            statuses.append(response.status_code)
            if response.status_code == 201:
                versions.append(response.json()["version"])

    threads = [threading.Thread(target=create) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return times, statuses, versions


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from deployserver.core.services import api_key_create
        from releases.services import project_create

        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
        _, key = api_key_create(user=user, name="bench")
        project = project_create(user=user, name="Bench", slug="bench")
        url = f"http://127.0.0.1:{server.server_port}/api/projects/{project.slug}/releases/"
        print(
            f"deployserver concurrent releases: {CLIENTS} clients at once, {ROUNDS} rounds, "
            f"PostgreSQL {connection.pg_version // 10000}, threaded WSGI server"
        )
        every: list[float] = []
        for number in range(1, ROUNDS + 1):
            times, statuses, versions = one_round(url, key)
            every += times
            ok = statuses.count(201)
            distinct = len(set(versions)) == len(versions)
            print(
                f"  round {number}: {ok}/{CLIENTS} created, numbers distinct: {distinct}, "
                f"median {statistics.median(times):6.1f} ms, max {max(times):6.1f} ms"
            )
        every.sort()
        p95 = every[int(0.95 * (len(every) - 1))]
        print(
            f"all rounds: median {statistics.median(every):.1f} ms, p95 {p95:.1f} ms, "
            f"max {every[-1]:.1f} ms"
        )
    finally:
        server.shutdown()
        server.server_close()
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
