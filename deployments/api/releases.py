"""REST API of releases: a project's releases (list, create), one release (detail, delete,
promote, update its variables, what deploying it would change), with where each stands in its
lifecycle."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from deployserver.core.access import Action, access_for
from deployserver.web.params import query_params
from releases import releasing
from releases.channels import channel_resolve
from releases.models import Environment, Project, Release
from releases.process import process_preview_require
from releases.selectors import environment_list, project_visible

from .. import selectors, services
from ..aws_ecs.diff import release_diff
from .deployments import DeploymentSerializer


class ReleaseSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    channel = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    created_by = serializers.SerializerMethodField()
    environments = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "id",
            "project",
            "channel",
            "version",
            "notes",
            "packages",
            "created_by",
            "created_at",
            "variables_snapshot_at",
            "environments",
        ]

    def get_created_by(self, obj) -> str | None:
        return obj.created_by.get_username() if obj.created_by else None

    def get_environments(self, obj) -> dict[str, str]:
        """Environment slug → state of the latest deployment of this release there (in the
        environments the caller may see)."""
        reached = self.context.get("reached", {}).get(obj.pk, {})
        slugs = self.context.get("env_slugs", {})
        return {
            slugs.get(env_id, str(env_id)): state
            for env_id, state in reached.items()
            if env_id in slugs
        }


class ReleaseCreateSerializer(serializers.Serializer):
    version = serializers.CharField(required=False, allow_blank=True, max_length=100)
    channel = serializers.CharField(required=False, allow_blank=True, help_text="Channel slug.")
    packages = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Package reference → version (or tag); missing ones take the newest allowed.",
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class ReleaseDetailSerializer(ReleaseSerializer):
    deployable_environments = serializers.SerializerMethodField()
    blocked_environments = serializers.SerializerMethodField()
    next_environment = serializers.SerializerMethodField()
    variables_changed = serializers.SerializerMethodField()
    process_snapshot = serializers.JSONField(read_only=True)

    class Meta(ReleaseSerializer.Meta):
        fields = ReleaseSerializer.Meta.fields + [
            "deployable_environments",
            "blocked_environments",
            "next_environment",
            "variables_changed",
            "process_snapshot",
        ]

    def _progress(self, obj):
        if "_progress" not in self.context:
            self.context["_progress"] = selectors.release_progress(obj)
        return self.context["_progress"]

    def get_deployable_environments(self, obj) -> list[str]:
        return [e.slug for e in self._progress(obj).deployable]

    def get_blocked_environments(self, obj) -> dict[str, str]:
        slugs = self.context.get("env_slugs", {})
        return {slugs[k]: v for k, v in self._progress(obj).blocked.items() if k in slugs}

    def get_next_environment(self, obj) -> str | None:
        env = self._progress(obj).next_environment
        return env.slug if env else None

    def get_variables_changed(self, obj) -> bool:
        return releasing.release_variables_changed(obj)


def _env_slugs(user, project) -> dict[int, str]:
    """Slugs of the environments whose deployments of ``project`` the caller may see."""
    access = access_for(user)
    return {
        pk: slug
        for pk, slug in environment_list().values_list("pk", "slug")
        if access.allows(Action.VIEW, project, pk)
    }


class ReleaseFilter(filters.FilterSet):
    channel = filters.CharFilter(field_name="channel__slug", help_text="Only this channel (slug).")
    version = filters.CharFilter(
        lookup_expr="icontains", help_text="Part of the version (any case)."
    )

    class Meta:
        model = Release
        fields = ["channel", "version"]


class ProjectReleaseViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """A project's releases, newest first; POST creates one."""

    serializer_class = ReleaseSerializer
    queryset = Release.objects.all()
    filterset_class = ReleaseFilter

    def project(self) -> Project:
        if not hasattr(self, "_project"):
            self._project = project_visible(self.request.user, self.kwargs["slug"])
        return self._project

    def get_queryset(self):
        return selectors.release_list(self.project())

    def get_serializer_class(self):
        return ReleaseCreateSerializer if self.action == "create" else ReleaseSerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {
            **self.get_serializer_context(),
            "reached": selectors.releases_reached(page),
            "env_slugs": _env_slugs(request.user, self.project()),
        }
        return self.get_paginated_response(ReleaseSerializer(page, many=True, context=context).data)

    @extend_schema(request=ReleaseCreateSerializer, responses={201: ReleaseDetailSerializer})
    def create(self, request, *args, **kwargs):
        project = self.project()
        serializer = ReleaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        channel = channel_resolve(project, data.get("channel"))
        release = services.release_publish(
            project=project,
            user=request.user,
            version=data.get("version") or None,
            channel=channel,
            packages=data.get("packages"),
            notes=data.get("notes", ""),
        )
        context = {"env_slugs": _env_slugs(request.user, project), "reached": {}}
        return Response(ReleaseDetailSerializer(release, context=context).data, status=201)


class DiffQuerySerializer(serializers.Serializer):
    environment = serializers.SlugField(help_text="The environment's slug")


class ChangeSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="e.g. containers.web.image, service.desired_count")
    to = serializers.CharField(allow_null=True)
    sensitive = serializers.BooleanField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(allow_null=True)  # a keyword in Python
        return fields


class StepDiffSerializer(serializers.Serializer):
    step = serializers.CharField()
    cluster = serializers.CharField(required=False)
    service = serializers.CharField(required=False)
    current = serializers.DictField(child=serializers.CharField(), allow_null=True)
    next = serializers.DictField(child=serializers.CharField(), allow_null=True)
    changes = ChangeSerializer(many=True, allow_null=True)
    summary = serializers.CharField()
    error = serializers.CharField(allow_null=True)


class ReleaseDiffSerializer(serializers.Serializer):
    environment = serializers.CharField()
    current = serializers.DictField(child=serializers.CharField(), allow_null=True)
    next = serializers.DictField(child=serializers.CharField(), allow_null=True)
    changes = ChangeSerializer(many=True, allow_null=True)
    summary = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    steps = StepDiffSerializer(many=True)


class ReleaseViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """One release: where it may be deployed now (and why not elsewhere); promote it."""

    serializer_class = ReleaseDetailSerializer
    queryset = Release.objects.select_related("project", "channel", "created_by")

    def get_queryset(self):
        # Releases of projects outside the caller's grants are not found (404).
        return selectors.releases_for(self.request.user).select_related(
            "project", "channel", "created_by"
        )

    def retrieve(self, request, *args, **kwargs):
        release = self.get_object()
        context = {
            **self.get_serializer_context(),
            "env_slugs": _env_slugs(request.user, release.project),
            "reached": selectors.releases_reached([release]),
        }
        return Response(ReleaseDetailSerializer(release, context=context).data)

    def perform_destroy(self, instance):
        releasing.release_delete(release=instance, user=self.request.user)

    @extend_schema(request=None, responses={201: DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        deployment = services.deployment_promote(release=self.get_object(), user=request.user)
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[DiffQuerySerializer],
        responses={200: ReleaseDiffSerializer},
        description="What deploying this release to the environment would change on its ECS "
        "service: read from AWS (DescribeServices + DescribeTaskDefinition, kept 10 s) and "
        "compared with the requests the deployment would send. Sensitive values are ••••. A "
        "problem (the service is missing, AWS refused) is `error`, with the diff left empty.",
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        release = self.get_object()
        slug = query_params(DiffQuerySerializer, request)["environment"]
        environment = Environment.objects.filter(slug=slug).first()
        if environment is None:
            raise NotFound(f"No environment '{slug}'.")
        # What runs there holds the environment's values: deployers (or editors) there only.
        process_preview_require(request.user, release.project, environment)
        return Response(release_diff(release, environment))

    @extend_schema(request=None, responses={200: ReleaseDetailSerializer})
    @action(detail=True, methods=["post"], url_path="update-variables")
    def update_variables(self, request, pk=None):
        """Replace the release's variable snapshot with the project's current variables."""
        release = releasing.release_snapshot_update(release=self.get_object(), user=request.user)
        return self.retrieve(request, pk=release.pk)
