"""REST API for projects: ``/api/projects/``."""

from django_filters import rest_framework as filters
from rest_framework import serializers

from deployserver.core.access import access_for
from deployserver.web.api import ServiceModelViewSet

from .. import selectors, services
from ..models import Lifecycle, Project


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


class ProjectFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains", help_text="Part of the name (any case).")
    lifecycle = filters.CharFilter(field_name="lifecycle__slug", help_text="Lifecycle slug.")

    class Meta:
        model = Project
        fields = ["name", "lifecycle"]


class ProjectViewSet(ServiceModelViewSet):
    queryset = selectors.project_list()
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    lookup_field = "slug"
    instance_kwarg = "project"
    create_service = staticmethod(services.project_create)
    update_service = staticmethod(services.project_update)
    delete_service = staticmethod(services.project_delete)

    def get_queryset(self):
        # Projects outside the caller's grants are not found (404), never listed or counted.
        return access_for(self.request.user).projects(selectors.project_list())
