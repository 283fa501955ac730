"""Pages for lifecycles, with the phase editor: list, create, edit, delete.

A service's ``ValidationError`` is shown next to the field it names, or above the phases.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from deployserver.web.pages import (
    add_service_errors,
    admin_page,
    confirm_delete,
    granted_page,
    render_form,
)

from .. import selectors, services
from ..forms.lifecycles import LifecycleForm, PhaseFormSet, phase_initial


@granted_page
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
    return render_form(
        request,
        "releases/lifecycle_form.html",
        form,
        {
            "phases": phases,
            "phase_errors": phase_errors,
            "lifecycle": lifecycle,
            "environments": phases.environments,
        },
        # Reaching here on a POST means something refused it, maybe only in the phases.
        rejected=request.method == "POST",
    )


@admin_page
def lifecycle_create(request):
    return _lifecycle_form_page(request)


@admin_page
def lifecycle_edit(request, slug):
    lifecycle = get_object_or_404(selectors.lifecycle_list(), slug=slug)
    return _lifecycle_form_page(request, lifecycle)


@admin_page
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
