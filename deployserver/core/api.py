"""REST API of the core: AWS accounts and audit events."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from deployserver.web.api import CheckResultSerializer, ServiceModelViewSet
from deployserver.web.roles import AdminOnly
from deployserver.web.schema import UPSTREAM_ERROR

from . import services
from .access import audit_events_for
from .aws import account_check
from .models import AuditEvent, AwsAccount


class AwsAccountSerializer(serializers.ModelSerializer):
    secret_access_key = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        style={"input_type": "password"},
        help_text="Write-only. Required on create. Leave out (or blank) on update to keep the "
        "stored secret; changing endpoint_url or role_arn clears it unless the same request "
        "sends it again.",
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


class AwsAccountViewSet(ServiceModelViewSet):
    """AWS accounts. The secret access key is write-only and never returned."""

    queryset = AwsAccount.objects.order_by("name")
    permission_classes = [AdminOnly]
    serializer_class = AwsAccountSerializer
    instance_kwarg = "account"
    create_service = staticmethod(services.aws_account_create)
    update_service = staticmethod(services.aws_account_update)
    delete_service = staticmethod(services.aws_account_delete)

    @extend_schema(request=None, responses={200: CheckResultSerializer, 502: UPSTREAM_ERROR})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """Check the credentials with STS GetCallerIdentity."""
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


class AuditEventFilter(filters.FilterSet):
    object_type = filters.CharFilter(
        help_text="Only events of this model (``app_label.model``), e.g. releases.environment."
    )

    class Meta:
        model = AuditEvent
        fields = ["object_type"]


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Audit events, newest first. Filter with ``?object_type=releases.environment``."""

    serializer_class = AuditEventSerializer
    queryset = AuditEvent.objects.order_by("-created_at", "-id")
    filterset_class = AuditEventFilter

    def get_queryset(self):
        return audit_events_for(self.request.user)
