"""Following deployments: the task log streamed as its lines arrive, then a one-line result.

The log API (``GET /api/deployments/{id}/log/?after=SEQ``) says ``finished`` once the
deployment has ended and every line has been read, so one request per poll both streams the
log and notices the end; the deployment itself is read once, at the end, for its result.
"""

import time

from .errors import DeploymentFailed, Refused, TimedOut, Unavailable
from .output import duration, log_line

POLL_SECONDS = 0.5  # a finished deployment is seen within this (plus one request)
LOG_PAGE = 1000
CANCEL_GRACE_SECONDS = 60.0  # after --cancel-on-timeout, how long to wait to see the end


class Deadline:
    """The end of ``--timeout`` (none: wait as long as it takes)."""

    def __init__(self, seconds: float | None, text: str = ""):
        self.seconds = seconds
        self.text = text or (f"{seconds:g}s" if seconds is not None else "")
        self.at = time.monotonic() + seconds if seconds is not None else None

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def pause(self, seconds: float) -> None:
        if self.at is not None:
            seconds = max(0.0, min(seconds, self.at - time.monotonic()))
        time.sleep(seconds)


def label(deployment: dict) -> str:
    return (
        f"deployment {deployment.get('id')}: {deployment.get('project')} "
        f"{deployment.get('release_version')} to {deployment.get('environment')}"
    )


def result_line(deployment: dict) -> str:
    state = deployment.get("state")
    took = duration(deployment.get("duration_seconds"))
    if state == "success":
        return f"{label(deployment)} succeeded in {took}"
    if state == "failed":
        error = deployment.get("error") or "no reason given"
        return f"{label(deployment)} failed after {took}: {error}"
    if state == "cancelled":
        by = deployment.get("cancel_requested_by")
        return f"{label(deployment)} was cancelled" + (f" by {by}" if by else "")
    return f"{label(deployment)} is {state}"


def stream_log(client, printer, deployment_id: int, deadline: Deadline, after: int = 0):
    """Print the lines after ``after`` until the log is finished (returns ``None``) or the
    deadline passes (returns the seq read up to)."""
    path = f"/api/deployments/{deployment_id}/log/"
    while True:
        page = client.get(path, {"after": after, "limit": LOG_PAGE})
        lines = page.get("lines") if isinstance(page, dict) else None
        if not isinstance(lines, list):
            raise Unavailable(f"invalid answer from {path}: no lines")
        for line in lines:
            printer.say(log_line(line))
        after = page.get("next", after)
        if page.get("finished"):
            return None
        if len(lines) >= LOG_PAGE:
            continue  # more lines are already there
        if deadline.passed():
            return after
        deadline.pause(POLL_SECONDS)


def watch(client, printer, deployment: dict, deadline: Deadline, *, cancel_on_timeout=False):
    """Stream ``deployment``'s log to its end and print its result line; returns the finished
    deployment. Raises ``DeploymentFailed`` unless it succeeded and ``TimedOut`` at the deadline
    (after cancelling it with ``cancel_on_timeout``); both carry ``deployment``, already said."""
    deployment_id = deployment["id"]
    stopped_at = stream_log(client, printer, deployment_id, deadline)
    if stopped_at is not None:
        return _timed_out(client, printer, deployment_id, deadline, stopped_at, cancel_on_timeout)
    final = client.get(f"/api/deployments/{deployment_id}/")
    printer.say(result_line(final))
    if final.get("state") != "success":
        raise _said(DeploymentFailed(result_line(final)), final)
    return final


def _timed_out(client, printer, deployment_id, deadline, after, cancel_on_timeout):
    if not cancel_on_timeout:
        current = client.get(f"/api/deployments/{deployment_id}/")
        message = (
            f"timed out after {deadline.text}: {label(current)} is still {current.get('state')} "
            f"and goes on on the server (follow it: deployserver deployment watch {deployment_id})"
        )
        printer.say(message)
        raise _said(TimedOut(message), current)
    try:
        client.post(f"/api/deployments/{deployment_id}/cancel/")
        printer.say(f"timed out after {deadline.text}: cancelling deployment {deployment_id}")
    except Refused as exc:  # it ended between the last read and the cancel
        printer.say(f"timed out after {deadline.text}; cancel refused: {exc.reason}")
    grace = Deadline(CANCEL_GRACE_SECONDS)
    still = stream_log(client, printer, deployment_id, grace, after)
    final = client.get(f"/api/deployments/{deployment_id}/")
    if still is None:
        message = f"timed out after {deadline.text}; {result_line(final)}"
    else:
        message = (
            f"timed out after {deadline.text}; cancel requested, but {label(final)} is still "
            f"{final.get('state')} after {CANCEL_GRACE_SECONDS:g} s"
        )
    printer.say(message)
    raise _said(TimedOut(message), final)


def _said(error, deployment: dict):
    """Mark ``error`` as already printed (the result line) and attach the deployment."""
    error.reported = True
    error.deployment = deployment
    return error
