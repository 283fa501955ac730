"""Pages of a project's channels: the list, create, edit (with the version rules), delete.

Thin views: the forms check shapes, ``releases.channels`` decides.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from deployserver.core.access import Action
from deployserver.web.pages import add_service_errors, confirm_delete

from . import channels as channel_services
from .forms_channels import ChannelForm, RuleFormSet, channel_rule_refs
from .models import Channel, Project
from .selectors import project_for, project_visible


@login_required
def channel_list(request, slug):
    project = project_visible(request.user, slug)
    channels = project.channels.select_related("lifecycle")
    return render(request, "releases/channel_list.html", {"project": project, "channels": channels})


def _channel_form_page(request, project: Project, channel: Channel | None):
    data = request.POST or None
    form = ChannelForm.for_channel(channel, data) if channel else ChannelForm(data)
    refs = channel_rule_refs(project, channel)
    initial = [
        {
            "packages": r.get("packages", []),
            "version_range": r.get("version_range", ""),
            "prerelease": r.get("prerelease", ""),
        }
        for r in (channel.rules if channel else [])
    ]
    rules = RuleFormSet(data, prefix="rules", refs=refs, initial=initial)
    rule_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and rules.is_valid():
        fields = {**form.cleaned_data, "rules": rules.rules()}
        try:
            if channel is None:
                channel = channel_services.channel_create(
                    project=project, user=request.user, **fields
                )
            else:
                channel_services.channel_update(channel=channel, user=request.user, **fields)
        except ValidationError as exc:
            other = add_service_errors(form, exc)
            rule_errors = [m for messages_ in other.values() for m in messages_]
            if channel is not None and channel.pk:
                channel.refresh_from_db()
        else:
            messages.success(request, f"Channel {channel.name} saved.")
            return redirect("project-channels", slug=project.slug)
    return render(
        request,
        "releases/channel_form.html",
        {
            "project": project,
            "channel": channel,
            "form": form,
            "rules": rules,
            "rule_errors": rule_errors,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def channel_create(request, slug):
    project = project_for(request, slug, Action.EDIT)
    return _channel_form_page(request, project, None)


@login_required
def channel_edit(request, slug, channel_slug):
    project = project_for(request, slug, Action.EDIT)
    channel = get_object_or_404(
        Channel.objects.select_related("project"), project=project, slug=channel_slug
    )
    return _channel_form_page(request, channel.project, channel)


@login_required
def channel_delete(request, slug, channel_slug):
    project = project_for(request, slug, Action.EDIT)
    channel = get_object_or_404(
        Channel.objects.select_related("project"), project=project, slug=channel_slug
    )
    return confirm_delete(
        request,
        obj=channel,
        kind="Channel",
        delete=lambda: channel_services.channel_delete(channel=channel, user=request.user),
        cancel_url=reverse("project-channels", args=[slug]),
        success_url=reverse("project-channels", args=[slug]),
    )
