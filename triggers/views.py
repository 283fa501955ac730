"""A project's Triggers tab: the triggers with their last check, findings, errors and the
releases they made; create, edit, delete."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from deployserver.web.pages import confirm_delete, form_page, write_permission
from releases.selectors import project_list

from . import services
from .forms import TriggerForm
from .models import Trigger


@login_required
def trigger_list(request, slug):
    project = get_object_or_404(project_list(), slug=slug)
    triggers = project.triggers.select_related("channel").prefetch_related("firings__release")
    context = {
        "project": project,
        "triggers": triggers,
        "interval": int(settings.FEED_TRIGGER_SECONDS),
    }
    return render(request, "triggers/trigger_list.html", context)


def _form_page(request, project, trigger):
    form = TriggerForm(request.POST or None, project=project, trigger=trigger)

    def save():
        data = form.cleaned_data
        if trigger is None:
            return services.trigger_create(project=project, user=request.user, **data)
        return services.trigger_update(trigger=trigger, user=request.user, **data)

    return form_page(
        request,
        form,
        save=save,
        template="triggers/trigger_form.html",
        context={"project": project, "trigger": trigger},
        kind="Trigger",
        success=lambda _: redirect("project-triggers", slug=project.slug),
        instance=trigger,
    )


@write_permission("triggers.add_trigger")
def trigger_create(request, slug):
    project = get_object_or_404(project_list(), slug=slug)
    return _form_page(request, project, None)


@write_permission("triggers.change_trigger")
def trigger_edit(request, slug, pk):
    trigger = get_object_or_404(
        Trigger.objects.select_related("project"), project__slug=slug, pk=pk
    )
    return _form_page(request, trigger.project, trigger)


@write_permission("triggers.delete_trigger")
def trigger_delete(request, slug, pk):
    trigger = get_object_or_404(
        Trigger.objects.select_related("project"), project__slug=slug, pk=pk
    )
    return confirm_delete(
        request,
        obj=trigger,
        kind="Trigger",
        delete=lambda: services.trigger_delete(trigger=trigger, user=request.user),
        cancel_url=f"/projects/{slug}/triggers/",
        success_url=f"/projects/{slug}/triggers/",
    )
