"""Webhook subscriptions and their deliveries."""

import uuid
from urllib.parse import urlsplit

from django.db import models

from deployserver.core.crypto import EncryptedTextField
from deployserver.core.events import EVENT_NAMES
from deployserver.core.models import Event, validate_endpoint_url
from releases.models import Environment, Project


class Webhook(models.Model):
    """An HTTP endpoint told about events: ``events`` (names; empty: none), filtered by
    ``projects`` and ``environments`` (empty: all), as ``json`` (our payload) or ``slack`` (an
    incoming-webhook message). ``secret`` signs each body (HMAC-SHA256); encrypted at rest,
    write-only everywhere. ``url`` is a credential too (a Slack incoming-webhook URL is all it
    takes to post): encrypted at rest and shown only as ``url_display`` (scheme and host); it
    follows ``DEPLOYSERVER_ENDPOINT_POLICY`` when saved and on the address each delivery
    connects to.
    """

    class Format(models.TextChoices):
        JSON = "json", "JSON"
        SLACK = "slack", "Slack"

    name = models.CharField(max_length=100, unique=True)
    url = EncryptedTextField(validators=[validate_endpoint_url])
    secret = EncryptedTextField(blank=True)
    events = models.JSONField(default=list)
    projects = models.ManyToManyField(Project, blank=True, related_name="+")
    environments = models.ManyToManyField(Environment, blank=True, related_name="+")
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.JSON)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    EVENT_CHOICES = EVENT_NAMES

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def url_display(self) -> str:
        """Where it posts, without the path and query that may be its secret."""
        return url_display(self.url)


def url_display(url: str) -> str:
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.hostname:
        return "…"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


class Delivery(models.Model):
    """One event for one webhook: the exact body (built once, so every attempt sends the same
    bytes) under one ``delivery_id`` (the ``X-Deployserver-Delivery`` header, the same across
    retries). ``pending`` until a 2xx answer (``delivered``) or the last attempt (``failed``);
    ``next_attempt_at`` is when it is due, and while an attempt is in flight the lease after
    which another worker may try again (a worker killed mid-send loses nothing).
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(
        Event, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    event_name = models.CharField(max_length=60)
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    body = models.TextField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "event"],
                condition=models.Q(redelivery_of__isnull=True),
                name="one_delivery_per_event_and_webhook",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=models.Q(state="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_name} → {self.webhook} ({self.delivery_id})"
