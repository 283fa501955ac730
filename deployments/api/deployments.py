"""REST API of deployments: list (filtered), create, cancel, redeploy and the task log."""

from django_filters import rest_framework as filters
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema
from rest_framework import fields, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from deployserver.core.access import access_for
from deployserver.web.filters import IntegerFilter
from releases.models import Environment, Release

from .. import enqueue, logs, selectors, services
from ..exceptions import DeploymentConflict
from ..models import Deployment, LogLine


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with work already queued."


class QueueNoteField(serializers.Field):
    """``note``: said only in the answer that queued a deployment the queue did not take.

    Output only and absent otherwise, so it is neither read from requests nor required in the
    schema (see ``QueueNoteFieldSchema``).
    """

    def __init__(self, **kwargs):
        super().__init__(source="*", required=False, **kwargs)

    def get_value(self, dictionary):
        return fields.empty  # never read from a request

    def to_representation(self, value) -> str | None:
        return enqueue.queue_note(value)


class QueueNoteFieldSchema(OpenApiSerializerFieldExtension):
    target_class = QueueNoteField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return None
        return {"type": "string"}


class DeploymentSerializer(serializers.ModelSerializer):
    release = serializers.PrimaryKeyRelatedField(queryset=Release.objects.all())

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "release" in fields and not fields["release"].read_only:
            # A release one may not see is "not found", like a release that does not exist.
            fields["release"].queryset = access_for(request.user).filter(Release.objects.all())
        return fields

    environment = serializers.SlugRelatedField(
        slug_field="slug", queryset=Environment.objects.all(), help_text="Environment slug."
    )
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    release_version = serializers.CharField(source="release.version", read_only=True)
    created_by = serializers.SerializerMethodField()
    reviewed_by = serializers.SerializerMethodField(help_text="Who approved or rejected it.")
    duration_seconds = serializers.SerializerMethodField()
    note = QueueNoteField(
        help_text="Present only when the deployment was queued but the queue could not be "
        f'reached: "{enqueue.QUEUE_UNREACHABLE}" It stays queued and starts once the queue is '
        "back."
    )

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
            "reviewed_by",
            "reviewed_at",
            "review_comment",
            "progress_running",
            "progress_desired",
            "phase",
            "next_check_at",
            "note",
        ]
        read_only_fields = [f for f in fields if f not in ("release", "environment", "note")]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if data.get("note") is None:
            data.pop("note", None)
        return data

    def get_created_by(self, obj) -> str | None:
        return obj.created_by.get_username() if obj.created_by else None

    def get_reviewed_by(self, obj) -> str | None:
        return obj.reviewed_by.get_username() if obj.reviewed_by else None

    def get_duration_seconds(self, obj) -> float | None:
        return obj.duration.total_seconds() if obj.duration is not None else None


class ReviewSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000, help_text="Optional."
    )


def validated_comment(request) -> str:
    review = ReviewSerializer(data=request.data)
    review.is_valid(raise_exception=True)
    return review.validated_data["comment"]


class LogQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, default=0, help_text="Return the lines after this seq"
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=logs.MAX_PAGE_LINES,
        default=1000,
        help_text=f"At most this many lines (1-{logs.MAX_PAGE_LINES})",
    )


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


class DeploymentFilter(filters.FilterSet):
    project = filters.CharFilter(field_name="project__slug", help_text="Only this project (slug)")
    environment = filters.CharFilter(
        field_name="environment__slug", help_text="Only this environment (slug)"
    )
    state = filters.ChoiceFilter(choices=Deployment.State.choices, help_text="Only this state")
    release = IntegerFilter(field_name="release_id", help_text="Only this release (id)")

    class Meta:
        model = Deployment
        fields = ["project", "environment", "state", "release"]


class DeploymentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Deployments, newest first. Filters combine: ``?project=<slug>&environment=<slug>&state=``
    (and ``release=<id>``)."""

    queryset = selectors.deployment_list()
    serializer_class = DeploymentSerializer
    filterset_class = DeploymentFilter

    def get_queryset(self):
        # Deployments outside the caller's grants are neither listed nor found (404).
        return selectors.deployment_list_for(self.request.user)

    def perform_create(self, serializer):
        try:
            serializer.instance = services.deployment_create(
                release=serializer.validated_data["release"],
                environment=serializer.validated_data["environment"],
                user=self.request.user,
            )
        except DeploymentConflict as exc:
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
        except DeploymentConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response(self.get_serializer(deployment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewSerializer, responses={200: DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a deployment awaiting approval (the approver role in its environment); it is
        queued at once. Refused (403) to whoever queued it where the environment wants four
        eyes."""
        comment = validated_comment(request)
        deployment = services.deployment_approve(
            deployment=self.get_object(), user=request.user, comment=comment
        )
        return Response(self.get_serializer(deployment).data)

    @extend_schema(request=ReviewSerializer, responses={200: DeploymentSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a deployment awaiting approval: it ends ``cancelled`` with the comment."""
        comment = validated_comment(request)
        deployment = services.deployment_reject(
            deployment=self.get_object(), user=request.user, comment=comment
        )
        return Response(self.get_serializer(deployment).data)

    @extend_schema(parameters=[LogQuerySerializer], responses={200: LogPageSerializer})
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
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
