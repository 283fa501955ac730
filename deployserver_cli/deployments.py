"""``deployment list|show|watch|cancel|log``."""

from .errors import CliError
from .output import duration, log_line, when
from .waiting import LOG_PAGE, Deadline, result_line, watch

STATES = ["queued", "executing", "success", "failed", "cancelled"]


def _path(deployment_id: int) -> str:
    return f"/api/deployments/{deployment_id}/"


def deployment_list(ctx, args) -> int:
    params = {
        "project": args.project,
        "environment": args.environment,
        "state": args.state,
        "release": args.release,
    }
    deployments = ctx.client.get_list("/api/deployments/", params, limit=args.limit)
    if ctx.printer.json:
        ctx.printer.document(deployments)
        return 0
    rows = [
        [
            d.get("id"),
            d.get("project"),
            d.get("release_version"),
            d.get("environment"),
            d.get("state"),
            when(d.get("created_at")),
            duration(d.get("duration_seconds")),
        ]
        for d in deployments
    ]
    ctx.printer.table(["ID", "PROJECT", "RELEASE", "ENV", "STATE", "CREATED", "TOOK"], rows)
    return 0


def deployment_show(ctx, args) -> int:
    deployment = ctx.client.get(_path(args.id))
    if ctx.printer.json:
        ctx.printer.document(deployment)
        return 0
    outputs = deployment.get("outputs") or {}
    ctx.printer.fields(
        [
            ("id", deployment.get("id")),
            ("project", deployment.get("project")),
            ("release", f"{deployment.get('release_version')} (id {deployment.get('release')})"),
            ("environment", deployment.get("environment")),
            ("state", deployment.get("state")),
            ("phase", deployment.get("phase")),
            ("next check", deployment.get("next_check_at")),
            ("trigger", deployment.get("trigger")),
            ("created by", deployment.get("created_by")),
            ("created", deployment.get("created_at")),
            ("started", deployment.get("started_at")),
            ("finished", deployment.get("finished_at")),
            ("took", duration(deployment.get("duration_seconds"))),
            ("error", deployment.get("error")),
            *[(name, value) for name, value in sorted(outputs.items())],
        ]
    )
    return 0


def deployment_watch(ctx, args) -> int:
    deployment = ctx.client.get(_path(args.id))
    deadline = Deadline(*args.timeout) if args.timeout is not None else Deadline(None)
    if args.cancel_on_timeout and args.timeout is None:
        raise CliError("--cancel-on-timeout needs --timeout")
    failure = None
    try:
        deployment = watch(
            ctx.client, ctx.printer, deployment, deadline, cancel_on_timeout=args.cancel_on_timeout
        )
    except CliError as exc:
        if exc.deployment is None:
            raise
        deployment, failure = exc.deployment, exc
    if ctx.printer.json:
        ctx.printer.document(deployment)
    if failure is not None:
        raise failure
    return 0


def deployment_cancel(ctx, args) -> int:
    deployment = ctx.client.post(f"{_path(args.id)}cancel/")
    if ctx.printer.json:
        ctx.printer.document(deployment)
    elif deployment.get("state") == "cancelled":
        ctx.printer.say(result_line(deployment))
    else:
        ctx.printer.say(
            f"cancel requested for deployment {deployment.get('id')} "
            f"({deployment.get('state')}): it stops at its next check"
        )
    return 0


def deployment_log(ctx, args) -> int:
    """The whole log as it stands now (``watch`` follows it)."""
    path = f"{_path(args.id)}log/"
    after, lines = 0, []
    while True:
        page = ctx.client.get(path, {"after": after, "limit": LOG_PAGE})
        batch = page.get("lines") or []
        if ctx.printer.json:
            lines.extend(batch)
        else:
            for line in batch:
                ctx.printer.say(log_line(line))
        after = page.get("next", after)
        if len(batch) < LOG_PAGE:
            break
    if ctx.printer.json:
        ctx.printer.document(lines)
    return 0
