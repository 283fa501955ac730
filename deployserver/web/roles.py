"""API permission classes for what only administrators manage (see ``core.access``)."""

from rest_framework import permissions

from deployserver.core.access import AccessDenied, Action, access_for

from .permissions import SignedIn


class AdminOnly(SignedIn):
    """Reading and writing need the admin role (AWS accounts, teams, the engine's status)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        write = request.method not in permissions.SAFE_METHODS
        access_for(request.user).require(Action.ADMIN, write=write)
        return True


NO_GRANT = "Your account has no role yet; ask an administrator to add you to a team."


class AdminWrites(SignedIn):
    """Anyone holding a grant reads; writing needs the admin role (feeds, environments,
    lifecycles: shared by every project)."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        access = access_for(request.user)
        if request.method not in permissions.SAFE_METHODS:
            access.require(Action.ADMIN)
        elif not access.has_any_grant:
            raise AccessDenied(NO_GRANT, user=request.user, write=False)
        return True
