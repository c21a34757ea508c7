"""A run's literal parameters checked at synth against its workflow's parameter template.

The template is the one the workflow was given, or the one derived from its WDL inputs
(``workflow_wdl``). HealthOmics checks a run's parameters against it when the run starts
(user guide, "Parameter template files for HealthOmics workflows": each parameter is required
unless marked optional); checking here fails the synth instead, naming the input.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from constructs import Construct

from cdk_omics_run.arguments import ArgumentError
from cdk_omics_run.tokens import is_token

Template = Mapping[str, Mapping[str, Any]]


def check_parameters(scope: Construct, template: Template | None, workflow_path: str, document: Any) -> None:
    """Refuses parameters the template does not declare, and required inputs they leave out.

    ``document``: the Parameters property (JSON text); a token, or no template, is not checked.
    """
    given = _literal(document)
    if template is None or given is None:
        return
    _check(scope, "parameters", template, workflow_path, given, require=True)


def check_batch_parameters(
    scope: Construct,
    template: Template | None,
    workflow_path: str,
    document: Any,
    run_parameters: Sequence[Mapping[str, Any] | None],
) -> None:
    """Each run of a batch: its parameters merged over the batch's (the run's keys win, as HealthOmics
    merges them). Without per-run settings (``s3_uri_settings``), only the batch's names are checked."""
    default = _literal(document)
    if template is None or default is None:
        return
    if not run_parameters:
        _check(scope, "parameters", template, workflow_path, default, require=False)
    for index, own in enumerate(run_parameters):
        merged = {**default, **(own or {})}
        _check(scope, f"runs[{index}].parameters", template, workflow_path, merged, require=True)


def _literal(document: Any) -> Mapping[str, Any] | None:
    if document is None:
        return {}
    if not isinstance(document, str) or is_token(document):
        return None
    parsed: Mapping[str, Any] = json.loads(document)
    return parsed


def _check(
    scope: Construct, argument: str, template: Template, workflow_path: str, given: Mapping[str, Any], require: bool
) -> None:
    names = list(template)
    for name in given:
        if is_token(name) or name in template:
            continue
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ArgumentError(
            f"{scope.node.path}: argument {argument}: got {name!r}, which workflow {workflow_path} does not declare; "
            f"allowed: {', '.join(names)}{hint}"
        )
    missing = [name for name, declared in template.items() if not declared.get("optional") and name not in given]
    if require and missing:
        raise ArgumentError(
            f"{scope.node.path}: argument {argument}: missing {', '.join(repr(m) for m in missing)}, required by "
            f"workflow {workflow_path}; allowed: a value for every input not marked optional"
        )


__all__ = ["check_batch_parameters", "check_parameters"]
