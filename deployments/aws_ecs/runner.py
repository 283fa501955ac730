"""Running the ``aws-ecs-deploy`` step of a deployment: the seed's deployment, done reliably.

``start`` (a worker's short turn): resolve the release's variables for the environment (snapshot
+ system variables), build the requests with the same code the preview uses
(``EcsDeployStep.build_plan``), remember the task definition that runs now, register the new
revision (recorded in the outputs *before* the service is touched, so a repeated run reuses it
instead of registering a second one), update the service, and hand back a *wait*: what to follow.

``check`` (the check rounds, see ``deployments.rounds.deployments_check``): every due rollout at
once, one ``DescribeServices`` per 10 services of a cluster, each read by its ``RolloutWatcher``
with AWS's semantics. On failure with rollback on, the service goes back to the revision that
ran before this deployment — never "revision − 1" — and that rollout is followed the same way.
Nothing is ever deregistered. A failed read (throttling after botocore's adaptive retries, a
network error) is logged and retried at the next check; only the timeout ends the wait.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings

from deployserver.core.aws import AwsError, cached_client, client
from deployserver.core.models import AwsAccount
from feeds.models import Feed
from releases.variables import PackageInfo, system_variables, variables_resolve

from ..exceptions import StepFailed
from ..runners import Check, CheckRound, Item
from . import diff
from .aws import (
    RolloutResult,
    RolloutWatcher,
    describe_service,
    describe_services,
    register_task_definition,
    short_arn,
    update_service,
)
from .step import ECS_DEPLOY, EcsPlan

if TYPE_CHECKING:
    from ..engine import DeploymentRun

# Seams for tests: the ECS client factory and the wall clock deadlines are measured with.
ecs_client = client
clock = time.time


def ecs_for(account: AwsAccount, region: str):
    # Tests swap ``ecs_client``; the cache keys on the factory, so they get their own client.
    return cached_client(account, "ecs", region, factory=ecs_client)


def step_packages(release, step: dict, *, pin_digest: bool) -> dict[str, PackageInfo]:
    """The step's packages as ``Package[<name>].*`` sees them; by digest when pinned."""
    chosen = [p for p in (release.packages or {}).values() if p.get("step") == step.get("name")]
    slugs = dict(
        Feed.objects.filter(pk__in=[p.get("feed") for p in chosen]).values_list("pk", "slug")
    )
    packages = {}
    for p in chosen:
        image, tag, digest = p.get("image", ""), p.get("tag", ""), p.get("digest", "")
        if pin_digest and digest and tag and image.endswith(f":{tag}"):
            image = f"{image[: -len(tag) - 1]}@{digest}"
        packages[p["name"]] = PackageInfo(
            package_id=p.get("package_id", ""),
            version=p.get("version", ""),
            image=image,
            digest=digest,
            feed_id=slugs.get(p.get("feed"), str(p.get("feed", ""))),
        )
    return packages


def _describe_update(update: dict) -> str:
    config = update.get("deploymentConfiguration", {})
    breaker = config.get("deploymentCircuitBreaker", {})
    parts = []
    if "desiredCount" in update:
        parts.append(f"desired count {update['desiredCount']}")
    parts.append(
        f"min {config.get('minimumHealthyPercent')} %, max {config.get('maximumPercent')} %"
    )
    if breaker.get("enable"):
        parts.append("circuit breaker on" + (" with rollback" if breaker.get("rollback") else ""))
    if update.get("forceNewDeployment"):
        parts.append("force new deployment")
    return ", ".join(parts)


def run_ecs_step(run: DeploymentRun, step: dict) -> dict | None:
    """Plan, connect, remember what runs now, register, update; then what to follow, if any."""
    plan = _plan(run, step)
    update = dict(plan.update_service)
    ecs = _connect(run, plan)
    service = describe_service(ecs, update["cluster"], update["service"])
    outputs = _outputs_before(run, step, update, service)
    # What the service is set to, for the drift rounds to compare what runs later (a count the
    # step leaves alone is recorded as None: it is not ours to watch).
    outputs.update(
        aws_account=plan.aws_account,
        region=plan.region,
        desired_count=update.get("desiredCount"),
        deployment_configuration=update.get("deploymentConfiguration") or {},
    )
    _log_changes(run, ecs, plan, service)
    arn = _register(run, step, ecs, plan.register_task_definition, outputs)
    _update(run, ecs, update, arn)
    if plan.wait_mode == "none":
        run.log.info("Not waiting for the rollout (wait mode: don't wait).")
        return None
    timeout = plan.timeout_minutes * 60
    run.log.info(
        f"Following the rollout (timeout {plan.timeout_minutes} min, a check every "
        f"{settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS:g} s)."
    )
    watcher = RolloutWatcher(
        cluster=update["cluster"],
        service=update["service"],
        task_definition=arn,
        log=run.log.write,
        deadline=clock() + timeout,
        timeout=timeout,
        known_events={e.get("id") for e in service.get("events", [])},
    )
    return {
        "kind": "rollout",
        "account": plan.aws_account,
        "region": plan.region,
        "previous": outputs["previous_task_definition_arn"],
        "rollback_on_failure": plan.rollback_on_failure,
        "watcher": watcher.state(),
    }


def plan_values(release, environment, specs, packages, deployment_id: str) -> dict[str, str]:
    """The release's variables for the environment, with the system variables, for one step."""
    return {
        **variables_resolve(specs, environment.pk),
        **system_variables(
            project=release.project,
            environment=environment,
            release_number=release.version,
            release_notes=release.notes,
            deployment_id=deployment_id,
            packages=packages,
        ),
    }


def step_values(run: DeploymentRun, packages: dict[str, PackageInfo]) -> dict[str, str]:
    """``plan_values`` for a deployment's step; logs which image each package deploys."""
    values = plan_values(run.release, run.environment, run.specs, packages, str(run.deployment.pk))
    for ref, info in packages.items():
        how = "digest" if "@" in info.image else "tag"
        run.log.info(f"Package {ref}: {info.package_id} {info.version} by {how} ({info.image})")
    return values


def _plan(run: DeploymentRun, step: dict) -> EcsPlan:
    """The step's requests, from the release's variables for the environment and its packages."""
    packages = step_packages(run.release, step, pin_digest=run.project.pin_digest)
    values = step_values(run, packages)
    plan = ECS_DEPLOY.build_plan(step.get("properties") or {}, values, packages)
    run.log.verbose(
        "RegisterTaskDefinition " + json.dumps(plan.register_task_definition, sort_keys=True)
    )
    return plan


def account_for(slug: str) -> AwsAccount:
    account = AwsAccount.objects.filter(slug=slug).first()
    if account is None:
        raise StepFailed(f"No AWS account '{slug}' (step property aws_account).")
    return account


def _connect(run: DeploymentRun, plan: EcsPlan):
    """The ECS client of the step's AWS account and region."""
    account = account_for(plan.aws_account)
    ecs = ecs_for(account, plan.region)
    cluster = plan.update_service["cluster"]
    run.log.info(f"AWS account {account.name}, region {plan.region}, cluster {cluster}.")
    return ecs


def _outputs_before(run: DeploymentRun, step: dict, update: dict, service: dict) -> dict:
    """The step's outputs before it changes anything: the service and what it runs now.

    A repeated run of this deployment keeps the revision that ran before its first attempt, and
    the task definition it registered then (``task_definition_arn``, reused by ``_register``).
    """
    mine = dict((run.outputs.get("steps") or {}).get(step["name"]) or {})
    previous = mine.get("previous_task_definition_arn") or service.get("taskDefinition", "")
    outputs = {
        "cluster": update["cluster"],
        "service": update["service"],
        "service_arn": service.get("serviceArn", ""),
        "previous_task_definition_arn": previous,
    }
    if mine.get("task_definition_arn"):
        outputs["task_definition_arn"] = mine["task_definition_arn"]
    run.log.info(f"Service {outputs['service']} runs {short_arn(previous)} now.")
    return outputs


def _log_changes(run: DeploymentRun, ecs, plan: EcsPlan, service: dict) -> None:
    """What this deployment changes on the service, in one line (the release page's diff)."""
    try:
        current = diff.service_now(ecs, service)
    except AwsError as exc:
        run.log.warning(f"What the service runs now could not be compared: {exc}")
        return
    nxt = diff.next_fields(plan.register_task_definition, plan.update_service, current)
    secrets = run.secrets + diff.deployed_secrets(run.project.pk, run.environment)
    run.log.highlight(diff.summary(diff.changes_between(current, nxt, secrets)))


def _register(run: DeploymentRun, step: dict, ecs, register: dict, outputs: dict) -> str:
    """Register the new revision (or reuse this deployment's) and record it before the service
    changes: see the module's docstring."""
    arn = outputs.get("task_definition_arn")
    if arn:
        run.log.info(
            f"Reusing task definition {short_arn(arn)}, registered earlier for this deployment."
        )
    else:
        run.check_cancel()
        arn = register_task_definition(ecs, register)
        run.log.info(f"Registered task definition {short_arn(arn)}.")
    outputs["task_definition_arn"] = arn
    steps = dict(run.outputs.get("steps") or {})
    steps[step["name"]] = outputs
    run.save_outputs(steps=steps, **outputs)
    return arn


def _update(run: DeploymentRun, ecs, update: dict, arn: str) -> None:
    """Point the service at ``arn``."""
    run.check_cancel()
    update["taskDefinition"] = arn
    run.log.verbose("UpdateService " + json.dumps(update, sort_keys=True))
    update_service(ecs, update)
    run.log.info(
        f"Updated service {update['service']} to {short_arn(arn)} ({_describe_update(update)})."
    )


# Following rollouts, many at once ---------------------------------------------------------------


def check_ecs_rollouts(items: Sequence[Item], round_: CheckRound) -> list[Check]:
    """Check every due rollout of ``items``: one DescribeServices per 10 services per account,
    region and cluster; each rollout is then read by its watcher. Answers in ``items``' order."""
    accounts = {
        a.slug: a
        for a in AwsAccount.objects.filter(slug__in={wait["account"] for _, _, wait in items})
    }
    groups: dict[tuple[str, str, str], list[int]] = {}
    for index, (_, _, wait) in enumerate(items):
        key = (wait["account"], wait["region"], wait["watcher"]["cluster"])
        groups.setdefault(key, []).append(index)
    checks: list[Check | None] = [None] * len(items)
    for (slug, region, cluster), indexes in groups.items():
        round_.groups += 1
        account = accounts.get(slug)
        if account is None:
            for i in indexes:
                checks[i] = Check(failed=f"No AWS account '{slug}' (step property aws_account).")
            continue
        ecs = ecs_for(account, region)
        names = [items[i][2]["watcher"]["service"] for i in indexes]
        try:
            described, calls = describe_services(ecs, cluster, names)
            round_.count("DescribeServices", calls)
            error = None
        except AwsError as exc:
            round_.count("DescribeServices")
            described, error = {}, exc
        for i in indexes:
            run, _, wait = items[i]
            try:
                checks[i] = _check_one(run, ecs, wait, described, error, round_)
            except AwsError as exc:
                checks[i] = unreadable_until(run, wait, exc)
    return [c if c is not None else Check(failed="Not checked.") for c in checks]


def _check_one(run, ecs, wait: dict, described: dict, error, round_: CheckRound) -> Check:
    watcher = RolloutWatcher.from_state(
        wait["watcher"],
        log=run.log.write,
        progress=run.progress if wait["kind"] == "rollout" else None,
    )
    if error is not None:
        return unreadable_until(run, wait, error)
    service = described.get(watcher.service)
    result = watcher.observe(ecs, service, clock())
    for name, count in watcher.calls.items():
        round_.count(name, count)
    wait = {**wait, "watcher": watcher.state()}
    if result is None:
        return Check(wait=wait)
    if wait["kind"] == "rollback":
        return Check(failed=_rollback_outcome(run, watcher, wait, result))
    if result.succeeded:
        run.log.highlight(
            f"Rollout of {short_arn(watcher.task_definition)} completed: {result.running} of "
            f"{result.desired} tasks running. {result.reason}"
        )
        return Check()
    run.log.error(result.reason)
    previous = wait["previous"]
    if wait["rollback_on_failure"] and previous and previous != watcher.task_definition:
        if service is None:
            return Check(failed=f"{result.reason} There is no service left to roll back.")
        return _roll_back(run, ecs, watcher, wait, service, result.reason)
    if wait["rollback_on_failure"]:
        return Check(
            failed=f"{result.reason} There was no earlier task definition to roll back to."
        )
    return Check(failed=result.reason)


def unreadable_until(run, wait: dict, exc: Exception) -> Check:
    """A check that could not read what it follows: say so, and try again next time (until the
    deadline: what nobody can see is declared neither a success nor a failure before then)."""
    what = "task" if wait.get("kind") == "task" else "rollout"
    deadline = wait["deadline"] if "deadline" in wait else wait["watcher"]["deadline"]
    if clock() >= deadline:
        return Check(failed=f"The {what} could not be followed before its timeout: {exc}")
    run.log.warning(f"Could not check the {what} ({exc}); trying again at the next check.")
    return Check(wait=wait)


def cancel_rollout(run, step: dict, wait: dict) -> str:
    """A deployment cancelled while its rollout is followed: the service is left as it is."""
    return (
        "while waiting for the rollout. The service was left as it is: ECS goes on with the "
        "rollout (redeploy the previous release to go back)."
    )


def _roll_back(run, ecs, failed: RolloutWatcher, wait: dict, service: dict, reason: str) -> Check:
    """Put the service back on the revision that ran before (unless ECS already did) and follow
    that rollout; a repeated call is harmless (UpdateService to the same revision)."""
    previous, cluster, name = wait["previous"], failed.cluster, failed.service
    run.log.warning(f"Rolling back: service {name} goes back to {short_arn(previous)}.")
    primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})
    try:
        if primary.get("taskDefinition") == previous:
            run.log.info(f"ECS already rolled the service back to {short_arn(previous)}.")
        else:
            update_service(ecs, {"cluster": cluster, "service": name, "taskDefinition": previous})
            run.log.info(f"Updated service {name} back to {short_arn(previous)}.")
    except AwsError as exc:
        run.log.error(f"The rollback failed: {exc}")
        return Check(failed=f"{reason} The rollback to {short_arn(previous)} failed: {exc}")
    back = RolloutWatcher(
        cluster=cluster,
        service=name,
        task_definition=previous,
        log=run.log.write,
        deadline=clock() + failed.timeout,
        timeout=failed.timeout,
        known_events=set(failed.known_events),
    )
    return Check(wait={**wait, "kind": "rollback", "failure": reason, "watcher": back.state()})


def _rollback_outcome(run, watcher: RolloutWatcher, wait: dict, result: RolloutResult) -> str:
    previous, name = watcher.task_definition, watcher.service
    if result.succeeded:
        run.log.warning(f"Rolled back: service {name} runs {short_arn(previous)} again.")
        return f"{wait['failure']} Rolled back to {short_arn(previous)}."
    run.log.error(f"The rollback to {short_arn(previous)} did not complete: {result.reason}")
    return (
        f"{wait['failure']} The rollback to {short_arn(previous)} did not complete: {result.reason}"
    )
