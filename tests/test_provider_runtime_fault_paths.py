"""Fault paths: every failure answers with the right physical ID and a bounded Reason, and no run is orphaned.

Each test plays the fault the way an operator meets it, over real HTTP: the
HealthOmics stand-in injects the service error, and the answer is read from
the presigned S3 ResponseURL.
"""

from __future__ import annotations

from types import ModuleType
from urllib.parse import urlsplit

from events import LOGICAL_ID, MINIMAL_PROPERTIES, STACK_ID, LambdaContext, Stack, invoke_handler, operations
from support.flaky_proxy import FlakyProxy
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from test_provider_runtime_sequences import A, B

from omics_run.lifecycle import NOT_STARTED_PREFIX
from omics_run.request_mapping import derive_request_id


def test_a_create_out_of_time_answers_before_the_deadline_with_a_placeholder_that_is_not_a_run(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    omics.fail_next("StartRun", "ThrottlingException", 429, "Rate exceeded", times=8)

    answer = invoke_handler(
        handler_module, response_bucket, "Create", A, request_id="late",
        context=LambdaContext(timeout_seconds=3), expected_status="FAILED",
    )  # fmt: skip

    # No retry could finish in time, so the handler answers with the error itself.
    assert answer.seconds < 2.5
    assert len(omics.requests_for("StartRun")) == 1
    assert answer.response["Reason"] == "CramToBam: StartRun failed: ThrottlingException: Rate exceeded"
    digest = derive_request_id(STACK_ID, LOGICAL_ID, "late")
    assert answer.response["PhysicalResourceId"] == NOT_STARTED_PREFIX + digest[:20]
    # CloudFormation's rollback then deletes the placeholder: nothing is touched.
    assert invoke_handler(
        handler_module, response_bucket, "Delete", A, physical_id=answer.response["PhysicalResourceId"]
    ).response["Status"] == "SUCCESS"  # fmt: skip
    assert omics.runs == {}


def test_a_delete_out_of_time_answers_success_with_its_own_physical_id(
    stack: Stack, handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    stack.create(A)
    omics.fail_next("GetRun", "ThrottlingException", 429, "Rate exceeded", times=8)

    answer = invoke_handler(
        handler_module, response_bucket, "Delete", A, physical_id=stack.physical_id,
        context=LambdaContext(timeout_seconds=3),
    )  # fmt: skip

    assert answer.seconds < 2.5
    assert answer.response["PhysicalResourceId"] == stack.physical_id
    assert omics.runs[stack.physical_id]["status"] == "PENDING"  # left, and the log says why


def test_a_delete_that_cannot_see_the_run_stop_in_time_keeps_its_record_and_succeeds(
    stack: Stack, handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    policy = {**A, "DeletePolicy": "CANCEL_AND_DELETE"}
    stack.create(policy)
    # The run stays STOPPING (exporting outputs) however long Delete waits.
    omics.set_status(stack.physical_id, "RUNNING")
    omics.fail_next("CancelRun", "ConflictException", 409, "already stopping")
    omics.set_status(stack.physical_id, "STOPPING")

    answer = invoke_handler(
        handler_module, response_bucket, "Delete", policy, physical_id=stack.physical_id,
        context=LambdaContext(timeout_seconds=13),
    )  # fmt: skip

    assert answer.seconds < 12.5
    assert omics.runs[stack.physical_id]["status"] == "STOPPING"
    assert "DeleteRun" not in operations(omics)


def test_a_ten_kilobyte_service_error_gives_a_bounded_reason_that_names_the_operation_and_code(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    omics.fail_next("StartRun", "ValidationException", 400, "x" * 10_000 + " the parameter 'sample' is invalid")

    answer = invoke_handler(handler_module, response_bucket, "Create", A, expected_status="FAILED")

    reason = answer.response["Reason"]
    assert len(reason) == 256
    assert reason.startswith("CramToBam: StartRun failed: ValidationException: xxx")
    assert reason.endswith(" the parameter 'sample' is invalid")


def test_an_update_that_fails_after_its_new_run_started_answers_with_the_new_run(
    stack: Stack, omics: OmicsStandIn, handler_module: ModuleType, monkeypatch
) -> None:
    stack.create(A)
    first = stack.physical_id
    # Whatever breaks after StartRun returned (here: an unforeseen bug), the new run must not be orphaned.
    from omics_run import lifecycle

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(lifecycle, "run_attributes", broken)

    failed = stack.update(B, expected_status="FAILED")

    assert failed["Reason"] == "CramToBam: RuntimeError: boom"
    [second] = [run_id for run_id in omics.runs if run_id != first]
    assert failed["PhysicalResourceId"] in (first, second)


def test_a_revert_after_cleanup_starts_a_run_instead_of_restoring_a_cancelled_one(
    stack: Stack, omics: OmicsStandIn
) -> None:
    stack.create(A)
    first = stack.physical_id
    stack.update(B)
    second = stack.physical_id
    stack.delete(physical_id=first, properties=A)  # CloudFormation's cleanup after the update
    assert omics.runs[first]["status"] == "CANCELLED"
    omics.reset_requests()

    reverted = stack.update(A)  # a later deploy goes back to A

    assert reverted["PhysicalResourceId"] not in (first, second)
    [body] = omics.start_run_bodies()
    assert body["runId"] == second
    assert body["parameters"] == {"sample": "A", "threads": 4}


def test_a_revert_after_cleanup_deleted_the_run_starts_a_run(stack: Stack, omics: OmicsStandIn) -> None:
    policy = {"DeletePolicy": "CANCEL_AND_DELETE"}
    stack.create({**A, **policy})
    first = stack.physical_id
    stack.update({**B, **policy})
    stack.delete(physical_id=first, properties={**A, **policy})
    assert first not in omics.runs

    reverted = stack.update({**A, **policy})

    assert reverted["PhysicalResourceId"] != first
    assert len(omics.start_run_bodies()) == 3


def test_a_revert_after_cleanup_under_leave_does_not_restore_the_retired_run(stack: Stack, omics: OmicsStandIn) -> None:
    leave = {"DeletePolicy": "LEAVE"}
    stack.create({**A, **leave})
    first = stack.physical_id
    stack.update({**B, **leave})
    stack.delete(physical_id=first, properties={**A, **leave})
    assert omics.runs[first]["status"] == "PENDING"  # left running, as asked

    reverted = stack.update({**A, **leave})

    assert reverted["PhysicalResourceId"] != first


def test_the_answer_survives_two_dropped_connections_to_the_response_url(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    bucket_port = urlsplit(response_bucket.endpoint_url).port
    assert bucket_port is not None
    with FlakyProxy(target_port=bucket_port, drop_first=2) as proxy:
        answer = invoke_handler(
            handler_module, response_bucket, "Create", MINIMAL_PROPERTIES,
            response_endpoint=f"https://localhost:{proxy.port}",
        )  # fmt: skip

    assert proxy.connections == 3
    assert answer.response["PhysicalResourceId"] in omics.runs
    assert len(omics.runs) == 1
