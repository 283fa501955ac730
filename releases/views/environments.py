"""Pages for environments: list, create, edit, delete."""

from django.shortcuts import get_object_or_404, render

from deployserver.web.pages import admin_page, confirm_delete, form_page, granted_page

from .. import selectors, services
from ..forms.environments import EnvironmentForm
from ..models import Environment


@granted_page
def environment_list(request):
    return render(
        request,
        "releases/environment_list.html",
        {"environments": selectors.environment_list()},
    )


@admin_page
def environment_create(request):
    form = EnvironmentForm(request.POST or None)
    return form_page(
        request,
        form,
        save=lambda: services.environment_create(user=request.user, **form.service_data()),
        template="releases/environment_form.html",
        context={"environment": None},
        kind="Environment",
        success="environments",
    )


@admin_page
def environment_edit(request, slug):
    env = get_object_or_404(Environment, slug=slug)
    form = EnvironmentForm.for_environment(env, request.POST or None)
    return form_page(
        request,
        form,
        save=lambda: services.environment_update(
            environment=env, user=request.user, **form.service_data()
        ),
        template="releases/environment_form.html",
        context={"environment": env},
        kind="Environment",
        success="environments",
        instance=env,
    )


@admin_page
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
