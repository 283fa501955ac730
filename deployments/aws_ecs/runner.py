"""Running the ``aws-ecs-deploy`` step of a deployment: the seed's deployment, done reliably.

Resolve the release's variables for the environment (snapshot + system variables), build the
requests with the same code the preview uses (``EcsDeployStep.build_plan``), remember the task
definition that runs now, register the new revision (recorded in the outputs *before* the
service is touched, so a repeated run reuses it instead of registering a second one), update the
service, and follow the rollout with AWS's semantics. On failure with rollback on, the service
goes back to the revision that ran before this deployment — never "revision − 1" — and that
rollout is followed too. Nothing is ever deregistered.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from django.conf import settings

from deployserver.core.aws import AwsError, cached_client, client
from deployserver.core.models import AwsAccount
from feeds.models import Feed
from releases.variables import PackageInfo, system_variables, variables_resolve

from ..exceptions import StepFailed
from .aws import (
    RolloutWatcher,
    describe_service,
    register_task_definition,
    short_arn,
    update_service,
)
from .step import ECS_DEPLOY, EcsPlan

if TYPE_CHECKING:
    from ..engine import DeploymentRun

# Seams for tests: the ECS client factory and the clock the rollout watcher waits with.
ecs_client = client
sleep = time.sleep
clock = time.monotonic


def _ecs_for(account: AwsAccount, region: str):
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


def run_ecs_step(run: DeploymentRun, step: dict) -> None:
    """Plan, connect, remember what runs now, register, update, then follow the rollout."""
    plan = _plan(run, step)
    update = dict(plan.update_service)
    ecs = _connect(run, plan)
    service = describe_service(ecs, update["cluster"], update["service"])
    outputs = _outputs_before(run, step, update, service)
    arn = _register(run, step, ecs, plan.register_task_definition, outputs)
    _update(run, ecs, update, arn)
    if plan.wait_mode == "none":
        run.log.info("Not waiting for the rollout (wait mode: don't wait).")
        return
    known_events = {e.get("id") for e in service.get("events", [])}
    _follow(run, plan, ecs, arn, outputs["previous_task_definition_arn"], known_events)


def _plan(run: DeploymentRun, step: dict) -> EcsPlan:
    """The step's requests, from the release's variables for the environment and its packages."""
    packages = step_packages(run.release, step, pin_digest=run.project.pin_digest)
    values = {
        **variables_resolve(run.specs, run.environment.pk),
        **system_variables(
            project=run.project,
            environment=run.environment,
            release_number=run.release.version,
            release_notes=run.release.notes,
            deployment_id=str(run.deployment.pk),
            packages=packages,
        ),
    }
    for ref, info in packages.items():
        how = "digest" if "@" in info.image else "tag"
        run.log.info(f"Package {ref}: {info.package_id} {info.version} by {how} ({info.image})")
    plan = ECS_DEPLOY.build_plan(step.get("properties") or {}, values, packages)
    run.log.verbose(
        "RegisterTaskDefinition " + json.dumps(plan.register_task_definition, sort_keys=True)
    )
    return plan


def _connect(run: DeploymentRun, plan: EcsPlan):
    """The ECS client of the step's AWS account and region."""
    account = AwsAccount.objects.filter(slug=plan.aws_account).first()
    if account is None:
        raise StepFailed(f"No AWS account '{plan.aws_account}' (step property aws_account).")
    ecs = _ecs_for(account, plan.region)
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


def _follow(run: DeploymentRun, plan: EcsPlan, ecs, arn, previous, known_events) -> None:
    """Follow the rollout of ``arn``; on failure roll back (when asked) and raise ``StepFailed``."""
    cluster, service_name = plan.update_service["cluster"], plan.update_service["service"]
    timeout = plan.timeout_minutes * 60
    run.log.info(f"Following the rollout (timeout {plan.timeout_minutes} min).")
    watcher = _watcher(run, ecs, cluster, service_name, arn, timeout, known_events)
    result = watcher.watch()
    if result.succeeded:
        run.log.highlight(
            f"Rollout of {short_arn(arn)} completed: {result.running} of {result.desired} tasks "
            f"running. {result.reason}"
        )
        return
    run.log.error(result.reason)
    reason = result.reason
    if plan.rollback_on_failure and previous and previous != arn:
        reason += " " + _roll_back(run, ecs, cluster, service_name, previous, timeout, watcher)
    elif plan.rollback_on_failure:
        reason += " There was no earlier task definition to roll back to."
    raise StepFailed(reason)


def _watcher(run, ecs, cluster, service, arn, timeout, known_events, progress=True):
    return RolloutWatcher(
        ecs=ecs,
        cluster=cluster,
        service=service,
        task_definition=arn,
        log=run.log.write,
        timeout=timeout,
        interval=settings.DEPLOYSERVER_ROLLOUT_POLL_SECONDS,
        should_cancel=run.cancel_requested,
        progress=run.progress if progress else None,
        sleep=sleep,
        clock=clock,
        known_events=known_events,
    )


def _roll_back(run, ecs, cluster, service_name, previous, timeout, failed) -> str:
    """Put the service back on ``previous`` and follow that rollout; returns what happened."""
    log = run.log
    log.warning(f"Rolling back: service {service_name} goes back to {short_arn(previous)}.")
    try:
        service = describe_service(ecs, cluster, service_name)
        primary = next(
            (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
        )
        if primary.get("taskDefinition") == previous:
            log.info(f"ECS already rolled the service back to {short_arn(previous)}.")
        else:
            update_service(
                ecs, {"cluster": cluster, "service": service_name, "taskDefinition": previous}
            )
            log.info(f"Updated service {service_name} back to {short_arn(previous)}.")
        back = _watcher(
            run, ecs, cluster, service_name, previous, timeout, failed.known_events, False
        )
        result = back.watch()
    except AwsError as exc:
        log.error(f"The rollback failed: {exc}")
        return f"The rollback to {short_arn(previous)} failed: {exc}"
    if result.succeeded:
        log.warning(f"Rolled back: service {service_name} runs {short_arn(previous)} again.")
        return f"Rolled back to {short_arn(previous)}."
    log.error(f"The rollback to {short_arn(previous)} did not complete: {result.reason}")
    return f"The rollback to {short_arn(previous)} did not complete: {result.reason}"
