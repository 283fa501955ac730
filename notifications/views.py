"""Settings → Webhooks pages (administrators only): list, create/edit (URL and secret
write-only), deliveries, redeliver."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from deployserver.core.audit import secret_unbound
from deployserver.web.pages import admin_page, confirm_delete, form_page, warn_secret_cleared

from . import services
from .forms import WebhookForm
from .models import Delivery, Webhook


@admin_page
def webhook_list(request):
    webhooks = Webhook.objects.prefetch_related("projects", "environments")
    return render(request, "notifications/webhook_list.html", {"webhooks": webhooks})


@admin_page
def webhook_create(request):
    form = WebhookForm(request.POST or None)
    return form_page(
        request,
        form,
        save=lambda: services.webhook_create(user=request.user, **form.cleaned_data),
        template="notifications/webhook_form.html",
        context={"webhook": None},
        kind="Webhook",
        success="webhooks",
    )


@admin_page
def webhook_edit(request, pk):
    webhook = get_object_or_404(Webhook, pk=pk)
    form = WebhookForm.for_webhook(webhook, request.POST or None)

    def save():
        data = dict(form.cleaned_data)
        if not data.get("url"):
            data.pop("url", None)  # blank: the stored URL is kept
        unbound = secret_unbound(webhook, data, secret="secret", bound_to=("url",))
        saved = services.webhook_update(webhook=webhook, user=request.user, **data)
        warn_secret_cleared(request, unbound, "secret", use="this webhook")
        return saved

    return form_page(
        request,
        form,
        save=save,
        template="notifications/webhook_form.html",
        context={"webhook": webhook},
        kind="Webhook",
        success="webhooks",
        instance=webhook,
    )


@admin_page
def webhook_delete(request, pk):
    webhook = get_object_or_404(Webhook, pk=pk)
    return confirm_delete(
        request,
        obj=webhook,
        kind="Webhook",
        delete=lambda: services.webhook_delete(webhook=webhook, user=request.user),
        cancel_url="webhooks",
        success_url="webhooks",
    )


@admin_page
def webhook_deliveries(request, pk):
    webhook = get_object_or_404(Webhook, pk=pk)
    page = Paginator(webhook.deliveries.order_by("-created_at", "-id"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/delivery_list.html", {"webhook": webhook, "page": page})


@require_POST
@admin_page
def delivery_redeliver(request, pk):
    delivery = get_object_or_404(Delivery.objects.select_related("webhook"), pk=pk)
    copy = services.delivery_redeliver(delivery=delivery, user=request.user)
    messages.success(request, f"{delivery.event_name} queued again as {copy.delivery_id}.")
    return redirect("webhook-deliveries", pk=delivery.webhook_id)
