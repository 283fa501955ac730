"""Pages of the deployments app: the dashboard, a project's overview, releases and insights,
one deployment."""

from django.urls import path

from .views import dashboard, deployments, insights, overview, releases

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("insights/", insights.insights, name="insights"),
    # A project's overview (what its link opens) and its live grid
    path("projects/<slug:slug>/", overview.project_overview_page, name="project-detail"),
    path(
        "projects/<slug:slug>/overview/grid/",
        overview.project_overview_grid,
        name="project-overview-grid",
    ),
    path("projects/<slug:slug>/insights/", insights.project_insights, name="project-insights"),
    # Releases
    path("projects/<slug:slug>/releases/", releases.release_list, name="project-releases"),
    path(
        "projects/<slug:slug>/releases/new/",
        releases.release_create,
        name="project-release-create",
    ),
    path(
        "projects/<slug:slug>/releases/new/packages/",
        releases.release_packages,
        name="project-release-packages",
    ),
    path("releases/<int:pk>/", releases.release_detail, name="project-release"),
    path("releases/<int:pk>/deploy/", releases.release_deploy, name="project-release-deploy"),
    path("releases/<int:pk>/diff/", releases.release_diff, name="project-release-diff"),
    path("releases/<int:pk>/promote/", releases.release_promote, name="project-release-promote"),
    path(
        "releases/<int:pk>/update-variables/",
        releases.release_update_variables,
        name="project-release-update-variables",
    ),
    # One deployment: the live page, its poll, the log (earlier lines, raw) and actions
    path("deployments/<int:pk>/", deployments.deployment_detail, name="deployment-detail"),
    path("deployments/<int:pk>/poll/", deployments.deployment_poll, name="deployment-poll"),
    path(
        "deployments/<int:pk>/log/earlier/",
        deployments.deployment_log_earlier,
        name="deployment-log-earlier",
    ),
    path("deployments/<int:pk>/log.txt", deployments.deployment_log_raw, name="deployment-log-raw"),
    path("deployments/<int:pk>/cancel/", deployments.deployment_cancel, name="deployment-cancel"),
    path(
        "deployments/<int:pk>/approve/",
        deployments.deployment_review,
        {"decision": "approve"},
        name="deployment-approve",
    ),
    path(
        "deployments/<int:pk>/reject/",
        deployments.deployment_review,
        {"decision": "reject"},
        name="deployment-reject",
    ),
    path(
        "deployments/<int:pk>/redeploy/",
        deployments.deployment_redeploy,
        name="deployment-redeploy",
    ),
    path(
        "deployments/<int:pk>/promote/",
        deployments.deployment_promote,
        name="deployment-promote",
    ),
]
