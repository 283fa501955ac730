"""REST API for environments: ``/api/environments/``."""

from rest_framework import serializers

from deployserver.web.api import ServiceModelViewSet
from deployserver.web.roles import AdminWrites

from .. import selectors, services
from ..models import Environment


class EnvironmentSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(required=False, max_length=100)

    class Meta:
        model = Environment
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "sort_order",
            "requires_approval",
            "approval_by_other",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "sort_order": {"required": False},
            "requires_approval": {"required": False},
            "approval_by_other": {"required": False},
        }


class EnvironmentViewSet(ServiceModelViewSet):
    queryset = selectors.environment_list()
    permission_classes = [AdminWrites]
    serializer_class = EnvironmentSerializer
    instance_kwarg = "environment"
    create_service = staticmethod(services.environment_create)
    update_service = staticmethod(services.environment_update)
    delete_service = staticmethod(services.environment_delete)
