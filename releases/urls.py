"""Pages for environments, lifecycles and projects, and a project's variables and process."""

from django.urls import path

from .views import environments, lifecycles, process, projects, teams, variables

urlpatterns = [
    path("environments/", environments.environment_list, name="environments"),
    path("environments/new/", environments.environment_create, name="environment-create"),
    path("environments/<slug:slug>/edit/", environments.environment_edit, name="environment-edit"),
    path(
        "environments/<slug:slug>/delete/",
        environments.environment_delete,
        name="environment-delete",
    ),
    path("teams/", teams.team_list, name="teams"),
    path("teams/new/", teams.team_create, name="team-create"),
    path("teams/<int:pk>/edit/", teams.team_edit, name="team-edit"),
    path("teams/<int:pk>/delete/", teams.team_delete_page, name="team-delete"),
    path("users/<str:username>/permissions/", teams.user_permissions, name="user-permissions"),
    path("account/permissions/", teams.my_permissions, name="my-permissions"),
    path("lifecycles/", lifecycles.lifecycle_list, name="lifecycles"),
    path("lifecycles/new/", lifecycles.lifecycle_create, name="lifecycle-create"),
    path("lifecycles/<slug:slug>/edit/", lifecycles.lifecycle_edit, name="lifecycle-edit"),
    path("lifecycles/<slug:slug>/delete/", lifecycles.lifecycle_delete, name="lifecycle-delete"),
    path("projects/", projects.project_list, name="projects"),
    path("projects/new/", projects.project_create, name="project-create"),
    path("projects/<slug:slug>/settings/", projects.project_edit, name="project-edit"),
    path("projects/<slug:slug>/delete/", projects.project_delete, name="project-delete"),
    path("projects/<slug:slug>/variables/", variables.variables_edit, name="project-variables"),
    path("projects/<slug:slug>/process/", process.process_edit, name="project-process"),
    path(
        "projects/<slug:slug>/process/preview/",
        process.process_preview_page,
        name="project-process-preview",
    ),
]
