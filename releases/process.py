"""A project's deployment process: validation, storage and the preview of what it would send.

Steps are data; each step's properties are validated by the step type registered under its
``type`` (``releases.steps.REGISTRY``, filled by the ``deployments`` app). The preview resolves
the project's variables for one environment, takes the newest version of each package from its
feed, and asks the step type for the exact requests a deployment would send, sensitive values
masked.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from deployserver.core.access import Action, access_for, require
from deployserver.core.audit import MASK, audit_record
from deployserver.core.models import AuditEvent
from feeds.models import Feed

from .models import DeploymentProcess, Environment, Project, Variable
from .steps import REGISTRY, StepValidationError
from .substitution import SubstitutionError, TemplateSyntaxError, referenced_names
from .variables import (
    PACKAGE_FIELDS,
    PackageInfo,
    is_known_system_name,
    secrets_to_mask,
    system_variables,
    variable_specs,
    variables_resolve,
)

STEP_KEYS = {"name", "type", "packages", "properties"}
PACKAGE_KEYS = {"name", "feed", "package_id"}
PACKAGE_REF_RE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
PACKAGE_ID_RE = re.compile(r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*$")
_PACKAGE_VAR_RE = re.compile(r"^package\[([^\]]+)\]\.(\w+)$", re.IGNORECASE)
PREVIEW_RELEASE_NUMBER = "0.0.0-preview"
PREVIEW_DEPLOYMENT_ID = "deployments-preview"


class ProcessConflict(Exception):
    """The process changed since the editor loaded it (``version`` differs)."""


# Reads --------------------------------------------------------------------------------------


def process_for(project: Project) -> DeploymentProcess:
    """The project's process; an unsaved empty one when it has none yet."""
    process = DeploymentProcess.objects.filter(project=project).first()
    return process or DeploymentProcess(project=project, steps=[], version=0)


# Validation ---------------------------------------------------------------------------------


def _strings(node: Any, path: str):
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")


def _check_references(
    properties: dict, path: str, defined: set[str], refs: set[str], errors: dict
) -> None:
    """Every ``#{Name}`` must name a project variable, a system variable or one of the step's
    package references: an expression nothing can ever resolve is refused when saved."""
    for where, text in _strings(properties, path):
        if "#{" not in text:
            continue
        try:
            names = referenced_names(text)
        except TemplateSyntaxError as exc:
            errors.setdefault(where, []).append(f"Malformed expression: {exc}.")
            continue
        for name in sorted(names):
            package = _PACKAGE_VAR_RE.match(name)
            if package:
                ref, attribute = package.groups()
                if ref.lower() not in refs:
                    errors.setdefault(where, []).append(
                        f"#{{{name}}}: this step has no package reference '{ref}'."
                    )
                elif attribute.lower() not in {f.lower() for f in PACKAGE_FIELDS}:
                    errors.setdefault(where, []).append(
                        f"#{{{name}}}: a package has {', '.join(PACKAGE_FIELDS)}."
                    )
            elif name.lower() not in defined and not is_known_system_name(name):
                errors.setdefault(where, []).append(
                    f"#{{{name}}} is not defined: no project variable or system variable "
                    "has this name."
                )


def _clean_packages(packages: Any, path: str, feeds: dict[int, Feed], errors: dict) -> list:
    if packages in (None, ""):
        return []
    if not isinstance(packages, list):
        errors.setdefault(path, []).append("Expected a list of package references.")
        return []
    cleaned, names = [], set()
    for index, package in enumerate(packages):
        at = f"{path}[{index}]"
        if not isinstance(package, dict):
            errors.setdefault(at, []).append("Expected {name, feed, package_id}.")
            continue
        for unknown in sorted(set(package) - PACKAGE_KEYS):
            errors.setdefault(f"{at}.{unknown}", []).append("Unknown property.")
        name = str(package.get("name") or "").strip()
        if not PACKAGE_REF_RE.match(name):
            errors.setdefault(f"{at}.name", []).append(
                "Name the reference with letters, digits, '.', '_' or '-' (e.g. web)."
            )
        elif name.lower() in names:
            errors.setdefault(f"{at}.name", []).append(f"Another package is already called {name}.")
        names.add(name.lower())
        feed = package.get("feed")
        feed_obj = None
        if isinstance(feed, int) and not isinstance(feed, bool):
            feed_obj = feeds.get(feed)
        elif isinstance(feed, str):
            feed_obj = next((f for f in feeds.values() if f.slug == feed), None)
            if feed_obj is None and feed.isdigit():
                feed_obj = feeds.get(int(feed))
        if feed_obj is None:
            errors.setdefault(f"{at}.feed", []).append(f"No feed '{feed}'; give a feed id.")
        package_id = str(package.get("package_id") or "").strip()
        if not PACKAGE_ID_RE.match(package_id):
            errors.setdefault(f"{at}.package_id", []).append(
                "Give the image repository, e.g. hello-color or team/api."
            )
        cleaned.append(
            {"name": name, "feed": feed_obj.pk if feed_obj else feed, "package_id": package_id}
        )
    return cleaned


def process_clean(*, project: Project, steps: Any) -> list[dict]:
    """Normalised steps, or ``ValidationError({"steps[0].properties.task_cpu": [...]})``."""
    if not isinstance(steps, list):
        raise ValidationError({"steps": ["Expected a list of steps."]})
    errors: dict[str, list[str]] = {}
    feeds = {f.pk: f for f in Feed.objects.all()}
    defined = {
        n.lower() for n in Variable.objects.filter(project=project).values_list("name", flat=True)
    }
    cleaned_steps, names = [], set()
    for index, step in enumerate(steps):
        at = f"steps[{index}]"
        if not isinstance(step, dict):
            errors.setdefault(at, []).append("Expected {name, type, packages, properties}.")
            continue
        for unknown in sorted(set(step) - STEP_KEYS):
            errors.setdefault(f"{at}.{unknown}", []).append("Unknown property.")
        name = str(step.get("name") or "").strip()
        if not name:
            errors.setdefault(f"{at}.name", []).append("A step needs a name.")
        elif len(name) > 100:
            errors.setdefault(f"{at}.name", []).append("A step name has at most 100 characters.")
        elif name.lower() in names:
            errors.setdefault(f"{at}.name", []).append(f"Another step is already called {name}.")
        names.add(name.lower())
        step_type = REGISTRY.get(step.get("type") or "")
        if step_type is None:
            known = ", ".join(t.type for t in REGISTRY) or "none registered"
            errors.setdefault(f"{at}.type", []).append(
                f"Unknown step type '{step.get('type')}' (known: {known})."
            )
            continue
        packages = _clean_packages(step.get("packages"), f"{at}.packages", feeds, errors)
        properties, property_errors = step_type.clean(
            step.get("properties"), packages=packages, path=f"{at}.properties"
        )
        for key, messages in property_errors.items():
            errors.setdefault(key, []).extend(messages)
        _check_references(
            properties, f"{at}.properties", defined, {p["name"].lower() for p in packages}, errors
        )
        cleaned_steps.append(
            {"name": name, "type": step_type.type, "packages": packages, "properties": properties}
        )
    if errors:
        raise ValidationError(errors)
    return cleaned_steps


# Writes -------------------------------------------------------------------------------------


@transaction.atomic
def process_update(
    *, project: Project, steps: Any, user, version: int | None = None
) -> DeploymentProcess:
    """Replace the project's steps. ``version``, when given, must be the one the editor loaded."""
    require(user, Action.EDIT, project)
    process, _ = DeploymentProcess.objects.select_for_update().get_or_create(project=project)
    if version is not None and version != process.version:
        raise ProcessConflict(
            f"The process was changed (version {process.version}, you edited {version}); "
            "reload it and apply your changes again."
        )
    cleaned = process_clean(project=project, steps=steps)
    if cleaned == process.steps:
        return process
    before = [s["name"] for s in process.steps]
    process.steps = cleaned
    process.version += 1
    process.full_clean(exclude=["project"])
    process.save()
    audit_record(
        user=user,
        action=AuditEvent.Action.UPDATE,
        obj=project,
        summary=f"Changed the deployment process of {project} (version {process.version})",
        changes={"steps": [before, [s["name"] for s in cleaned]]},
    )
    return process


# Preview ------------------------------------------------------------------------------------


@dataclass
class StepPreview:
    name: str
    type: str
    packages: dict[str, dict] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProcessPreview:
    """What a deployment of the project to ``environment`` would send, secrets masked."""

    environment: Environment
    steps: list[StepPreview]
    errors: dict[str, list[str]]


def _secret_forms(secrets: list[str]) -> list[str]:
    forms: set[str] = set()
    for secret in secrets:
        forms.add(secret)
        if len(secret) < 4:
            continue  # derived forms of a tiny secret would mask half the text
        forms |= {
            secret,
            json.dumps(secret, ensure_ascii=False)[1:-1],
            json.dumps(secret)[1:-1],
            base64.b64encode(secret.encode()).decode("ascii"),
            urllib.parse.quote(secret, safe=""),
            secret.lower(),
            secret.upper(),
            secret.strip(),
        }
    # Longest first, so a secret containing another is masked whole.
    return sorted((f for f in forms if f), key=len, reverse=True)


def mask(data: Any, secrets: list[str]) -> Any:
    """``data`` with every sensitive value (and its JSON-escaped, base64, URI-escaped and
    case-changed forms) replaced by a mask, in every string and dict key."""
    forms = _secret_forms(secrets)
    if not forms:
        return data

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            for form in forms:
                if form in node:
                    node = node.replace(form, MASK)
            return node
        if isinstance(node, dict):
            return {walk(k): walk(v) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [walk(v) for v in node]
        return node

    return walk(data)


def _newest_package(package: dict, feeds: dict[int, Feed]) -> PackageInfo:
    from feeds.services import feed_image_reference, feed_versions

    feed = feeds[package["feed"]]
    versions = feed_versions(feed, package["package_id"])
    if not versions:
        raise LookupError(f"Feed {feed.name} has no versions of {package['package_id']}.")
    newest = versions[0]
    return PackageInfo(
        package_id=package["package_id"],
        version=newest.version,
        image=feed_image_reference(feed, package["package_id"], tag=newest.tag),
        digest=newest.digest or "",
        feed_id=feed.slug,
    )


def process_preview_require(user, project: Project, environment: Environment) -> None:
    """A preview shows an environment's values: it needs the deployer (or project-editor) role
    there, like reading its scoped variables."""
    access = access_for(user)
    if not access.allows(Action.EDIT, project, environment):
        access.require(Action.DEPLOY, project, environment, write=False)


def process_preview(*, project: Project, environment: Environment) -> ProcessPreview:
    """The requests each step would send to ``environment`` with the newest package versions.

    Registry failures propagate (``RegistryError``: 404/502); everything wrong with the
    project itself is collected in ``errors`` as ``{path: [messages]}``.
    """
    from feeds.registries import RegistryNotFound

    process = process_for(project)
    specs = variable_specs(project)
    values = variables_resolve(specs, environment.pk) | system_variables(
        project=project,
        environment=environment,
        release_number=PREVIEW_RELEASE_NUMBER,
        deployment_id=PREVIEW_DEPLOYMENT_ID,
    )
    secrets = secrets_to_mask(specs, values, [step["properties"] for step in process.steps])
    feeds = {f.pk: f for f in Feed.objects.select_related("account")}
    errors: dict[str, list[str]] = {}
    previews = []
    for index, step in enumerate(process.steps):
        at = f"steps[{index}]"
        preview = StepPreview(name=step["name"], type=step["type"])
        previews.append(preview)
        step_type = REGISTRY.get(step["type"])
        if step_type is None:
            errors.setdefault(f"{at}.type", []).append(f"Unknown step type '{step['type']}'.")
            continue
        packages: dict[str, PackageInfo] = {}
        for pindex, package in enumerate(step["packages"]):
            try:
                packages[package["name"]] = _newest_package(package, feeds)
            except (LookupError, KeyError, RegistryNotFound) as exc:
                message = str(exc) if not isinstance(exc, KeyError) else "The feed was deleted."
                errors.setdefault(f"{at}.packages[{pindex}]", []).append(message)
        preview.packages = {ref: vars(info) for ref, info in packages.items()}
        if len(packages) < len(step["packages"]):
            continue
        try:
            preview.plan = step_type.preview(step["properties"], values, packages)
        except SubstitutionError as exc:
            for key, messages in exc.field_errors(f"{at}.properties").items():
                errors.setdefault(key, []).extend(messages)
        except StepValidationError as exc:
            for key, messages in exc.errors.items():
                errors.setdefault(f"{at}.properties.{key}", []).extend(messages)
    for preview in previews:
        preview.plan = mask(preview.plan, secrets)
        preview.packages = mask(preview.packages, secrets)
    return ProcessPreview(environment=environment, steps=previews, errors=mask(errors, secrets))
