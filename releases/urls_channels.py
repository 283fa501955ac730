"""Pages of a project's channels."""

from django.urls import path

from . import views_channels as views

urlpatterns = [
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
