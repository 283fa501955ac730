"""REST API for webhooks: ``/api/webhooks/`` (secret write-only), their deliveries, redeliver."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from deployserver.core.events import EVENT_NAMES
from deployserver.web.api import ServiceModelViewSet
from deployserver.web.roles import AdminOnly
from releases.models import Environment, Project

from . import services
from .models import Delivery, Webhook


class WebhookSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        style={"input_type": "password"},
        help_text="Write-only: signs each body (X-Deployserver-Signature). Leave out on update "
        "to keep the stored one; changing url clears it unless the same request sends one.",
    )
    url = serializers.CharField(
        write_only=True,
        required=False,
        max_length=500,
        help_text="Write-only (a webhook URL may itself be a credential): where events are "
        "POSTed. Leave out on update to keep it. Read `url_display` (scheme and host).",
    )
    url_display = serializers.CharField(read_only=True)
    has_secret = serializers.SerializerMethodField()
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_NAMES), help_text="Event names to send."
    )
    projects = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Project.objects.all(),
        many=True,
        required=False,
        help_text="Project slugs; empty: every project.",
    )
    environments = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Environment.objects.all(),
        many=True,
        required=False,
        help_text="Environment slugs; empty: every environment.",
    )

    class Meta:
        model = Webhook
        fields = [
            "id",
            "name",
            "url",
            "url_display",
            "secret",
            "has_secret",
            "events",
            "projects",
            "environments",
            "format",
            "enabled",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_has_secret(self, obj) -> bool:
        return bool(obj.secret)


class DeliverySerializer(serializers.ModelSerializer):
    webhook = serializers.IntegerField(source="webhook_id")
    event = serializers.CharField(source="event_name")
    state = serializers.CharField(read_only=True, help_text="pending, delivered or failed")

    class Meta:
        model = Delivery
        fields = [
            "id",
            "webhook",
            "event",
            "delivery_id",
            "state",
            "attempts",
            "next_attempt_at",
            "status_code",
            "duration_ms",
            "response_excerpt",
            "error",
            "created_at",
            "delivered_at",
            "body",
        ]


class WebhookViewSet(ServiceModelViewSet):
    """HTTP endpoints told about deployment and release events, signed, retried."""

    serializer_class = WebhookSerializer
    queryset = Webhook.objects.prefetch_related("projects", "environments")
    permission_classes = [AdminOnly]
    instance_kwarg = "webhook"
    create_service = staticmethod(services.webhook_create)
    update_service = staticmethod(services.webhook_update)
    delete_service = staticmethod(services.webhook_delete)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """The webhook's deliveries, newest first (paginated)."""
        webhook = self.get_object()
        page = self.paginate_queryset(webhook.deliveries.order_by("-created_at", "-id"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class DeliveryViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One delivery; POST ``redeliver/`` sends its event again as a new delivery."""

    serializer_class = DeliverySerializer
    queryset = Delivery.objects.select_related("webhook")
    permission_classes = [AdminOnly]

    @extend_schema(request=None, responses={201: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = self.get_object()  # an id that is not a number is 404, like any other
        copy = services.delivery_redeliver(delivery=delivery, user=request.user)
        return Response(DeliverySerializer(copy).data, status=status.HTTP_201_CREATED)
