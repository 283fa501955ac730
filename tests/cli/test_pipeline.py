"""What a CI job does with ``deployserver``: create a release, deploy it, wait, read the result
from the exit code — against the live server, a real Celery worker and the sandbox's ECS."""

import json

import pytest

from deployments.models import Deployment
from releases.models import Environment, Project, Release
from sandbox import seed
from tests.factories import make_lifecycle

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_create_deploy_and_wait_streams_the_log_and_exits_0(celery_worker_process, sandbox, cli):
    run = cli(
        "release", "create", "--project", "hello-color", "--version", "1.5.0",
        "--package", "web:1.1.0", "--notes", "Blue button", "--deploy-to", "dev", "--wait",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("created release 1.5.0 of hello-color")
    assert "web 1.1.0" in lines[0]
    deployment = Deployment.objects.get(release__version="1.5.0")
    assert deployment.state == Deployment.State.SUCCESS
    assert lines[1] == f"queued deployment {deployment.pk}: hello-color 1.5.0 to dev"
    # Every line of the task log, in order, with its level marked.
    texts = list(deployment.log_lines.order_by("seq").values_list("level", "text"))
    streamed = lines[2:-1]
    assert len(streamed) == len(texts)
    for line, (level, text) in zip(streamed, texts, strict=True):
        assert f" {level.upper()} " in line and line.endswith(text)
    assert any("completed: 2 of 2 tasks running" in line for line in streamed)
    assert lines[-1].startswith(f"deployment {deployment.pk}: hello-color 1.5.0 to dev succeeded")
    assert Release.objects.get(version="1.5.0").notes == "Blue button"


def test_several_environments_deploy_in_order_each_after_the_previous_succeeded(
    celery_worker_process, release, cli
):
    run = cli(
        "release", "deploy", "--project", "hello-color", "--version", release.version,
        "--to", "dev", "test", "--wait",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    dev, test = Deployment.objects.filter(release=release).order_by("pk")
    assert (dev.environment.slug, test.environment.slug) == ("dev", "test")
    assert dev.finished_at <= test.created_at  # test was queued once dev had succeeded
    results = [line for line in run.stdout.splitlines() if " succeeded in " in line]
    assert [r.split(":")[0] for r in results] == [f"deployment {dev.pk}", f"deployment {test.pk}"]

    promoted = cli("release", "promote", "--project", "hello-color", "--version", release.version,
                   "--wait", "--output", "json")  # fmt: skip
    assert promoted.code == 0, promoted.stderr
    document = json.loads(promoted.stdout)
    assert (document["environment"], document["state"]) == ("prod", "success")
    assert "succeeded in" in promoted.stderr  # json mode: what a person reads goes to stderr


def test_a_failing_image_exits_1_after_the_rollback_is_logged(celery_worker_process, sandbox, cli):
    run = cli(
        "release", "create", "--project", "hello-color",
        "--package", f"web:{seed.FAILING_TAG}", "--deploy-to", "dev", "--wait",
    )  # fmt: skip
    assert run.code == 1, run.stdout + run.stderr
    deployment = Deployment.objects.get()
    assert deployment.state == Deployment.State.FAILED
    lines = run.stdout.splitlines()
    rolled_back = next(i for i, line in enumerate(lines) if "Rolled back: service" in line)
    assert " WARNING " in lines[rolled_back]
    assert rolled_back < len(lines) - 1
    assert lines[-1].startswith(f"deployment {deployment.pk}: hello-color ")
    assert " failed after " in lines[-1] and lines[-1].endswith(deployment.error)
    assert "Rolled back to hello-color-dev:1." in lines[-1]


def test_deploying_a_fresh_release_to_prod_exits_2_with_the_lifecycles_reason(sandbox, cli):
    run = cli("release", "create", "--project", "hello-color", "--deploy-to", "prod")
    assert run.code == 2
    assert run.stderr.strip() == (
        "error: 400: environment: Prod opens after phase Dev has a successful deployment to Dev."
    )
    assert run.stdout.startswith("created release 0.0.1 of hello-color")
    assert not Deployment.objects.exists()


def test_release_create_again_with_the_same_version_is_idempotent(
    celery_worker_process, sandbox, cli
):
    args = ["release", "create", "--project", "hello-color", "--version", "2.0.0",
            "--package", "web:1.1.0", "--deploy-to", "dev", "--wait"]  # fmt: skip
    first = cli(*args)
    assert first.code == 0, first.stderr
    again = cli(*args)
    assert again.code == 0, again.stderr
    release = Release.objects.get()
    assert again.stdout.splitlines() == [
        f"release 2.0.0 of hello-color exists (id {release.pk}): web 1.1.0",
        "release 2.0.0 already succeeded in dev",
    ]
    assert Deployment.objects.count() == 1

    # Going on to an environment it has not reached yet deploys there.
    further = cli(*args[:-3], "--deploy-to", "dev", "--deploy-to", "test", "--wait")
    assert further.code == 0, further.stderr
    assert sorted(Deployment.objects.values_list("environment__slug", flat=True)) == [
        "dev",
        "test",
    ]

    other = cli("release", "create", "--project", "hello-color", "--version", "2.0.0",
                "--package", "web:1.0.1")  # fmt: skip
    assert other.code == 2
    assert other.stderr == (
        "error: release 2.0.0 of hello-color exists with other packages:\n"
        "  web: 1.1.0 in the release, 1.0.1 asked\n"
    )
    assert Release.objects.count() == 1


def test_a_rerun_follows_the_deployment_already_running_instead_of_queueing_another(
    celery_worker_process, sandbox, cli, admin_user
):
    from deployments.services import deployment_create
    from releases.models import Environment
    from releases.releasing import release_create

    release = release_create(project=sandbox, user=admin_user, version="3.0.0",
                             packages={"web": "1.0.1"})  # fmt: skip
    running = deployment_create(
        release=release, environment=Environment.objects.get(slug="dev"), user=admin_user
    )
    run = cli("release", "create", "--project", "hello-color", "--version", "3.0.0",
              "--package", "web:1.0.1", "--deploy-to", "dev", "--wait")  # fmt: skip
    assert run.code == 0, run.stderr
    assert f"following deployment {running.pk}: hello-color 3.0.0 to dev, already " in run.stdout
    assert list(Deployment.objects.values_list("pk", "state")) == [(running.pk, "success")]


def test_output_json_is_the_apis_objects(celery_worker_process, sandbox, cli):
    run = cli("release", "create", "--project", "hello-color", "--package", "web:1.0.1",
              "--deploy-to", "dev", "--wait", "--output", "json")  # fmt: skip
    assert run.code == 0, run.stderr
    document = json.loads(run.stdout)
    deployment = Deployment.objects.get()
    assert document["created"] is True
    assert document["release"]["packages"]["web"]["tag"] == "1.0.1"
    assert [(d["id"], d["state"]) for d in document["deployments"]] == [(deployment.pk, "success")]
    assert "completed: 2 of 2 tasks running" in run.stderr  # the log, kept off stdout

    tables = [
        ["release", "list", "--project", "hello-color"],
        ["deployment", "list", "--environment", "dev", "--state", "success"],
        ["deployment", "show", str(deployment.pk)],
        ["project", "list"],
        ["environment", "list"],
        ["feed", "versions", seed.FEED_NAME, "hello-color", "--pre"],
    ]
    logs = [["deployment", "watch", str(deployment.pk)], ["deployment", "log", str(deployment.pk)]]
    for args in tables + logs:
        as_json = cli(*args, "--output", "json")
        assert as_json.code == 0, (args, as_json.stderr)
        assert json.loads(as_json.stdout), args
        text = cli(*args)
        assert text.code == 0 and text.stdout, (args, text.stderr)
        if args in tables:  # log lines are kept whole
            assert all(len(line) <= 80 for line in text.stdout.splitlines()), args

    listed = json.loads(cli("deployment", "list", "-o", "json").stdout)
    assert [d["id"] for d in listed] == [deployment.pk]
    versions = json.loads(cli("feed", "versions", seed.FEED_NAME, "hello-color", "--pre",
                              "-o", "json").stdout)  # fmt: skip
    assert {"1.2.0-beta.1", "1.1.0"} <= {v["version"] for v in versions["results"]}
    log = json.loads(cli("deployment", "log", str(deployment.pk), "-o", "json").stdout)
    assert [line["seq"] for line in log] == list(range(1, len(log) + 1))


def test_wait_without_deploy_to_follows_what_the_lifecycle_deploys_by_itself(
    celery_worker_process, sandbox, cli
):
    """Dev and Test are automatic: creating the release queues Dev, Dev's success queues Test
    (in the transaction that records it, so the command cannot miss it), and --wait follows
    both to the end."""
    dev, test, prod = (Environment.objects.get(slug=slug) for slug in ("dev", "test", "prod"))
    Project.objects.filter(slug="hello-color").update(
        lifecycle=make_lifecycle(
            "Automatic to Test",
            [
                {"name": "Dev", "envs": [dev], "automatic": [dev]},
                {"name": "Test", "envs": [test], "automatic": [test]},
                {"name": "Prod", "envs": [prod]},
            ],
        )
    )
    run = cli(
        "release", "create", "--project", "hello-color", "--version", "1.6.0",
        "--package", "web:1.1.0", "--wait",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    dev, test = Deployment.objects.filter(release__version="1.6.0").order_by("pk")
    assert (dev.environment.slug, test.environment.slug) == ("dev", "test")
    assert dev.state == test.state == Deployment.State.SUCCESS
    assert dev.finished_at <= test.created_at
    following = [line for line in run.stdout.splitlines() if line.startswith("following ")]
    assert following == [
        f"following deployment {dev.pk}: hello-color 1.6.0 to dev, queued by the lifecycle",
        f"following deployment {test.pk}: hello-color 1.6.0 to test, queued by the lifecycle",
    ]
    results = [line for line in run.stdout.splitlines() if " succeeded in " in line]
    assert [r.split(":")[0] for r in results] == [f"deployment {dev.pk}", f"deployment {test.pk}"]


def test_wait_without_deploy_to_and_nothing_automatic_says_so_and_exits_0(sandbox, cli):
    run = cli(
        "release", "create", "--project", "hello-color", "--version", "1.7.0",
        "--package", "web:1.1.0", "--wait",
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert "no automatic deployment of release 1.7.0: nothing to wait for" in run.stdout
    assert not Deployment.objects.filter(release__version="1.7.0").exists()
