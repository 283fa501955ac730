"""Web pages of the core: AWS accounts, audit events and the user's API keys.

Views are thin: a form checks the input's shape, a service applies the rules (see
``deployserver.web.pages``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from deployserver.web.pages import (
    add_service_errors,
    admin_page,
    confirm_delete,
    form_page,
    warn_secret_cleared,
)

from . import services
from .access import audit_events_for
from .aws import AwsError, account_check
from .crypto import DecryptionError
from .forms import ApiKeyForm, AuditFilterForm, AwsAccountForm
from .models import AwsAccount

AUDIT_PAGE_SIZE = 50


# AWS accounts ----------------------------------------------------------------------------------


@admin_page
def account_list(request):
    accounts = AwsAccount.objects.order_by("name")
    return render(request, "deployserver/account_list.html", {"accounts": accounts})


@admin_page
def account_create(request):
    form = AwsAccountForm(request.POST or None)
    return form_page(
        request,
        form,
        save=lambda: services.aws_account_create(user=request.user, **form.cleaned_data),
        template="deployserver/account_form.html",
        context={"account": None},
        kind="AWS account",
        success="accounts",
    )


@admin_page
def account_edit(request, slug):
    account = get_object_or_404(AwsAccount, slug=slug)
    form = AwsAccountForm(request.POST or None, account=account)
    unbound: list[str] = []

    def save():
        unbound.extend(services.aws_account_secret_unbound(account, form.cleaned_data))
        return services.aws_account_update(account=account, user=request.user, **form.cleaned_data)

    def success(saved):
        warn_secret_cleared(request, unbound, "secret access key", use="the account")
        return redirect("accounts")

    return form_page(
        request,
        form,
        save=save,
        template="deployserver/account_form.html",
        context={"account": account},
        kind="AWS account",
        success=success,
        instance=account,
    )


@admin_page
def account_delete(request, slug):
    account = get_object_or_404(AwsAccount, slug=slug)
    return confirm_delete(
        request,
        obj=account,
        kind="AWS account",
        delete=lambda: services.aws_account_delete(account=account, user=request.user),
        cancel_url="accounts",
        success_url="accounts",
    )


@require_POST
@admin_page
def account_check_view(request, slug):
    """Try the account's credentials (STS GetCallerIdentity); htmx swaps in the result."""
    account = get_object_or_404(AwsAccount, slug=slug)
    try:
        result, ok = f"Authenticated as {account_check(account)}", True
    except (AwsError, DecryptionError) as exc:
        result, ok = str(exc), False
    if not request.htmx:
        (messages.success if ok else messages.error)(request, f"{account.name}: {result}")
        return redirect("account-edit", slug=account.slug)
    return render(request, "deployserver/_account_check.html", {"result": result, "ok": ok})


# Audit -----------------------------------------------------------------------------------------


@login_required
def audit_list(request):
    visible = audit_events_for(request.user)
    types = sorted(visible.order_by().values_list("object_type", flat=True).distinct())
    form = AuditFilterForm(request.GET or None, object_types=types)
    events = visible
    selected = ""
    if form.is_valid() and form.cleaned_data["object_type"]:
        selected = form.cleaned_data["object_type"]
        events = events.filter(object_type=selected)
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "deployserver/audit_list.html",
        {
            "form": form,
            "page": page,
            "selected": selected,
            "pager_extra": urlencode({"object_type": selected}) if selected else "",
        },
    )


# API keys --------------------------------------------------------------------------------------


@login_required
def api_key_list(request):
    """The signed-in user's keys; a new key is shown once, in the response that made it."""
    form = ApiKeyForm(request.POST or None)
    new_key = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _, new_key = services.api_key_create(
                    user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at()
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
                status = 400
            else:
                form = ApiKeyForm()
        else:
            status = 400
    keys = request.user.api_keys.order_by("-created_at")
    return render(
        request,
        "deployserver/api_key_list.html",
        {"form": form, "keys": keys, "new_key": new_key},
        status=status,
    )


@require_POST
@login_required
def api_key_revoke(request, pk):
    api_key = get_object_or_404(request.user.api_keys, pk=pk)
    services.api_key_revoke(api_key=api_key, user=request.user)
    messages.success(request, f"API key {api_key.name} revoked.")
    return redirect("api-keys")
