"""REST API for environments, lifecycles (phases nested) and projects."""

from django.shortcuts import get_object_or_404
from rest_framework import serializers

from deployserver.web.api import ServiceModelViewSet

from . import channels, selectors, services
from .models import Channel, Environment, Lifecycle, Project


class EnvironmentSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(required=False, max_length=100)

    class Meta:
        model = Environment
        fields = ["id", "name", "slug", "description", "sort_order", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"sort_order": {"required": False}}


class EnvironmentViewSet(ServiceModelViewSet):
    queryset = selectors.environment_list()
    serializer_class = EnvironmentSerializer
    instance_kwarg = "environment"
    create_service = staticmethod(services.environment_create)
    update_service = staticmethod(services.environment_update)
    delete_service = staticmethod(services.environment_delete)


class PhaseSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    is_optional = serializers.BooleanField(default=False)
    minimum_environments = serializers.IntegerField(default=0, min_value=0)
    environments = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        queryset=Environment.objects.all(),
        help_text="Environment slugs.",
    )
    automatic_environments = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        queryset=Environment.objects.all(),
        required=False,
        help_text="Environments (of this phase) deployed automatically when the phase opens.",
    )

    def to_representation(self, phase):
        pes = list(phase.phase_environments.all())
        return {
            "name": phase.name,
            "is_optional": phase.is_optional,
            "minimum_environments": phase.minimum_environments,
            "environments": [pe.environment.slug for pe in pes],
            "automatic_environments": [pe.environment.slug for pe in pes if pe.automatic],
        }


class LifecycleSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(required=False, max_length=100)
    phases = PhaseSerializer(many=True, required=False)

    class Meta:
        model = Lifecycle
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "is_default",
            "retention_releases",
            "retention_days",
            "phases",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_default", "created_at", "updated_at"]


class LifecycleViewSet(ServiceModelViewSet):
    """Lifecycles. ``phases`` (ordered) replaces all phases; none means one per environment."""

    queryset = selectors.lifecycle_list()
    serializer_class = LifecycleSerializer
    instance_kwarg = "lifecycle"
    create_service = staticmethod(services.lifecycle_create)
    update_service = staticmethod(services.lifecycle_update)
    delete_service = staticmethod(services.lifecycle_delete)

    def service_data(self, serializer):
        data = dict(serializer.validated_data)
        if "phases" in data:
            data["phases"] = [
                services.PhaseSpec(
                    name=p["name"],
                    environments=p["environments"],
                    automatic_environments=p.get("automatic_environments", []),
                    is_optional=p["is_optional"],
                    minimum_environments=p["minimum_environments"],
                )
                for p in data["phases"]
            ]
        return data


class ProjectSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(required=False, max_length=100)
    lifecycle = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Lifecycle.objects.all(),
        required=False,
        allow_null=True,
        help_text="Lifecycle slug; the default lifecycle when left out.",
    )

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "description", "lifecycle", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class ProjectViewSet(ServiceModelViewSet):
    queryset = selectors.project_list()
    serializer_class = ProjectSerializer
    lookup_field = "slug"
    instance_kwarg = "project"
    create_service = staticmethod(services.project_create)
    update_service = staticmethod(services.project_update)
    delete_service = staticmethod(services.project_delete)


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
        return get_object_or_404(Project, slug=self.kwargs["slug"])

    def get_queryset(self):
        return Channel.objects.filter(project__slug=self.kwargs["slug"]).select_related("lifecycle")

    def get_object(self):
        return get_object_or_404(self.get_queryset(), slug=self.kwargs["channel_slug"])

    def perform_create(self, serializer):
        serializer.instance = channels.channel_create(
            project=self.project(), user=self.request.user, **serializer.validated_data
        )
