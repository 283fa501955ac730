"""REST API of the delivery insights: the four DORA figures of an environment, with series."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from deployserver.core.access import Action, access_for
from deployserver.web.params import query_params
from releases.models import Environment, Project

from .. import insights as figures


class InsightsQuerySerializer(serializers.Serializer):
    project = serializers.SlugField(
        required=False, allow_blank=True, default="", help_text="One project's slug; all if empty"
    )
    environment = serializers.SlugField(
        required=False,
        allow_blank=True,
        default="",
        help_text="An environment's slug; by default the last of the project's lifecycle (all "
        "projects: of the default lifecycle)",
    )
    days = serializers.ChoiceField(
        choices=figures.PERIODS,
        default=figures.DEFAULT_DAYS,
        help_text="The period: the last 7, 30 or 90 days",
        error_messages={"invalid_choice": "Choose 7, 30 or 90 days, not {input}."},
    )

    def validate_project(self, slug):
        if not slug:
            return None
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise serializers.ValidationError(f"No project has the slug '{slug}'.")
        return project

    def validate_environment(self, slug):
        if not slug:
            return None
        environment = Environment.objects.filter(slug=slug).first()
        if environment is None:
            raise serializers.ValidationError(f"No environment has the slug '{slug}'.")
        return environment


class InsightsEnvironmentSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class FrequencySerializer(serializers.Serializer):
    deployments = serializers.IntegerField(help_text="Successful deployments in the period")
    per_day = serializers.FloatField()
    per_week = serializers.FloatField()
    previous = serializers.IntegerField(help_text="Successful deployments the period before")


class LeadTimeSerializer(serializers.Serializer):
    releases = serializers.IntegerField(
        help_text="Releases whose first successful deployment there finished in the period"
    )
    median_seconds = serializers.FloatField(allow_null=True)
    p90_seconds = serializers.FloatField(allow_null=True)
    previous_median_seconds = serializers.FloatField(allow_null=True)


class FailureRateSerializer(serializers.Serializer):
    rate = serializers.FloatField(allow_null=True, help_text="failed ÷ (successful + failed)")
    failed = serializers.IntegerField()
    deployments = serializers.IntegerField(help_text="Successful and failed deployments")
    rolled_back = serializers.IntegerField(help_text="Failed ones whose service was rolled back")
    previous_rate = serializers.FloatField(allow_null=True)


class RecoverySerializer(serializers.Serializer):
    outages = serializers.IntegerField(
        help_text="Failed deployments after a success (failures in a row are one outage)"
    )
    recovered = serializers.IntegerField(help_text="Outages ended by a successful deployment")
    median_seconds = serializers.FloatField(allow_null=True)
    previous_median_seconds = serializers.FloatField(allow_null=True)


class InsightsPointSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    deployments = serializers.IntegerField(help_text="Successful deployments")
    failed = serializers.IntegerField()
    rolled_back = serializers.IntegerField()
    failure_rate = serializers.FloatField(allow_null=True)
    lead_time_median_seconds = serializers.FloatField(allow_null=True)
    lead_time_p90_seconds = serializers.FloatField(allow_null=True)
    recovery_median_seconds = serializers.FloatField(allow_null=True)


class InsightsSerializer(serializers.Serializer):
    project = serializers.CharField(allow_null=True, help_text="The project's slug; null: all")
    environment = InsightsEnvironmentSerializer(allow_null=True)
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    bucket = serializers.ChoiceField(
        choices=["week", "day"], help_text="The series' buckets: weeks, or days for 7 days"
    )
    deployment_frequency = FrequencySerializer(allow_null=True)
    lead_time = LeadTimeSerializer(allow_null=True)
    change_failure_rate = FailureRateSerializer(allow_null=True)
    time_to_recover = RecoverySerializer(allow_null=True)
    series = InsightsPointSerializer(
        many=True, help_text="One point per bucket; empty when nothing finished in the period"
    )


def insights_data(result: figures.Insights) -> dict:
    """The API's answer for ``result`` (the page shows the same figures)."""
    now, before = result.current, result.previous
    return {
        "project": result.project.slug if result.project else None,
        "environment": {"slug": result.environment.slug, "name": result.environment.name},
        "days": result.days,
        "since": result.since,
        "until": result.until,
        "bucket": result.bucket,
        "deployment_frequency": {
            "deployments": now.deployments,
            "per_day": round(result.per_day(), 3),
            "per_week": round(result.per_week(), 3),
            "previous": before.deployments,
        },
        "lead_time": {
            "releases": now.releases,
            "median_seconds": now.lead_time_median,
            "p90_seconds": now.lead_time_p90,
            "previous_median_seconds": before.lead_time_median,
        },
        "change_failure_rate": {
            "rate": now.failure_rate,
            "failed": now.failed,
            "deployments": now.deployments + now.failed,
            "rolled_back": now.rolled_back,
            "previous_rate": before.failure_rate,
        },
        "time_to_recover": {
            "outages": now.outages,
            "recovered": now.recovered,
            "median_seconds": now.recovery_median,
            "previous_median_seconds": before.recovery_median,
        },
        "series": [
            {
                "start": b.start,
                "end": b.end,
                "deployments": b.deployments,
                "failed": b.failed,
                "rolled_back": b.rolled_back,
                "failure_rate": b.failure_rate,
                "lead_time_median_seconds": b.lead_time_median,
                "lead_time_p90_seconds": b.lead_time_p90,
                "recovery_median_seconds": b.recovery_median,
            }
            for b in result.buckets
        ],
    }


class InsightsView(APIView):
    """Delivery insights of one environment (the four DORA figures), for a project or all.

    Deployment frequency, lead time for changes (median, p90), change failure rate and time to
    recover over the last ``days``, each with the figure of the period before and a series per
    week (per day for 7 days). Without environments there is nothing to measure: the figures
    are null.
    """

    @extend_schema(parameters=[InsightsQuerySerializer], responses={200: InsightsSerializer})
    def get(self, request):
        params = query_params(InsightsQuerySerializer, request)
        project = params["project"]
        if project is not None and not access_for(request.user).allows(Action.VIEW, project):
            # Told like a project that does not exist: no slug of another team's leaks.
            raise ValidationError({"project": [f"No project has the slug '{project.slug}'."]})
        environment = params["environment"]
        days = int(params["days"])
        if environment is None:
            environment = figures.insights_scope(project)[1]
        if environment is None:
            return Response(_nothing(project, days))
        result = figures.insights(
            environment=environment, project=project, days=days, access=access_for(request.user)
        )
        return Response(insights_data(result))


def _nothing(project, days: int) -> dict:
    until = timezone.now()
    return {
        "project": project.slug if project else None,
        "environment": None,
        "days": days,
        "since": until - timedelta(days=days),
        "until": until,
        "bucket": "day" if days <= 7 else "week",
        "deployment_frequency": None,
        "lead_time": None,
        "change_failure_rate": None,
        "time_to_recover": None,
        "series": [],
    }
