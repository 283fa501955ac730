"""Library → Feeds pages: list, create/edit with Save & Test, repository search, versions.

Registry reads happen in htmx partials, so a page shows at once even when a registry is slow;
a registry failure is shown in place with its reason.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from deployserver.core.access import Action, access_for
from deployserver.web.pages import (
    admin_page,
    confirm_delete,
    form_page,
    granted_page,
    warn_secret_cleared,
)
from deployserver.web.params import query_flag

from . import selectors, services
from .forms import FeedForm
from .registries import RegistryError

# Thousands of rows make a page slow to render and useless to read; the filter narrows it.
UI_VERSION_ROWS = 200


@granted_page
def feed_list(request):
    return render(request, "feeds/feed_list.html", {"feeds": selectors.feed_list()})


def _form_page(request, form, feed, save, success):
    return form_page(
        request,
        form,
        save=save,
        template="feeds/feed_form.html",
        context={"feed": feed, "run_test": query_flag(request.GET, "test")},
        kind="Feed",
        success=success,
        instance=feed,
    )


def _after_save(request, feed):
    if request.POST.get("then") == "test":
        return redirect(reverse("feed-edit", args=[feed.pk]) + "?test=1")
    return redirect("feed-detail", pk=feed.pk)


@admin_page
def feed_create(request):
    form = FeedForm(request.POST or None)
    return _form_page(
        request,
        form,
        None,
        save=lambda: services.feed_create(user=request.user, **form.cleaned_data),
        success=lambda feed: _after_save(request, feed),
    )


@admin_page
def feed_edit(request, pk):
    feed = selectors.feed_get(pk)
    form = FeedForm(request.POST or None, feed=feed)
    unbound: list[str] = []

    def save():
        unbound.extend(services.feed_password_unbound(feed, form.cleaned_data))
        return services.feed_update(feed=feed, user=request.user, **form.cleaned_data)

    def success(saved):
        warn_secret_cleared(request, unbound, "password", use="it")
        return _after_save(request, saved)

    return _form_page(request, form, feed, save=save, success=success)


@admin_page
def feed_delete(request, pk):
    feed = selectors.feed_get(pk)
    return confirm_delete(
        request,
        obj=feed,
        kind="Feed",
        delete=lambda: services.feed_delete(feed=feed, user=request.user),
        cancel_url=reverse("feed-edit", args=[feed.pk]),
        success_url="feed-list",
    )


@require_POST
@admin_page
def feed_test_view(request, pk):
    """Test the saved settings; htmx swaps the result in place."""
    feed = selectors.feed_get(pk)
    try:
        result, ok = services.feed_test(feed), True
    except RegistryError as exc:
        result, ok = str(exc), False
    if not request.htmx:
        (messages.success if ok else messages.error)(request, f"{feed.name}: {result}")
        return redirect("feed-edit", pk=feed.pk)
    return render(request, "feeds/_test_result.html", {"result": result, "ok": ok})


@granted_page
def feed_detail(request, pk):
    feed = selectors.feed_get(pk)
    context = {"feed": feed, "q": request.GET.get("q", "")}
    # The push hook URL holds the feed's secret token: shown to those who may change the feed.
    if access_for(request.user).allows(Action.ADMIN) and feed.hook_token:
        context["hook_url"] = request.build_absolute_uri(
            reverse("registry-hook", args=[feed.hook_token])
        )
    return render(request, "feeds/feed_detail.html", context)


@require_POST
@admin_page
def feed_hook_rotate(request, pk):
    feed = selectors.feed_get(pk)
    services.feed_hook_token_rotate(feed=feed, user=request.user)
    messages.success(request, "The push hook has a new URL; the old one no longer works.")
    return redirect("feed-detail", pk=feed.pk)


@granted_page
def feed_repositories(request, pk):
    """Partial: the repositories whose name contains ``q``."""
    feed = selectors.feed_get(pk)
    context = {"feed": feed, "q": request.GET.get("q", "")}
    try:
        context["repositories"] = services.feed_packages(
            feed, context["q"], refresh=query_flag(request.GET, "refresh")
        )
    except RegistryError as exc:
        context["error"] = exc
    return render(request, "feeds/_repositories.html", context)


@granted_page
def feed_package(request, pk, package_id):
    feed = selectors.feed_get(pk)
    return render(request, "feeds/feed_package.html", {"feed": feed, "package_id": package_id})


@granted_page
def feed_versions(request, pk):
    """Partial: the versions table of ``?package=``, with the page's filters."""
    feed = selectors.feed_get(pk)
    package_id = request.GET.get("package", "")
    q = request.GET.get("q", "")
    context = {"feed": feed, "package_id": package_id, "q": q}
    try:
        listing = services.feed_version_listing(
            feed, package_id, refresh=query_flag(request.GET, "refresh")
        )
        versions = listing.select(pre=query_flag(request.GET, "pre"), q=q)
        context.update(
            listing=listing,
            versions=versions[:UI_VERSION_ROWS],
            total=len(versions),
            other=listing.other_tags(q=q) if query_flag(request.GET, "other") else None,
            repository=services.feed_repository_reference(feed, package_id),
        )
    except RegistryError as exc:
        context["error"] = exc
    return render(request, "feeds/_versions.html", context)


@granted_page
def feed_digest(request, pk):
    """Partial: one tag's digest (a manifest HEAD on Docker registries) with its copy button."""
    feed = selectors.feed_get(pk)
    package_id, tag = request.GET.get("package", ""), request.GET.get("tag", "")
    context = {"tag": tag}
    try:
        digest = services.feed_resolve_digest(feed, package_id, tag)
        context.update(
            digest=digest,
            reference=services.feed_image_reference(feed, package_id, digest=digest),
        )
    except RegistryError as exc:
        context["error"] = exc
    return render(request, "feeds/_digest.html", context)
