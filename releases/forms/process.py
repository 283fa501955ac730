"""The process and variables editors' form shapes: posted field names ↔ nested data.

Inputs are named by the same paths the services report errors under
(``steps[0].properties.containers[1].port_mappings[0].container_port``), so an error lands next
to its field without translation tables. Rows added in the browser get fresh indexes; gaps are
closed when the form is read, and the page is re-rendered from what was read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..steps import Field, ListOf, Obj, StepType

_TOKEN = re.compile(r"\[(\d+)\]|\.?([A-Za-z_][A-Za-z0-9_]*)")


def _path_tokens(name: str) -> list[str | int] | None:
    tokens: list[str | int] = []
    pos = 0
    while pos < len(name):
        match = _TOKEN.match(name, pos)
        if not match or match.end() == pos:
            return None
        tokens.append(int(match.group(1)) if match.group(1) is not None else match.group(2))
        pos = match.end()
    return tokens


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(isinstance(k, int) for k in node):
            return [_listify(node[k]) for k in sorted(node)]
        return {k: _listify(v) for k, v in node.items()}
    return node


def nested_from_post(post, root: str) -> Any:
    """The posted fields under ``root`` as nested dicts and lists (last value of a name wins,
    so a hidden ``false`` before a checkbox reads as the checkbox)."""
    tree: dict = {}
    for name in post:
        if not name.startswith(root):
            continue
        tokens = _path_tokens(name)
        if not tokens or tokens[0] != root:
            continue
        values = post.getlist(name)
        node: Any = tree
        for token in tokens[:-1]:
            node = node.setdefault(token, {})
            if not isinstance(node, dict):
                break
        else:
            node[tokens[-1]] = values[-1] if values else ""
    return _listify(tree).get(root, [])


# View model for the editor -----------------------------------------------------------------


@dataclass
class Node:
    """One field of the editor: a scalar input, an object's fieldset or a list of items."""

    kind: str
    key: str
    name: str
    label: str = ""
    help: str = ""
    value: Any = None
    errors: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    required: bool = False
    children: list[Node] = field(default_factory=list)
    items: list[Node] = field(default_factory=list)
    blank: Node | None = None
    placeholder: str = ""
    group: str = ""

    @property
    def scalars(self) -> list[Node]:
        return [c for c in self.children if c.kind not in ("object", "list")]

    @property
    def scalar_groups(self) -> list[tuple[str, list[Node]]]:
        """Scalars in runs of one group, in schema order."""
        runs: list[tuple[str, list[Node]]] = []
        for child in self.scalars:
            if runs and runs[-1][0] == child.group:
                runs[-1][1].append(child)
            else:
                runs.append((child.group, [child]))
        return runs

    @property
    def groups(self) -> list[Node]:
        return [c for c in self.children if c.kind in ("object", "list")]

    @property
    def is_checked(self) -> bool:
        return self.value is True or str(self.value).lower() == "true"

    @property
    def display(self) -> str:
        return "" if self.value is None else str(self.value)


def build_node(spec: Field, key: str, value: Any, path: str, errors: dict, depth: int = 0) -> Node:
    node = Node(
        kind=spec.kind,
        key=key,
        name=path,
        label=spec.label or key.replace("_", " ").capitalize(),
        help=spec.help,
        errors=errors.get(path, []),
        required=spec.required,
        choices=list(getattr(spec, "choices", ())),
        group=spec.group,
    )
    if isinstance(spec, Obj):
        value = value if isinstance(value, dict) else {}
        node.children = [
            build_node(f, name, value.get(name), f"{path}.{name}", errors, depth)
            for name, f in spec.fields.items()
        ]
    elif isinstance(spec, ListOf):
        items = value if isinstance(value, list) else []
        node.items = [
            build_node(spec.item, key, item, f"{path}[{i}]", errors, depth + 1)
            for i, item in enumerate(items)
        ]
        node.placeholder = f"__i{depth}__"
        node.blank = build_node(spec.item, key, None, f"{path}[{node.placeholder}]", {}, depth + 1)
    else:
        node.value = spec.default if value is None else value
    return node


@dataclass
class StepView:
    """One step of the editor: its name, package references and property tree."""

    prefix: str
    name: str
    type: str
    label: str
    packages: list[dict]
    properties: Node
    errors: dict[str, list[str]]

    @property
    def name_errors(self) -> list[str]:
        return self.errors.get(f"{self.prefix}.name", []) + self.errors.get(self.prefix, [])

    @property
    def blank_package(self) -> dict:
        return {"prefix": f"{self.prefix}.packages[__pkg__]", "name": "", "feed": "",
                "package_id": "", "errors": {}}  # fmt: skip


def step_view(step_type: StepType, step: dict, prefix: str, errors: dict) -> StepView:
    packages = []
    for index, package in enumerate(step.get("packages") or []):
        at = f"{prefix}.packages[{index}]"
        packages.append(
            {
                "prefix": at,
                "name": package.get("name", ""),
                "feed": str(package.get("feed") or ""),
                "package_id": package.get("package_id", ""),
                "errors": {k: errors.get(f"{at}.{k}", []) for k in ("name", "feed", "package_id")},
                "other_errors": errors.get(at, []),
            }
        )
    properties = build_node(
        step_type.schema, "properties", step.get("properties") or {}, f"{prefix}.properties", errors
    )
    return StepView(
        prefix=prefix,
        name=step.get("name", ""),
        type=step_type.type,
        label=step_type.label,
        packages=packages,
        properties=properties,
        errors=errors,
    )
