"""Feeds: the container registries image versions come from."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from deployserver.core.crypto import EncryptedTextField
from deployserver.core.models import AwsAccount, region_validator, validate_endpoint_url

registry_id_validator = RegexValidator(
    r"^\d{12}$", "A registry id is the 12-digit AWS account id that owns the registry."
)


class Feed(models.Model):
    """A container registry whose image tags become package versions.

    ``aws-ecr`` feeds read a registry through an AWS account (``region``, optionally another
    account's ``registry_id``). ``docker-registry`` feeds talk the Docker Registry HTTP API v2 at
    ``url``, anonymously or with ``username``/``password``; the password is encrypted at rest.
    """

    class FeedType(models.TextChoices):
        AWS_ECR = "aws-ecr", "AWS ECR"
        DOCKER_REGISTRY = "docker-registry", "Docker Registry v2"

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    feed_type = models.CharField(max_length=20, choices=FeedType.choices)
    account = models.ForeignKey(
        AwsAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feeds",
        help_text="AWS ECR only: the account whose credentials read the registry.",
    )
    region = models.CharField(
        max_length=32,
        blank=True,
        validators=[region_validator],
        help_text="AWS ECR only; the account's region when left blank.",
    )
    registry_id = models.CharField(
        max_length=12,
        blank=True,
        validators=[registry_id_validator],
        help_text="AWS ECR only: another account's registry; the account's own when blank.",
    )
    url = models.CharField(
        max_length=300,
        blank=True,
        validators=[validate_endpoint_url],
        help_text="Docker registry only, e.g. https://registry-1.docker.io or https://ghcr.io.",
    )
    username = models.CharField(max_length=200, blank=True)
    password = EncryptedTextField(blank=True)
    # The push hook's secret token: encrypted so the feed page can show its URL again, and its
    # SHA-256 for the lookup (a token is never compared in clear, nor stored so).
    hook_token = EncryptedTextField(blank=True, editable=False)
    hook_token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_ecr(self) -> bool:
        return self.feed_type == self.FeedType.AWS_ECR

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.is_ecr:
            if not self.account_id:
                errors["account"] = "An AWS ECR feed needs an AWS account."
            if not self.region:
                errors["region"] = "An AWS ECR feed needs a region."
            for name in ("url", "username", "password"):
                if getattr(self, name):
                    errors[name] = "Only Docker registry feeds have this field; leave it blank."
        elif self.feed_type == self.FeedType.DOCKER_REGISTRY:
            if not self.url:
                errors["url"] = "A Docker registry feed needs the registry's URL."
            if self.account_id:
                errors["account"] = "Only AWS ECR feeds use an AWS account; leave it blank."
            for name in ("region", "registry_id"):
                if getattr(self, name):
                    errors[name] = "Only AWS ECR feeds have this field; leave it blank."
            if self.password and not self.username:
                errors["username"] = "A password needs a username."
        if errors:
            raise ValidationError(errors)
