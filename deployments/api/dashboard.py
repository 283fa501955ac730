"""REST API of the dashboard: projects × environments, the latest deployment in each cell."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from deployserver.core.access import access_for
from deployserver.web.params import query_params
from deployserver.web.roles import AdminOnly

from .. import selectors
from ..models import Deployment


class DashboardQuerySerializer(serializers.Serializer):
    project = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Limit to one project slug"
    )


class DashboardEnvironmentSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class DashboardCellSerializer(serializers.Serializer):
    deployment = serializers.IntegerField()
    release = serializers.IntegerField()
    version = serializers.CharField()
    state = serializers.ChoiceField(choices=Deployment.State.choices)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField(allow_null=True)


class DashboardProjectSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    environments = serializers.DictField(
        child=DashboardCellSerializer(allow_null=True),
        help_text="Environment slug → the latest deployment there, or null.",
    )


class DashboardSerializer(serializers.Serializer):
    environments = DashboardEnvironmentSerializer(many=True)
    projects = DashboardProjectSerializer(many=True)


class DashboardView(APIView):
    """Projects × environments: the latest deployment in each cell."""

    @extend_schema(parameters=[DashboardQuerySerializer], responses={200: DashboardSerializer})
    def get(self, request):
        project = query_params(DashboardQuerySerializer, request)["project"]
        board = selectors.dashboard(project=project or None, access=access_for(request.user))
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


class CheckRoundSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    rollouts = serializers.IntegerField(help_text="Rollouts checked in that round")
    groups = serializers.IntegerField(help_text="Account × region × cluster groups read")
    calls = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="AWS calls of the round by operation (DescribeServices, ListTasks, …)",
    )
    seconds = serializers.FloatField()


class EngineStatusSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    executing = serializers.IntegerField()
    acting = serializers.IntegerField(help_text="Executing with a worker calling AWS for them")
    waiting = serializers.IntegerField(help_text="Waiting for a rollout's next check (no worker)")
    checking = serializers.IntegerField(help_text="Being read by a check round now")
    checks_overdue = serializers.IntegerField(
        help_text="Waiting ones whose check is late by over 3 check intervals (at least 10 s): "
        "no worker is taking check rounds"
    )
    most_overdue_seconds = serializers.FloatField()
    last_check_round = CheckRoundSerializer(allow_null=True)


class EngineStatusView(APIView):
    """What the deployment engine is doing: deployments executing, waiting, checks overdue.
    Administrators only: the counts span every project."""

    permission_classes = [AdminOnly]

    @extend_schema(responses={200: EngineStatusSerializer})
    def get(self, request):
        return Response(selectors.engine_status())
