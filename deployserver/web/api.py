"""REST API plumbing every app uses: error handling and the service-backed model viewset.

The permission class and the pagination live in modules of their own: DRF imports them while
``rest_framework.views`` is still loading, so they must not import views or viewsets.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from deployserver.core.access import AccessDenied
from deployserver.core.aws import AwsError

log = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    """Every refusal but a validation error: ``{"detail": "..."}`` (AWS failures add a code)."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="AWS error code (502 only).")


class CheckResultSerializer(serializers.Serializer):
    """The answer of a credentials check that passed (a failed one answers 502)."""

    ok = serializers.BooleanField()
    detail = serializers.CharField()


def validation_error_data(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        data = {}
        for field, errors in exc.message_dict.items():
            data["non_field_errors" if field == "__all__" else field] = errors
        return data
    return {"detail": " ".join(exc.messages)}


def exception_handler(exc, context):
    """DRF's handler, plus: model validation → 400, AWS/registry failure → 502, races → 409,
    an access refusal → 403 with its reason (a refused write is audited)."""
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_data(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, AwsError):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_502_BAD_GATEWAY)
    if isinstance(exc, IntegrityError):
        log.warning("integrity error on %s: %s", context.get("request").path, exc)
        return Response(
            {"detail": "This conflicts with a change made at the same time; reload and try again."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, AccessDenied):
        exc.record()
        return Response({"detail": exc.reason}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DjangoPermissionDenied) and str(exc):
        exc = exceptions.PermissionDenied(str(exc))
    return drf_exception_handler(exc, context)


class ServiceModelViewSet(viewsets.ModelViewSet):
    """A model viewset whose writes go through services.

    Subclasses name ``create_service``, ``update_service`` and ``delete_service`` and the keyword
    under which the instance is passed (``instance_kwarg``).
    """

    instance_kwarg = "instance"

    def service_data(self, serializer) -> dict:
        return dict(serializer.validated_data)

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(
            user=self.request.user, **self.service_data(serializer)
        )

    def perform_update(self, serializer):
        serializer.instance = type(self).update_service(
            user=self.request.user,
            **{self.instance_kwarg: serializer.instance},
            **self.service_data(serializer),
        )

    def perform_destroy(self, instance):
        type(self).delete_service(user=self.request.user, **{self.instance_kwarg: instance})
