"""Waiting through a CloudFormation WaitCondition, woken by delayed SQS messages.

The run resource answers as soon as StartRun returns. The provider's wake-ups
go to a real SQS queue (moto's server), the test plays the event source
mapping exactly, and the signal lands on a real presigned S3 URL standing in
for the WaitCondition handle. Run statuses change on the HealthOmics stand-in.
"""

from __future__ import annotations

import json
import time
from types import ModuleType
from typing import Any

import boto3
import pytest
from events import MINIMAL_PROPERTIES, STACK_ID, Handle, Stack, invoke_handler, operations, run_status_change
from support.cloudformation_stand_in import CloudFormationStandIn
from support.event_source_mapping import EventSourceMapping
from support.lambda_stand_in import LambdaStandIn
from support.omics_stand_in import OmicsStandIn
from support.refusing_handle import RefusingHandle
from support.response_bucket import ResponseBucket

WAIT_TAG = "cdk-omics-run:wait"
DENIED = "User: arn:aws:sts::123456789012:assumed-role/provider/fn is not authorized to perform: omics:GetRun"


@pytest.fixture
def new_handle(response_bucket: ResponseBucket) -> Any:
    return lambda: Handle(response_bucket)


@pytest.fixture
def refusing_handle(response_bucket: ResponseBucket) -> Any:
    """A handle that answers every signal with an HTTP status and S3 error code, over HTTPS."""
    return lambda status, code: RefusingHandle(
        status, code, cert_file=response_bucket.cert_file, key_file=response_bucket.key_file
    )


def waiting(
    handle: Handle | RefusingHandle, target: str = "COMPLETED", timeout: int = 600, **extra: Any
) -> dict[str, Any]:
    """Properties of a run that waits, as the construct writes them (one-second polls for the tests)."""
    return {**MINIMAL_PROPERTIES, "WaitFor": target, "WaitHandle": handle.url, "WaitTimeout": timeout,
            "WaitPollInterval": 1, **extra}  # fmt: skip


HANDLE_ID = "CramToBamWait1A2B3C4DHandle5E6F7A8B"


@pytest.fixture
def event_bus(sqs: Any, wake_queue: str, omics: OmicsStandIn) -> Any:
    """The provider's EventBridge rule: delivers a run's Run Status Change event to the wake queue."""
    return lambda run_id: sqs.send_message(
        QueueUrl=wake_queue, MessageBody=json.dumps(run_status_change(omics.runs[run_id]))
    )


def on_events(
    handle: Handle, cloudformation: CloudFormationStandIn, target: str = "COMPLETED", poll: int = 900, **extra: Any
) -> dict[str, Any]:
    """Properties of a run whose wait events end, its handle deployed in the stack (15-minute safety net)."""
    cloudformation.record(
        STACK_ID, HANDLE_ID, handle.url, "AWS::CloudFormation::WaitConditionHandle", "CREATE_COMPLETE"
    )
    return waiting(handle, target, WaitPollInterval=poll, WaitHandleLogicalId=HANDLE_ID, **extra)


def describe_calls(cloudformation: CloudFormationStandIn) -> list[str]:
    return [
        call.get("LogicalResourceId", "")
        for call in cloudformation.calls
        if call.get("Action") == "DescribeStackResource"
    ]


def test_the_run_resource_answers_at_once_and_the_signal_follows_after_several_wakes(
    stack: Stack,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    new_handle: Any,
    lambda_service: LambdaStandIn,
) -> None:
    handle = new_handle()
    answer = stack.create(waiting(handle))
    run_id = answer["PhysicalResourceId"]
    assert answer["Data"]["Status"] == "PENDING"
    assert handle.signal is None

    omics.set_status(run_id, "RUNNING")
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 3)
    assert handle.signal is None
    omics.set_status(run_id, "COMPLETED")
    event_source_mapping.run_until(lambda: handle.signal is not None)

    signal = handle.signal
    assert signal is not None
    assert signal["Status"] == "SUCCESS" and signal["UniqueId"] == run_id
    assert signal["Reason"] == f"CramToBam: run {run_id} reached COMPLETED"
    assert json.loads(signal["Data"])["Status"] == "COMPLETED"
    assert WAIT_TAG not in omics.runs[run_id]["tags"]
    assert omics.requests_for("TagResource") == []  # the token stays: a wake writes no tag
    event_source_mapping.drain()
    assert event_source_mapping.messages_in_queue() == 0
    assert lambda_service.invocations == [] and lambda_service.unexpected == []


def test_waiting_for_running_succeeds_on_running(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle, target="RUNNING"))["PhysicalResourceId"]

    omics.set_status(run_id, "RUNNING")
    event_source_mapping.run_until(lambda: handle.signal is not None)

    assert handle.signal["Status"] == "SUCCESS"  # type: ignore[index]


def test_a_run_that_fails_signals_failure_with_its_reason(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle))["PhysicalResourceId"]

    omics.set_status(run_id, "FAILED", failure_reason="Task ALIGN exited with code 137")
    event_source_mapping.run_until(lambda: handle.signal is not None)

    assert handle.signal == {
        "Status": "FAILURE", "UniqueId": run_id, "Data": "",
        "Reason": f"CramToBam: run {run_id} ended FAILED: Task ALIGN exited with code 137",
    }  # fmt: skip


def test_a_run_cancelled_outside_the_stack_signals_failure(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle))["PhysicalResourceId"]

    omics.set_status(run_id, "CANCELLED")
    event_source_mapping.run_until(lambda: handle.signal is not None)

    assert handle.signal["Reason"] == f"CramToBam: run {run_id} ended CANCELLED: no reason given"  # type: ignore[index]


def test_at_the_deadline_the_run_is_cancelled_and_the_failure_says_so(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle, timeout=4))["PhysicalResourceId"]
    started = time.monotonic()

    event_source_mapping.run_until(lambda: handle.signal is not None, timeout=10)

    # The last wake comes a quarter of the timeout (at most 60 s) before CloudFormation's own.
    assert 2.5 <= time.monotonic() - started <= 4.5
    assert handle.signal["Reason"] == (  # type: ignore[index]
        f"CramToBam: run {run_id} is PENDING, cancelled: it did not reach COMPLETED before the wait's timeout"
    )
    assert omics.runs[run_id]["status"] == "CANCELLED"


def test_at_the_deadline_a_run_under_leave_is_left_running(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle, timeout=3, DeletePolicy="LEAVE"))["PhysicalResourceId"]

    event_source_mapping.run_until(lambda: handle.signal is not None, timeout=10)

    assert "left running" in handle.signal["Reason"]  # type: ignore[index]
    assert omics.runs[run_id]["status"] == "PENDING"


@pytest.mark.parametrize("policy", ["CANCEL", "LEAVE"])
def test_deleting_the_stack_mid_wait_ends_the_wait_and_nothing_keeps_polling(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any, policy: str
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle, DeletePolicy=policy))["PhysicalResourceId"]
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 2)

    stack.delete()
    event_source_mapping.drain()

    assert handle.signal is None  # the WaitCondition is gone with the stack
    assert event_source_mapping.messages_in_queue() == 0
    assert omics.runs[run_id]["status"] == ("PENDING" if policy == "LEAVE" else "CANCELLED")


def test_a_duplicated_message_causes_no_second_signal_and_no_second_cancel(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    event_source_mapping.deliver_twice = True
    handle = new_handle()
    run_id = stack.create(waiting(handle, timeout=4))["PhysicalResourceId"]

    event_source_mapping.run_until(lambda: handle.signal is not None, timeout=10)
    event_source_mapping.drain()

    # Each wake-up arrived twice and carried on as a second chain with the same token; whichever
    # reached the deadline first ended the wait, and every other copy then found no token.
    assert len(omics.requests_for("CancelRun")) == 1
    assert len(omics.requests_for("UntagResource")) == 1  # the one signal ends the chain
    assert omics.runs[run_id]["status"] == "CANCELLED"
    assert event_source_mapping.messages_in_queue() == 0


def test_a_throttled_get_run_is_retried_by_the_next_message_without_multiplying_messages(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle))["PhysicalResourceId"]
    omics.set_status(run_id, "COMPLETED")
    omics.fail_next(
        "GetRun", "ThrottlingException", 429, "Rate exceeded", times=3 * 2
    )  # two wakes' worth of SDK attempts

    event_source_mapping.run_until(lambda: handle.signal is not None, timeout=20)

    assert handle.signal["Status"] == "SUCCESS"  # type: ignore[index]
    assert all(d.records == 1 and d.failures == 0 for d in event_source_mapping.deliveries)
    assert len(event_source_mapping.deliveries) == 3  # two retried wakes, then the one that signals


def test_a_wait_that_cannot_read_its_run_retries_until_the_deadline_then_fails_naming_the_error(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle, timeout=4))["PhysicalResourceId"]
    omics.fail_next("GetRun", "ValidationException", 400, "unexpected", times=100)  # not retried by the SDK

    event_source_mapping.run_until(lambda: handle.signal is not None, timeout=15)

    assert len(event_source_mapping.deliveries) >= 2  # retried by the next message, not given up at once
    assert handle.signal["Reason"] == (  # type: ignore[index]
        f"CramToBam: run {run_id} the wait could not continue: GetRun failed: ValidationException: unexpected"
    )
    # Its token could not be checked, so the wake cancels nothing: CloudFormation's rollback applies the policy.
    assert "CancelRun" not in operations(omics)


def test_a_rollback_to_properties_without_a_wait_ends_the_chain_on_the_kept_run(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    stack.create(MINIMAL_PROPERTIES)
    run_id = stack.physical_id
    stack.update(waiting(new_handle(), timeout=4))  # the same run, now waited for
    assert stack.physical_id == run_id and WAIT_TAG in omics.runs[run_id]["tags"]

    stack.update(MINIMAL_PROPERTIES)  # the update is rolled back
    event_source_mapping.drain()

    assert WAIT_TAG not in omics.runs[run_id]["tags"]
    assert omics.runs[run_id]["status"] == "PENDING"  # no wake cancelled it at the wait's deadline
    assert event_source_mapping.messages_in_queue() == 0


def test_a_wake_that_finds_its_run_retired_ends_the_wait_silently(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle, DeletePolicy="LEAVE"))["PhysicalResourceId"]
    # Delete retired the run but (racing with a wake) the wait tag is still there.
    omics.runs[run_id]["tags"]["cdk-omics-run:retired"] = "true"

    event_source_mapping.drain()

    assert handle.signal is None
    assert WAIT_TAG not in omics.runs[run_id]["tags"]
    assert event_source_mapping.messages_in_queue() == 0


def test_a_new_run_under_an_unchanged_wait_handle_fails_naming_it_and_starts_nothing(
    stack: Stack, omics: OmicsStandIn, new_handle: Any
) -> None:
    handle = new_handle()
    stack.create(waiting(handle))
    omics.reset_requests()

    # The template text is the same, but a deploy-time value (an upstream output) changed the parameters.
    failed = stack.update(waiting(handle, Parameters='{"sample": "B"}'), expected_status="FAILED")

    assert failed["Reason"].startswith(
        "CramToBam property WaitHandle: unchanged, but a value known only at deploy time"
    )
    assert omics.start_run_bodies() == []


def test_an_update_that_re_runs_waits_afresh_on_its_new_handle(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    first_handle, second_handle = new_handle(), new_handle()
    first = stack.create(waiting(first_handle))["PhysicalResourceId"]
    omics.set_status(first, "COMPLETED")
    event_source_mapping.run_until(lambda: first_handle.signal is not None)

    second = stack.update(waiting(second_handle, Parameters='{"sample": "B"}'))["PhysicalResourceId"]
    omics.set_status(second, "COMPLETED")
    event_source_mapping.run_until(lambda: second_handle.signal is not None)

    assert second != first
    assert second_handle.signal["UniqueId"] == second  # type: ignore[index]


def test_a_tags_only_update_starts_no_new_wait(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle))["PhysicalResourceId"]
    omics.set_status(run_id, "COMPLETED")
    event_source_mapping.run_until(lambda: handle.signal is not None)
    omics.reset_requests()

    stack.update(waiting(handle, Tags={"team": "genomics"}))
    event_source_mapping.drain(quiet_seconds=1.5)

    assert operations(omics) == ["GetRun", "TagResource"]


def test_a_new_wait_timeout_alone_waits_again_for_the_same_run(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle, new = new_handle(), new_handle()
    run_id = stack.create(waiting(handle))["PhysicalResourceId"]
    omics.set_status(run_id, "COMPLETED")
    event_source_mapping.run_until(lambda: handle.signal is not None)

    # A new timeout means a new WaitCondition (its properties cannot be updated), for the same run.
    assert stack.update(waiting(new, timeout=900))["PhysicalResourceId"] == run_id
    event_source_mapping.run_until(lambda: new.signal is not None)

    assert new.signal["Status"] == "SUCCESS"  # type: ignore[index]
    assert omics.start_run_bodies()[1:] == []


def test_rollback_after_a_failed_wait_returns_the_previous_run_and_starts_nothing(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    first_handle, second_handle = new_handle(), new_handle()
    old = waiting(first_handle)
    first = stack.create(old)["PhysicalResourceId"]
    omics.set_status(first, "COMPLETED")
    event_source_mapping.run_until(lambda: first_handle.signal is not None)
    second = stack.update(waiting(second_handle, Parameters='{"sample": "B"}'))["PhysicalResourceId"]
    omics.set_status(second, "FAILED", failure_reason="bad input")
    event_source_mapping.run_until(lambda: second_handle.signal is not None)
    assert second_handle.signal["Status"] == "FAILURE"  # type: ignore[index]

    # The failed WaitCondition rolls the stack back: the old properties (and old handle) return.
    rollback = stack.update(old)
    stack.delete(physical_id=second, properties=waiting(second_handle, Parameters='{"sample": "B"}'))
    event_source_mapping.drain(quiet_seconds=1.5)

    assert rollback["PhysicalResourceId"] == first
    assert len(omics.start_run_bodies()) == 2
    assert event_source_mapping.messages_in_queue() == 0


def test_a_hundred_runs_wait_at_once(
    handler_module: ModuleType,
    response_bucket: ResponseBucket,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    new_handle: Any,
) -> None:
    handles = {}
    for index in range(100):
        handle = new_handle()
        answer = invoke_handler(handler_module, response_bucket, "Create", waiting(handle), logical_id=f"Run{index}")
        handles[answer.response["PhysicalResourceId"]] = handle
    for run_id in handles:
        omics.set_status(run_id, "COMPLETED")

    event_source_mapping.run_until(lambda: all(h.signal is not None for h in handles.values()), timeout=60)

    assert {h.signal["UniqueId"] for h in handles.values()} == set(handles)  # type: ignore[index]
    assert max(d.records for d in event_source_mapping.deliveries) == 10  # batches of ten
    assert len(omics.requests_for("GetRun")) == 100


def test_a_waiting_run_without_a_handle_fails_naming_the_property_and_starts_nothing(
    stack: Stack, omics: OmicsStandIn
) -> None:
    answer = invoke_handler(
        stack.handler, stack.bucket, "Create", {**MINIMAL_PROPERTIES, "WaitFor": "COMPLETED"}, expected_status="FAILED"
    )

    assert answer.response["Reason"] == (
        "CramToBam property WaitHandle: missing or not an https:// URL; required with WaitFor: "
        "the Ref of an AWS::CloudFormation::WaitConditionHandle"
    )
    assert omics.requests == []


def test_the_handle_url_never_reaches_the_logs_tags_or_reasons(
    stack: Stack,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    new_handle: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    handle = new_handle()
    run_id = stack.create(waiting(handle))["PhysicalResourceId"]
    omics.set_status(run_id, "FAILED", failure_reason="x")
    event_source_mapping.run_until(lambda: handle.signal is not None)

    signature = handle.url.split("X-Amz-Signature=")[1]
    assert signature not in caplog.text
    assert all(signature not in value for value in omics.runs[run_id]["tags"].values())
    assert signature not in json.dumps(handle.signal)
    assert STACK_ID in omics.runs[run_id]["tags"].values()


def test_a_result_updated_to_a_new_run_reads_that_run(
    handler_module: ModuleType, response_bucket: ResponseBucket, stack: Stack, omics: OmicsStandIn
) -> None:
    # A new run keeps its result resource (and the output other stacks read): CloudFormation updates it.
    first = stack.create(MINIMAL_PROPERTIES)["PhysicalResourceId"]
    second = stack.update({**MINIMAL_PROPERTIES, "Name": "cram-to-bam-2"})["PhysicalResourceId"]
    omics.set_status(second, "COMPLETED")
    assert first != second

    answer = invoke_handler(
        handler_module, response_bucket, "Update", {"RunId": second}, old_properties={"RunId": first},
        physical_id=first, resource_type="Custom::OmicsRunResult", logical_id="CramToBamResult",
    ).response  # fmt: skip

    assert answer["PhysicalResourceId"] == second
    assert answer["Data"]["Id"] == second and answer["Data"]["Status"] == "COMPLETED"


def test_a_denied_wake_is_retried_and_the_wait_succeeds_once_the_run_is_readable_again(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle))["PhysicalResourceId"]
    # IAM's eventual consistency, while a deploy changes the provider's policy: one wake is denied.
    omics.fail_next("GetRun", "AccessDeniedException", 403, DENIED)
    omics.set_status(run_id, "COMPLETED")

    event_source_mapping.run_until(lambda: handle.signal is not None)

    assert handle.signal["Status"] == "SUCCESS"  # type: ignore[index]
    assert handle.signal["Reason"] == f"CramToBam: run {run_id} reached COMPLETED"  # type: ignore[index]
    assert len(event_source_mapping.deliveries) == 2  # the denied wake, then the one that signals
    assert "CancelRun" not in operations(omics)


def test_a_wait_denied_until_its_deadline_fails_there_naming_the_denial_and_cancels_nothing(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle, timeout=4))["PhysicalResourceId"]
    started = time.monotonic()
    omics.fail_next("GetRun", "AccessDeniedException", 403, DENIED, times=100)

    event_source_mapping.run_until(lambda: handle.signal is not None, timeout=15)

    assert time.monotonic() - started >= 2.5  # at the deadline (3 s for a 4 s timeout), not at the first denial
    assert len(event_source_mapping.deliveries) >= 2
    assert handle.signal == {  # type: ignore[comparison-overlap]
        "Status": "FAILURE", "UniqueId": run_id, "Data": "",
        "Reason": f"CramToBam: run {run_id} could not be read: the provider lost access to its own run "
        f"(GetRun failed: AccessDeniedException: {DENIED})",
    }  # fmt: skip
    # Without a readable run, the rollback's Delete applies the delete policy.
    assert "CancelRun" not in operations(omics)
    event_source_mapping.drain()
    assert event_source_mapping.messages_in_queue() == 0


def test_deleting_the_resource_under_cancel_and_delete_leaves_its_pending_wake_silent(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    new_handle: Any,
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle, DeletePolicy="CANCEL_AND_DELETE"))["PhysicalResourceId"]
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 2)

    stack.delete()  # cancels the run, then deletes its record
    assert run_id not in omics.runs
    event_source_mapping.drain()

    assert handle.signal is None  # CloudFormation deleted the WaitCondition first
    assert event_source_mapping.messages_in_queue() == 0
    assert all(delivery.failures == 0 for delivery in event_source_mapping.deliveries)
    [described] = cloudformation.calls  # the pending wake asked once, and stopped
    assert (described["Action"], described["LogicalResourceId"]) == ("DescribeStackResource", "CramToBam")


def test_a_run_deleted_outside_the_stack_still_fails_its_wait(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    handle = new_handle()
    run_id = stack.create(waiting(handle, DeletePolicy="CANCEL_AND_DELETE"))["PhysicalResourceId"]
    omics.set_status(run_id, "COMPLETED")
    boto3.client("omics").delete_run(id=run_id)  # before its first wake, by someone else

    event_source_mapping.run_until(lambda: handle.signal is not None)

    assert handle.signal == {  # type: ignore[comparison-overlap]
        "Status": "FAILURE", "UniqueId": run_id, "Data": "",
        "Reason": f"CramToBam: run {run_id} was deleted before it reached COMPLETED",
    }  # fmt: skip


def test_a_run_replaced_by_an_update_under_cancel_and_delete_leaves_its_pending_wake_silent(
    stack: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, new_handle: Any
) -> None:
    old_handle = new_handle()
    old_run = stack.create(waiting(old_handle, DeletePolicy="CANCEL_AND_DELETE"))["PhysicalResourceId"]
    new_run = stack.update(waiting(new_handle(), DeletePolicy="CANCEL_AND_DELETE", RerunToken="2"))[
        "PhysicalResourceId"
    ]
    assert new_run != old_run
    stack.delete(physical_id=old_run)  # CloudFormation's cleanup of the replaced run

    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 2)

    assert old_handle.signal is None
    assert old_run not in omics.runs and omics.runs[new_run]["status"] == "PENDING"


@pytest.mark.parametrize(("status", "code"), [(403, "AccessDenied"), (404, "NoSuchKey"), (404, "NoSuchBucket")])
def test_a_signal_refused_by_a_handle_that_is_gone_drops_the_wake_without_retrying(
    stack: Stack,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    refusing_handle: Any,
    status: int,
    code: str,
) -> None:
    with refusing_handle(status, code) as handle:
        run_id = stack.create(waiting(handle))["PhysicalResourceId"]
        omics.set_status(run_id, "COMPLETED")

        event_source_mapping.run_until(lambda: handle.puts >= 1)
        event_source_mapping.drain(timeout=10)

        assert handle.puts == 1  # not retried, so nothing reaches the dead-letter queue
    assert all(delivery.failures == 0 for delivery in event_source_mapping.deliveries)
    assert event_source_mapping.messages_in_queue() == 0
    assert WAIT_TAG not in omics.runs[run_id]["tags"]


@pytest.mark.parametrize(("status", "code"), [(400, "RequestTimeout"), (429, "SlowDown"), (503, "ServiceUnavailable")])
def test_a_signal_refused_for_a_passing_reason_is_retried(
    stack: Stack,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    refusing_handle: Any,
    status: int,
    code: str,
) -> None:
    with refusing_handle(status, code) as handle:
        run_id = stack.create(waiting(handle))["PhysicalResourceId"]
        omics.set_status(run_id, "COMPLETED")

        event_source_mapping.run_until(lambda: handle.puts >= 2)

    assert WAIT_TAG in omics.runs[run_id]["tags"]  # the chain goes on until a signal lands


def test_the_last_delay_before_the_deadline_is_rounded_up_so_no_wake_lands_early() -> None:
    from omics_run.waiting import WaitMessage

    message = WaitMessage(run_id="1234567", target="COMPLETED", deadline=1000.0, poll_seconds=60, token="t",
                          handle_url="https://handle", logical_resource_id="CramToBam", delete_policy="CANCEL")  # fmt: skip

    assert message.next_delay(now=999.4) == 1  # lands at or after the deadline, which then decides
    assert message.next_delay(now=970.0) == 30
    assert message.next_delay(now=100.0) == 60
    assert message.next_delay(now=1001.0) == 0


def test_a_chain_that_moves_its_token_ends_the_copies_of_a_message_delivered_twice(
    stack: Stack,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    new_handle: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from omics_run import waiting as waits

    monkeypatch.setattr(waits, "CHAIN_REFRESH_SECONDS", 0)  # every wake is due to move it
    event_source_mapping.deliver_twice = True
    handle = new_handle()
    run_id = stack.create(waiting(handle))["PhysicalResourceId"]
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 4)
    omics.set_status(run_id, "COMPLETED")
    event_source_mapping.run_until(lambda: handle.signal is not None)
    event_source_mapping.drain()

    # The second copy of each wake found the token the first had moved on: one message at a time.
    assert all(delivery.records == 1 for delivery in event_source_mapping.deliveries)
    assert len(omics.requests_for("TagResource")) == len(event_source_mapping.deliveries) - 1
    assert event_source_mapping.messages_in_queue() == 0


def test_the_safety_net_polls_a_young_run_often_an_older_one_less_and_never_beyond_the_interval() -> None:
    from omics_run.waiting import WaitMessage

    message = WaitMessage(run_id="1234567", target="COMPLETED", deadline=50_000.0, poll_seconds=900, token="t",
                          handle_url="https://handle", logical_resource_id="CramToBam", delete_policy="CANCEL",
                          started=1000.0, token_moved=1000.0)  # fmt: skip

    assert message.next_delay(now=1000.0) == 300  # young: every five minutes
    assert message.next_delay(now=1600.0) == 600  # then as old as the run
    assert message.next_delay(now=1600.0, jitter=0.9) == 540  # spread down, never up
    assert message.next_delay(now=5000.0) == 900  # the interval the user set is the cap
    assert message.next_delay(now=49_950.0) == 50  # and the deadline comes first
    earlier = WaitMessage(run_id="1234567", target="COMPLETED", deadline=50_000.0, poll_seconds=120, token="t",
                          handle_url="https://handle", logical_resource_id="CramToBam", delete_policy="CANCEL")  # fmt: skip
    assert earlier.next_delay(now=1000.0) == 120  # a message of an earlier release: its interval


def test_a_status_change_event_signals_within_seconds_with_the_one_get_run_that_confirms_it(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    event_bus: Any,
    new_handle: Any,
) -> None:
    handle = new_handle()
    run_id = stack.create(on_events(handle, cloudformation))["PhysicalResourceId"]
    assert omics.runs[run_id]["tags"][WAIT_TAG].endswith(f"/COMPLETED/CramToBam/{HANDLE_ID}")
    omics.set_status(run_id, "COMPLETED")
    omics.reset_requests()
    changed = time.monotonic()

    event_bus(run_id)
    event_source_mapping.run_until(lambda: handle.signal is not None, timeout=5)

    assert time.monotonic() - changed < 5
    signal = handle.signal
    assert signal is not None
    assert (signal["Status"], signal["UniqueId"]) == ("SUCCESS", run_id)
    assert signal["Reason"] == f"CramToBam: run {run_id} reached COMPLETED"
    assert json.loads(signal["Data"])["Status"] == "COMPLETED"
    assert operations(omics) == ["GetRun", "UntagResource"]
    assert describe_calls(cloudformation) == [HANDLE_ID]  # the handle's URL is its physical ID
    assert WAIT_TAG not in omics.runs[run_id]["tags"]


def completed_run_waiting_on_events(
    stack: Stack, omics: OmicsStandIn, cloudformation: CloudFormationStandIn, new_handle: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Handle, str]:  # fmt: skip
    """A run that waits for COMPLETED and has just completed; an event sent back returns after 1 s."""
    from omics_run import status_events

    monkeypatch.setattr(status_events, "RETRY_DELAY_SECONDS", (1, 1))
    handle = new_handle()
    run_id = stack.create(on_events(handle, cloudformation))["PhysicalResourceId"]
    omics.set_status(run_id, "COMPLETED")
    omics.reset_requests()
    return handle, run_id


def test_an_event_whose_get_run_is_throttled_comes_back_shortly_and_signals(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    event_bus: Any,
    new_handle: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle, run_id = completed_run_waiting_on_events(stack, omics, cloudformation, new_handle, monkeypatch)
    # The wake client's 3 attempts, all throttled: the event goes back to the queue, once.
    omics.fail_next("GetRun", "ThrottlingException", 429, "Rate exceeded", times=3)

    event_bus(run_id)
    event_source_mapping.run_until(lambda: handle.signal is not None, timeout=20)

    assert (handle.signal or {}).get("Status") == "SUCCESS"
    assert operations(omics) == ["GetRun"] * 4 + ["UntagResource"]
    assert [d.failures for d in event_source_mapping.deliveries] == [0, 0]


def test_an_event_throttled_each_time_it_comes_back_is_left_to_polling(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    event_bus: Any,
    new_handle: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from omics_run import status_events

    handle, run_id = completed_run_waiting_on_events(stack, omics, cloudformation, new_handle, monkeypatch)
    attempts = 3 * (1 + status_events.MAX_EVENT_RETRIES)
    omics.fail_next("GetRun", "ThrottlingException", 429, "Rate exceeded", times=attempts)

    event_bus(run_id)
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 4, timeout=30)

    assert operations(omics) == ["GetRun"] * attempts  # the first delivery and 3 returns, then no more
    assert handle.signal is None  # the safety net's next wake ends it
    assert [d.failures for d in event_source_mapping.deliveries] == [0, 0, 0, 0]


def test_an_event_that_does_not_end_the_wait_reads_the_run_once_and_signals_nothing(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    event_bus: Any,
    new_handle: Any,
) -> None:
    handle = new_handle()
    run_id = stack.create(on_events(handle, cloudformation))["PhysicalResourceId"]
    tag = omics.runs[run_id]["tags"][WAIT_TAG]
    omics.set_status(run_id, "RUNNING")
    omics.reset_requests()

    event_bus(run_id)
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 1)

    assert operations(omics) == ["GetRun"] and describe_calls(cloudformation) == []
    assert handle.signal is None and omics.runs[run_id]["tags"][WAIT_TAG] == tag  # the chain goes on


def test_events_of_runs_outside_the_stack_cost_one_get_run_and_change_nothing(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    event_bus: Any,
) -> None:
    foreign = omics.add_run(status="COMPLETED", tags={"team": "genomics"})
    denied = omics.add_run(
        status="FAILED", tags={"cdk-omics-run:stack": "arn:aws:cloudformation:us-east-1:123456789012:stack/Other/1"}
    )
    omics.enforce_stack_tag(STACK_ID)
    omics.reset_requests()

    event_bus(foreign["id"])
    event_bus(denied["id"])
    event_source_mapping.run_until(lambda: sum(d.records for d in event_source_mapping.deliveries) >= 2)

    assert operations(omics) == ["GetRun", "GetRun"]  # IAM denies both: not this stack's runs
    assert describe_calls(cloudformation) == []
    assert all(d.failures == 0 for d in event_source_mapping.deliveries)


def test_a_missed_event_still_ends_in_a_signal_within_the_safety_net_interval(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    new_handle: Any,
) -> None:
    handle = new_handle()
    run_id = stack.create(on_events(handle, cloudformation, poll=3))["PhysicalResourceId"]
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 1, timeout=5)
    omics.set_status(run_id, "FAILED", failure_reason="Task bwa failed: exit code 1")
    changed = time.monotonic()

    # EventBridge delivers at best effort: this change's event never arrives.
    event_source_mapping.run_until(lambda: handle.signal is not None, timeout=3 + 2)

    assert time.monotonic() - changed <= 3 + 1  # the interval, plus the mapping's own polling
    assert handle.signal is not None and handle.signal["Status"] == "FAILURE"
    assert handle.signal["Reason"] == f"CramToBam: run {run_id} ended FAILED: Task bwa failed: exit code 1"


def test_after_an_event_signalled_the_safety_net_stops_at_its_next_wake(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    event_bus: Any,
    new_handle: Any,
) -> None:
    handle = new_handle()
    run_id = stack.create(on_events(handle, cloudformation, target="RUNNING", poll=2))["PhysicalResourceId"]
    omics.set_status(run_id, "RUNNING")
    event_bus(run_id)
    event_bus(run_id)  # EventBridge, like SQS, may deliver twice

    event_source_mapping.drain()

    assert handle.signal is not None and handle.signal["Status"] == "SUCCESS"
    assert len(omics.requests_for("UntagResource")) == 1  # the second event, and the wake, found no wait
    assert describe_calls(cloudformation) == [HANDLE_ID]
    assert event_source_mapping.messages_in_queue() == 0


def test_an_event_for_a_wait_whose_handle_is_gone_is_dropped_without_a_retry(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    event_bus: Any,
    new_handle: Any,
) -> None:
    handle = new_handle()
    run_id = stack.create(on_events(handle, cloudformation))["PhysicalResourceId"]
    cloudformation.record(
        STACK_ID, HANDLE_ID, handle.url, "AWS::CloudFormation::WaitConditionHandle", "DELETE_COMPLETE"
    )
    omics.set_status(run_id, "COMPLETED")

    event_bus(run_id)
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 1)

    assert handle.signal is None
    assert all(d.failures == 0 for d in event_source_mapping.deliveries)


def test_a_wait_whose_logical_ids_do_not_fit_a_tag_value_is_ended_by_polling_alone(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    event_bus: Any,
    new_handle: Any,
) -> None:
    handle = new_handle()
    long_id = "Handle" + "H" * 214  # with CramToBam, 229 characters
    cloudformation.record(STACK_ID, long_id, handle.url, "AWS::CloudFormation::WaitConditionHandle", "CREATE_COMPLETE")
    run_id = stack.create(waiting(handle, WaitPollInterval=2, WaitHandleLogicalId=long_id))["PhysicalResourceId"]
    assert len(omics.runs[run_id]["tags"][WAIT_TAG]) == 16  # the token alone: the IDs would pass 256 characters
    omics.set_status(run_id, "COMPLETED")

    event_bus(run_id)
    event_source_mapping.run_until(lambda: handle.signal is not None)

    assert describe_calls(cloudformation) == []  # the event could not find the handle; a wake signalled
    assert handle.signal is not None and handle.signal["Status"] == "SUCCESS"


def test_an_event_whose_status_get_run_does_not_confirm_signals_nothing(
    stack: Stack,
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    event_source_mapping: EventSourceMapping,
    sqs: Any,
    wake_queue: str,
    new_handle: Any,
) -> None:
    handle = new_handle()
    run_id = stack.create(on_events(handle, cloudformation))["PhysicalResourceId"]
    omics.set_status(run_id, "RUNNING")

    # An event says COMPLETED, but the run, as GetRun reads it, is still RUNNING.
    stale = run_status_change({**omics.runs[run_id], "status": "COMPLETED"})
    sqs.send_message(QueueUrl=wake_queue, MessageBody=json.dumps(stale))
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 1)

    assert handle.signal is None and describe_calls(cloudformation) == []
    assert WAIT_TAG in omics.runs[run_id]["tags"]
