"""Feed trigger and webhook figures.

    .venv/bin/python tests/bench/triggers.py

Prints (a) push → release created through the registry's push hook (a real docker-registry
notifying a gunicorn server, a Celery worker process running the check), p50/p95 — goal p95
≤ 2 s; (b) push → release by polling alone (beat every ``BENCH_INTERVAL`` s) — goal ≤ one
interval + 2 s; (c) 50 projects watching one feed with 2,000 tags: one trigger round's time and
its registry requests (goal: one listing per feed per round); (d) deployment end → webhook
received, p95 (goal ≤ 1 s): deployments ended by the engine in a worker process, the event
delivered by the same worker; (e) 1,000 events to a receiver failing 50 % of attempts (two
dispatchers at once): none lost, no delivery id delivered twice.

Runs on PostgreSQL in a throwaway database (``<name>_bench``) and Redis (``CELERY_BROKER_URL``,
default ``redis://127.0.0.1:6379/15``, a queue of its own).
"""

import os
import random
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
INTERVAL = float(os.environ.get("BENCH_INTERVAL", "5"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deployserver.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/deployserver")
os.environ.setdefault("SECRET_KEY", "bench")
os.environ.setdefault("DEPLOYSERVER_MASTER_KEY", (ROOT / "tests/master.key").read_text().strip())
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CACHE_URL", os.environ["CELERY_BROKER_URL"])
os.environ.setdefault("DEPLOYSERVER_ENDPOINT_POLICY", "any")  # everything listens on loopback
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = "deployserver-bench-triggers"
os.environ["FEED_TRIGGER_SECONDS"] = str(INTERVAL)

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers.base")
django.setup()

import requests  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from tests.conftest import free_port, wait_for_port  # noqa: E402
from tests.feeds.registry_kit import start_registry  # noqa: E402
from tests.notifications.receiver import Receiver  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "20"))
TAGS = int(os.environ.get("BENCH_TAGS", "2000"))
PROJECTS = int(os.environ.get("BENCH_PROJECTS", "50"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000"))
ONLY = os.environ.get("BENCH_ONLY", "")  # e.g. "e": run only these figures


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def bench_env(**extra: str) -> dict:
    env = dict(os.environ, **extra)
    env["DATABASE_URL"] = (
        os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
    )
    return env


class Process:
    """A worker, beat or web server process on the bench database."""

    def __init__(self, name: str, argv: list[str], **extra: str):
        self.log_path = f"/tmp/bench-triggers-{name}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", *argv], cwd=ROOT, env=bench_env(**extra),
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def worker(name: str, **extra) -> Process:
    from deployserver.celery import app

    node = f"{name}-{os.getpid()}@bench"
    argv = ["celery", "-A", "deployserver", "worker", "-c", "2", "--without-gossip",
            "--without-mingle", "--loglevel=INFO", "-n", node]  # fmt: skip
    process = Process(name, argv, **extra)
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5, destination=[node]):
        if time.monotonic() > deadline or process.proc.poll() is not None:
            raise RuntimeError(f"worker {name} did not start; see {process.log_path}")
    return process


def wait_release(project, version: str, timeout: float = 60.0) -> float:
    from releases.models import Release

    started = time.monotonic()
    while not Release.objects.filter(project=project, packages__web__version=version).exists():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"no release of {version} after {timeout} s")
        time.sleep(0.02)
    return time.monotonic() - started


def watching_project(name: str, feed, user, package_id: str = "hello-color"):
    from releases.models import DeploymentProcess
    from tests.factories import ProjectFactory, ecs_step
    from triggers.services import trigger_create

    project = ProjectFactory(name=name, slug=name.lower().replace(" ", "-"))
    step = ecs_step(feed)
    step["packages"][0]["package_id"] = package_id
    DeploymentProcess.objects.create(project=project, steps=[step])
    trigger_create(project=project, user=user, name="Images")
    return project


def figure_a(user, base: str, tmp: Path) -> None:
    from feeds.services import feed_create, feed_update

    feed = feed_create(user=user, name="Hooked", feed_type="docker-registry", url="http://x")
    registry = start_registry(
        tmp / "hooked", notify_url=f"{base}/api/hooks/registry/{feed.hook_token}/"
    )
    try:
        feed_update(feed=feed, user=user, url=registry.url)
        project = watching_project("Hooked", feed, user)
        registry.push("hello-color", "1.0.0")
        wait_release(project, "1.0.0")
        times = []
        for n in range(1, RUNS + 1):
            started = time.monotonic()
            registry.push("hello-color", f"1.{n}.0")
            wait_release(project, f"1.{n}.0", timeout=30)
            times.append(time.monotonic() - started)
    finally:
        registry.stop()
    print(
        f"(a) push → release by the registry hook, {RUNS} pushes: p50 "
        f"{statistics.median(times):.2f} s, p95 {pct(times, 95):.2f} s, max {max(times):.2f} s "
        "(goal p95 ≤ 2 s)"
    )


def figure_b(user, tmp: Path) -> None:
    from feeds.services import feed_create

    registry = start_registry(tmp / "polled")
    beat = None
    try:
        feed = feed_create(user=user, name="Polled", feed_type="docker-registry", url=registry.url)
        project = watching_project("Polled", feed, user)
        registry.push("hello-color", "1.0.0")
        beat = Process("beat", ["celery", "-A", "deployserver", "beat", "-s", str(tmp / "beat")])
        wait_release(project, "1.0.0", timeout=INTERVAL * 3 + 30)
        times = []
        for n in range(1, min(RUNS, 6) + 1):
            time.sleep(random.uniform(0, INTERVAL))  # pushes land anywhere in the interval
            started = time.monotonic()
            registry.push("hello-color", f"1.{n}.0")
            wait_release(project, f"1.{n}.0", timeout=INTERVAL * 3 + 10)
            times.append(time.monotonic() - started)
    finally:
        if beat:
            beat.stop()
        registry.stop()
    print(
        f"(b) push → release by polling every {INTERVAL:.0f} s, {len(times)} pushes: p50 "
        f"{statistics.median(times):.2f} s, max {max(times):.2f} s "
        f"(goal ≤ {INTERVAL + 2:.0f} s)"
    )


def figure_c(user, tmp: Path) -> None:
    from feeds.services import feed_create
    from triggers.checking import triggers_check

    registry = start_registry(tmp / "big")
    try:
        registry.push("hello-color", "0.0.1")
        registry.tag_existing(
            "hello-color", "0.0.1", [f"1.{n // 100}.{n % 100}" for n in range(TAGS - 1)]
        )
        feed = feed_create(user=user, name="Big", feed_type="docker-registry", url=registry.url)
        for n in range(PROJECTS):
            watching_project(f"Watcher {n:02d}", feed, user)
        calls = Counter()
        send = requests.Session.send

        def counting(self, request, **kwargs):
            kind = "tags/list" if "/tags/list" in request.url else request.method + " manifest"
            where = "this feed" if request.url.startswith(registry.url) else "other feeds"
            calls[f"{kind} ({where})"] += 1
            return send(self, request, **kwargs)

        requests.Session.send = counting
        try:
            for label in ("first round (a release each)", "next round (nothing new)"):
                calls.clear()
                report = triggers_check()
                print(
                    f"(c) {PROJECTS} projects, one feed of {TAGS} tags, {label}: "
                    f"{report.seconds:.2f} s, {len(report.releases)} releases, registry "
                    f"requests {dict(sorted(calls.items()))} (goal: one listing per feed per "
                    "round; a HEAD pins the digest of each release made)"
                )
        finally:
            requests.Session.send = send
    finally:
        registry.stop()


def figure_d(user) -> None:
    from deployments.models import Deployment
    from deployments.services import deployment_create
    from notifications.services import webhook_create
    from releases.models import Environment
    from releases.releasing import release_create
    from tests.factories import ProjectFactory

    dev = Environment.objects.create(name="Dev", slug="dev")
    with Receiver() as receiver:
        webhook_create(user=user, name="Ends", url=receiver.url, events=["deployment.failed"])
        ended = []
        for n in range(RUNS):
            # A release without steps: the engine ends its deployment at once (failed).
            project = ProjectFactory(name=f"Ending {n:02d}", slug=f"ending-{n:02d}")
            release = release_create(project=project, user=user)
            ended.append(deployment_create(release=release, environment=dev, user=user).pk)
        deadline = time.monotonic() + 60
        while len(receiver.delivered()) < RUNS and time.monotonic() < deadline:
            time.sleep(0.05)
        received = {}
        import json

        for r in receiver.delivered():
            received[json.loads(r.body)["deployment"]["id"]] = r.wall
        lags = [
            received[pk] - finished.timestamp()
            for pk, finished in Deployment.objects.filter(pk__in=ended).values_list(
                "pk", "finished_at"
            )
            if pk in received
        ]
    print(
        f"(d) deployment end → webhook received, {len(lags)}/{RUNS} ends: p50 "
        f"{statistics.median(lags):.2f} s, p95 {pct(lags, 95):.2f} s (goal p95 ≤ 1 s)"
    )


def figure_e(user) -> None:
    from django.conf import settings

    from deployserver.core.events import event_record
    from notifications.delivery import notifications_dispatch
    from notifications.models import Delivery
    from notifications.services import webhook_create
    from tests.factories import ProjectFactory

    settings.DEPLOYSERVER_WEBHOOK_BACKOFF = [0.05] * 6
    flip = random.Random(14)
    project = ProjectFactory(name="Flaky events", slug="flaky-events")
    with Receiver(answer=lambda n: 200 if flip.random() < 0.5 else 500) as receiver:
        webhook = webhook_create(
            user=user,
            name="Flaky",
            url=receiver.url,
            events=["release.created"],
            projects=[project],
        )
        started = time.monotonic()
        for n in range(EVENTS):
            event_record("release.created", {"release": {"id": n}}, project_id=project.pk)
        stop = threading.Event()

        def dispatcher():
            try:
                while not stop.is_set():
                    notifications_dispatch()
                    time.sleep(0.02)
            finally:
                connection.close()

        threads = [threading.Thread(target=dispatcher) for _ in range(2)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 300
        mine = Delivery.objects.filter(webhook=webhook)
        while mine.filter(state="pending").exists() or mine.count() < EVENTS:
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        ok = Counter(r.delivery for r in receiver.delivered())
    states = Counter(mine.values_list("state", flat=True))
    attempts = sum(mine.values_list("attempts", flat=True))
    done = {str(i): state for i, state in mine.values_list("delivery_id", "state")}
    delivered_ids = {i for i, state in done.items() if state == "delivered"}
    given_up = states.get("failed", 0)
    # Lost: an event whose delivery neither reached the receiver nor is listed as failed.
    lost = EVENTS - len(set(ok) | {i for i, state in done.items() if state == "failed"})
    unconfirmed = len(delivered_ids - set(ok))  # marked delivered, never answered 2xx
    duplicated = sum(1 for count in ok.values() if count > 1)
    errors = Counter(mine.exclude(error="").values_list("error", flat=True))
    print(
        f"(e) {EVENTS} events, receiver failing 50 % of {len(receiver.requests)} attempts "
        f"({attempts} recorded), two dispatchers: {len(ok)} delivered, {given_up} given up "
        f"after 7 attempts (listed as failed, redeliverable), {lost} lost, {unconfirmed} marked "
        f"delivered without a 2xx, {duplicated} delivery ids delivered twice; {elapsed:.1f} s; "
        f"last errors {dict(errors.most_common(3))}"
    )


def main() -> None:
    import tempfile

    from django.contrib.auth import get_user_model

    if connection.vendor != "postgresql":
        sys.exit("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...")
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = f"{connection.settings_dict['NAME']}_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    from django.core.cache import cache

    cache.clear()
    processes = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-triggers-"))
    try:
        user = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
        port = free_port()
        processes.append(
            Process(
                "web",
                ["gunicorn", "deployserver.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                ALLOWED_HOSTS="127.0.0.1,localhost",
            )  # fmt: skip
        )
        wait_for_port(port, timeout=30)
        processes.append(worker("triggers"))
        print(
            f"deployserver trigger and webhook benchmark: PostgreSQL "
            f"{connection.pg_version // 10000}, Redis broker, gunicorn, a Celery worker of 2 "
            f"processes, docker-registry, {os.cpu_count()} CPUs\n"
        )
        if not ONLY or "a" in ONLY:
            figure_a(user, f"http://127.0.0.1:{port}", tmp)
        if not ONLY or "b" in ONLY:
            figure_b(user, tmp)
        if not ONLY or "c" in ONLY:
            figure_c(user, tmp)
        if not ONLY or "d" in ONLY:
            figure_d(user)
        for p in processes:
            p.stop()
        processes = []
        if not ONLY or "e" in ONLY:
            figure_e(user)
    finally:
        for p in processes:
            p.stop()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
