"""Pages of releases and channels, and the dashboard."""

from django.urls import path

from . import views_releases as views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("projects/<slug:slug>/releases/", views.release_list, name="project-releases"),
    path("projects/<slug:slug>/releases/new/", views.release_create, name="project-release-create"),
    path(
        "projects/<slug:slug>/releases/new/packages/",
        views.release_packages,
        name="project-release-packages",
    ),
    path("releases/<int:pk>/", views.release_detail, name="project-release"),
    path("releases/<int:pk>/deploy/", views.release_deploy, name="project-release-deploy"),
    path("releases/<int:pk>/promote/", views.release_promote, name="project-release-promote"),
    path(
        "releases/<int:pk>/update-variables/",
        views.release_update_variables,
        name="project-release-update-variables",
    ),
    path("projects/<slug:slug>/channels/", views.channel_list, name="project-channels"),
    path("projects/<slug:slug>/channels/new/", views.channel_create, name="project-channel-create"),
    path(
        "projects/<slug:slug>/channels/<slug:channel_slug>/edit/",
        views.channel_edit,
        name="project-channel-edit",
    ),
    path(
        "projects/<slug:slug>/channels/<slug:channel_slug>/delete/",
        views.channel_delete,
        name="project-channel-delete",
    ),
]
