"""REST API for releases (create, list, detail, promote), deployments and the dashboard."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from releases import releasing
from releases.channels import channel_resolve
from releases.models import Environment, Project, Release
from releases.selectors import environment_list

from . import logs, selectors, services
from .models import Deployment, LogLine


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with work already queued."


class DeploymentSerializer(serializers.ModelSerializer):
    release = serializers.PrimaryKeyRelatedField(queryset=Release.objects.all())
    environment = serializers.SlugRelatedField(
        slug_field="slug", queryset=Environment.objects.all(), help_text="Environment slug."
    )
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    release_version = serializers.CharField(source="release.version", read_only=True)
    created_by = serializers.SerializerMethodField()
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id",
            "project",
            "release",
            "release_version",
            "environment",
            "state",
            "trigger",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "error",
            "outputs",
            "cancel_requested_at",
            "cancel_requested_by",
            "progress_running",
            "progress_desired",
        ]
        read_only_fields = [f for f in fields if f not in ("release", "environment")]

    def get_created_by(self, obj) -> str | None:
        return obj.created_by.get_username() if obj.created_by else None

    def get_duration_seconds(self, obj) -> float | None:
        return obj.duration.total_seconds() if obj.duration is not None else None


class LogQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=logs.MAX_PAGE_LINES, default=1000)


class LogLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = LogLine
        fields = ["seq", "time", "level", "step", "text"]


class LogPageSerializer(serializers.Serializer):
    deployment = serializers.IntegerField()
    state = serializers.CharField()
    finished = serializers.BooleanField()
    next = serializers.IntegerField()
    lines = LogLineSerializer(many=True)


class DeploymentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Deployments, newest first. Filter with ``?project=<slug>&environment=<slug>&state=``."""

    queryset = selectors.deployment_list()
    serializer_class = DeploymentSerializer

    def get_queryset(self):
        qs = selectors.deployment_list()
        params = self.request.query_params
        if params.get("project"):
            qs = qs.filter(project__slug=params["project"])
        if params.get("environment"):
            qs = qs.filter(environment__slug=params["environment"])
        if params.get("state"):
            qs = qs.filter(state=params["state"])
        if params.get("release"):
            qs = (
                qs.filter(release_id=params["release"])
                if params["release"].isdigit()
                else qs.none()
            )
        return qs

    def perform_create(self, serializer):
        try:
            serializer.instance = services.deployment_create(
                release=serializer.validated_data["release"],
                environment=serializer.validated_data["environment"],
                user=self.request.user,
            )
        except services.DeploymentConflict as exc:
            raise Conflict(str(exc)) from exc

    @extend_schema(request=None, responses={200: DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        deployment = services.deployment_cancel(deployment=self.get_object(), user=request.user)
        return Response(self.get_serializer(deployment).data)

    @extend_schema(request=None, responses={201: DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def redeploy(self, request, pk=None):
        try:
            deployment = services.deployment_redeploy(
                deployment=self.get_object(), user=request.user
            )
        except services.DeploymentConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response(self.get_serializer(deployment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="Return the lines after this seq"),
            OpenApiParameter("limit", int, description="At most this many lines (1-5000)"),
        ],
        responses={200: LogPageSerializer},
    )
    @action(detail=True, methods=["get"])
    def log(self, request, pk=None):
        """The task log after line ``after``; ``finished`` says no line will follow."""
        deployment = self.get_object()
        params = LogQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        finished, lines = logs.log_since(
            deployment, params.validated_data["after"], limit=params.validated_data["limit"]
        )
        return Response(
            {
                "deployment": deployment.pk,
                "state": deployment.state,
                "finished": finished,
                "next": lines[-1].seq if lines else params.validated_data["after"],
                "lines": LogLineSerializer(lines, many=True).data,
            }
        )


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
        """Environment slug → state of the latest deployment of this release there."""
        reached = self.context.get("reached", {}).get(obj.pk, {})
        slugs = self.context.get("env_slugs", {})
        return {slugs.get(env_id, str(env_id)): state for env_id, state in reached.items()}


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


def _env_slugs() -> dict[int, str]:
    return dict(environment_list().values_list("pk", "slug"))


class ProjectReleaseViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """A project's releases, newest first; POST creates one."""

    serializer_class = ReleaseSerializer
    queryset = Release.objects.all()

    def project(self) -> Project:
        return get_object_or_404(Project, slug=self.kwargs["slug"])

    def get_queryset(self):
        return selectors.release_list(self.project())

    def get_serializer_class(self):
        return ReleaseCreateSerializer if self.action == "create" else ReleaseSerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = {
            **self.get_serializer_context(),
            "reached": selectors.releases_reached(page),
            "env_slugs": _env_slugs(),
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
        context = {"env_slugs": _env_slugs(), "reached": {}}
        return Response(ReleaseDetailSerializer(release, context=context).data, status=201)


class ReleaseViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """One release: where it may be deployed now (and why not elsewhere); promote it."""

    serializer_class = ReleaseDetailSerializer
    queryset = Release.objects.select_related("project", "channel", "created_by")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "env_slugs": _env_slugs()}

    def retrieve(self, request, *args, **kwargs):
        release = self.get_object()
        context = {
            **self.get_serializer_context(),
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

    @extend_schema(request=None, responses={200: ReleaseDetailSerializer})
    @action(detail=True, methods=["post"], url_path="update-variables")
    def update_variables(self, request, pk=None):
        """Replace the release's variable snapshot with the project's current variables."""
        release = releasing.release_snapshot_update(release=self.get_object(), user=request.user)
        return self.retrieve(request, pk=release.pk)


class DashboardView(APIView):
    """Projects × environments: the latest deployment in each cell."""

    @extend_schema(
        responses={200: dict},
        parameters=[OpenApiParameter("project", str, description="Limit to one project slug")],
    )
    def get(self, request):
        board = selectors.dashboard()
        return Response(
            {
                "environments": [{"slug": e.slug, "name": e.name} for e in board.environments],
                "projects": [
                    {
                        "slug": project.slug,
                        "name": project.name,
                        "environments": {
                            env.slug: _cell(cell)
                            for env, cell in zip(board.environments, cells, strict=True)
                        },
                    }
                    for project, cells in board.rows()
                ],
            }
        )


def _cell(cell: selectors.DashboardCell | None) -> dict | None:
    if cell is None:
        return None
    return {
        "deployment": cell.deployment,
        "release": cell.release,
        "version": cell.version,
        "state": cell.state,
        "created_at": cell.created_at,
        "finished_at": cell.finished_at,
        "created_by": cell.created_by,
    }
