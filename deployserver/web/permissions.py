"""The API's default permission class (``DEFAULT_PERMISSION_CLASSES``)."""

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Any signed-in user reads; writing needs the model's add/change/delete permission.

    Views without a queryset (dashboard, health) only require authentication.
    """

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return True
        return super().has_permission(request, view)
