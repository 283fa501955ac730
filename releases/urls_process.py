"""Pages for a project's variables, deployment process and its preview."""

from django.urls import path

from . import views_process

urlpatterns = [
    path("projects/<slug:slug>/variables/", views_process.variables_edit, name="project-variables"),
    path("projects/<slug:slug>/process/", views_process.process_edit, name="project-process"),
    path(
        "projects/<slug:slug>/process/preview/",
        views_process.process_preview_page,
        name="project-process-preview",
    ),
]
