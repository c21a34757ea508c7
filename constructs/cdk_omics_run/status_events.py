"""EventBridge rules on HealthOmics status-change events (source ``aws.omics``), for runs and batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_events as events
from constructs import Construct


def status_change_rule(
    scope: Construct,
    id: str,
    *,
    detail_type: str,
    detail: dict[str, Any],
    statuses: Sequence[str] | None,
    target: events.IRuleTarget | None,
    description: str,
) -> events.Rule:
    """A rule on ``detail_type`` events whose ``detail`` matches, optionally only for ``statuses``."""
    if statuses is not None:
        detail = {**detail, "status": list(statuses)}
    rule = events.Rule(
        scope,
        id,
        description=description,
        event_pattern=events.EventPattern(source=["aws.omics"], detail_type=[detail_type], detail=detail),
    )
    if target is not None:
        rule.add_target(target)
    return rule
