"""A run's literal parameters checked at synth against its workflow's parameter template.

The template is the one the workflow was given, or the one derived from its WDL inputs
(``workflow_wdl``). HealthOmics checks a run's parameters against it when the run starts
(user guide, "Parameter template files for HealthOmics workflows": each parameter is required
unless marked optional); checking here fails the synth instead, naming the input.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from constructs import Construct

from cdk_omics_run.arguments import ArgumentError
from cdk_omics_run.tokens import is_token


def check_parameters(
    scope: Construct, template: Mapping[str, Mapping[str, Any]] | None, workflow_path: str, document: Any
) -> None:
    """Refuses parameters the template does not declare, and required inputs they leave out.

    ``document``: the Parameters property (JSON text); a token, or no template, is not checked.
    """
    if template is None or (document is not None and (not isinstance(document, str) or is_token(document))):
        return
    given: Mapping[str, Any] = {} if document is None else json.loads(document)
    names = list(template)
    for name in given:
        if is_token(name) or name in template:
            continue
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ArgumentError(
            f"{scope.node.path}: argument parameters: got {name!r}, which workflow {workflow_path} does not declare; "
            f"allowed: {', '.join(names)}{hint}"
        )
    missing = [name for name, declared in template.items() if not declared.get("optional") and name not in given]
    if missing:
        raise ArgumentError(
            f"{scope.node.path}: argument parameters: missing {', '.join(repr(m) for m in missing)}, required by "
            f"workflow {workflow_path}; allowed: a value for every input not marked optional"
        )


__all__ = ["check_parameters"]
