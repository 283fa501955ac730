"""REST API for lifecycles, their phases nested: ``/api/lifecycles/``."""

from rest_framework import serializers

from deployserver.web.api import ServiceModelViewSet
from deployserver.web.roles import AdminWrites

from .. import selectors, services
from ..models import Environment, Lifecycle


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
    permission_classes = [AdminWrites]
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
