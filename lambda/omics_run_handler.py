"""Lambda entry point of the Custom::OmicsRun provider: the crhelper wiring, nothing else.

Lambda loads this module as ``omics_run_handler.handler``.
"""
from __future__ import annotations

from typing import Any

from crhelper import CfnResource

# crhelper's defaults log at DEBUG, which prints the presigned ResponseURL,
# and sleep 120 s on every Delete; neither is wanted here.
SLEEP_ON_DELETE_SECONDS = 2

helper = CfnResource(
    json_logging=False,
    log_level="INFO",
    boto_level="CRITICAL",
    sleep_on_delete=SLEEP_ON_DELETE_SECONDS,
)

try:
    from omics_run import lifecycle
    from omics_run.client import omics_client
except Exception as error:  # noqa: BLE001 - crhelper answers FAILED instead of leaving the stack waiting
    helper.init_failure(error)


def _answer(outcome: "lifecycle.Outcome") -> str:
    helper.Data.update(outcome.attributes)
    return outcome.physical_resource_id


@helper.create
def create(event: dict[str, Any], context: Any) -> str:
    return _answer(lifecycle.create(event, omics_client()))


@helper.update
def update(event: dict[str, Any], context: Any) -> str:
    return _answer(lifecycle.update(event, omics_client()))


@helper.delete
def delete(event: dict[str, Any], context: Any) -> str:
    return _answer(lifecycle.delete(event, omics_client()))


def handler(event: dict[str, Any], context: Any) -> None:
    """The Lambda handler: crhelper answers CloudFormation's ResponseURL."""
    helper(event, context)
