"""``release create|deploy|promote|list``.

``release create --version V`` is safe to run again (a CI job retried after a crash): when the
project already has release V with the packages asked for, it says so and goes on to deploy;
with other packages (or another channel) it refuses, showing the difference. Environments the
existing release already reached with success are not deployed again, and a deployment of it
already queued or running is followed rather than queued twice.
"""

from urllib.parse import quote

from .errors import CliError, Refused, UsageError
from .output import when
from .waiting import Deadline, label, watch


def project_path(project: str) -> str:
    return f"/api/projects/{quote(project, safe='')}/releases/"


def parse_packages(values: list[str] | None) -> dict[str, str]:
    packages: dict[str, str] = {}
    for value in values or []:
        ref, sep, version = value.partition(":")
        if not sep or not ref.strip() or not version.strip():
            raise UsageError(f"--package takes REF:VERSION (such as web:1.4.2), not {value!r}")
        if ref.strip() in packages:
            raise UsageError(f"--package {ref.strip()} is given twice")
        packages[ref.strip()] = version.strip()
    return packages


def release_find(client, project: str, version: str) -> dict | None:
    """The release of ``project`` numbered exactly ``version`` (the API's filter is a
    substring match, so 1.0.0 also finds 11.0.0)."""
    for release in client.get_list(project_path(project), {"version": version}, limit=10_000):
        if release.get("version") == version:
            return release
    return None


def release_get(client, project: str, version: str) -> dict:
    release = release_find(client, project, version)
    if release is None:
        raise UsageError(f"{project} has no release {version}")
    return release


def release_differences(release: dict, packages: dict[str, str], channel: str | None):
    """What an existing release pins differently from what was asked."""
    differences = []
    if channel and release.get("channel") != channel:
        differences.append(f"channel: {release.get('channel')} in the release, {channel} asked")
    pinned = release.get("packages") or {}
    for ref, asked in sorted(packages.items()):
        entry = pinned.get(ref)
        if not isinstance(entry, dict):
            differences.append(f"{ref}: not in the release, {asked} asked")
        elif asked not in (entry.get("version"), entry.get("tag")):
            differences.append(f"{ref}: {entry.get('version')} in the release, {asked} asked")
    return differences


def package_summary(release: dict) -> str:
    pinned = release.get("packages") or {}
    return ", ".join(f"{ref} {entry.get('version')}" for ref, entry in sorted(pinned.items()))


def _wait_options(args) -> Deadline | None:
    """The deadline of ``--wait``/``--timeout`` (``None`` without ``--wait``)."""
    targets = getattr(args, "deploy_to", None) or getattr(args, "to", None) or []
    if not args.wait:
        if args.timeout is not None or args.cancel_on_timeout:
            raise UsageError("--timeout and --cancel-on-timeout need --wait")
        if len(targets) > 1:
            raise UsageError(
                "several environments deploy one after the other, each once the previous "
                "succeeded: add --wait"
            )
        return None
    if args.cancel_on_timeout and args.timeout is None:
        raise UsageError("--cancel-on-timeout needs --timeout")
    seconds, text = args.timeout if args.timeout is not None else (None, "")
    return Deadline(seconds, text)


def deploy_in_order(ctx, release: dict, environments: list[str], deadline, args, *, resume):
    """Deploy ``release`` to each environment in turn, each after the previous succeeded (with
    ``--wait``). Returns the deployments and the error that stopped the run, if one did.
    ``resume``: skip environments the release already reached with success."""
    client, printer = ctx.client, ctx.printer
    done: list[dict] = []
    for environment in environments:
        reached = (release.get("environments") or {}).get(environment)
        if resume and reached == "success":
            printer.say(f"release {release['version']} already succeeded in {environment}")
            continue
        deployment = _deployment_start(client, printer, release, environment)
        if deadline is None:
            done.append(deployment)
            continue
        if failure := _follow(ctx, deployment, deadline, args, done):
            return done, failure
    return done, None


def _follow(ctx, deployment: dict, deadline, args, done: list[dict]) -> CliError | None:
    """Watch ``deployment`` to its end and add how it ended to ``done``; returns the error that
    ends the run (it failed, or the wait timed out), None when it succeeded."""
    try:
        done.append(watch(ctx.client, ctx.printer, deployment, deadline, **_cancel(args)))
    except CliError as exc:
        if exc.deployment is None:
            raise
        done.append(exc.deployment)
        return exc
    return None


def follow_automatic(ctx, release: dict, deadline, args):
    """``--wait`` without ``--deploy-to``: follow what the lifecycle deploys by itself — the
    release's automatic deployments, and those each success opens next, to the last. Returns
    the deployments and the error that stopped it, if one did."""
    client, printer = ctx.client, ctx.printer
    followed: set[int] = set()
    done: list[dict] = []
    while True:
        pending = sorted(
            (
                d
                for d in client.get_list("/api/deployments/", {"release": release["id"]})
                if d.get("trigger") == "automatic" and d["id"] not in followed
            ),
            key=lambda d: d["id"],
        )
        if not pending:
            if not done:
                printer.say(
                    f"no automatic deployment of release {release['version']}: nothing to wait "
                    "for (name environments with --deploy-to)"
                )
            return done, None
        for deployment in pending:
            followed.add(deployment["id"])
            printer.say(f"following {label(deployment)}, queued by the lifecycle")
            if failure := _follow(ctx, deployment, deadline, args, done):
                return done, failure


def _cancel(args) -> dict:
    return {"cancel_on_timeout": bool(args.cancel_on_timeout)}


def _deployment_start(client, printer, release: dict, environment: str) -> dict:
    """Queue the deployment; one of this release already queued or running there is followed."""
    body = {"release": release["id"], "environment": environment}
    try:
        deployment = client.post("/api/deployments/", body)
    except Refused as exc:
        if exc.status != 409:
            raise
        pending = [
            d
            for d in client.get_list(
                "/api/deployments/", {"release": release["id"], "environment": environment}
            )
            if d.get("state") in ("queued", "executing")
        ]
        if not pending:
            raise
        deployment = pending[0]
        printer.say(f"following {label(deployment)}, already {deployment.get('state')}")
        return deployment
    printer.say(f"queued {label(deployment)}")
    if deployment.get("note"):
        printer.say(f"note: {deployment['note']}")
    return deployment


def _finish(ctx, document, failure) -> int:
    if ctx.printer.json:
        ctx.printer.document(document)
    if failure is not None:
        raise failure
    return 0


def release_create(ctx, args) -> int:
    client, printer = ctx.client, ctx.printer
    packages = parse_packages(args.package)
    deadline = _wait_options(args)
    notes = args.notes
    if args.notes_file:
        try:
            with open(args.notes_file, encoding="utf-8") as handle:
                notes = handle.read()
        except OSError as exc:
            raise UsageError(f"--notes-file: {exc.strerror}: {args.notes_file}") from None
    version = (args.version or "").strip() or None
    release = release_find(client, args.project, version) if version else None
    created = release is None
    if release is None:
        body = {"packages": packages, "notes": notes or ""}
        if version:
            body["version"] = version
        if args.channel:
            body["channel"] = args.channel
        try:
            release = client.post(project_path(args.project), body)
        except Refused as exc:
            # Another run created it between the look-up and the POST: treat it as existing.
            release = release_find(client, args.project, version) if version else None
            if release is None or exc.status != 400:
                raise
            created = False
    if created:
        printer.say(
            f"created release {release['version']} of {args.project} (id {release['id']}): "
            f"{package_summary(release) or 'no packages'}"
        )
    else:
        differences = release_differences(release, packages, args.channel)
        if differences:
            raise UsageError(
                f"release {version} of {args.project} exists with other packages:\n  "
                + "\n  ".join(differences)
            )
        printer.say(
            f"release {release['version']} of {args.project} exists (id {release['id']}): "
            f"{package_summary(release) or 'no packages'}"
        )
    if args.deploy_to or deadline is None:
        deployments, failure = deploy_in_order(
            ctx, release, args.deploy_to or [], deadline, args, resume=not created
        )
    else:
        deployments, failure = follow_automatic(ctx, release, deadline, args)
    document = {"release": release, "created": created, "deployments": deployments}
    return _finish(ctx, document, failure)


def release_deploy(ctx, args) -> int:
    deadline = _wait_options(args)
    release = release_get(ctx.client, args.project, args.version)
    deployments, failure = deploy_in_order(ctx, release, args.to, deadline, args, resume=False)
    return _finish(ctx, deployments, failure)


def release_promote(ctx, args) -> int:
    client, printer = ctx.client, ctx.printer
    deadline = _wait_options(args)
    release = release_get(client, args.project, args.version)
    deployment = client.post(f"/api/releases/{release['id']}/promote/")
    printer.say(f"queued {label(deployment)}")
    failure, followed = None, [deployment]
    if deadline is not None:
        failure = _follow(ctx, deployment, deadline, args, followed)  # adds how it ended
    return _finish(ctx, followed[-1], failure)


def release_list(ctx, args) -> int:
    releases = ctx.client.get_list(
        project_path(args.project), {"channel": args.channel}, limit=args.limit
    )
    if ctx.printer.json:
        ctx.printer.document(releases)
        return 0
    rows = [
        [
            r.get("id"),
            r.get("version"),
            r.get("channel"),
            when(r.get("created_at")),
            package_summary(r),
            " ".join(f"{env}:{state}" for env, state in (r.get("environments") or {}).items()),
        ]
        for r in releases
    ]
    ctx.printer.table(["ID", "VERSION", "CHANNEL", "CREATED", "PACKAGES", "ENVIRONMENTS"], rows)
    return 0
