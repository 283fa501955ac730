"""REST API for a project's deployment process and its preview.

``/api/projects/{slug}/process/`` GET/PUT (steps validated by their step type; a PUT made from
a stale ``version`` answers 409) and ``/api/projects/{slug}/process/preview/?environment=<slug>``.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from deployserver.web.params import query_params
from deployserver.web.schema import CONFLICT, UPSTREAM_ERROR
from feeds.registries import RegistryError

from ..models import DeploymentProcess, Environment, Project
from ..process import (
    ProcessConflict,
    process_for,
    process_preview,
    process_preview_require,
    process_update,
)
from ..selectors import project_visible
from .errors import validated


class ProcessSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The version you edited; a PUT is refused with 409 if it changed since.",
    )
    steps = serializers.ListField(child=serializers.JSONField())


class ProcessResponseSerializer(serializers.Serializer):
    project = serializers.CharField(help_text="Project slug.")
    version = serializers.IntegerField(help_text="Send it back with a PUT.")
    steps = serializers.ListField(child=serializers.JSONField())


class PreviewQuerySerializer(serializers.Serializer):
    environment = serializers.CharField(help_text="Environment slug.")


class PreviewPackageSerializer(serializers.Serializer):
    package_id = serializers.CharField()
    version = serializers.CharField()
    image = serializers.CharField()
    digest = serializers.CharField(allow_blank=True)
    feed_id = serializers.CharField(allow_blank=True)


class PreviewStepSerializer(serializers.Serializer):
    """One step, with the plan of its step type (the requests it would send) alongside."""

    name = serializers.CharField()
    type = serializers.CharField()
    packages = serializers.DictField(child=PreviewPackageSerializer(), help_text="By reference.")


class PreviewEnvironmentSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    project = serializers.CharField()
    environment = PreviewEnvironmentSerializer()
    package_versions = serializers.CharField()
    steps = PreviewStepSerializer(many=True)


def process_data(process: DeploymentProcess) -> dict:
    return {"project": process.project.slug, "version": process.version, "steps": process.steps}


class ProjectProcessView(APIView):
    """The project's deployment process: ordered steps validated by their step type."""

    queryset = DeploymentProcess.objects.none()

    @extend_schema(responses=ProcessResponseSerializer)
    def get(self, request, slug):
        return Response(process_data(process_for(project_visible(request.user, slug))))

    @extend_schema(
        request=ProcessSerializer, responses={200: ProcessResponseSerializer, 409: CONFLICT}
    )
    def put(self, request, slug):
        project = project_visible(request.user, slug)
        data = validated(ProcessSerializer(data=request.data))
        try:
            process = process_update(
                project=project, steps=data["steps"], version=data.get("version"), user=request.user
            )
        except ProcessConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(process_data(process))


def preview_data(project: Project, preview) -> dict:
    return {
        "project": project.slug,
        "environment": {"slug": preview.environment.slug, "name": preview.environment.name},
        "package_versions": "newest in feed",
        "steps": [
            {"name": s.name, "type": s.type, "packages": s.packages, **s.plan}
            for s in preview.steps
        ],
    }


class ProjectProcessPreviewView(APIView):
    """The exact requests a deployment to ``environment`` would send, sensitive values masked.

    Package versions: the newest version in each feed (a release pins its own).
    """

    queryset = DeploymentProcess.objects.none()

    @extend_schema(
        parameters=[PreviewQuerySerializer],
        responses={200: PreviewSerializer, 502: UPSTREAM_ERROR},
    )
    def get(self, request, slug):
        project = project_visible(request.user, slug)
        if not request.query_params.get("environment"):
            message = "Give ?environment=<slug>."
            return Response({"environment": [message]}, status=status.HTTP_400_BAD_REQUEST)
        env_slug = query_params(PreviewQuerySerializer, request)["environment"]
        environment = Environment.objects.filter(slug=env_slug).first()
        if environment is None:
            message = f"No environment '{env_slug}'."
            return Response({"environment": [message]}, status=status.HTTP_400_BAD_REQUEST)
        # The preview holds the environment's values: those who may deploy or edit there.
        process_preview_require(request.user, project, environment)
        try:
            preview = process_preview(project=project, environment=environment)
        except RegistryError as exc:
            return Response({"detail": str(exc)}, status=exc.status or 502)
        if preview.errors:
            return Response(preview.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(preview_data(project, preview))
