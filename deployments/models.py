"""Deployments of releases to environments, and their task logs."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from releases.models import Environment, Project, Release


class Deployment(models.Model):
    """One release deployed to one environment.

    Created ``queued`` — or ``awaiting_approval`` in an environment that requires approval, until
    an approver approves it (then ``queued``) or rejects it (``cancelled``); a worker moves it to
    ``executing`` and then ``success``, ``failed`` or ``cancelled``. At most one deployment per
    project × environment executes at a time.
    ``project`` repeats the release's project so the dashboard and that rule need no join.
    ``outputs`` holds what the steps produced (task definition ARN, the ARN that ran before,
    service ARN). ``enqueued_at`` is when a message to run it was last handed to the queue (empty
    while none is known to be there); the dispatcher sends again for a queue head without one.

    While executing, ``phase`` says who holds it: ``acting`` — a worker is calling AWS for it
    (its ``heartbeat_at`` is kept fresh; a stale one means the worker died mid-action);
    ``waiting`` — nobody: it waits for its next check at ``next_check_at`` (a rollout in
    progress costs no worker); ``checking`` — a check round is reading it. ``cursor`` is where its
    steps are: the step index and, while waiting, what the step follows (see
    ``deployments.runners``).
    """

    class State(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        QUEUED = "queued", "Queued"
        EXECUTING = "executing", "Executing"
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Phase(models.TextChoices):
        NONE = "", "—"
        ACTING = "acting", "Acting"
        WAITING = "waiting", "Waiting"
        CHECKING = "checking", "Checking"

    FINISHED = (State.SUCCESS, State.FAILED, State.CANCELLED)

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="deployments")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="deployments"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(
        max_length=20, default="manual", help_text="manual, promotion, automatic or redeploy"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    # Who approved or rejected it (an environment that requires approval), when, and why.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.CharField(max_length=150, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    phase = models.CharField(max_length=10, choices=Phase.choices, blank=True, default="")
    next_check_at = models.DateTimeField(null=True, blank=True)
    cursor = models.JSONField(default=dict, blank=True)
    progress_running = models.PositiveIntegerField(default=0)
    progress_desired = models.PositiveIntegerField(default=0)
    # Kept by the insights when it ends (deployments.insights.record): on a release's first
    # success in the environment, seconds since the release was created; on a failure that opened
    # an outage, that it did and the seconds until the next success there (empty until then).
    lead_seconds = models.FloatField(null=True, blank=True, editable=False)
    opens_outage = models.BooleanField(default=False, db_default=False, editable=False)
    recovery_seconds = models.FloatField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "environment", "-id"], name="deployment_latest"),
            models.Index(fields=["release", "environment", "state"], name="deployment_release_env"),
            models.Index(fields=["state", "heartbeat_at"], name="deployment_state"),
            models.Index(fields=["state", "phase", "next_check_at"], name="deployment_due"),
            # The insights: deployments that finished in a period, across projects or in one
            # (covering what the figures read of them), a project × environment's previous and
            # next deployment, the failures that were rolled back, a release's first success, the
            # lead times and the outages of a period.
            models.Index(
                fields=["environment", "state", "finished_at"],
                include=["project", "release", "id"],
                name="deployment_env_finished",
            ),
            models.Index(
                fields=["project", "environment", "finished_at", "id"],
                include=["state"],
                name="deployment_finished",
            ),
            models.Index(
                fields=["environment", "finished_at"],
                condition=models.Q(state="failed", error__icontains="rolled back"),
                name="deployment_rolled_back",
            ),
            models.Index(
                fields=["release", "environment", "finished_at"],
                condition=models.Q(state="success"),
                name="deployment_first_success",
            ),
            models.Index(
                fields=["environment", "finished_at"],
                include=["project", "lead_seconds"],
                condition=models.Q(lead_seconds__isnull=False),
                name="deployment_lead",
            ),
            models.Index(
                fields=["environment", "finished_at"],
                include=["project", "recovery_seconds"],
                condition=models.Q(opens_outage=True),
                name="deployment_outage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.release} → {self.environment.name}"

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def duration(self):
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at


class LogLine(models.Model):
    """One line of a deployment's task log, append-only, sensitive values already masked."""

    class Level(models.TextChoices):
        VERBOSE = "verbose"
        INFO = "info"
        HIGHLIGHT = "highlight"
        WARNING = "warning"
        ERROR = "error"

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="log_lines")
    seq = models.PositiveIntegerField()
    time = models.DateTimeField()
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    step = models.CharField(max_length=200, blank=True)
    text = models.TextField()

    class Meta:
        ordering = ["deployment", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "seq"], name="log_line_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.deployment_id}#{self.seq} {self.text[:60]}"


class ServiceDrift(models.Model):
    """What one ECS service runs now against what the last successful deployment of its project
    × environment set there: one row per project × environment × ECS deploy step, written by the
    drift rounds (``deployments.drift``).

    ``state``: ``in_sync``; ``drifted`` (the task definition, desired count or deployment
    configuration was changed outside deployserver); ``degraded`` (fewer tasks running than
    desired, or a rollout in progress, for longer than the grace period); ``missing`` (the
    service or its cluster is gone); ``unknown`` (AWS could not be read: ``reasons`` has the
    error). ``reasons`` are sentences, sensitive values already masked. ``since`` is when the
    state began; ``short_since`` when the service was last seen short of tasks without a break
    (the grace period counts from it).
    """

    class State(models.TextChoices):
        IN_SYNC = "in_sync", "In sync"
        DRIFTED = "drifted", "Drifted"
        DEGRADED = "degraded", "Degraded"
        MISSING = "missing", "Missing"
        UNKNOWN = "unknown", "Unknown"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="+")
    step = models.CharField(max_length=200)
    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, related_name="drift", help_text="Compared against"
    )
    cluster = models.CharField(max_length=255, blank=True)
    service = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=10, choices=State.choices)
    reasons = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField()
    since = models.DateTimeField()
    short_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "environment", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "environment", "step"], name="service_drift_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service or self.step}: {self.state}"
