"""Pages for environments, lifecycles and projects."""

from django.urls import path

from . import views

urlpatterns = [
    path("environments/", views.environment_list, name="environments"),
    path("environments/new/", views.environment_create, name="environment-create"),
    path("environments/<slug:slug>/edit/", views.environment_edit, name="environment-edit"),
    path("environments/<slug:slug>/delete/", views.environment_delete, name="environment-delete"),
    path("lifecycles/", views.lifecycle_list, name="lifecycles"),
    path("lifecycles/new/", views.lifecycle_create, name="lifecycle-create"),
    path("lifecycles/<slug:slug>/edit/", views.lifecycle_edit, name="lifecycle-edit"),
    path("lifecycles/<slug:slug>/delete/", views.lifecycle_delete, name="lifecycle-delete"),
    path("projects/", views.project_list, name="projects"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<slug:slug>/", views.project_detail, name="project-detail"),
    path("projects/<slug:slug>/settings/", views.project_edit, name="project-edit"),
    path("projects/<slug:slug>/delete/", views.project_delete, name="project-delete"),
]
