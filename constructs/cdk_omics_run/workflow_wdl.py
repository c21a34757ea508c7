"""What a WDL workflow declares, read with miniwdl (a real WDL parser): its inputs, and its task images.

miniwdl is an optional dependency (``pip install cdk-omics-run[wdl]``). Without it, or for a
definition it cannot read, ``read_wdl`` answers None and HealthOmics derives the parameter
template itself, as it does for Nextflow and CWL (user guide, "Parameter template files for
HealthOmics workflows": without a template, HealthOmics generates one from the definition).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

# WorkflowParameter's description: at most 256 characters (botocore's model).
DESCRIPTION_LIMIT = 256
# The runtime keys that name a task's container (WDL 1.0 "docker"; WDL 1.1 adds "container").
IMAGE_KEYS = ("docker", "container")


@dataclass(frozen=True)
class WdlDeclarations:
    """A WDL workflow's top-level inputs as a HealthOmics parameter template, and the images its tasks name."""

    parameter_template: dict[str, dict[str, Any]]
    images: tuple[str, ...]


class WdlUnreadable(Exception):
    """miniwdl refused the definition; the message is its own."""


def read_wdl(main: Path) -> WdlDeclarations | None:
    """The declarations of the WDL workflow at ``main`` (imports resolved from its folder).

    None when miniwdl is not installed or the document has no workflow; WdlUnreadable when
    miniwdl cannot parse or type-check it.
    """
    try:
        # Imported here, not at the top: miniwdl is optional, only apps with WDL workflows need it.
        import WDL
    except ImportError:
        return None
    try:
        document = WDL.load(str(main), path=[str(main.parent)])
    except Exception as error:  # noqa: BLE001 - miniwdl raises many error types, all of them "unreadable"
        raise WdlUnreadable(f"{type(error).__name__}: {error}") from None
    workflow = document.workflow
    if workflow is None:
        return None
    return WdlDeclarations(_parameter_template(workflow), tuple(sorted(_images(document))))


def _parameter_template(workflow: Any) -> dict[str, dict[str, Any]]:
    """``{input: {"description": ..., "optional": bool}}``: optional when its type is (``File?``), or with a default."""
    meta = workflow.parameter_meta or {}
    template = {}
    for declaration in workflow.inputs or []:
        described = meta.get(declaration.name)
        if isinstance(described, dict):
            described = described.get("description") or described.get("help")
        text = described if isinstance(described, str) else ""
        entry: dict[str, Any] = {"optional": bool(declaration.type.optional or declaration.expr is not None)}
        if text:  # the model's pattern refuses an empty description
            entry["description"] = text[:DESCRIPTION_LIMIT]
        template[declaration.name] = entry
    return template


def _images(document: Any) -> set[str]:
    """Literal images of tasks' runtime sections, followed one step through inputs and call bindings."""
    images: set[str] = set()
    # (task, input name) -> the task input its runtime image names
    named_inputs: set[tuple[str, str]] = set()
    for task in document.tasks:
        expression = next((task.runtime[key] for key in IMAGE_KEYS if key in task.runtime), None)
        literal = _literal(expression)
        if literal is not None:
            images.add(literal)
        elif _name_of(expression) is not None:
            for declaration in task.inputs or []:
                if declaration.name == _name_of(expression):
                    default = _literal(declaration.expr)
                    if default is not None:
                        images.add(default)
                    named_inputs.add((task.name, declaration.name))
    workflow_defaults = {d.name: _literal(d.expr) for d in (document.workflow.inputs or [])}
    for call in _calls(document.workflow.body):
        for name, binding in call.inputs.items():
            if (call.callee.name, name) not in named_inputs:
                continue
            literal = _literal(binding)
            if literal is None and _name_of(binding) is not None:
                literal = workflow_defaults.get(str(_name_of(binding)))
            if literal is not None:
                images.add(literal)
    return images


def _calls(body: list[Any]) -> list[Any]:
    import WDL

    calls = []
    for node in body:
        if isinstance(node, WDL.Tree.Call):
            calls.append(node)
        elif isinstance(node, (WDL.Tree.Scatter, WDL.Tree.Conditional)):
            calls.extend(_calls(node.body))
    return calls


def _name_of(expression: Any) -> str | None:
    """The name an expression reads (``image``, parsed as a Get of an Ident), else None."""
    import WDL

    if isinstance(expression, WDL.Expr.Get):
        expression = expression.expr
    return expression.name if isinstance(expression, WDL.Expr.Ident) else None


def _literal(expression: Any) -> str | None:
    """The text of a string expression without placeholders, else None."""
    import WDL

    if not isinstance(expression, WDL.Expr.String):
        return None
    parts = expression.parts[1:-1]  # between the quotes
    texts = [part for part in parts if isinstance(part, str)]
    return "".join(texts) if len(texts) == len(parts) else None


__all__ = ["WdlDeclarations", "WdlUnreadable", "read_wdl"]
