"""The bodies receivers get: our JSON payload, or a Slack incoming-webhook message."""

from __future__ import annotations

import json

from deployserver.core.models import Event

STATE_EMOJI = {
    "deployment.awaiting_approval": ":raised_hand:",
    "deployment.queued": ":hourglass_flowing_sand:",
    "deployment.started": ":rocket:",
    "deployment.succeeded": ":white_check_mark:",
    "deployment.failed": ":x:",
    "deployment.cancelled": ":no_entry_sign:",
    "release.created": ":package:",
    "drift.detected": ":warning:",
}


def json_body(event: Event, delivery_id: str) -> dict:
    """``{"event", "delivery", "occurred_at", "project", "environment", "release",
    "deployment"}`` — the last two are absent when the event has none."""
    return {
        "event": event.name,
        "delivery": delivery_id,
        "occurred_at": event.occurred_at.isoformat(),
        **event.payload,
    }


def _escape(value) -> str:
    """Slack's mrkdwn treats &, < and > as markup: names and errors are shown as text."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _duration(seconds) -> str:
    if seconds is None:
        return "—"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def slack_body(event: Event) -> dict:
    """A Slack message: a one-line ``text`` (notifications, fallbacks) and blocks with the
    project, release, environment, state, duration, who, and a link to the deployment."""
    p = event.payload
    project, release = p.get("project", {}), p.get("release", {})
    emoji = STATE_EMOJI.get(event.name, "")
    if event.name == "release.created":
        text = f"{emoji} {project.get('name')} release {release.get('version')} created"
        link = release.get("url")
        fields = [
            ("Project", project.get("name")),
            ("Release", release.get("version")),
            ("Channel", release.get("channel")),
            ("By", release.get("created_by") or "system"),
        ]
    elif event.name == "drift.detected":
        environment, drift = p.get("environment", {}), p.get("drift", {})
        text = (
            f"{emoji} {project.get('name')} in {environment.get('name')}: service "
            f"{drift.get('service')} is {drift.get('state')}"
        )
        link = drift.get("url")
        fields = [
            ("Project", project.get("name")),
            ("Environment", environment.get("name")),
            ("Service", f"{drift.get('cluster')}/{drift.get('service')}"),
            ("State", drift.get("state")),
            ("Why", "; ".join(drift.get("reasons") or [])[:500]),
            ("Deployed", release.get("version")),
        ]
    else:
        environment, deployment = p.get("environment", {}), p.get("deployment", {})
        state = event.name.split(".", 1)[1].replace("_", " ")
        text = (
            f"{emoji} {project.get('name')} {release.get('version')} to "
            f"{environment.get('name')}: {state}"
        )
        link = deployment.get("url")
        fields = [
            ("Project", project.get("name")),
            ("Release", release.get("version")),
            ("Environment", environment.get("name")),
            ("State", state),
            ("Duration", _duration(deployment.get("duration_seconds"))),
            ("By", deployment.get("created_by") or deployment.get("trigger") or "system"),
        ]
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_escape(text)}*"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{_escape(value) if value else '—'}"}
                for name, value in fields
            ],
        },
    ]
    error = (p.get("deployment") or {}).get("error")
    if error:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"```{_escape(error[:2500])}```"},
            }
        )
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": link}
                ],
            }
        )
    return {"text": _escape(text), "blocks": blocks}


def body_for(webhook_format: str, event: Event, delivery_id: str) -> str:
    data = slack_body(event) if webhook_format == "slack" else json_body(event, delivery_id)
    return json.dumps(data, separators=(",", ":"), sort_keys=True)
