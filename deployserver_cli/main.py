"""The ``deployserver`` command: arguments, configuration, and the exit code of every outcome."""

import argparse
import os
import re
import sys

from . import catalog, deployments, releases
from .client import Client, server_url
from .errors import EXIT_CODES_HELP, UNAVAILABLE, CliError, UsageError
from .output import Printer

DESCRIPTION = """\
Create releases, deploy them and follow deployments on a deployserver, from a CI pipeline.
Talks only to the server's REST API."""

ENVIRONMENT_HELP = """\
configuration:
  DEPLOYSERVER_URL            the server, such as https://deploy.example.org (or --server)
  DEPLOYSERVER_API_KEY        an API key (or --api-key); never printed
  DEPLOYSERVER_RETRY_SECONDS  how long network failures are retried (default 60; --retry-for)"""

EPILOG = f"{ENVIRONMENT_HELP}\n\n{EXIT_CODES_HELP}"

DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")


def duration(text: str) -> tuple[float, str]:
    """``90s``, ``10m``, ``1h30m`` or a number of seconds → (seconds, the text as given)."""
    match = DURATION.fullmatch(text.strip())
    if not text.strip() or not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 90s, 10m or 1h30m")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a duration must be more than 0")
    return total, text.strip()


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


def _common(suppress: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name."""
    default = argparse.SUPPRESS if suppress else None
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument("--server", default=default, help="server URL (DEPLOYSERVER_URL)")
    group.add_argument("--api-key", default=default, help="API key (DEPLOYSERVER_API_KEY)")
    group.add_argument(
        "--output", "-o", choices=["table", "json"], default=default, help="default: table"
    )
    group.add_argument(
        "--retry-for",
        type=duration,
        default=default,
        metavar="DURATION",
        help="retry network failures this long (DEPLOYSERVER_RETRY_SECONDS, default 60s)",
    )
    return common


def _waiting(parser: argparse.ArgumentParser, *, what: str) -> None:
    parser.add_argument("--wait", action="store_true", help=f"follow {what}, streaming the log")
    parser.add_argument(
        "--timeout",
        type=duration,
        metavar="DURATION",
        help="with --wait: stop waiting after this long in all (90s, 10m, 1h30m); exit 3",
    )
    parser.add_argument(
        "--cancel-on-timeout",
        action="store_true",
        help="with --timeout: cancel the deployment being waited for, and wait for its end",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deployserver",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[_common(suppress=False)],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    nouns = parser.add_subparsers(dest="noun", metavar="COMMAND", required=True)
    leaf = {"parents": [_common(suppress=True)], "epilog": EPILOG}
    leaf["formatter_class"] = argparse.RawDescriptionHelpFormatter

    def command(actions, name: str, help: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=help, description=help, **leaf)

    def group(name: str, help: str):
        sub = nouns.add_parser(name, help=help, description=help, epilog=EPILOG)
        sub.formatter_class = argparse.RawDescriptionHelpFormatter
        return sub.add_subparsers(dest="verb", metavar="ACTION", required=True)

    release = group("release", "create, deploy, promote and list releases")
    p = command(release, "create", "create a release (and deploy it)")
    p.add_argument("--project", required=True, help="project slug")
    p.add_argument("--version", help="release number (default: the next one); re-runs are safe")
    p.add_argument("--channel", help="channel slug (default: the project's default channel)")
    p.add_argument(
        "--package",
        action="append",
        metavar="REF:VERSION",
        help="version of a package reference, such as web:1.4.2 (repeat for each; "
        "the others take the newest version the channel allows)",
    )
    notes = p.add_mutually_exclusive_group()
    notes.add_argument("--notes", help="release notes (Markdown)")
    notes.add_argument("--notes-file", metavar="FILE", help="read the release notes from FILE")
    p.add_argument(
        "--deploy-to",
        action="append",
        metavar="ENV",
        help="deploy to this environment (slug); repeat to deploy in order, each after the "
        "previous succeeded (needs --wait)",
    )
    _waiting(
        p,
        what="the deployments (without --deploy-to: those the lifecycle queues by itself, "
        "phase after phase)",
    )
    p.set_defaults(run=releases.release_create)

    p = command(release, "deploy", "deploy a release to environments")
    p.add_argument("--project", required=True, help="project slug")
    p.add_argument("--version", required=True, help="release number")
    p.add_argument(
        "--to",
        action="extend",
        nargs="+",
        required=True,
        metavar="ENV",
        help="environment slug(s), deployed in order (several need --wait)",
    )
    _waiting(p, what="the deployments")
    p.set_defaults(run=releases.release_deploy)

    p = command(release, "promote", "deploy to the next environment allowed")
    p.add_argument("--project", required=True, help="project slug")
    p.add_argument("--version", required=True, help="release number")
    _waiting(p, what="the deployment")
    p.set_defaults(run=releases.release_promote)

    p = command(release, "list", "a project's releases, newest first")
    p.add_argument("--project", required=True, help="project slug")
    p.add_argument("--channel", help="only this channel (slug)")
    p.add_argument("--limit", type=positive, default=20, help="at most this many (default 20)")
    p.set_defaults(run=releases.release_list)

    deployment = group("deployment", "list, show, follow, cancel deployments, read their log")
    p = command(deployment, "list", "deployments, newest first")
    p.add_argument("--project", help="project slug")
    p.add_argument("--environment", help="environment slug")
    p.add_argument("--state", choices=deployments.STATES)
    p.add_argument("--release", type=positive, help="release id")
    p.add_argument("--limit", type=positive, default=20, help="at most this many (default 20)")
    p.set_defaults(run=deployments.deployment_list)
    for verb, help, run in [
        ("show", "one deployment", deployments.deployment_show),
        ("watch", "follow a deployment to its end, streaming its log", None),
        ("cancel", "cancel a queued or running deployment", deployments.deployment_cancel),
        ("log", "a deployment's log as it stands", deployments.deployment_log),
    ]:
        p = command(deployment, verb, help)
        p.add_argument("id", type=positive, metavar="ID", help="deployment id")
        if run is None:
            p.add_argument("--timeout", type=duration, metavar="DURATION", help="exit 3 after")
            p.add_argument(
                "--cancel-on-timeout", action="store_true", help="cancel it at the timeout"
            )
            run = deployments.deployment_watch
        p.set_defaults(run=run)

    feed = group("feed", "what a feed holds")
    p = command(feed, "versions", "a package's versions, newest first")
    p.add_argument("feed", metavar="FEED", help="feed id, slug or name")
    p.add_argument("package", metavar="PACKAGE", help="package id (repository)")
    p.add_argument("--pre", action="store_true", help="include pre-releases")
    p.add_argument("--limit", type=positive, default=20, help="at most this many (default 20)")
    p.set_defaults(run=catalog.feed_versions)

    project = group("project", "projects")
    p = command(project, "list", "projects")
    p.add_argument("--name", help="part of the name")
    p.add_argument("--limit", type=positive, default=100, help="at most this many (default 100)")
    p.set_defaults(run=catalog.project_list)

    environment = group("environment", "environments")
    p = command(environment, "list", "environments, in lifecycle order")
    p.add_argument("--limit", type=positive, default=100, help="at most this many (default 100)")
    p.set_defaults(run=catalog.environment_list)
    return parser


class Context:
    """What a command works with: the API client and the printer."""

    def __init__(self, client: Client, printer: Printer):
        self.client = client
        self.printer = printer


def configure(args) -> Context:
    printer = Printer(args.output or "table")
    server = server_url(args.server or os.environ.get("DEPLOYSERVER_URL"))
    api_key = args.api_key or os.environ.get("DEPLOYSERVER_API_KEY") or None
    if not api_key:
        raise UsageError("no API key: set DEPLOYSERVER_API_KEY or pass --api-key")
    if args.retry_for is not None:
        retry = args.retry_for[0]
    else:
        raw = os.environ.get("DEPLOYSERVER_RETRY_SECONDS", "60")
        try:
            retry = float(raw)
        except ValueError:
            raise UsageError(f"DEPLOYSERVER_RETRY_SECONDS={raw!r} is not a number") from None
    return Context(Client(server, api_key.strip(), retry_seconds=max(retry, 0.0)), printer)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # bad usage: argparse exits 2 with the usage
    try:
        return args.run(configure(args), args)
    except CliError as exc:
        if not exc.reported:
            print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (`| head`) went away: nothing left to say to it, not even at exit's flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # never a traceback: the answer was not what the API gives
        if os.environ.get("DEPLOYSERVER_DEBUG"):
            raise
        print(f"error: unexpected answer or failure: {type(exc).__name__}: {exc}", file=sys.stderr)
        return UNAVAILABLE


def run() -> None:
    """The console script."""
    sys.exit(main())
