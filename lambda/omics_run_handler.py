"""Lambda entry point of the provider: the wiring, nothing else.

Lambda loads this module as ``omics_run_handler.handler``. CloudFormation's
requests go through crhelper's public decorators (Custom::OmicsRun,
Custom::OmicsRunBatch, their Custom::OmicsRunResult, a batch's
Custom::OmicsRunBatchOutputsPart, Custom::OmicsRunBatchOutputs and
Custom::OmicsRunBatchSettings, and Custom::OmicsWorkflow); the wake-ups of
waits arrive as SQS batches from the provider's event source mapping.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from crhelper import CfnResource

# crhelper's defaults log at DEBUG, which prints the presigned ResponseURL,
# and sleep 120 s on every Delete; neither is wanted here.
SLEEP_ON_DELETE_SECONDS = 2

logger = logging.getLogger(__name__)

helper = CfnResource(
    json_logging=False,
    log_level="INFO",
    boto_level="CRITICAL",
    sleep_on_delete=SLEEP_ON_DELETE_SECONDS,
)

try:
    from botocore.exceptions import ClientError

    # A batch's, a workflow's, a run result's and the cohort files' modules load with their first
    # request (_loaded): a cold start that serves a run does not pay for their import.
    from omics_run import lifecycle, resource_types, stack_resource, status_events, waiting
    from omics_run.client import (
        omics_client,
        s3_client,
        set_time_budget,
        wake_cloudformation_client,
        wake_omics_client,
    )
    from omics_run.lifecycle import CloudFormationEvent
    from omics_run.wait_transport import put_signal, schedule_wake, send_event_back
except Exception as error:  # noqa: BLE001 - crhelper answers FAILED instead of leaving the stack waiting
    helper.init_failure(error)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    """The Lambda handler: an SQS batch of wake-ups, or a CloudFormation request that crhelper answers."""
    if "Records" in event:
        return wake_up(event, context)
    helper(event, context)
    return None


def _answer(outcome: lifecycle.Outcome) -> str:
    helper.Data.update(outcome.attributes)
    return outcome.physical_resource_id


def _guarded(event: CloudFormationEvent, context: Any, step: Callable[[], lifecycle.Outcome]) -> str:
    """Runs one lifecycle step so that every failure answers with the right physical ID and our own Reason.

    The physical ID is set before any work, so crhelper's timeout answer
    carries it too: the event's own for Update and Delete, and for Create a
    placeholder that Delete knows is not a run. A failure that concerns a run
    that exists answers with that run's ID, so CloudFormation's rollback or
    cleanup applies the delete policy to it.
    """
    set_time_budget(lambda: context.get_remaining_time_in_millis() / 1000)
    helper.PhysicalResourceId = event.get("PhysicalResourceId") or lifecycle.not_started_physical_id(event)
    try:
        outcome = step()
        helper.PhysicalResourceId = outcome.physical_resource_id
        if outcome.wait is not None:
            schedule_wake(outcome.wait, outcome.wait.next_delay(time.time(), waiting.spread()))
        return _answer(outcome)
    except lifecycle.ResourceFailure as failure:
        if failure.physical_resource_id:
            helper.PhysicalResourceId = failure.physical_resource_id
        raise
    except ClientError as error:
        raise lifecycle.ResourceFailure(lifecycle.service_failure_reason(event, error.operation_name, error)) from None
    except Exception as error:  # noqa: BLE001 - any failure must answer with our physical ID and Reason
        raise lifecycle.ResourceFailure(lifecycle.unexpected_failure_reason(event, error)) from None


def _loaded(name: str) -> ModuleType:
    """The ``omics_run`` module that serves a resource type, imported on its first request."""
    return importlib.import_module(f"omics_run.{name}")


def _is_result(event: CloudFormationEvent) -> bool:
    return event.get("ResourceType") == resource_types.RESULT


def _batch_output_step(event: CloudFormationEvent, context: Any) -> Callable[[], lifecycle.Outcome] | None:
    """Create and Update of a batch's outputs sheet or of the settings built from it; None for other types."""
    resource_type = event.get("ResourceType")
    if resource_type not in resource_types.BATCH_FILES:
        return None
    batch_outputs = _loaded("batch_outputs")
    if resource_type == resource_types.BATCH_OUTPUTS_PART:
        seconds_left = _seconds_left(context)
        return lambda: batch_outputs.write_part(event, omics_client(), s3_client(), seconds_left)
    if resource_type == resource_types.BATCH_OUTPUTS:
        return lambda: batch_outputs.write_sheet(event, s3_client())
    return lambda: batch_outputs.write_settings(event, s3_client())


def _lifecycle_of(event: CloudFormationEvent) -> ModuleType:
    """The module that serves the event's resource: ``batch_lifecycle`` for a batch, ``lifecycle`` for a run."""
    return _loaded("batch_lifecycle") if event.get("ResourceType") == resource_types.BATCH else lifecycle


def _is_workflow(event: CloudFormationEvent) -> bool:
    return event.get("ResourceType") == resource_types.WORKFLOW


def _seconds_left(context: Any) -> Callable[[], float]:
    return lambda: float(context.get_remaining_time_in_millis()) / 1000


@helper.create
def create(event: CloudFormationEvent, context: Any) -> str:
    if (step := _batch_output_step(event, context)) is not None:
        return _guarded(event, context, step)
    if _is_result(event):
        return _guarded(event, context, lambda: _loaded("result").read(event, omics_client(), s3_client))
    if _is_workflow(event):
        left, workflows = _seconds_left(context), _loaded("workflow_lifecycle")
        return _guarded(event, context, lambda: workflows.create(event, omics_client(), seconds_left=left))
    return _guarded(event, context, lambda: _lifecycle_of(event).create(event, omics_client()))


@helper.update
def update(event: CloudFormationEvent, context: Any) -> str:
    if (step := _batch_output_step(event, context)) is not None:
        return _guarded(event, context, step)
    if _is_result(event):
        return _guarded(event, context, lambda: _loaded("result").read(event, omics_client(), s3_client))
    if _is_workflow(event):
        left, workflows = _seconds_left(context), _loaded("workflow_lifecycle")
        return _guarded(event, context, lambda: workflows.update(event, omics_client(), seconds_left=left))
    return _guarded(event, context, lambda: _lifecycle_of(event).update(event, omics_client()))


@helper.delete
def delete(event: CloudFormationEvent, context: Any) -> str:
    if event.get("ResourceType") in resource_types.BATCH_FILES:
        return _guarded(event, context, lambda: _loaded("batch_outputs").forget(event))
    if _is_result(event):
        return _guarded(event, context, lambda: _loaded("result").forget(event))
    if _is_workflow(event):
        return _guarded(event, context, lambda: _loaded("workflow_lifecycle").delete(event, omics_client()))
    seconds_left = _seconds_left(context)
    return _guarded(
        event, context, lambda: _lifecycle_of(event).delete(event, omics_client(), seconds_left=seconds_left)
    )


def wake_up(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One SQS batch: each record is one wake of one waiting run or batch, or a run's status-change event.

    A record whose wake raised is reported as a batch item failure, so SQS
    delivers it again (and, past the queue's receive limit, to its dead-letter
    queue); the others are deleted by the event source mapping.
    """
    set_time_budget(lambda: context.get_remaining_time_in_millis() / 1000)
    failures = []
    for record in event["Records"]:
        try:
            body = json.loads(record["body"])
            if status_events.is_status_event(body):
                answer = status_events.on_status_change(body, _event_services())
                logger.info("status change of run %s: %s", body["detail"].get("runId"), answer)
                continue
            message = waiting.WaitMessage(**body)
            outcome = waiting.wake(message, _wake_services(message))
            logger.info("wake of %s %s: %s", message.kind, message.run_id, outcome)
        except Exception as error:  # noqa: BLE001 - one bad record must not fail the others
            logger.error("wake failed, SQS will deliver it again: %s: %s", type(error).__name__, error)
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def _event_services() -> status_events.EventServices:
    return status_events.EventServices(
        omics=wake_omics_client(),
        cloudformation=wake_cloudformation_client(),
        signal=put_signal,
        reason=lifecycle.resource_reason,
        retry_later=send_event_back,
    )


def _wake_services(message: waiting.WaitMessage) -> waiting.WakeServices:
    return waiting.WakeServices(
        omics=wake_omics_client(),
        schedule=schedule_wake,
        signal=put_signal,
        reason=lambda text: lifecycle.resource_reason(message.logical_resource_id, text),
        stack_let_go=lambda gone: stack_resource.stack_let_go(
            wake_cloudformation_client(), gone.stack_id, gone.logical_resource_id, gone.run_id
        ),
    )
