"""Reads for feeds, with their joins decided."""

from django.db.models import QuerySet
from django.http import Http404

from .models import Feed


def feed_list() -> QuerySet[Feed]:
    return Feed.objects.select_related("account").order_by("name")


def feed_get(pk) -> Feed:
    """The feed with id ``pk``; ``Http404`` with a message when there is none."""
    try:
        return feed_list().get(pk=int(pk))
    except (Feed.DoesNotExist, ValueError, TypeError):
        raise Http404(f"There is no feed with id {pk}.") from None
