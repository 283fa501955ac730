"""The API's default permission class (``DEFAULT_PERMISSION_CLASSES``).

It only requires a signed-in caller: every view then asks the access rule
(``deployserver.core.access``) about what it reads (its queryset is filtered) and writes (the
service refuses). Views of what only administrators manage add a class of
``deployserver.web.roles``. DRF imports this module while ``rest_framework.views`` is still
loading, so it imports no model.
"""

from rest_framework import permissions


class SignedIn(permissions.BasePermission):
    """Any signed-in caller; what they may read and write is decided per object."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)
