"""Template context: ``access``, the signed-in user's permissions (``core.access``), read only
when a template asks."""

from django.utils.functional import SimpleLazyObject

from deployserver.core.access import access_for


def access(request) -> dict:
    return {"access": SimpleLazyObject(lambda: access_for(request.user))}
