"""The step-type registry and the small schema language step types describe properties with.

``releases`` stores a project's process as data and validates it through this registry; the
``deployments`` app fills it (``deployments.apps.DeploymentsConfig.ready`` registers
``aws-ecs-deploy``), so releases never imports deployments.

A property may be a literal or hold ``#{…}`` expressions. Validation runs twice: on the raw
properties when saved (expressions are accepted where a number or a choice is expected, the
literal parts are checked), and on the substituted values before anything is sent (``resolved``:
everything must now be a real number, choice, ARN …).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

Errors = dict[str, list[str]]


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and "#{" in value


def add_error(errors: Errors, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


class StepValidationError(Exception):
    """Properties that AWS (or the schema) would refuse; ``errors`` is ``{path: [messages]}``."""

    def __init__(self, errors: Errors):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


# Schema -------------------------------------------------------------------------------------


class Field:
    """One property. ``clean`` returns the normalised value and records problems in ``errors``."""

    kind = "text"

    def __init__(
        self,
        *,
        label: str = "",
        required: bool = False,
        default: Any = None,
        help: str = "",
        group: str = "",
    ):
        self.label = label
        self.required = required
        self.default = default
        self.help = help
        self.group = group  # editors show the fields of one group together

    def empty(self, value: Any) -> bool:
        return value is None or value == ""

    def clean(self, value: Any, path: str, errors: Errors, resolved: bool) -> Any:
        if self.empty(value):
            if self.required:
                add_error(errors, path, f"{self.label or 'This field'} is required.")
            return self.default
        if is_expression(value) and not resolved:
            return value
        return self.convert(value, path, errors)

    def convert(self, value: Any, path: str, errors: Errors) -> Any:
        return value


class Text(Field):
    def __init__(
        self, *, pattern: str | None = None, message: str = "", max_length: int = 2048, **kwargs
    ):
        super().__init__(**kwargs)
        if self.default is None:
            self.default = ""
        self.pattern = re.compile(pattern) if pattern else None
        self.message = message
        self.max_length = max_length

    def convert(self, value, path, errors):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            add_error(errors, path, "Enter text.")
            return self.default
        value = str(value).strip()
        if len(value) > self.max_length:
            add_error(errors, path, f"At most {self.max_length} characters.")
        elif self.pattern and not self.pattern.match(value):
            add_error(errors, path, self.message or "This value is not valid.")
        return value


class Choice(Text):
    kind = "choice"

    def __init__(self, choices: tuple[str, ...], **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def convert(self, value, path, errors):
        value = super().convert(value, path, errors)
        if value not in self.choices:
            add_error(errors, path, f"Choose one of {', '.join(self.choices)} (got '{value}').")
        return value


class Integer(Field):
    kind = "integer"

    def __init__(self, *, min_value: int | None = None, max_value: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.min_value = min_value
        self.max_value = max_value

    def convert(self, value, path, errors):
        if isinstance(value, bool):
            add_error(errors, path, "Enter a whole number.")
            return self.default
        if isinstance(value, str):
            value = value.strip()
            if not re.fullmatch(r"-?\d+", value):
                add_error(errors, path, f"Enter a whole number (got '{value[:40]}').")
                return self.default
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            add_error(errors, path, "Enter a whole number.")
            return self.default
        value = int(value)
        low, high = self.min_value, self.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"between {low} and {high}" if high is not None else f"at least {low}"
            add_error(errors, path, f"Enter a number {span} (got {value}).")
        return value


class Boolean(Field):
    kind = "boolean"

    def __init__(self, **kwargs):
        kwargs.setdefault("default", False)
        super().__init__(**kwargs)

    def convert(self, value, path, errors):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        add_error(errors, path, "Enter true or false.")
        return self.default


class ListOf(Field):
    kind = "list"

    def __init__(self, item: Field, **kwargs):
        super().__init__(**kwargs)
        self.item = item

    def empty(self, value):
        return value is None or value == []

    def clean(self, value, path, errors, resolved):
        if self.empty(value):
            if self.required:
                add_error(errors, path, f"Add at least one {self.label or 'entry'}.")
            return []
        if not isinstance(value, list):
            add_error(errors, path, "Expected a list.")
            return []
        return [self.item.clean(v, join(path, i), errors, resolved) for i, v in enumerate(value)]


class Obj(Field):
    kind = "object"

    def __init__(self, fields: Mapping[str, Field], **kwargs):
        super().__init__(**kwargs)
        self.fields = dict(fields)

    def empty(self, value):
        return value is None

    def clean(self, value, path, errors, resolved):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            add_error(errors, path or "properties", "Expected an object.")
            return {}
        for unknown in sorted(set(value) - set(self.fields)):
            add_error(errors, join(path, unknown), "Unknown property.")
        return {
            name: f.clean(value.get(name), join(path, name), errors, resolved)
            for name, f in self.fields.items()
        }


# Step types ---------------------------------------------------------------------------------


class StepType:
    """A kind of step. Subclasses set ``type``, ``label`` and ``schema`` and may add rules in
    ``check`` (on cleaned properties) and request building in ``build_requests``."""

    type = ""
    label = ""
    schema: Obj = Obj({})

    def clean(
        self, properties: Any, *, packages: list[dict], path: str = "", resolved: bool = False
    ) -> tuple[dict, Errors]:
        errors: Errors = {}
        cleaned = self.schema.clean(properties, path, errors, resolved)
        self.check(cleaned, packages=packages, path=path, errors=errors, resolved=resolved)
        return cleaned, errors

    def check(
        self, properties: dict, *, packages: list[dict], path: str, errors: Errors, resolved: bool
    ) -> None:
        """Rules across fields; skip any value that is still an expression."""

    def build_requests(
        self, properties: dict, values: Mapping[str, str], packages: Mapping[str, Any]
    ) -> tuple[dict, ...]:
        """The API requests the step sends, from raw properties, the resolved variable values
        and the chosen packages (``{ref: PackageInfo}``). Raises ``SubstitutionError`` or
        ``StepValidationError``."""
        raise NotImplementedError

    def preview(
        self, properties: dict, values: Mapping[str, str], packages: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What the preview page shows for this step; by default its requests."""
        return {"requests": list(self.build_requests(properties, values, packages))}


class StepTypeRegistry:
    def __init__(self):
        self._types: dict[str, StepType] = {}

    def register(self, step_type: StepType) -> StepType:
        if step_type.type in self._types and self._types[step_type.type] is not step_type:
            raise ValueError(f"step type {step_type.type} is already registered")
        self._types[step_type.type] = step_type
        return step_type

    def get(self, type_: str) -> StepType | None:
        return self._types.get(type_)

    def __iter__(self) -> Iterator[StepType]:
        return iter(self._types.values())

    def __contains__(self, type_: str) -> bool:
        return type_ in self._types


REGISTRY = StepTypeRegistry()
