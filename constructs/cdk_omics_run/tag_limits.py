"""The tag limit counted where CDK adds tags: after ``Tags.of(...)`` has reached the run.

``tags=`` is checked as it is given, but ``Tags.of(scope).add(...)`` works
through an aspect that runs only at synth, just before validation. So the
tags a run will send are counted in a validation, which CDK runs after its
aspects: forty declared tags and eleven from ``Tags.of(stack)`` are refused
at synth, as forty-four declared ones are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsii
from aws_cdk import Aspects, Tag, TagManager
from constructs import Construct, IValidation

from cdk_omics_run.handler_source import tag_rules
from cdk_omics_run.tokens import is_token

# How many keys an error lists per source before it says how many more there are.
LISTED_KEYS = 5


def check_tags_after_propagation(
    construct: Construct, tag_manager: TagManager, explicit: Any, resource_type: str
) -> None:
    """Adds a validation that the tags ``construct`` sends, its own and those CDK's tagging adds, keep the rules.

    ``explicit``: the tags given as an argument (they win over CDK's of the same key).

    Example::

        check_tags_after_propagation(run, run.tags, {"team": "genomics"}, "Custom::OmicsRun")
    """
    construct.node.add_validation(_TagRules(construct, tag_manager, explicit, resource_type))


@jsii.implements(IValidation)
class _TagRules:
    def __init__(self, construct: Construct, tag_manager: TagManager, explicit: Any, resource_type: str) -> None:
        self._construct = construct
        self._tag_manager = tag_manager
        self._explicit = explicit
        self._resource_type = resource_type

    def validate(self) -> list[str]:
        if is_token(self._explicit):
            return []
        explicit: Mapping[str, Any] = self._explicit or {}
        propagated = {k: v for k, v in (self._tag_manager.render_tags() or {}).items() if k not in explicit}
        if not propagated:
            return []  # the argument alone was checked as it was given
        problem = tag_rules().declared_tags_problem({**propagated, **explicit})
        if problem is None:
            return []
        where, text = problem
        sources = ([f"tags= ({_keys(list(explicit))})"] if explicit else []) + self._origins(list(propagated))
        return [
            f"argument {where.replace('Tags', 'tags', 1)}, with those Tags.of(...) adds: {text}. "
            f"They come from {'; '.join(sources)}: drop some, or keep them off this resource with "
            f"Tags.of(...).add(key, value, exclude_resource_types=[{self._resource_type!r}])"
        ]

    def _origins(self, keys: list[str]) -> list[str]:
        """Where each propagated key was added: the nearest scope whose Tags.of(...) added it."""
        added_at: dict[str, str] = {}
        for scope in self._construct.node.scopes:  # from the root down: the nearest scope wins
            for aspect in Aspects.of(scope).all:
                if isinstance(aspect, Tag) and aspect.key in keys:
                    added_at[aspect.key] = scope.node.path or "the app"
        # Listed from the app down, then what no scope above added.
        by_scope: dict[str, list[str]] = {scope: [] for scope in dict.fromkeys(added_at.values())}
        for key in keys:
            by_scope.setdefault(added_at.get(key, "a scope not above this resource"), []).append(key)
        ordered = sorted(by_scope.items(), key=lambda item: _depth(self._construct, item[0]))
        return [f"Tags.of({scope}) ({_keys(found)})" for scope, found in ordered]


def _depth(construct: Construct, path: str) -> int:
    """How far below the app the scope at ``path`` is (one past the construct for an unknown one)."""
    paths = [scope.node.path or "the app" for scope in construct.node.scopes]
    return paths.index(path) if path in paths else len(paths)


def _keys(keys: list[str]) -> str:
    shown = ", ".join(keys[:LISTED_KEYS])
    more = f" and {len(keys) - LISTED_KEYS} more" if len(keys) > LISTED_KEYS else ""
    return f"{len(keys)}: {shown}{more}"
