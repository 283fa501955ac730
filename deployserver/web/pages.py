"""Helpers of the server-rendered pages every app uses.

Views are thin: a form checks the input's shape, a service applies the rules and raises
``ValidationError``, which is put back on the form next to the field it names. Every page needs a
signed-in user; who may read and write what is the access rule's (``deployserver.core.access``):
a page of a project one may not see is not found (404), a refused write is 403 with the reason.
A rejected submission answers 400, so clients (and tests) can tell it from a fresh form.
"""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponse
from django.shortcuts import redirect, render, resolve_url

from deployserver.core.access import AccessDenied, Action, access_for

NO_GRANT = "Your account has no role yet; ask an administrator to add you to a team."


def admin_page(view):
    """Signed in (else the login page) and an administrator (else 403 with the reason)."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        access_for(request.user).require(Action.ADMIN, write=request.method == "POST")
        return view(request, *args, **kwargs)

    return login_required(guarded)


def granted_page(view):
    """Signed in and holding at least one grant: pages of what every project shares (feeds,
    environments, lifecycles) are not for accounts without a role."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not access_for(request.user).has_any_grant:
            raise AccessDenied(NO_GRANT, user=request.user, write=False)
        return view(request, *args, **kwargs)

    return login_required(guarded)


def add_service_errors(form: forms.Form, exc: ValidationError) -> dict[str, list[str]]:
    """Show a service's ``ValidationError`` on ``form``: next to a field when the form has one.

    Returns the messages for names the form does not have (for example ``phases``), so the page
    can show them where they belong.
    """
    other: dict[str, list[str]] = {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return other
    for name, messages_ in exc.message_dict.items():
        if name in form.fields:
            form.add_error(name, messages_)
        elif name == "__all__":
            form.add_error(None, messages_)
        else:
            other.setdefault(name, []).extend(messages_)
    return other


def render_form(
    request, template: str, form: forms.Form, context: dict, *, rejected: bool | None = None
) -> HttpResponse:
    """Render a form page (``form`` joins ``context``); a rejected submission answers 400.

    By default a POST whose form has errors is rejected; a page whose errors live outside the
    form (a formset, a service's leftover messages) says so with ``rejected``.
    """
    if rejected is None:
        rejected = request.method == "POST" and bool(form.errors)
    return render(request, template, {"form": form, **context}, status=400 if rejected else 200)


def form_page(
    request,
    form: forms.Form,
    *,
    save: Callable[[], models.Model],
    template: str,
    context: dict,
    kind: str,
    success: str | Callable[[models.Model], HttpResponse],
    instance: models.Model | None = None,
) -> HttpResponse:
    """The create/edit page: a valid POST calls ``save`` (a service), anything else shows the form.

    ``save`` returns the saved object; then "<kind> <name> created." (or "saved." when editing
    ``instance``) is flashed and the page redirects to ``success`` (a URL name or path, or a
    function of the saved object returning the response). A service's ``ValidationError`` is
    shown on the form, and an edited ``instance`` is read again: the service may have changed it
    in memory before it refused.
    """
    if request.method == "POST" and form.is_valid():
        try:
            obj = save()
        except ValidationError as exc:
            add_service_errors(form, exc)
            if instance is not None:
                instance.refresh_from_db()
        else:
            messages.success(
                request, f"{kind} {obj.name} {'created' if instance is None else 'saved'}."
            )
            return success(obj) if callable(success) else redirect(success)
    return render_form(request, template, form, context)


def warn_secret_cleared(request, unbound: list[str], secret: str, *, use: str) -> None:
    """Tell the user a stored secret was cleared because what it was bound to changed."""
    if unbound:
        messages.warning(
            request,
            f"The stored {secret} was cleared because the {' and '.join(unbound)} changed; "
            f"enter it again to use {use} there.",
        )


def confirm_delete(request, *, obj, kind: str, delete, cancel_url: str, success_url: str):
    """A confirmation page; on POST run ``delete`` and show a refusal in place if it raises.

    ``cancel_url`` and ``success_url`` are URL names or paths.
    """
    error = None
    if request.method == "POST":
        try:
            delete()
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"{kind} {obj} deleted.")
            return redirect(success_url)
    return render(
        request,
        "confirm_delete.html",
        {"object": obj, "kind": kind, "error": error, "cancel_url": resolve_url(cancel_url)},
        status=400 if error else 200,
    )
