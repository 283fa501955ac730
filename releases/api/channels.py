"""REST API for a project's channels: ``/api/projects/{slug}/channels/``."""

from django.shortcuts import get_object_or_404
from rest_framework import serializers

from deployserver.web.api import ServiceModelViewSet

from .. import channels
from ..models import Channel, Lifecycle, Project
from ..selectors import project_visible


class ChannelSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(required=False, max_length=100)
    lifecycle = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Lifecycle.objects.all(),
        required=False,
        allow_null=True,
        help_text="Lifecycle slug overriding the project's; null to use the project's.",
    )
    rules = serializers.JSONField(
        required=False,
        help_text='[{"packages": ["web"], "version_range": ">=1.0.0 <2.0.0", "prerelease": "^$"}]',
    )

    class Meta:
        model = Channel
        fields = ["id", "name", "slug", "description", "is_default", "lifecycle", "rules"]
        read_only_fields = ["is_default"]
        validators = []  # uniqueness per project is checked by the model in the service


class ChannelViewSet(ServiceModelViewSet):
    """A project's channels: version rules per package reference, optional lifecycle."""

    serializer_class = ChannelSerializer
    queryset = Channel.objects.all()
    lookup_field = "channel_slug"
    instance_kwarg = "channel"
    update_service = staticmethod(channels.channel_update)
    delete_service = staticmethod(channels.channel_delete)

    def project(self) -> Project:
        return project_visible(self.request.user, self.kwargs["slug"])

    def get_queryset(self):
        return Channel.objects.filter(project=self.project()).select_related("lifecycle")

    def get_object(self):
        return get_object_or_404(self.get_queryset(), slug=self.kwargs["channel_slug"])

    def perform_create(self, serializer):
        serializer.instance = channels.channel_create(
            project=self.project(), user=self.request.user, **serializer.validated_data
        )
