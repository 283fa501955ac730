"""Web pages for environments, lifecycles (with the phase editor) and projects.

Thin views: forms check the input's shape, ``releases.services`` decides; a service's
``ValidationError`` is shown next to the field it names, or above the phases.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from deployserver.web.pages import add_service_errors, confirm_delete, write_permission

from . import selectors, services
from .forms import EnvironmentForm, LifecycleForm, PhaseFormSet, ProjectForm, phase_initial
from .models import Environment, Project


def _render(request, template: str, context: dict, *, rejected: bool = False):
    # A rejected submission answers 400 so clients (and tests) can tell it from a fresh form.
    return render(request, template, context, status=400 if rejected else 200)


# Environments ----------------------------------------------------------------------------------


PROJECT_PAGE_SIZE = 50


@login_required
def environment_list(request):
    return render(
        request,
        "releases/environment_list.html",
        {"environments": selectors.environment_list()},
    )


@write_permission("releases.add_environment")
def environment_create(request):
    form = EnvironmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            env = services.environment_create(user=request.user, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Environment {env.name} created.")
            return redirect("environments")
    return _render(
        request,
        "releases/environment_form.html",
        {"form": form, "environment": None},
        rejected=bool(form.errors),
    )


@write_permission("releases.change_environment")
def environment_edit(request, slug):
    env = get_object_or_404(Environment, slug=slug)
    form = EnvironmentForm.for_environment(env, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.environment_update(environment=env, user=request.user, **form.service_data())
        except ValidationError as exc:
            add_service_errors(form, exc)
            env.refresh_from_db()
        else:
            messages.success(request, f"Environment {env.name} saved.")
            return redirect("environments")
    return _render(
        request,
        "releases/environment_form.html",
        {"form": form, "environment": env},
        rejected=bool(form.errors),
    )


@write_permission("releases.delete_environment")
def environment_delete(request, slug):
    env = get_object_or_404(Environment, slug=slug)
    return confirm_delete(
        request,
        obj=env,
        kind="Environment",
        delete=lambda: services.environment_delete(environment=env, user=request.user),
        cancel_url="environments",
        success_url="environments",
    )


# Lifecycles ------------------------------------------------------------------------------------


@login_required
def lifecycle_list(request):
    environments = list(selectors.environment_list())
    rows = [
        (lifecycle, selectors.lifecycle_effective_phases(lifecycle, environments))
        for lifecycle in selectors.lifecycle_list()
    ]
    return render(
        request,
        "releases/lifecycle_list.html",
        {"rows": rows, "environments": environments},
    )


def _lifecycle_form_page(request, lifecycle=None):
    """Create (``lifecycle`` None) or edit a lifecycle and all of its phases in one form."""
    if lifecycle is None:
        form = LifecycleForm(request.POST or None)
        phases = PhaseFormSet(request.POST or None, prefix="phases")
    else:
        form = LifecycleForm.for_lifecycle(lifecycle, request.POST or None)
        phases = PhaseFormSet(
            request.POST or None, prefix="phases", initial=phase_initial(lifecycle)
        )
    phase_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and phases.is_valid():
        try:
            if lifecycle is None:
                lifecycle = services.lifecycle_create(
                    user=request.user, phases=phases.specs(), **form.cleaned_data
                )
            else:
                services.lifecycle_update(
                    lifecycle=lifecycle,
                    user=request.user,
                    phases=phases.specs(),
                    **form.cleaned_data,
                )
        except ValidationError as exc:
            other = add_service_errors(form, exc)
            phase_errors = [m for messages_ in other.values() for m in messages_]
            if lifecycle is not None:
                # The service may have changed the object in memory before it refused.
                lifecycle.refresh_from_db()
        else:
            messages.success(request, f"Lifecycle {lifecycle.name} saved.")
            return redirect("lifecycles")
    rejected = request.method == "POST"
    return _render(
        request,
        "releases/lifecycle_form.html",
        {
            "form": form,
            "phases": phases,
            "phase_errors": phase_errors,
            "lifecycle": lifecycle,
            "environments": phases.environments,
        },
        rejected=rejected,
    )


@write_permission("releases.add_lifecycle")
def lifecycle_create(request):
    return _lifecycle_form_page(request)


@write_permission("releases.change_lifecycle")
def lifecycle_edit(request, slug):
    lifecycle = get_object_or_404(selectors.lifecycle_list(), slug=slug)
    return _lifecycle_form_page(request, lifecycle)


@write_permission("releases.delete_lifecycle")
def lifecycle_delete(request, slug):
    lifecycle = get_object_or_404(selectors.lifecycle_list(), slug=slug)
    return confirm_delete(
        request,
        obj=lifecycle,
        kind="Lifecycle",
        delete=lambda: services.lifecycle_delete(lifecycle=lifecycle, user=request.user),
        cancel_url="lifecycles",
        success_url="lifecycles",
    )


# Projects --------------------------------------------------------------------------------------


@login_required
def project_list(request):
    projects = selectors.project_list()
    query = request.GET.get("q", "").strip()
    if query:
        projects = projects.filter(name__icontains=query)
    page = Paginator(projects, PROJECT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "releases/project_list.html",
        {
            "projects": page.object_list,
            "page": page,
            "query": query,
            "pager_extra": urlencode({"q": query}) if query else "",
        },
    )


@login_required
def project_detail(request, slug):
    project = get_object_or_404(selectors.project_list(), slug=slug)
    lifecycle = get_object_or_404(selectors.lifecycle_list(), pk=project.lifecycle_id)
    return render(
        request,
        "releases/project_detail.html",
        {
            "project": project,
            "phases": selectors.lifecycle_effective_phases(lifecycle),
        },
    )


@write_permission("releases.add_project")
def project_create(request):
    form = ProjectForm(request.POST or None, default_lifecycle=services.lifecycle_default())
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Project {project.name} created.")
            return redirect("project-detail", slug=project.slug)
    return _render(
        request,
        "releases/project_form.html",
        {"form": form, "project": None},
        rejected=bool(form.errors),
    )


@write_permission("releases.change_project")
def project_edit(request, slug):
    project = get_object_or_404(Project, slug=slug)
    form = ProjectForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(project=project, user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            project.refresh_from_db()
        else:
            messages.success(request, f"Project {project.name} saved.")
            return redirect("project-detail", slug=project.slug)
    return _render(
        request,
        "releases/project_form.html",
        {"form": form, "project": project},
        rejected=bool(form.errors),
    )


@write_permission("releases.delete_project")
def project_delete(request, slug):
    project = get_object_or_404(Project, slug=slug)
    return confirm_delete(
        request,
        obj=project,
        kind="Project",
        delete=lambda: services.project_delete(project=project, user=request.user),
        cancel_url=reverse("project-detail", kwargs={"slug": project.slug}),
        success_url="projects",
    )
