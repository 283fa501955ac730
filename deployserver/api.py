"""REST API plumbing shared by every app (error handling) and the core resources."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import services
from .aws import AwsError
from .models import AuditEvent, AwsAccount

log = logging.getLogger(__name__)


def validation_error_data(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        data = {}
        for field, errors in exc.message_dict.items():
            data["non_field_errors" if field == "__all__" else field] = errors
        return data
    return {"detail": " ".join(exc.messages)}


def exception_handler(exc, context):
    """DRF's handler, plus: model validation → 400, AWS/registry failure → 502, races → 409."""
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


class AwsAccountSerializer(serializers.ModelSerializer):
    secret_access_key = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text="Write-only. Leave out (or blank) on update to keep the stored secret.",
    )
    has_secret = serializers.SerializerMethodField()
    slug = serializers.SlugField(required=False, max_length=100)

    class Meta:
        model = AwsAccount
        fields = [
            "id",
            "name",
            "slug",
            "description",
            "access_key_id",
            "secret_access_key",
            "has_secret",
            "region",
            "role_arn",
            "external_id",
            "endpoint_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret_access_key)

    def validate(self, attrs):
        if self.instance is None and not attrs.get("secret_access_key"):
            raise serializers.ValidationError({"secret_access_key": ["This field is required."]})
        return attrs


class AwsAccountViewSet(ServiceModelViewSet):
    """AWS accounts. The secret access key is write-only and never returned."""

    queryset = AwsAccount.objects.order_by("name")
    serializer_class = AwsAccountSerializer
    instance_kwarg = "account"
    create_service = staticmethod(services.aws_account_create)
    update_service = staticmethod(services.aws_account_update)
    delete_service = staticmethod(services.aws_account_delete)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Check the credentials with STS GetCallerIdentity."""
        from .aws import account_check

        account = self.get_object()
        arn = account_check(account)
        return Response({"ok": True, "detail": f"Authenticated as {arn}"})


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor_name",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "summary",
            "changes",
        ]


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Audit events, newest first. Filter with ``?object_type=releases.environment``."""

    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.all()

    def get_queryset(self):
        qs = AuditEvent.objects.order_by("-created_at", "-id")
        object_type = self.request.query_params.get("object_type")
        if object_type:
            qs = qs.filter(object_type=object_type)
        return qs
