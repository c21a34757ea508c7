"""Waiting for RUNNING or COMPLETED: the answer is held, handed from invocation to invocation, then given.

Lambda's asynchronous self-invocations land in the Lambda stand-in; the test
plays them through the handler as Lambda would, advancing run statuses on
the HealthOmics stand-in in between.
"""
from __future__ import annotations

import uuid
from types import ModuleType
from typing import Any

import pytest

from events import MINIMAL_PROPERTIES, LambdaContext, cfn_event
from support.lambda_stand_in import LambdaStandIn
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

# Fast polling for tests; production polls every 15 s and keeps 30 s in hand.
POLL_SECONDS = 0.02
MARGIN_SECONDS = 0.3


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMICS_RUN_POLL_SECONDS", str(POLL_SECONDS))
    monkeypatch.setenv("OMICS_RUN_WAIT_MARGIN_SECONDS", str(MARGIN_SECONDS))


class Waits:
    """Sends waiting requests and delivers the provider's self-invocations, as Lambda does."""

    def __init__(self, handler: ModuleType, bucket: ResponseBucket, lambda_service: LambdaStandIn) -> None:
        self.handler, self.bucket, self.lambda_service = handler, bucket, lambda_service

    def send(self, request_type: str = "Create", properties: dict[str, Any] | None = None, **fields: Any) -> str:
        """Sends one request; returns the key its answer will be PUT under."""
        key = f"responses/{uuid.uuid4()}"
        event = cfn_event(
            request_type,  # type: ignore[arg-type]
            properties or {**MINIMAL_PROPERTIES, "WaitFor": "COMPLETED"},
            response_url=self.bucket.presigned_response_url(key),
            **fields,
        )
        self.handler.handler(event, LambdaContext(timeout_seconds=30))
        return key

    def deliver(self, invocation_seconds: float = 30) -> int:
        """Plays every pending self-invocation through the handler; returns how many there were."""
        pending = self.lambda_service.take_invocations()
        for invocation in pending:
            assert invocation.invocation_type == "Event"
            self.handler.handler(invocation.payload, LambdaContext(timeout_seconds=invocation_seconds))
        return len(pending)

    def answer(self, key: str) -> dict[str, Any] | None:
        return self.bucket.read_response(key)


@pytest.fixture
def waits(handler_module: ModuleType, response_bucket: ResponseBucket, lambda_service: LambdaStandIn) -> Waits:
    return Waits(handler_module, response_bucket, lambda_service)


def only_run(omics: OmicsStandIn) -> dict[str, Any]:
    [run] = omics.runs.values()
    return run


def test_a_waiting_create_answers_only_once_the_run_completes(waits: Waits, omics: OmicsStandIn) -> None:
    key = waits.send()
    assert waits.answer(key) is None
    run = only_run(omics)

    omics.set_status(run["id"], "COMPLETED")
    waits.deliver()

    answer = waits.answer(key)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == run["id"]
    assert answer["Data"]["Status"] == "COMPLETED"
    assert answer["Data"]["StopTime"]
    assert set(answer["Data"]) == {"Arn", "Id", "Uuid", "RunOutputUri", "Status", "StopTime"}
    assert waits.lambda_service.invocations == []
    assert waits.lambda_service.unexpected == []


def test_waiting_for_running_is_satisfied_by_running(waits: Waits, omics: OmicsStandIn) -> None:
    key = waits.send(properties={**MINIMAL_PROPERTIES, "WaitFor": "RUNNING"})
    omics.set_status(only_run(omics)["id"], "RUNNING")

    waits.deliver()

    answer = waits.answer(key)
    assert answer is not None and (answer["Status"], answer["Data"]["Status"]) == ("SUCCESS", "RUNNING")


def test_a_run_still_pending_is_handed_to_the_next_invocation_until_it_completes(
    waits: Waits, omics: OmicsStandIn
) -> None:
    key = waits.send()
    run_id = only_run(omics)["id"]

    # Each invocation has a second: it polls, then hands over before its own deadline.
    handovers = [waits.deliver(invocation_seconds=MARGIN_SECONDS + 0.2) for _ in range(3)]
    omics.set_status(run_id, "COMPLETED")
    waits.deliver(invocation_seconds=MARGIN_SECONDS + 0.2)

    assert handovers == [1, 1, 1]
    answer = waits.answer(key)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert waits.lambda_service.invocations == []


def test_a_failed_run_fails_the_resource_with_its_failure_reason(waits: Waits, omics: OmicsStandIn) -> None:
    key = waits.send()
    run_id = only_run(omics)["id"]
    omics.set_status(run_id, "FAILED", failure_reason="Task BwaMem exited with code 137: out of memory")

    waits.deliver()

    answer = waits.answer(key)
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == f"CramToBam: run {run_id} ended FAILED: Task BwaMem exited with code 137: out of memory"
    assert answer["PhysicalResourceId"] == run_id


def test_a_long_failure_reason_keeps_its_tail_within_256_characters(waits: Waits, omics: OmicsStandIn) -> None:
    key = waits.send()
    run_id = only_run(omics)["id"]
    omics.set_status(run_id, "FAILED", failure_reason="stack trace line\n" * 40 + "the actual cause")

    waits.deliver()

    answer = waits.answer(key)
    assert answer is not None
    assert len(answer["Reason"]) <= 256
    assert answer["Reason"].startswith(f"CramToBam: run {run_id} ended FAILED: ")
    assert answer["Reason"].endswith("the actual cause")


def test_a_cancelled_run_fails_the_resource(waits: Waits, omics: OmicsStandIn) -> None:
    key = waits.send()
    run_id = only_run(omics)["id"]
    omics.set_status(run_id, "CANCELLED")

    waits.deliver()

    answer = waits.answer(key)
    assert answer is not None
    assert answer["Reason"] == f"CramToBam: run {run_id} ended CANCELLED: no reason given"


def test_the_deadline_fails_the_resource_and_cancels_the_run(waits: Waits, omics: OmicsStandIn) -> None:
    key = waits.send(properties={**MINIMAL_PROPERTIES, "WaitFor": "COMPLETED", "ServiceTimeout": "1"})
    run_id = only_run(omics)["id"]
    omics.set_status(run_id, "RUNNING")

    waits.deliver()

    answer = waits.answer(key)
    assert answer is not None
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == f"CramToBam: run {run_id} is RUNNING, cancelled: it did not reach COMPLETED before the deadline"
    assert answer["PhysicalResourceId"] == run_id
    assert omics.runs[run_id]["status"] == "CANCELLED"
    assert waits.lambda_service.invocations == []


def test_a_long_logical_id_needs_no_rule_name(waits: Waits, omics: OmicsStandIn) -> None:
    long_id = "Pipeline" + "NestedConstruct" * 16  # 248 characters: far past EventBridge's 64
    key = waits.send(logical_id=long_id)
    omics.set_status(only_run(omics)["id"], "COMPLETED")

    waits.deliver()

    answer = waits.answer(key)
    assert answer is not None and answer["Status"] == "SUCCESS"
    assert waits.lambda_service.unexpected == []


def test_a_re_run_on_update_waits_too(waits: Waits, omics: OmicsStandIn) -> None:
    first = omics.add_run(status="COMPLETED", roleArn="arn:aws:iam::123456789012:role/r", outputUri="s3://b/o/")
    # Not started by this resource: the update starts a fresh run, and waits for it.
    key = waits.send("Update", {**MINIMAL_PROPERTIES, "WaitFor": "COMPLETED"}, physical_id=first["id"],
                     old_properties=MINIMAL_PROPERTIES)  # fmt: skip
    [second] = [r for r in omics.runs.values() if r["id"] != first["id"]]
    assert waits.answer(key) is None

    omics.set_status(second["id"], "COMPLETED")
    waits.deliver()

    answer = waits.answer(key)
    assert answer is not None and answer["PhysicalResourceId"] == second["id"]


def test_a_delete_during_a_wait_cancels_the_run_and_the_wait_ends(waits: Waits, omics: OmicsStandIn) -> None:
    key = waits.send()
    run = only_run(omics)
    omics.set_status(run["id"], "RUNNING")

    delete_key = waits.send("Delete", {**MINIMAL_PROPERTIES, "WaitFor": "COMPLETED"}, physical_id=run["id"])
    waits.deliver()

    deleted = waits.answer(delete_key)
    assert deleted is not None and deleted["Status"] == "SUCCESS"
    answer = waits.answer(key)
    assert answer is not None and answer["Status"] == "FAILED"
    assert answer["Reason"] == f"CramToBam: run {run['id']} ended CANCELLED: no reason given"
    assert waits.lambda_service.invocations == []


def test_a_hundred_waiting_runs_leave_no_polling_state_behind(waits: Waits, omics: OmicsStandIn) -> None:
    keys = [waits.send(logical_id=f"Run{index:03d}") for index in range(100)]
    assert len(omics.runs) == 100
    pending = list(waits.lambda_service.invocations)

    for run_id in list(omics.runs):
        omics.set_status(run_id, "COMPLETED")
    delivered = waits.deliver()

    assert delivered == 100
    # The only polling state is the event each hand-over carries: bounded, one per waiting run.
    assert max(p.payload_bytes for p in pending) < 4096
    answers = [waits.answer(key) for key in keys]
    assert all(a is not None and a["Status"] == "SUCCESS" for a in answers)
    assert waits.lambda_service.invocations == []
    assert waits.lambda_service.unexpected == []
    assert not [k for a in answers for k in a["Data"] if k.startswith("CrHelper") or k == "PhysicalResourceId"]  # type: ignore[union-attr]


def test_without_waiting_the_create_answers_at_once_with_one_api_call(waits: Waits, omics: OmicsStandIn) -> None:
    key = waits.send(properties=dict(MINIMAL_PROPERTIES))

    answer = waits.answer(key)
    assert answer is not None and answer["Data"]["Status"] == "PENDING"
    assert [r.operation for r in omics.requests] == ["StartRun"]
    assert waits.lambda_service.invocations == []
