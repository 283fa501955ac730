"""REST API of teams (administrators only) and ``/api/me/`` (one's own permissions)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from deployserver.core.models import Role, Team
from deployserver.web.roles import AdminOnly

from ..models import Environment, Project
from ..teams import GrantSpec, grant_specs, permission_matrix, team_delete, team_save, user_named


class GrantSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    projects = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Project.objects.all(),
        many=True,
        required=False,
        help_text="Project slugs; empty: all projects.",
    )
    environments = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Environment.objects.all(),
        many=True,
        required=False,
        help_text="Environment slugs; empty: all environments.",
    )


class TeamSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    members = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Usernames."
    )
    grants = GrantSerializer(many=True, required=False, default=list)

    def to_representation(self, team):
        return {
            "id": team.pk,
            "name": team.name,
            "description": team.description,
            "members": sorted(u.get_username() for u in team.members.all()),
            "grants": [
                {
                    "role": spec.role,
                    "projects": [p.slug for p in spec.projects],
                    "environments": [e.slug for e in spec.environments],
                }
                for spec in grant_specs(team.grants.all())
            ],
        }

    def validate_members(self, names):
        return [user_named(name) for name in dict.fromkeys(names)]


def _specs(grants: list[dict]) -> list[GrantSpec]:
    return [
        GrantSpec(
            role=g["role"],
            projects=tuple(g.get("projects", [])),
            environments=tuple(g.get("environments", [])),
        )
        for g in grants
    ]


class TeamViewSet(viewsets.ModelViewSet):
    """Teams: members and grants (role × projects × environments). Administrators only."""

    serializer_class = TeamSerializer
    permission_classes = [AdminOnly]
    queryset = Team.objects.prefetch_related("members").order_by("name")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = team_save(
            team=None,
            user=self.request.user,
            name=data["name"],
            description=data.get("description", ""),
            members=data.get("members", []),
            grants=_specs(data.get("grants", [])),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        team = serializer.instance
        serializer.instance = team_save(
            team=team,
            user=self.request.user,
            name=data.get("name", team.name),
            description=data.get("description", team.description),
            members=data["members"] if "members" in self.request.data else None,
            grants=_specs(data["grants"]) if "grants" in self.request.data else None,
        )

    def perform_destroy(self, instance):
        team_delete(team=instance, user=self.request.user)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_admin = serializers.BooleanField()
    teams = serializers.ListField(child=serializers.CharField())
    api_key_narrowed = serializers.BooleanField()
    permissions = serializers.DictField(
        child=serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
        help_text="Project slug → environment slug → the actions allowed there "
        "(view, release, deploy, edit, approve).",
    )


class MeView(APIView):
    """The caller and what they may do, per project × environment."""

    @extend_schema(responses={200: MeSerializer})
    def get(self, request):
        matrix = permission_matrix(request.user)
        key = request.auth if hasattr(request.auth, "narrowed") else None
        return Response(
            {
                "username": request.user.get_username(),
                "is_admin": matrix["is_admin"],
                "teams": list(request.user.teams.order_by("name").values_list("name", flat=True)),
                "api_key_narrowed": bool(key and key.narrowed),
                "permissions": {
                    project.slug: {
                        env.slug: actions
                        for env, actions in zip(matrix["environments"], cells, strict=True)
                        if actions
                    }
                    for project, cells in matrix["rows"]
                },
            }
        )
