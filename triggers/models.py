"""Feed triggers: a project's watch on its feeds' packages, and the guard that makes each new
version set one release."""

from django.conf import settings
from django.db import models

from releases.models import Channel, Project, Release


class Trigger(models.Model):
    """A project's watch on the packages its process deploys (``packages``: references; empty
    means every one). When a watched package has a version newer than the newest release's that
    the channel accepts, a release is made of the newest versions the channel allows.

    ``channel`` empty means the project's default channel. What the last check saw is kept for
    its page: ``last_checked_at``, ``last_found`` (reference → newest allowed version),
    ``last_error`` and ``failures`` (consecutive; unhealthy from
    ``FEED_TRIGGER_UNHEALTHY_AFTER``, still enabled and still checked).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="triggers")
    name = models.CharField(max_length=100)
    channel = models.ForeignKey(
        Channel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="triggers",
        help_text="Empty: the project's default channel.",
    )
    packages = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_found = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)
    failures = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="trigger_name_per_project")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def healthy(self) -> bool:
        return self.failures < settings.FEED_TRIGGER_UNHEALTHY_AFTER


class TriggerRelease(models.Model):
    """One version set released by a trigger: the database's guard that it happens once.

    ``version_set`` is the SHA-256 of the watched references' versions; the unique constraint
    per project × channel makes a second round (another beat, an overlapping slow round, a push
    hook) fail to insert it, so it creates nothing. The row is written before the release, in
    the same transaction, and stays when retention deletes the release (which is then not made
    again).
    """

    trigger = models.ForeignKey(
        Trigger, on_delete=models.SET_NULL, null=True, blank=True, related_name="firings"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    version_set = models.CharField(max_length=64)
    versions = models.JSONField(default=dict)
    release = models.ForeignKey(
        Release, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "channel", "version_set"], name="one_release_per_version_set"
            )
        ]

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(self.versions.items()))
