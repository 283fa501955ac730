"""Benchmark: the versions API on big repositories, cold and warm.

    python tests/bench/feed_versions.py            (from the repository root)

Starts its own moto server and docker-registry, a throw-away SQLite database, and uses the cache
from CACHE_URL (Redis when set, otherwise a file cache in a temporary directory). Prints:

- 5,000 tags in one ECR repository on moto: the cold versions API call (``?refresh=1``) against
  the raw boto3 paginated ``describe_images`` listing of the same repository, and their ratio
  (goal <= 1.2x); the warm (cached) call's median (goal < 150 ms);
- the same for 2,000 tags on docker-registry (raw listing: one ``GET tags/list``).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ECR_TAGS = int(os.environ.get("BENCH_ECR_TAGS", 5000))
DOCKER_TAGS = int(os.environ.get("BENCH_DOCKER_TAGS", 2000))
COLD_RUNS = 7
WARM_RUNS = 30


def setup_django(workdir: Path) -> None:
    from cryptography.fernet import Fernet

    os.environ["DJANGO_SETTINGS_MODULE"] = "deployserver.settings"
    os.environ["DEPLOYSERVER_DATA_DIR"] = str(workdir)
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key")
    os.environ.setdefault("DEPLOYSERVER_MASTER_KEY", Fernet.generate_key().decode())
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DEPLOYSERVER_ENDPOINT_POLICY", "any")  # moto and registry on loopback
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def tag_names(count: int) -> list[str]:
    """Mostly releases, some pre-releases, a few tags that are not versions."""
    tags = []
    for i in range(count):
        if i % 50 == 0:
            tags.append(f"branch-{i}")
        elif i % 10 == 0:
            tags.append(f"{i // 400}.{(i // 20) % 20}.{i % 20}-rc.{i % 7}")
        else:
            tags.append(f"v{i // 400}.{(i // 20) % 20}.{i % 20}" if i % 3 else f"{i // 400}.{i}.0")
    return list(dict.fromkeys(tags))


def wait_for(url: str) -> None:
    import requests

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def timed(fn, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def api_client():
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from deployserver.core.services import api_key_create

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_superuser": True, "is_staff": True}
    )
    _, key = api_key_create(user=user, name="bench")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def measure(label: str, client, url: str, raw, expected: int) -> None:
    def cold():
        resp = client.get(url, {"refresh": "1", "pre": "1"})
        assert resp.status_code == 200, resp.content[:300]
        assert len(resp.json()["results"]) == expected, len(resp.json()["results"])

    def warm():
        resp = client.get(url, {"pre": "1"})
        assert resp.status_code == 200 and resp.json()["cached"], resp.content[:300]

    raw()
    cold()  # first call: clients, connections and code paths warmed up like a running server
    # Interleaved, so both sides see the same load on a shared machine.
    raw_samples, cold_samples = [], []
    for _ in range(COLD_RUNS):
        raw_samples.append(timed(raw, 1))
        cold_samples.append(timed(cold, 1))
    raw_s, cold_s = statistics.median(raw_samples), statistics.median(cold_samples)
    warm_s = timed(warm, WARM_RUNS)
    ratio = cold_s / raw_s
    print(f"{label}")
    print(f"  raw listing (median of {COLD_RUNS})        {ms(raw_s)}")
    print(
        f"  cold versions API call (median of {COLD_RUNS}) {ms(cold_s)}   ratio {ratio:.2f}x "
        f"(goal <= 1.2x) {'OK' if ratio <= 1.2 else 'MISSED'}"
    )
    print(
        f"  warm versions API call (median of {WARM_RUNS}) {ms(warm_s)}   "
        f"(goal < 150 ms) {'OK' if warm_s < 0.150 else 'MISSED'}"
    )


def bench_ecr(client) -> None:
    import boto3

    from deployserver.core.services import aws_account_create
    from feeds.registries import Tag
    from feeds.services import feed_create
    from feeds.versions import split_tags
    from tests.feeds.registry_kit import ecr_manifest, free_port

    port = free_port()
    # Its own process, like AWS: the server's work does not compete with ours for the GIL.
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    wait_for(endpoint)
    keys = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "bench"}
    ecr = boto3.client("ecr", endpoint_url=endpoint, region_name="us-east-1", **keys)
    ecr.create_repository(repositoryName="bench/app")
    tags = tag_names(ECR_TAGS)
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda t: ecr.put_image(
                    repositoryName="bench/app", imageManifest=ecr_manifest(t), imageTag=t
                ),
                tags,
            )
        )
    print(f"(pushed {len(tags)} ECR images in {time.perf_counter() - started:.1f} s)")
    account = aws_account_create(
        user=None,
        name="Bench",
        access_key_id=keys["aws_access_key_id"],
        secret_access_key=keys["aws_secret_access_key"],
        region="us-east-1",
        endpoint_url=endpoint,
    )
    feed = feed_create(user=None, name="Bench ECR", feed_type="aws-ecr", account=account)

    def raw():
        pages = ecr.get_paginator("describe_images").paginate(repositoryName="bench/app")
        images = [image for page in pages for image in page["imageDetails"]]
        assert len(images) == len(tags)

    expected = len(split_tags([Tag(t) for t in tags])[0])
    measure(
        f"ECR on moto: {len(tags)} tags in one repository ({expected} versions)",
        client,
        f"/api/feeds/{feed.pk}/packages/bench/app/versions/",
        raw,
        expected,
    )
    server.terminate()
    server.wait(10)


def bench_docker(client, workdir: Path) -> None:
    import requests

    from feeds.registries import Tag
    from feeds.services import feed_create
    from feeds.versions import split_tags
    from tests.feeds.registry_kit import start_registry

    registry = start_registry(workdir / "registry")
    tags = tag_names(DOCKER_TAGS)
    started = time.perf_counter()
    registry.push("bench/app", tags[0])
    registry.tag_existing("bench/app", tags[0], tags[1:])
    print(f"(pushed {len(tags)} docker-registry tags in {time.perf_counter() - started:.1f} s)")
    feed = feed_create(
        user=None, name="Bench registry", feed_type="docker-registry", url=registry.url
    )
    session = requests.Session()

    def raw():
        resp = session.get(f"{registry.url}/v2/bench/app/tags/list", timeout=10)
        assert len(resp.json()["tags"]) == len(tags)

    expected = len(split_tags([Tag(t) for t in tags])[0])
    try:
        measure(
            f"docker-registry: {len(tags)} tags in one repository ({expected} versions)",
            client,
            f"/api/feeds/{feed.pk}/packages/bench/app/versions/",
            raw,
            expected,
        )
    finally:
        registry.stop()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="feed-bench-") as tmp:
        workdir = Path(tmp)
        setup_django(workdir)
        from django.conf import settings

        print(f"cache: {settings.CACHES['default']['BACKEND']}")
        client = api_client()
        bench_ecr(client)
        bench_docker(client, workdir)


if __name__ == "__main__":
    main()
