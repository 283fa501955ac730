"""A project's Triggers tab: the triggers with their last check, findings, errors and the
releases they made; create, edit, delete."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render

from deployserver.core.access import Action
from deployserver.web.pages import confirm_delete, form_page
from releases.selectors import project_for, project_visible

from . import services
from .forms import TriggerForm
from .models import Trigger


@login_required
def trigger_list(request, slug):
    project = project_visible(request.user, slug)
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


@login_required
def trigger_create(request, slug):
    project = project_for(request, slug, Action.EDIT)
    return _form_page(request, project, None)


@login_required
def trigger_edit(request, slug, pk):
    project = project_for(request, slug, Action.EDIT)
    trigger = get_object_or_404(Trigger.objects.select_related("project"), project=project, pk=pk)
    return _form_page(request, project, trigger)


@login_required
def trigger_delete(request, slug, pk):
    project = project_for(request, slug, Action.EDIT)
    trigger = get_object_or_404(Trigger.objects.select_related("project"), project=project, pk=pk)
    return confirm_delete(
        request,
        obj=trigger,
        kind="Trigger",
        delete=lambda: services.trigger_delete(trigger=trigger, user=request.user),
        cancel_url=f"/projects/{slug}/triggers/",
        success_url=f"/projects/{slug}/triggers/",
    )
