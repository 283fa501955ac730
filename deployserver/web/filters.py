"""The API's list filters (``DEFAULT_FILTER_BACKENDS``): each viewset names a django-filter
``FilterSet`` in ``filterset_class``; a value a filter cannot take answers 400 naming it.

DRF imports filter backends while ``rest_framework.views`` is still loading, so this module must
not import views or viewsets.
"""

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, without the browsable API's filter form (the form's template
    belongs to an app this project does not install; the schema documents the filters)."""

    def to_html(self, request, queryset, view):
        return None


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(filters.NumberFilter):
    """A whole number (an id): ``1.5`` or ``abc`` answer 400 instead of being rounded or
    ignored."""

    field_class = forms.IntegerField
