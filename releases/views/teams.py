"""Pages of teams (administrators only) and of a user's effective permissions."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from deployserver.core.models import Team
from deployserver.web.pages import add_service_errors, admin_page, confirm_delete

from ..forms.teams import GrantFormSet, TeamForm
from ..teams import grant_specs, permission_matrix, team_delete, team_save


@admin_page
def team_list(request):
    teams = Team.objects.prefetch_related("members", "grants").order_by("name")
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return render(request, "releases/team_list.html", {"teams": teams, "users": users})


def _team_form_page(request, team: Team | None):
    data = request.POST or None
    initial = {}
    grants_initial = []
    if team is not None:
        initial = {
            "name": team.name,
            "description": team.description,
            "members": team.members.all(),
        }
        grants_initial = [
            {"role": s.role, "projects": list(s.projects), "environments": list(s.environments)}
            for s in grant_specs(team.grants.all())
        ]
    form = TeamForm(data, initial=initial)
    grants = GrantFormSet(data, prefix="grants", initial=grants_initial)
    if request.method == "POST" and form.is_valid() and grants.is_valid():
        specs = [spec for g in grants.forms if (spec := g.spec()) is not None]
        try:
            saved = team_save(
                team=team,
                user=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                members=list(form.cleaned_data["members"]),
                grants=specs,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Team {saved.name} saved.")
            return redirect("teams")
    return render(
        request,
        "releases/team_form.html",
        {"team": team, "form": form, "grants": grants},
        status=400 if request.method == "POST" else 200,
    )


@admin_page
def team_create(request):
    return _team_form_page(request, None)


@admin_page
def team_edit(request, pk: int):
    return _team_form_page(request, get_object_or_404(Team, pk=pk))


@admin_page
def team_delete_page(request, pk: int):
    team = get_object_or_404(Team, pk=pk)
    return confirm_delete(
        request,
        obj=team,
        kind="Team",
        delete=lambda: team_delete(team=team, user=request.user),
        cancel_url="teams",
        success_url="teams",
    )


@admin_page
def user_permissions(request, username: str):
    """Another user's effective permissions (administrators)."""
    user = get_object_or_404(get_user_model(), username=username)
    return _matrix_page(request, user)


@login_required
def my_permissions(request):
    return _matrix_page(request, request.user)


def _matrix_page(request, user):
    return render(
        request,
        "releases/permissions.html",
        {"subject": user, "matrix": permission_matrix(user), "teams": user.teams.order_by("name")},
    )
