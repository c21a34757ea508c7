"""Lambda entry point of the Custom::OmicsRun provider: the crhelper wiring, nothing else.

Lambda loads this module as ``omics_run_handler.handler``.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from crhelper import CfnResource

# crhelper's defaults log at DEBUG, which prints the presigned ResponseURL,
# and sleep 120 s on every Delete; neither is wanted here.
SLEEP_ON_DELETE_SECONDS = 2


class SelfInvokingCfnResource(CfnResource):
    """crhelper whose polling hands over to a new invocation of this function.

    crhelper's own polling creates an EventBridge rule and a Lambda permission
    per waiting resource, named after the logical ID (which fails past 64
    characters), and grows the function's resource policy. Invoking the
    function again asynchronously needs neither, and leaves nothing behind.
    Only the transport is replaced: crhelper still decides when to answer.
    These three methods are crhelper 2.0 internals; the tests pin them.
    """

    def _poll_enabled(self) -> bool:
        # Only resources that started a run and asked to wait hold their answer.
        return WAIT_EVENT_KEY in self._event

    def _setup_polling(self) -> None:
        self._event["CrHelperData"] = self.Data
        self._event["CrHelperPoll"] = True
        hand_over(self._event, self._context)

    def _remove_polling(self) -> None:
        self._event.pop("CrHelperData", None)
        self.Data.pop("PhysicalResourceId", None)


helper = SelfInvokingCfnResource(
    json_logging=False,
    log_level="INFO",
    boto_level="CRITICAL",
    sleep_on_delete=SLEEP_ON_DELETE_SECONDS,
)

try:
    from botocore.exceptions import ClientError

    from omics_run import lifecycle
    from omics_run.client import lambda_client, omics_client, set_time_budget
    from omics_run.waiting import WAIT_EVENT_KEY
except Exception as error:  # noqa: BLE001 - crhelper answers FAILED instead of leaving the stack waiting
    WAIT_EVENT_KEY = "OmicsRunWait"
    helper.init_failure(error)


def hand_over(event: dict[str, Any], context: Any) -> None:
    """Invokes this function again, asynchronously, with the event of a wait in progress."""
    lambda_client().invoke(
        FunctionName=context.invoked_function_arn,
        InvocationType="Event",
        Payload=json.dumps(event).encode("utf-8"),
    )


def _answer(event: dict[str, Any], outcome: "lifecycle.Outcome") -> str:
    helper.Data.update(outcome.attributes)
    if outcome.wait is not None:
        event[WAIT_EVENT_KEY] = outcome.wait.to_event()
    return outcome.physical_resource_id


def _guarded(
    event: dict[str, Any], context: Any, step: Callable[[], Any], *, physical_id: str | None = None
) -> Any:
    """Runs one lifecycle step so that every failure answers with the right physical ID and our own Reason.

    The physical ID is set before any work, so crhelper's timeout answer
    carries it too: the event's own for Update and Delete, and for Create a
    placeholder that Delete knows is not a run. A failure that concerns a run
    that exists answers with that run's ID, so CloudFormation's rollback or
    cleanup applies the delete policy to it, as does ``physical_id``: the run
    a wait in progress is about.
    """
    set_time_budget(lambda: context.get_remaining_time_in_millis() / 1000)
    helper.PhysicalResourceId = (
        physical_id or event.get("PhysicalResourceId") or lifecycle.not_started_physical_id(event)
    )
    try:
        return step()
    except lifecycle.ResourceFailure as failure:
        if failure.physical_resource_id:
            helper.PhysicalResourceId = failure.physical_resource_id
        raise
    except ClientError as error:
        raise lifecycle.ResourceFailure(lifecycle.service_failure_reason(event, error.operation_name, error)) from None
    except Exception as error:
        raise lifecycle.ResourceFailure(lifecycle.unexpected_failure_reason(event, error)) from None


@helper.create
def create(event: dict[str, Any], context: Any) -> str:
    return _answer(event, _guarded(event, context, lambda: lifecycle.create(event, omics_client())))


@helper.update
def update(event: dict[str, Any], context: Any) -> str:
    return _answer(event, _guarded(event, context, lambda: lifecycle.update(event, omics_client())))


@helper.delete
def delete(event: dict[str, Any], context: Any) -> str:
    seconds_left = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
    return _answer(
        event, _guarded(event, context, lambda: lifecycle.delete(event, omics_client(), seconds_left=seconds_left))
    )


@helper.poll_create
@helper.poll_update
def poll(event: dict[str, Any], context: Any) -> str | None:
    seconds_left = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
    outcome = _guarded(
        event,
        context,
        lambda: lifecycle.continue_waiting(event, omics_client(), seconds_left=seconds_left),
        physical_id=event[WAIT_EVENT_KEY]["run_id"],
    )
    if outcome is None:
        hand_over(event, context)
        return None
    helper.Data.update(outcome.attributes)
    return outcome.physical_resource_id


def handler(event: dict[str, Any], context: Any) -> None:
    """The Lambda handler: crhelper answers CloudFormation's ResponseURL."""
    helper(event, context)
