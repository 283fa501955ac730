"""REST API of the dashboard: projects × environments, the latest deployment in each cell."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors


class DashboardView(APIView):
    """Projects × environments: the latest deployment in each cell."""

    @extend_schema(
        responses={200: dict},
        parameters=[OpenApiParameter("project", str, description="Limit to one project slug")],
    )
    def get(self, request):
        board = selectors.dashboard(project=request.query_params.get("project") or None)
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
