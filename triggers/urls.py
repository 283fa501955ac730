from django.urls import path

from . import views

urlpatterns = [
    path("projects/<slug:slug>/triggers/", views.trigger_list, name="project-triggers"),
    path("projects/<slug:slug>/triggers/new/", views.trigger_create, name="project-trigger-create"),
    path(
        "projects/<slug:slug>/triggers/<int:pk>/edit/",
        views.trigger_edit,
        name="project-trigger-edit",
    ),
    path(
        "projects/<slug:slug>/triggers/<int:pk>/delete/",
        views.trigger_delete,
        name="project-trigger-delete",
    ),
]
