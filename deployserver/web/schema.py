"""The OpenAPI schema's class (``DEFAULT_SCHEMA_CLASS``): every operation declares the errors it
can answer, so a client generated from ``/api/schema/`` handles them.

- 400 (every operation: a bad query parameter, a NUL in the query string, a bad body) is either
  ``Error`` (``{"detail": "..."}``) or ``ValidationError`` (``{"field": ["message", ...]}``);
- 401/403 (not signed in, not allowed) and 429 (too many invalid API keys) on every operation;
- 404 where the path names an object, and on paginated lists (a page past the last);
- 409 (a change made at the same time) and 413 (a body over the limit) on writes;
- 502 (AWS or a registry failed) where a view declares it with :data:`UPSTREAM_ERROR`.

Each is added only when the view did not declare that status itself.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse

from .api import ErrorSerializer

UPSTREAM_ERROR = OpenApiResponse(
    ErrorSerializer, description="AWS or the registry refused or failed; the reason is given."
)
CONFLICT = OpenApiResponse(ErrorSerializer, description="A conflicting change; reload and retry.")

VALIDATION_ERROR = {
    "type": "object",
    "description": "Field errors: each field (or ``non_field_errors``) with its messages; "
    "nested input gives nested errors.",
    "additionalProperties": {},
}

DESCRIPTIONS = {
    "400": "The request is invalid: a field error per parameter or field, or a detail.",
    "401": "No valid credentials (an API key in ``Authorization: Token <key>`` or a session).",
    "403": "Not allowed for this user.",
    "404": "Not found.",
    "409": "This conflicts with the current state or a change made at the same time.",
    "413": "The request body is over the size limit.",
    "429": "Too many invalid API keys from this address; retry after ``Retry-After`` seconds.",
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AutoSchema(SpectacularAutoSchema):
    def error_codes(self) -> list[str]:
        codes = ["400", "401", "403"]
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            codes.append("404")
        if self.method in WRITE_METHODS:
            codes += ["409", "413"]
        codes.append("429")
        return codes

    def _error_schema(self, code: str) -> dict:
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        if code != "400":
            return error
        component = ResolvedComponent(
            name="ValidationError",
            type=ResolvedComponent.SCHEMA,
            object="ValidationError",
            schema=VALIDATION_ERROR,
        )
        self.registry.register_on_missing(component)
        return {"anyOf": [error, component.ref]}

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self.error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(self._error_schema(code), description=DESCRIPTIONS[code]),
                    code,
                    direction=direction,
                )
        return responses
