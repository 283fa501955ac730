"""REST API: a project's triggers (``/api/projects/{slug}/triggers/``) and the registry push
hook (``POST /api/hooks/registry/{token}/``)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from deployserver.core.throttling import client_address
from deployserver.web.api import ServiceModelViewSet
from feeds.services import feed_for_hook_token
from releases.models import Project
from releases.selectors import project_visible

from . import services
from .hooks import MalformedHook, check_feed_soon, hook_throttle, pushed_repositories
from .models import Trigger, TriggerRelease


class TriggerReleaseSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id", allow_null=True)
    release_version = serializers.CharField(source="release.version", default=None)

    class Meta:
        model = TriggerRelease
        fields = ["release", "release_version", "versions", "created_at"]


class TriggerSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Channel slug; empty or null: the project's default channel.",
    )
    packages = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="Package references to watch; empty: every package of the process.",
    )
    healthy = serializers.BooleanField(
        read_only=True, help_text="False after 10 failed checks in a row (it keeps checking)."
    )
    releases_created = serializers.SerializerMethodField()

    class Meta:
        model = Trigger
        fields = [
            "id",
            "name",
            "channel",
            "packages",
            "enabled",
            "last_checked_at",
            "last_found",
            "last_error",
            "failures",
            "healthy",
            "releases_created",
        ]
        read_only_fields = ["last_checked_at", "last_found", "last_error", "failures"]
        validators = []  # the name per project is the service's rule

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["channel"] = instance.channel.slug if instance.channel else None
        return data

    @extend_schema_field(TriggerReleaseSerializer(many=True))
    def get_releases_created(self, obj):
        firings = obj.firings.select_related("release")[:20]
        return TriggerReleaseSerializer(firings, many=True).data


class TriggerViewSet(ServiceModelViewSet):
    """A project's feed triggers: a new version its channel accepts becomes a release."""

    serializer_class = TriggerSerializer
    queryset = Trigger.objects.all()
    instance_kwarg = "trigger"
    update_service = staticmethod(services.trigger_update)
    delete_service = staticmethod(services.trigger_delete)

    def project(self) -> Project:
        """The URL's project if the caller may see it (404 otherwise: see ``project_visible``)."""
        return project_visible(self.request.user, self.kwargs["slug"])

    def get_queryset(self):
        return Trigger.objects.filter(project=self.project()).select_related("channel", "project")

    def service_data(self, serializer) -> dict:
        data = dict(serializer.validated_data)
        if "channel" in data:
            project = serializer.instance.project if serializer.instance else self.project()
            data["channel"] = services.channel_of(project, data["channel"])
        return data

    def perform_create(self, serializer):
        serializer.instance = services.trigger_create(
            project=self.project(), user=self.request.user, **self.service_data(serializer)
        )


HookAnswer = inline_serializer(
    "RegistryHookAnswer",
    {
        "feed": serializers.IntegerField(),
        "pushed": serializers.ListField(child=serializers.CharField()),
        "check": serializers.CharField(help_text="scheduled, pending (merged) or none"),
    },
)


class RegistryHookView(APIView):
    """A registry's push notification for one feed (the token in the URL is the feed's secret).

    No sign-in: the token authenticates. Wrong token 404 (and, repeated, 429); a body that is
    neither a Docker Registry envelope nor an ECR EventBridge event 400. A push schedules a check
    of the feed's triggers; the versions are read from the feed.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes: list = []  # the raw body is read: any content type is accepted

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={202: HookAnswer},
        operation_id="registry_hook",
        tags=["hooks"],
    )
    def post(self, request, token: str):
        window = hook_throttle(client_address(request))
        retry_after = window.retry_after()
        if retry_after:
            return Response(
                {"detail": "Too many wrong hook tokens from this address; try again later."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(retry_after)},
            )
        feed = feed_for_hook_token(token)
        if feed is None:
            window.fail()
            return Response({"detail": "Unknown hook."}, status=status.HTTP_404_NOT_FOUND)
        try:
            pushed = pushed_repositories(request.body)
        except MalformedHook as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        except RecursionError:
            return Response(
                {"detail": "The JSON body is nested too deeply."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        check = "none"
        if pushed:
            check = "scheduled" if check_feed_soon(feed.pk) else "pending"
        return Response(
            {"feed": feed.pk, "pushed": pushed, "check": check}, status=status.HTTP_202_ACCEPTED
        )
