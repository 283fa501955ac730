"""REST API of the deployments app, one module per resource; wired in ``deployserver.urls``."""

from .dashboard import DashboardView, EngineStatusView
from .deployments import DeploymentViewSet
from .drift import DriftCheckView, DriftListView
from .insights import InsightsView
from .releases import ProjectReleaseViewSet, ReleaseViewSet

__all__ = [
    "DashboardView",
    "DeploymentViewSet",
    "DriftCheckView",
    "DriftListView",
    "EngineStatusView",
    "InsightsView",
    "ProjectReleaseViewSet",
    "ReleaseViewSet",
]
