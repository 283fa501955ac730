"""REST API for a project's variables (the whole set), its process and the process preview.

``/api/projects/{slug}/variables/`` GET/PUT, ``/api/projects/{slug}/process/`` GET/PUT and
``/api/projects/{slug}/process/preview/?environment=<slug>``. Sensitive values are write-only:
they are never in a response, a PUT that leaves ``value`` out (or null) for an existing
sensitive row keeps the stored secret. Errors are flat ``{"variables[2].name": [...]}`` maps,
the same paths the services use.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feeds.registries import RegistryError

from .models import DeploymentProcess, Environment, Project, Variable
from .process import ProcessConflict, process_for, process_preview, process_update
from .variables import VariableInput, variable_rows, variable_set_replace


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as flat ``path: [messages]``, like the services raise."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # DRF keys a list's item errors by index
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_errors(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list) and detail and not all(isinstance(d, str) for d in detail):
        for index, value in enumerate(detail):
            for k, v in flatten_errors(value, f"{prefix}[{index}]").items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        out[prefix or "non_field_errors"] = [str(d) for d in detail]
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _valid(serializer: serializers.Serializer) -> dict:
    if not serializer.is_valid():
        raise serializers.ValidationError(flatten_errors(serializer.errors))
    return serializer.validated_data


# Variables ----------------------------------------------------------------------------------


class VariableSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        required=False, allow_null=True, help_text="Existing row; leave out for a new one."
    )
    name = serializers.CharField(max_length=200, allow_blank=True, trim_whitespace=False)
    type = serializers.ChoiceField(choices=Variable.Type.choices, default=Variable.Type.TEXT)
    value = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Null for sensitive variables in responses (write-only). Leave out or null on "
        "an existing sensitive row to keep its value. AWS account: the account slug.",
    )
    has_value = serializers.BooleanField(read_only=True)
    environments = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Scope: slugs."
    )


class VariableSetSerializer(serializers.Serializer):
    variables = VariableSerializer(many=True)


def variables_response(project: Project) -> Response:
    rows = variable_rows(project)
    for row in rows:
        row["has_value"] = row["type"] == Variable.Type.SENSITIVE or row["value"] != ""
    return Response({"project": project.slug, "variables": rows})


class ProjectVariablesView(APIView):
    """The project's variables as one set; PUT replaces the whole set, all or nothing."""

    queryset = Variable.objects.none()

    @extend_schema(responses=VariableSetSerializer)
    def get(self, request, slug):
        return variables_response(get_object_or_404(Project, slug=slug))

    @extend_schema(request=VariableSetSerializer, responses=VariableSetSerializer)
    def put(self, request, slug):
        project = get_object_or_404(Project, slug=slug)
        data = _valid(VariableSetSerializer(data=request.data))
        rows = [
            VariableInput(
                id=row.get("id"),
                name=row["name"],
                type=row["type"],
                value=row.get("value"),
                environments=row.get("environments", []),
            )
            for row in data["variables"]
        ]
        variable_set_replace(project=project, rows=rows, user=request.user)
        return variables_response(project)


# Process ------------------------------------------------------------------------------------


class ProcessSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The version you edited; a PUT is refused with 409 if it changed since.",
    )
    steps = serializers.ListField(child=serializers.JSONField())


def process_data(process: DeploymentProcess) -> dict:
    return {"project": process.project.slug, "version": process.version, "steps": process.steps}


class ProjectProcessView(APIView):
    """The project's deployment process: ordered steps validated by their step type."""

    queryset = DeploymentProcess.objects.none()

    @extend_schema(responses=ProcessSerializer)
    def get(self, request, slug):
        return Response(process_data(process_for(get_object_or_404(Project, slug=slug))))

    @extend_schema(request=ProcessSerializer, responses=ProcessSerializer)
    def put(self, request, slug):
        project = get_object_or_404(Project, slug=slug)
        data = _valid(ProcessSerializer(data=request.data))
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

    Package versions: the newest version in each feed (this previews the process; a release
    deploys the versions it pinned when it was created).
    """

    queryset = DeploymentProcess.objects.none()

    @extend_schema(parameters=[OpenApiParameter("environment", str, required=True)], responses=dict)
    def get(self, request, slug):
        project = get_object_or_404(Project, slug=slug)
        env_slug = request.query_params.get("environment", "")
        environment = Environment.objects.filter(slug=env_slug).first()
        if environment is None:
            message = f"No environment '{env_slug}'." if env_slug else "Give ?environment=<slug>."
            return Response({"environment": [message]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            preview = process_preview(project=project, environment=environment)
        except RegistryError as exc:
            return Response({"detail": str(exc)}, status=exc.status or 502)
        if preview.errors:
            return Response(preview.errors, status=status.HTTP_400_BAD_REQUEST)
        return Response(preview_data(project, preview))
