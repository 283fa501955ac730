"""Core models shared by every app: AWS accounts, API keys, audit events, teams and grants.

Teams and grants name projects and environments by reference (``"releases.Project"``) and never
import them: the access rule (``deployserver.core.access``) works on their ids.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from .crypto import EncryptedTextField
from .endpoints import EndpointRefused, check_endpoint

region_validator = RegexValidator(
    r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$",
    "Enter an AWS region such as eu-west-1 or us-east-1.",
)
access_key_validator = RegexValidator(
    r"^[A-Z0-9]{16,128}$", "An access key id is 16 or more upper-case letters and digits."
)
# An IAM role ARN; the ECS step's JSON schema uses the same pattern.
ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$"
role_arn_validator = RegexValidator(
    ROLE_ARN_PATTERN,
    "Enter a role ARN such as arn:aws:iam::123456789012:role/deployer.",
)


def validate_endpoint_url(value: str) -> None:
    """An http(s) URL with a host; single-label hosts (``moto``, ``localstack``) are fine."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValidationError("Enter a URL such as http://127.0.0.1:5000.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an http:// or https:// URL such as http://127.0.0.1:5000.")
    try:
        check_endpoint(value)
    except EndpointRefused as exc:
        raise ValidationError(str(exc)) from exc


class AwsAccount(models.Model):
    """Credentials for one AWS account; the secret access key is encrypted at rest.

    ``endpoint_url`` points every client at another endpoint (moto, LocalStack, VPC endpoints).
    When ``role_arn`` is set the key pair is only used to assume that role. Changing either clears
    the stored secret unless the same update supplies it (``services.aws_account_update``).
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    access_key_id = models.CharField(max_length=128, validators=[access_key_validator])
    # Required when an account is created (the service says so); blank once an endpoint or role
    # change has cleared it, until it is entered again.
    secret_access_key = EncryptedTextField(blank=True)
    region = models.CharField(max_length=32, validators=[region_validator])
    role_arn = models.CharField(max_length=600, blank=True, validators=[role_arn_validator])
    external_id = models.CharField(max_length=256, blank=True)
    endpoint_url = models.CharField(max_length=300, blank=True, validators=[validate_endpoint_url])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "AWS account"

    def __str__(self) -> str:
        return self.name


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiKey(models.Model):
    """A personal API key. Only the SHA-256 of the key is stored; the key is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    narrowed = models.BooleanField(
        default=False,
        help_text="The key may do only what its own grants allow, within its user's permissions.",
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class AuditEvent(models.Model):
    """Who did what to which object, when; never deleted, never holding a secret value."""

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        OTHER = "other"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=100, db_index=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # What the event is about, so lists show a user only the events of what they may see; an
    # event about neither (an AWS account, a team) is for administrators. Plain ids: an event
    # outlives what it names.
    project_id = models.IntegerField(null=True, blank=True)
    environment_id = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "-created_at"]),
            models.Index(fields=["project_id", "-created_at"], name="audit_project"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.object_type} {self.object_repr}"


class Event(models.Model):
    """An outbox row: something that happened (``deployment.failed``, ``release.created``),
    written in the same transaction as the change that caused it, so a crash can never keep the
    change and lose the event (nor the reverse). Webhook deliveries are made from these rows.

    ``payload`` is the event's data as receivers see it; ``project_id`` and ``environment_id``
    are kept as plain numbers (the core does not know those models) for the subscriptions'
    filters. ``dispatched_at`` is set once the event has been turned into deliveries.
    """

    name = models.CharField(max_length=60)
    occurred_at = models.DateTimeField(default=timezone.now)
    project_id = models.PositiveIntegerField(null=True, blank=True)
    environment_id = models.PositiveIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["occurred_at"],
                name="event_undispatched",
                condition=models.Q(dispatched_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class Role(models.TextChoices):
    """The built-in roles; what each allows is ``deployserver.core.access.ROLE_ACTIONS``."""

    VIEWER = "viewer", "Viewer"
    DEPLOYER = "deployer", "Deployer"
    PROJECT_EDITOR = "project-editor", "Project editor"
    APPROVER = "approver", "Approver"
    ADMIN = "admin", "Administrator"


class Team(models.Model):
    """Users who share grants. A user's permissions are the union of their teams' grants."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Grant(models.Model):
    """A role over projects × environments, held by a team, or narrowing an API key.

    ``all_projects`` / ``all_environments`` mean every one, present and future; otherwise the
    listed ones. A key's grants never add to its user's: a narrowed key may do what both its
    user's grants and its own allow.
    """

    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.CASCADE, related_name="grants"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    all_projects = models.BooleanField(default=True)
    all_environments = models.BooleanField(default=True)
    projects = models.ManyToManyField("releases.Project", blank=True, related_name="+")
    environments = models.ManyToManyField("releases.Environment", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(team__isnull=False, api_key__isnull=True)
                | models.Q(team__isnull=True, api_key__isnull=False),
                name="grant_team_or_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} ({self.team or self.api_key})"
