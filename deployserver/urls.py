"""URL wiring: the only place (with templates) that looks across every app."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from deployments import api as deployments_api
from deployserver.core import api as core_api
from deployserver.health import healthz
from feeds import api as feeds_api
from notifications import api as notifications_api
from releases.api import channels as channels_api
from releases.api import environments as environments_api
from releases.api import lifecycles as lifecycles_api
from releases.api import process as process_api
from releases.api import projects as projects_api
from releases.api import teams as teams_api
from releases.api import variables as variables_api
from triggers import api as triggers_api

router = DefaultRouter()
router.register("environments", environments_api.EnvironmentViewSet, basename="environment")
router.register("lifecycles", lifecycles_api.LifecycleViewSet, basename="lifecycle")
router.register("accounts", core_api.AwsAccountViewSet, basename="account")
router.register("feeds", feeds_api.FeedViewSet, basename="feed")
router.register("projects", projects_api.ProjectViewSet, basename="project")
router.register("audit", core_api.AuditEventViewSet, basename="audit")
router.register("releases", deployments_api.ReleaseViewSet, basename="release")
router.register("deployments", deployments_api.DeploymentViewSet, basename="deployment")
# Before "webhooks" itself: "deliveries" is not a webhook id.
router.register(
    "webhooks/deliveries", notifications_api.DeliveryViewSet, basename="webhook-delivery"
)
router.register("webhooks", notifications_api.WebhookViewSet, basename="webhook")
router.register("teams", teams_api.TeamViewSet, basename="team")
project_releases = deployments_api.ProjectReleaseViewSet.as_view({"get": "list", "post": "create"})
project_channels = channels_api.ChannelViewSet.as_view({"get": "list", "post": "create"})
project_channel = channels_api.ChannelViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

project_triggers = triggers_api.TriggerViewSet.as_view({"get": "list", "post": "create"})
project_trigger = triggers_api.TriggerViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as its own response (?script): the
    # Content-Security-Policy allows no inline script.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path(
        "api/projects/<slug:slug>/variables/",
        variables_api.ProjectVariablesView.as_view(),
        name="project-variables-api",
    ),
    path(
        "api/projects/<slug:slug>/process/",
        process_api.ProjectProcessView.as_view(),
        name="project-process-api",
    ),
    path(
        "api/projects/<slug:slug>/process/preview/",
        process_api.ProjectProcessPreviewView.as_view(),
        name="project-process-preview-api",
    ),
    path("api/projects/<slug:slug>/releases/", project_releases, name="project-releases-api"),
    path("api/projects/<slug:slug>/channels/", project_channels, name="project-channels-api"),
    path(
        "api/projects/<slug:slug>/channels/<slug:channel_slug>/",
        project_channel,
        name="project-channel-api",
    ),
    path("api/projects/<slug:slug>/triggers/", project_triggers, name="project-triggers-api"),
    path(
        "api/projects/<slug:slug>/triggers/<int:pk>/", project_trigger, name="project-trigger-api"
    ),
    path(
        "api/hooks/registry/<str:token>/",
        triggers_api.RegistryHookView.as_view(),
        name="registry-hook",
    ),
    path("api/dashboard/", deployments_api.DashboardView.as_view(), name="dashboard-api"),
    path("api/me/", teams_api.MeView.as_view(), name="me-api"),
    path("api/engine/", deployments_api.EngineStatusView.as_view(), name="engine-api"),
    path("api/insights/", deployments_api.InsightsView.as_view(), name="insights-api"),
    path("api/drift/", deployments_api.DriftListView.as_view(), name="drift-api"),
    path("api/drift/check/", deployments_api.DriftCheckView.as_view(), name="drift-check-api"),
    path("api/", include((router.urls, "api"))),
    path("admin/", admin.site.urls),
    path("", include("releases.urls_channels")),
    path("", include("triggers.urls")),
    path("", include("notifications.urls")),
    path("", include("deployserver.core.urls")),
    path("", include("feeds.urls")),
    path("", include("releases.urls")),
    # The dashboard at /, the release pages and the deployment pages.
    path("", include("deployments.urls")),
]

# Django's own error answers: JSON under /api/, pages elsewhere.
handler400 = "deployserver.web.errors.bad_request"
handler403 = "deployserver.web.errors.permission_denied"
handler404 = "deployserver.web.errors.page_not_found"
handler500 = "deployserver.web.errors.server_error"
