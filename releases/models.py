"""Environments, lifecycles with their phases, projects, variables, channels and releases."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from deployserver.core.crypto import EncryptedTextField


class Environment(models.Model):
    """A place releases are deployed to (Dev, Test, Prod), ordered by ``sort_order``."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    sort_order = models.PositiveIntegerField(default=0)
    requires_approval = models.BooleanField(
        default=False,
        help_text="Deployments here wait for an approver in this environment before they start.",
    )
    approval_by_other = models.BooleanField(
        default=False,
        help_text="Whoever queued a deployment may not approve it (four eyes).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class Lifecycle(models.Model):
    """The order in which a release moves through environments.

    A lifecycle without phases follows the environments' sort order, one phase each (the
    default lifecycle is such a one).
    """

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    retention_releases = models.PositiveIntegerField(
        default=0, help_text="Keep the last N releases of each project (0: keep all)."
    )
    retention_days = models.PositiveIntegerField(
        default=0, help_text="Keep releases made in the last N days (0: keep all)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_lifecycle",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    """One step of a lifecycle: the environments a release may enter together.

    A release enters a phase once the previous required phase has successful deployments to
    ``minimum_environments`` of its environments (0 means all of them). An optional phase may be
    skipped.
    """

    lifecycle = models.ForeignKey(Lifecycle, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(max_length=100)
    sort_order = models.PositiveIntegerField(default=0)
    is_optional = models.BooleanField(default=False)
    minimum_environments = models.PositiveIntegerField(default=0)
    environments = models.ManyToManyField(
        Environment, through="PhaseEnvironment", related_name="phases"
    )

    class Meta:
        ordering = ["lifecycle", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lifecycle", "name"], name="phase_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lifecycle.name}: {self.name}"


class PhaseEnvironment(models.Model):
    """An environment of a phase; ``automatic`` ones get a deployment when the phase opens.

    ``lifecycle`` repeats the phase's lifecycle so the database itself refuses an environment
    in two phases of one lifecycle.
    """

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="phase_environments")
    lifecycle = models.ForeignKey(Lifecycle, on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")
    automatic = models.BooleanField(default=False)

    class Meta:
        ordering = ["phase", "environment__sort_order", "environment__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["lifecycle", "environment"], name="environment_once_per_lifecycle"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phase} → {self.environment}"


def validate_project_slug(value: str) -> None:
    # /projects/new/ is the page that creates a project.
    if value in RESERVED_PROJECT_SLUGS:
        raise ValidationError(f"'{value}' is reserved; choose another slug.")


RESERVED_PROJECT_SLUGS = frozenset({"new"})


class Project(models.Model):
    """Something that is released and deployed: a service made of one or more images."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, validators=[validate_project_slug])
    description = models.TextField(blank=True)
    lifecycle = models.ForeignKey(Lifecycle, on_delete=models.PROTECT, related_name="projects")
    version_template = models.CharField(
        max_length=100,
        blank=True,
        help_text="Next release number, e.g. 1.2.i (i: increments). Blank: bump the last patch.",
    )
    pin_digest = models.BooleanField(
        default=True,
        help_text="Deploy images by the digest pinned in the release (when known), not by tag.",
    )
    # Bumped by every save of the variable set: an editor sends the version it loaded, and a
    # save over someone else's is refused instead of silently undoing it.
    variables_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Variable(models.Model):
    """A project variable: a name, a value and the environments it is scoped to.

    No environment means unscoped. For an environment, a value scoped to it beats an unscoped
    one; two values that apply equally to one environment are refused when saved. Sensitive
    values live only in ``secret_value`` (encrypted at rest, never read back by the API or the
    UI); text and AWS-account values (an account slug) live in ``value``.
    """

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        SENSITIVE = "sensitive", "Sensitive"
        AWS_ACCOUNT = "aws-account", "AWS account"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="variables")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.TEXT)
    value = models.TextField(blank=True)
    secret_value = EncryptedTextField(blank=True)
    environments = models.ManyToManyField(
        Environment, through="VariableScope", blank=True, related_name="+"
    )
    sort_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "sort_order", "id"]
        indexes = [models.Index(fields=["project", "sort_order"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_sensitive(self) -> bool:
        return self.type == self.Type.SENSITIVE


class VariableScope(models.Model):
    """One environment a variable is scoped to.

    Deleting a scoped environment is refused: silently dropping the scope would turn a value
    meant for one environment into one for every environment.
    """

    variable = models.ForeignKey(Variable, on_delete=models.CASCADE, related_name="scopes")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["variable", "environment"], name="variable_scope_once")
        ]

    def __str__(self) -> str:
        return f"{self.variable} → {self.environment}"


class DeploymentProcess(models.Model):
    """A project's deployment process: ordered steps stored as data.

    Each step is ``{"name", "type", "packages": [{"name", "feed", "package_id"}],
    "properties": {…}}``; properties are validated by the step type registered under ``type``
    (see ``releases.steps``). ``version`` grows with every save so concurrent editors notice.
    """

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="deployment_process"
    )
    steps = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Deployment process of {self.project}"


class Channel(models.Model):
    """A stream of a project's releases, with version rules per package reference.

    ``rules`` is a list of ``{"packages": [ref, …], "version_range": ">=1.0.0 <2.0.0",
    "prerelease": "^$"}``: a release in this channel may only pin versions that satisfy every
    rule naming their package. ``lifecycle`` overrides the project's when set.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="channels")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    lifecycle = models.ForeignKey(
        Lifecycle, null=True, blank=True, on_delete=models.PROTECT, related_name="channels"
    )
    rules = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "slug"], name="channel_slug_unique"),
            models.UniqueConstraint(fields=["project", "name"], name="channel_name_unique"),
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(is_default=True),
                name="one_default_channel_per_project",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Release(models.Model):
    """A version of a project: pinned package versions and frozen snapshots.

    ``packages`` maps each package reference of the process to what was chosen when the release
    was created: ``{ref: {"feed", "package_id", "version", "tag", "digest", "image"}}``.
    ``process_snapshot`` and ``variables_snapshot`` freeze the process and the variables (the
    sensitive values encrypted with the master key), so editing the project never changes a
    release; only an explicit, audited snapshot update refreshes the variables.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="releases")
    version = models.CharField(max_length=100)
    notes = models.TextField(blank=True)
    packages = models.JSONField(default=dict, blank=True)
    process_snapshot = models.JSONField(default=list, blank=True)
    variables_snapshot = models.JSONField(default=list, blank=True)
    variables_snapshot_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="release_version_unique"),
        ]
        indexes = [models.Index(fields=["project", "-id"], name="release_project_newest")]

    def __str__(self) -> str:
        return f"{self.project.name} {self.version}"

    @property
    def lifecycle_id_in_force(self) -> int:
        """The lifecycle this release follows (see ``lifecycle_in_force``)."""
        return lifecycle_in_force(self.channel.lifecycle_id, self.project.lifecycle_id)


def lifecycle_in_force(channel_lifecycle_id: int | None, project_lifecycle_id: int) -> int:
    """A release follows its channel's lifecycle when the channel names one, else its project's."""
    return channel_lifecycle_id or project_lifecycle_id
