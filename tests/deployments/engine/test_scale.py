"""Waiting costs no worker: 50 deployments with 5 s rollouts on ONE worker process of
concurrency 1 all end in well under 50 × 5 s, each with its whole log; with 10 of them failing
(the circuit breaker rolls them back) those end failed and rolled back, the others succeed. The
rollouts of one cluster are read with one DescribeServices per 10 services."""

import re
import time

import pytest

from deployments.enqueue import enqueue
from deployments.models import Deployment, LogLine
from deployserver.core.models import AwsAccount
from releases.models import Environment
from sandbox import rollouts, seed

from .processes import RedisServer, celery, stop
from .test_kill_restart import make_services

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

COUNT, ROLLOUT = 50, 5.0


def run_all(releases, tmp_path, monkeypatch) -> tuple[float, list[Deployment]]:
    """Deploy every release to Dev at once on one worker process (concurrency 1)."""
    redis = RedisServer(tmp_path / "redis.log")
    redis.start()
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", redis.url)
    env = {"CELERY_BROKER_URL": redis.url, "DEPLOYSERVER_ROLLOUT_POLL_SECONDS": "1"}
    args = ["worker", "-c", "1", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    worker = celery(args, tmp_path / "worker.log", **env)
    dev = Environment.objects.get(slug="dev")
    try:
        deadline = time.monotonic() + 30
        while b" ready." not in (tmp_path / "worker.log").read_bytes():
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        started = time.monotonic()
        deployments = [
            Deployment.objects.create(release=r, project=r.project, environment=dev)
            for r in releases
        ]
        for d in deployments:
            enqueue(d.pk)
        mine = Deployment.objects.filter(pk__in=[d.pk for d in deployments])
        while mine.exclude(state__in=Deployment.FINISHED).exists():
            assert time.monotonic() - started < 120, dict(mine.values_list("pk", "state"))
            time.sleep(0.1)
        took = time.monotonic() - started
    finally:
        stop(worker)
        redis.stop()
    return took, list(mine.select_related("project").order_by("pk"))


def describe_calls_per_round(deployment: Deployment) -> set[int]:
    texts = LogLine.objects.filter(
        deployment=deployment, level="verbose", text__startswith="Checked in a round of"
    ).values_list("text", flat=True)
    return {int(re.match(r"Checked in a round of (\d+)", t).group(1)) for t in texts}


def test_50_rollouts_of_5_s_on_one_worker_process_take_far_less_than_50_times_5_s(
    moto, sandbox, monkeypatch, tmp_path, capsys
):
    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", ROLLOUT)
    account = AwsAccount.objects.get(name=seed.ACCOUNT_NAME)
    releases = make_services(account, sandbox, COUNT)

    took, deployments = run_all(releases, tmp_path, monkeypatch)

    assert took < 30, f"{COUNT} deployments took {took:.1f} s on one worker process"
    for d in deployments:
        assert d.state == Deployment.State.SUCCESS, (d.project.slug, d.error)
        texts = list(d.log_lines.order_by("seq").values_list("text", flat=True))
        assert texts[0].startswith("Deploying ") and texts[-1].endswith("is deployed to Dev.")
        assert any(t.startswith(f"Registered task definition {d.project.slug}:2") for t in texts)
        assert any("reached a steady state" in t for t in texts)  # the service's events
        assert any(t.startswith("Rollout of ") and "completed" in t for t in texts)
        # 50 services of one cluster: never more than 5 DescribeServices in a round.
        assert describe_calls_per_round(d) <= set(range(1, 6)), describe_calls_per_round(d)
    with capsys.disabled():
        print(
            f"\n[scale] {COUNT} deployments, {ROLLOUT:g} s rollouts, 1 worker process: {took:.1f} s"
        )


def test_10_of_50_failing_are_rolled_back_and_the_other_40_succeed(
    moto, sandbox, monkeypatch, tmp_path, capsys
):
    monkeypatch.setattr(rollouts, "ROLLOUT_SECONDS", ROLLOUT)
    account = AwsAccount.objects.get(name=seed.ACCOUNT_NAME)
    failing = set(range(0, COUNT, COUNT // 10))  # every fifth

    releases = make_services(
        account, sandbox, COUNT, version_of=lambda n: seed.FAILING_TAG if n in failing else "1.0.1"
    )
    took, deployments = run_all(releases, tmp_path, monkeypatch)

    assert took < 30, f"{COUNT} deployments took {took:.1f} s on one worker process"
    for n, d in enumerate(deployments):
        if n in failing:
            assert d.state == Deployment.State.FAILED, (d.project.slug, d.state)
            assert "did not become healthy" in d.error or "FAILED" in d.error, d.error
            assert d.error.endswith(f"Rolled back to {d.project.slug}:1."), d.error
            assert d.log_lines.filter(text__startswith="Task ", text__contains="stopped").exists()
        else:
            assert d.state == Deployment.State.SUCCESS, (d.project.slug, d.error)
    with capsys.disabled():
        print(
            f"\n[scale] {COUNT} deployments ({len(failing)} failing, rolled back), "
            f"{ROLLOUT:g} s rollouts, 1 worker process: {took:.1f} s"
        )
