"""REST API for a project's variables, as one set: ``/api/projects/{slug}/variables/`` GET/PUT.

Saves carry the ``version`` they edited; a stale one answers 409 instead of undoing someone
else's save. Sensitive values are write-only: they are never in a response, and a PUT that leaves
``value`` out (or null) for an existing sensitive row keeps the stored secret. A caller with the
project-editor role in only some environments sends the rows it may not change back as they are
(``editable`` false; a ``restricted`` one with ``value`` null, which keeps it).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Project, Variable
from ..selectors import project_visible
from ..variables import (
    VariableInput,
    VariablesConflict,
    variable_rows,
    variable_set_replace,
    variables_editable,
    variables_restricted,
)
from .errors import validated


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
    restricted = serializers.BooleanField(
        read_only=True,
        help_text="Scoped to an environment you may not deploy to: the value is withheld.",
    )
    environments = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Scope: slugs."
    )
    editable = serializers.BooleanField(
        read_only=True,
        help_text="Whether you may change or delete this row: with the project-editor role in "
        "only some environments, the values scoped to those alone. Send the other rows back as "
        "they are (a restricted one with value null).",
    )


class VariableSetSerializer(serializers.Serializer):
    variables = VariableSerializer(many=True)
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text="The version of the set you edited (from a GET); a PUT is refused with 409 if "
        "someone saved the set since. Leave out to replace the set whatever its version.",
    )


class VariableSetResponseSerializer(serializers.Serializer):
    project = serializers.CharField(help_text="Project slug.")
    variables = VariableSerializer(many=True)


def variables_response(project: Project, user) -> Response:
    rows = variable_rows(
        project, variables_restricted(user, project), variables_editable(user, project)
    )
    for row in rows:
        row["has_value"] = (
            row["type"] == Variable.Type.SENSITIVE or row["restricted"] or row["value"] != ""
        )
    return Response(
        {"project": project.slug, "version": project.variables_version, "variables": rows}
    )


class ProjectVariablesView(APIView):
    """The project's variables as one set; PUT replaces the whole set, all or nothing."""

    queryset = Variable.objects.none()

    @extend_schema(responses=VariableSetResponseSerializer)
    def get(self, request, slug):
        return variables_response(project_visible(request.user, slug), request.user)

    @extend_schema(request=VariableSetSerializer, responses=VariableSetResponseSerializer)
    def put(self, request, slug):
        project = project_visible(request.user, slug)
        data = validated(VariableSetSerializer(data=request.data))
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
        try:
            variable_set_replace(
                project=project, rows=rows, user=request.user, version=data.get("version")
            )
        except VariablesConflict as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return variables_response(project, request.user)
