"""Pages for projects: the list, create, settings, delete.

A project's overview (what its link opens) shows its deployments: it lives in
``deployments.views.overview``.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from deployserver.core.access import Action, access_for
from deployserver.web.pages import admin_page, confirm_delete, form_page

from .. import selectors, services
from ..forms.projects import ProjectForm
from ..models import Project

PROJECT_PAGE_SIZE = 50


def _detail(project: Project):
    return redirect("project-detail", slug=project.slug)


@login_required
def project_list(request):
    projects = access_for(request.user).projects(selectors.project_list())
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


@admin_page
def project_create(request):
    form = ProjectForm(request.POST or None, default_lifecycle=selectors.lifecycle_default_get())
    return form_page(
        request,
        form,
        save=lambda: services.project_create(user=request.user, **form.cleaned_data),
        template="releases/project_form.html",
        context={"project": None},
        kind="Project",
        success=_detail,
    )


@login_required
def project_edit(request, slug):
    project = selectors.project_for(request, slug, Action.EDIT)
    form = ProjectForm(request.POST or None, project=project)
    return form_page(
        request,
        form,
        save=lambda: services.project_update(
            project=project, user=request.user, **form.cleaned_data
        ),
        template="releases/project_form.html",
        context={"project": project},
        kind="Project",
        success=_detail,
        instance=project,
    )


@admin_page
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
