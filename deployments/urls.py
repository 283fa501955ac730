"""Pages of one deployment: the live page, its poll, the log (earlier lines, raw) and actions."""

from django.urls import path

from . import views

urlpatterns = [
    path("deployments/<int:pk>/", views.deployment_detail, name="deployment-detail"),
    path("deployments/<int:pk>/poll/", views.deployment_poll, name="deployment-poll"),
    path(
        "deployments/<int:pk>/log/earlier/",
        views.deployment_log_earlier,
        name="deployment-log-earlier",
    ),
    path("deployments/<int:pk>/log.txt", views.deployment_log_raw, name="deployment-log-raw"),
    path("deployments/<int:pk>/cancel/", views.deployment_cancel, name="deployment-cancel"),
    path("deployments/<int:pk>/redeploy/", views.deployment_redeploy, name="deployment-redeploy"),
    path("deployments/<int:pk>/promote/", views.deployment_promote, name="deployment-promote"),
]
