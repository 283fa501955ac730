"""The page of a project's variables: a grid posted whole.

The same service as the API decides (``variable_set_replace``); errors come back under the
input names they concern (``variables[2].name``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from deployserver.core.access import AccessDenied, Action
from deployserver.core.models import AwsAccount

from ..models import Variable
from ..selectors import environment_list, project_visible
from ..variables import (
    VariableInput,
    VariablesConflict,
    variable_rows,
    variable_set_replace,
    variables_edit_refusal,
    variables_editable,
    variables_restricted,
)


def _rows_from_post(post) -> list[dict]:
    rows = []
    for key in post.getlist("row"):
        prefix = f"v-{key}-"
        raw_id = post.get(prefix + "id", "")
        type_ = post.get(prefix + "type", Variable.Type.TEXT)
        value = post.get(prefix + "value")  # absent on a row shown read-only: kept as it is
        rows.append(
            {
                "id": int(raw_id) if raw_id.isdigit() else None,
                "name": post.get(prefix + "name", ""),
                "type": type_,
                # An untouched password box on a stored secret means "keep it".
                "value": None
                if raw_id and type_ == Variable.Type.SENSITIVE and not value
                else value,
                "environments": post.getlist(prefix + "env"),
            }
        )
    return rows


@login_required
def variables_edit(request, slug):
    project = project_visible(request.user, slug)
    refusal = variables_edit_refusal(request.user, project)
    errors: dict[str, list[str]] = {}
    status = 200
    version = project.variables_version
    if request.method == "POST":
        if refusal:
            raise AccessDenied(refusal, user=request.user, action=Action.EDIT, project=project)
        rows = _rows_from_post(request.POST)
        raw_version = request.POST.get("version", "")
        try:
            variable_set_replace(
                project=project,
                rows=[VariableInput(**row) for row in rows],
                user=request.user,
                version=int(raw_version) if raw_version.isdigit() else None,
            )
        except ValidationError as exc:
            errors, status = exc.message_dict, 400
        except VariablesConflict as exc:
            # What the user typed stays on the page (to copy); only a reload saves again.
            errors, status = {"variables": [str(exc)]}, 409
            version = int(raw_version) if raw_version.isdigit() else version
        else:
            messages.success(request, f"Saved {len(rows)} variable{'s' if len(rows) != 1 else ''}.")
            return redirect("project-variables", slug=project.slug)
    stored = variable_rows(
        project,
        variables_restricted(request.user, project),
        variables_editable(request.user, project),
    )
    if request.method == "POST":
        # A row the editor may not change is shown as it is stored, whatever came back.
        by_id = {row["id"]: row for row in stored if not row["editable"]}
        rows = [
            dict(by_id[row["id"]]) if row["id"] in by_id else {**row, "editable": True}
            for row in rows
        ]
    else:
        rows = stored
    for index, row in enumerate(rows):
        row["index"] = index
        row["errors"] = {
            field: errors.get(f"variables[{index}].{field}", [])
            for field in ("id", "name", "type", "value", "environments")
        }
    return render(
        request,
        "releases/variables.html",
        {
            "project": project,
            "rows": rows,
            "blank_row": {
                "index": "__row__",
                "type": "text",
                "environments": [],
                "errors": {},
                "editable": True,
            },
            "environments": list(environment_list()),
            "accounts": list(AwsAccount.objects.order_by("name").values_list("slug", "name")),
            "types": Variable.Type.choices,
            "set_errors": errors.get("variables", []),
            "has_errors": bool(errors),
            "can_edit": not refusal,
            "refusal": refusal,
            "version": version,
        },
        status=status,
    )
