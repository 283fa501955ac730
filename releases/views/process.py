"""Pages for a project's deployment process: the editor and the preview.

The editor posts its whole state, the same service as the API decides (``process_update``),
and errors come back under the input names they concern
(``steps[0].properties.containers[1].image``).
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from deployserver.core.access import Action, access_for
from deployserver.core.models import AwsAccount
from feeds.models import Feed
from feeds.registries import RegistryError

from ..forms.process import nested_from_post, step_view
from ..models import Project, Variable
from ..process import (
    ProcessConflict,
    process_for,
    process_preview,
    process_preview_require,
    process_update,
)
from ..selectors import environment_list, project_visible
from ..steps import REGISTRY

ECS_STEP = "aws-ecs-deploy"
# What "Add a step" starts from, per step type: a package reference and its container.
BLANK_STEPS = {
    "aws-ecs-deploy": {"package": "web", "properties": {}},
    "aws-ecs-run-task": {"package": "migrate", "properties": {"command": ""}},
}


def _editor_context(project: Project, steps: list, errors: dict, version: int) -> dict:
    step_type = REGISTRY.get(ECS_STEP)
    views = [
        step_view(REGISTRY.get(s.get("type")) or step_type, s, f"steps[{i}]", errors)
        for i, s in enumerate(steps)
        if isinstance(s, dict)
    ]
    blanks = [
        step_view(
            REGISTRY.get(type_),
            {
                "name": "",
                "packages": [{"name": blank["package"]}],
                "properties": {
                    **blank["properties"],
                    "containers": [
                        {
                            "name": blank["package"],
                            "image": f"#{{Package[{blank['package']}].Image}}",
                        }
                    ],
                },
            },
            "steps[__step__]",
            {},
        )
        for type_, blank in BLANK_STEPS.items()
        if REGISTRY.get(type_) is not None
    ]
    names = sorted(
        set(Variable.objects.filter(project=project).values_list("name", flat=True)), key=str.lower
    )
    refs = sorted(
        {
            p["name"]
            for s in steps
            if isinstance(s, dict)
            for p in s.get("packages") or []
            if isinstance(p, dict) and p.get("name")
        }
    )
    suggestions = [f"#{{{n}}}" for n in names] + [f"#{{Package[{r}].Image}}" for r in refs]
    suggestions += ["#{Project.Name}", "#{Environment.Name}", "#{Release.Number}"]
    listed = {k: v for k, v in errors.items() if not k.startswith("steps[")}
    return {
        "project": project,
        "steps": views,
        "blank_steps": blanks,
        "version": version,
        "feeds": list(Feed.objects.order_by("name").values("id", "name", "slug")),
        "accounts": list(AwsAccount.objects.order_by("name").values_list("slug", flat=True)),
        "suggestions": suggestions,
        "environments": list(environment_list()),
        "errors": errors,
        "other_errors": listed,
        "error_count": sum(len(v) for v in errors.values()),
    }


@login_required
def process_edit(request, slug):
    project = project_visible(request.user, slug)
    process = process_for(project)
    refusal = access_for(request.user).reason(Action.EDIT, project)
    errors: dict[str, list[str]] = {}
    steps = process.steps
    if request.method == "POST":
        if refusal:
            access_for(request.user).require(Action.EDIT, project)
        steps = nested_from_post(request.POST, "steps")
        raw_version = request.POST.get("version", "")
        try:
            process_update(
                project=project,
                steps=steps,
                user=request.user,
                version=int(raw_version) if raw_version.isdigit() else None,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        except ProcessConflict as exc:
            errors = {"process": [str(exc)]}
        else:
            messages.success(request, "Deployment process saved.")
            return redirect("project-process", slug=project.slug)
    context = _editor_context(project, steps, errors, process.version)
    context["can_edit"] = not refusal
    context["refusal"] = refusal
    return render(request, "releases/process.html", context, status=400 if errors else 200)


@login_required
def process_preview_page(request, slug):
    project = project_visible(request.user, slug)
    environments = list(environment_list())
    env_slug = request.GET.get("environment") or (environments[0].slug if environments else "")
    environment = next((e for e in environments if e.slug == env_slug), None)
    context = {"project": project, "environments": environments, "environment": environment}
    status = 200
    if environment is None and env_slug:
        context["problem"] = f"No environment '{env_slug}'."
        status = 404
    elif environment is not None:
        process_preview_require(request.user, project, environment)
        try:
            preview = process_preview(project=project, environment=environment)
        except RegistryError as exc:
            context["problem"] = f"The feed could not be read: {exc}"
            status = 502
        else:
            context["preview"] = preview
            context["steps"] = [
                {
                    "step": s,
                    "requests": [
                        (name, json.dumps(body, indent=2))
                        for name, body in (s.plan.get("requests") or {}).items()
                    ],
                }
                for s in preview.steps
            ]
    return render(request, "releases/process_preview.html", context, status=status)
