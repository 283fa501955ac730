"""REST API of drift: each ECS service against what the last successful deployment set there."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from deployserver.core.access import Action, access_for, require
from deployserver.web.params import query_params
from releases.models import Environment, Project

from .. import drift
from ..models import ServiceDrift


class DriftScopeSerializer(serializers.Serializer):
    project = serializers.SlugField(
        required=False, allow_blank=True, default="", help_text="One project's slug; all if empty"
    )
    environment = serializers.SlugField(
        required=False, allow_blank=True, default="", help_text="One environment's slug"
    )

    def validate_project(self, slug):
        if not slug:
            return None
        found = Project.objects.filter(slug=slug).first()
        if found is None:
            raise serializers.ValidationError(f"No project has the slug '{slug}'.")
        return found

    def validate_environment(self, slug):
        if not slug:
            return None
        found = Environment.objects.filter(slug=slug).first()
        if found is None:
            raise serializers.ValidationError(f"No environment has the slug '{slug}'.")
        return found


class ServiceDriftSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    environment = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    deployment = serializers.IntegerField(
        source="deployment_id", help_text="The successful deployment compared against"
    )
    release_version = serializers.CharField(source="deployment.release.version")
    reasons = serializers.ListField(
        child=serializers.CharField(),
        help_text="What differs or is wrong, in words (sensitive values masked); empty in sync",
    )

    class Meta:
        model = ServiceDrift
        fields = [
            "project",
            "environment",
            "step",
            "cluster",
            "service",
            "state",
            "reasons",
            "since",
            "checked_at",
            "deployment",
            "release_version",
        ]
        read_only_fields = fields


class DriftListView(generics.ListAPIView):
    """Each ECS service of each project × environment against its last successful deployment,
    as the last drift round saw it (``checked_at``)."""

    serializer_class = ServiceDriftSerializer
    queryset = ServiceDrift.objects.none()  # the permission class reads its model

    @extend_schema(parameters=[DriftScopeSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        rows = drift.drift_list(**query_params(DriftScopeSerializer, self.request))
        # Only the projects × environments the caller may see.
        return access_for(self.request.user).filter(
            rows, project="project_id", environment="environment_id"
        )


class DriftRoundSerializer(serializers.Serializer):
    services = serializers.IntegerField(help_text="Services checked")
    groups = serializers.IntegerField(help_text="Account × region × cluster groups read")
    calls = serializers.DictField(child=serializers.IntegerField(), help_text="AWS calls made")
    seconds = serializers.FloatField()
    skipped = serializers.IntegerField(
        help_text="Project × environments left for the next round: a deployment is executing"
    )


class DriftCheckSerializer(serializers.Serializer):
    round = DriftRoundSerializer()
    results = ServiceDriftSerializer(many=True)


class DriftCheckView(APIView):
    """Check now: a drift round over the services of ``project`` and/or ``environment`` (all if
    neither), run during the request; answers with its rows and what it cost. One project ×
    environment needs the deployer role there (who may redeploy to restore may look again);
    a wider round needs an administrator."""

    @extend_schema(
        request=DriftScopeSerializer,
        parameters=[DriftScopeSerializer],
        responses={200: DriftCheckSerializer},
    )
    def post(self, request):
        data = request.data if request.data else request.query_params
        scope = DriftScopeSerializer(data=data)
        scope.is_valid(raise_exception=True)
        project, environment = (
            scope.validated_data.get("project"),
            scope.validated_data.get("environment"),
        )
        if project is not None and environment is not None:
            require(request.user, Action.DEPLOY, project, environment)
        else:
            require(request.user, Action.ADMIN)
        result = drift.drift_check(**scope.validated_data)
        rows = drift.drift_list(**scope.validated_data)
        return Response(
            {
                "round": result.figures(),
                "results": ServiceDriftSerializer(rows, many=True).data,
            }
        )
