"""CloudFormation's real request sequences, played over HTTP against the HealthOmics stand-in.

No sequence may start a spurious run or lose one: rollbacks return the run
they replaced, cleanup Deletes touch only runs this resource started, and
redeliveries start nothing new.
"""

from __future__ import annotations

import pytest
from events import LOGICAL_ID, MINIMAL_PROPERTIES, OUTPUT_URI, ROLE_ARN, STACK_ID, Stack, operations
from support.omics_stand_in import OmicsStandIn

from omics_run.bookkeeping import fingerprint, owner
from omics_run.request_mapping import derive_request_id

OWNER = owner(STACK_ID, LOGICAL_ID)
A = {**MINIMAL_PROPERTIES, "Parameters": '{"sample": "A", "threads": 4}', "Tags": {"team": "genomics"}}
B = {**A, "Parameters": '{"sample": "B", "threads": 4}'}
A_REQUEST = {
    "workflowId": "1234567",
    "roleArn": ROLE_ARN,
    "outputUri": OUTPUT_URI,
    "parameters": {"sample": "A", "threads": 4},
}
B_REQUEST = {**A_REQUEST, "parameters": {"sample": "B", "threads": 4}}


# --- Create and Update paths ----------------------------------------------------------------


def test_create_tags_the_run_with_its_fingerprint_and_owner(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A, request_id="create")

    assert omics.start_run_bodies() == [
        {
            **A_REQUEST,
            "requestId": derive_request_id(STACK_ID, LOGICAL_ID, "create"),
            "tags": {
                "team": "genomics",
                "cdk-omics-run:fingerprint": fingerprint(A_REQUEST, None),
                "cdk-omics-run:owner": OWNER,
                "cdk-omics-run:stack": STACK_ID,
            },
        }
    ]


def test_an_update_of_parameters_re_runs_by_run_id(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    first = stack.physical_id
    omics.reset_requests()

    response = stack.update(B, request_id="update")

    # Never workflowId with runId: the re-run names its source by run ID alone.
    assert omics.start_run_bodies() == [
        {
            "roleArn": ROLE_ARN,
            "outputUri": OUTPUT_URI,
            "parameters": {"sample": "B", "threads": 4},
            "runId": first,
            "requestId": derive_request_id(STACK_ID, LOGICAL_ID, "update"),
            "tags": {
                "team": "genomics",
                "cdk-omics-run:fingerprint": fingerprint(B_REQUEST, None),
                "cdk-omics-run:owner": OWNER,
                "cdk-omics-run:stack": STACK_ID,
                "cdk-omics-run:replaces": first,
                "cdk-omics-run:replaces-fingerprint": fingerprint(A_REQUEST, None),
            },
        }
    ]
    assert response["PhysicalResourceId"] != first
    assert response["Data"]["Id"] == response["PhysicalResourceId"]


def test_an_update_of_tags_only_retags_the_run_and_keeps_it(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create({**A, "Tags": {"team": "genomics", "stage": "dev"}})
    run_id = stack.physical_id
    omics.reset_requests()

    response = stack.update({**A, "Tags": {"team": "bio", "cost": "42"}})

    assert response["PhysicalResourceId"] == run_id
    assert operations(omics) == ["GetRun", "UntagResource", "TagResource"]
    [untag] = omics.requests_for("UntagResource")
    [tag] = omics.requests_for("TagResource")
    assert untag.query == {"tagKeys": ["stage"]}
    assert tag.body == {"tags": {"team": "bio", "cost": "42"}}
    assert {k: v for k, v in omics.runs[run_id]["tags"].items() if not k.startswith("cdk-omics-run:")} == {
        "team": "bio",
        "cost": "42",
    }


def test_an_update_that_changes_nothing_run_defining_starts_nothing(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    run_id = stack.physical_id
    omics.reset_requests()

    response = stack.update(dict(A))

    assert response["PhysicalResourceId"] == run_id
    assert operations(omics) == ["GetRun"]


def test_integer_spelling_differences_are_not_a_change(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create({**A, "Priority": 1})
    omics.reset_requests()

    stack.update({**A, "Priority": "01"})

    assert omics.start_run_bodies() == []


def test_an_update_of_the_workflow_starts_a_fresh_run_without_run_id(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    omics.reset_requests()

    stack.update({**A, "WorkflowId": "7654321"})

    [body] = omics.start_run_bodies()
    assert "runId" not in body
    assert body["workflowId"] == "7654321"


def test_a_shared_workflow_is_never_re_run_by_run_id(stack: Stack, omics: OmicsStandIn) -> None:
    shared = {**A, "WorkflowOwnerId": "210987654321"}
    stack.create(shared)
    omics.reset_requests()

    stack.update({**shared, "Parameters": '{"sample": "B"}'})

    [body] = omics.start_run_bodies()
    assert "runId" not in body
    assert body["workflowOwnerId"] == "210987654321"


def test_a_new_rerun_token_re_runs_with_unchanged_inputs(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create({**A, "RerunToken": "1"})
    first = stack.physical_id
    omics.reset_requests()

    stack.update({**A, "RerunToken": "2"})

    [body] = omics.start_run_bodies()
    assert body["runId"] == first
    assert body["parameters"] == A_REQUEST["parameters"]


def test_changing_only_the_delete_policy_starts_nothing(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    omics.reset_requests()

    stack.update({**A, "DeletePolicy": "LEAVE"})

    assert omics.start_run_bodies() == []


# --- Rollback ---------------------------------------------------------------------------------


def test_rollback_after_an_update_returns_the_replaced_run_and_cleanup_cancels_the_new_one(
    stack: Stack, omics: OmicsStandIn
) -> None:
    stack.create(A)
    first = stack.physical_id
    stack.update(B)
    second = stack.physical_id
    omics.reset_requests()

    # A later resource fails: CloudFormation sends the old properties back, with the new physical ID.
    rollback = stack.update(A)
    # The physical ID changed back, so CloudFormation deletes the newer run in cleanup.
    stack.delete(physical_id=second, properties=B)

    assert rollback["PhysicalResourceId"] == first
    assert omics.start_run_bodies() == []
    assert omics.runs[second]["status"] == "CANCELLED"
    assert omics.runs[first]["status"] == "PENDING"
    assert len(omics.runs) == 2


def test_a_failed_update_then_rollback_keeps_the_run_and_starts_nothing(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    first = stack.physical_id
    omics.fail_next("StartRun", "ValidationException", 400, "workflow parameter 'sample' is invalid")

    failed = stack.update(B, expected_status="FAILED")
    rollback = stack.update(A)

    assert failed["PhysicalResourceId"] == first
    assert failed["Reason"] == "CramToBam: StartRun failed: ValidationException: workflow parameter 'sample' is invalid"
    assert rollback["PhysicalResourceId"] == first
    assert list(omics.runs) == [first]


def test_replacement_cleanup_cancels_the_replaced_run(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    first = stack.physical_id
    stack.update(B)

    stack.delete(physical_id=first, properties=A)

    assert omics.runs[first]["status"] == "CANCELLED"
    assert omics.runs[stack.physical_id]["status"] == "PENDING"


# --- Delete -----------------------------------------------------------------------------------


def test_delete_cancels_an_active_run(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    omics.set_status(stack.physical_id, "RUNNING")

    stack.delete()

    assert omics.runs[stack.physical_id]["status"] == "CANCELLED"
    assert operations(omics)[-3:] == ["GetRun", "TagResource", "CancelRun"]
    assert omics.runs[stack.physical_id]["tags"]["cdk-omics-run:retired"] == "true"


def test_delete_of_a_finished_run_succeeds_and_cancels_nothing(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    omics.set_status(stack.physical_id, "COMPLETED")
    omics.reset_requests()

    stack.delete()

    assert operations(omics) == ["GetRun", "TagResource"]


def test_delete_succeeds_when_the_run_finishes_between_get_and_cancel(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    omics.fail_next("CancelRun", "ConflictException", 409, "run is already COMPLETED")

    assert stack.delete()["Status"] == "SUCCESS"


def test_delete_of_a_missing_run_succeeds(stack: Stack, omics: OmicsStandIn) -> None:
    assert stack.delete(physical_id="9999999", properties=A)["Status"] == "SUCCESS"
    assert operations(omics) == ["GetRun"]


def test_delete_of_a_physical_id_that_is_not_a_run_touches_nothing(stack: Stack, omics: OmicsStandIn) -> None:
    response = stack.delete(physical_id="CramToBam_1A2B3C4D", properties=A)

    assert response["Status"] == "SUCCESS"
    assert omics.requests == []


def test_delete_never_touches_a_run_with_a_reused_id(stack: Stack, omics: OmicsStandIn) -> None:
    stranger = omics.add_run(status="RUNNING", roleArn=ROLE_ARN, outputUri=OUTPUT_URI, tags={"team": "other"})

    stack.delete(physical_id=stranger["id"], properties=A)

    assert omics.runs[stranger["id"]]["status"] == "RUNNING"
    assert operations(omics) == ["GetRun"]


def test_delete_policy_leave_leaves_the_run_running_and_only_retires_it(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create({**A, "DeletePolicy": "LEAVE"})
    omics.reset_requests()

    stack.delete()

    assert operations(omics) == ["GetRun", "TagResource"]
    assert omics.requests_for("TagResource")[0].body == {"tags": {"cdk-omics-run:retired": "true"}}
    assert omics.runs[stack.physical_id]["status"] == "PENDING"


def test_delete_policy_cancel_and_delete_removes_the_run_record(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create({**A, "DeletePolicy": "CANCEL_AND_DELETE"})
    omics.reset_requests()

    stack.delete()

    assert operations(omics) == ["GetRun", "TagResource", "CancelRun", "GetRun", "DeleteRun"]
    assert omics.runs == {}


# --- Faults -----------------------------------------------------------------------------------


def test_a_create_delivered_five_times_starts_one_run(stack: Stack, omics: OmicsStandIn) -> None:
    answers = {stack.create(A, request_id="same")["PhysicalResourceId"] for _ in range(5)}

    assert len(answers) == 1
    assert len(omics.runs) == 1


def test_an_update_delivered_three_times_starts_one_new_run(stack: Stack, omics: OmicsStandIn) -> None:
    stack.create(A)
    before = dict(stack.properties), stack.physical_id

    answers = set()
    for _ in range(3):
        stack.properties, stack.physical_id = before
        answers.add(stack.update(B, request_id="same-update")["PhysicalResourceId"])

    assert len(answers) == 1
    assert len(omics.runs) == 2


def test_lambdas_async_retry_after_a_lost_answer_starts_no_second_run(stack: Stack, omics: OmicsStandIn) -> None:
    # The first attempt started the run, then timed out before answering; Lambda retries the event.
    omics.fail_next("StartRun", "InternalServerException", 500, "internal error")

    first = stack.create(A, request_id="retried")
    second = stack.create(A, request_id="retried")

    assert first["PhysicalResourceId"] == second["PhysicalResourceId"]
    assert len(omics.runs) == 1


def test_a_throttling_burst_is_retried_by_the_sdk(stack: Stack, omics: OmicsStandIn) -> None:
    omics.fail_next("StartRun", "ThrottlingException", 429, "Rate exceeded", times=3)

    response = stack.create(A)

    assert response["Status"] == "SUCCESS"
    assert len(omics.requests_for("StartRun")) == 4
    assert len(omics.runs) == 1


def test_start_run_throttled_through_every_attempt_fails_the_create_naming_the_throttle(
    stack: Stack, omics: OmicsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.simulated_time import SimulatedClock

    clock = SimulatedClock(start=1_800_000_000.0)
    clock.install(monkeypatch)  # botocore's back-off sleeps on the clock: the test takes no 90 s
    omics.fail_next("StartRun", "ThrottlingException", 429, "Rate exceeded", times=9)

    response = stack.create(A, expected_status="FAILED")

    assert response["Reason"] == "CramToBam: StartRun failed: ThrottlingException: Rate exceeded"
    assert len(omics.requests_for("StartRun")) == 9  # the first attempt and 8 retries
    assert omics.runs == {}
    assert clock.slept > 0  # the SDK backed off between attempts


# --- What the real service and IAM allow ------------------------------------------------------


def test_a_ready2run_re_run_names_its_workflow_type_and_never_its_workflow_id(
    stack: Stack, omics: OmicsStandIn
) -> None:
    ready2run = {**A, "WorkflowType": "READY2RUN"}
    stack.create(ready2run)
    first = stack.physical_id
    omics.reset_requests()

    stack.update({**ready2run, "Parameters": '{"sample": "B", "threads": 4}'})

    [body] = omics.start_run_bodies()
    assert body["runId"] == first
    assert body["workflowType"] == "READY2RUN"
    assert "workflowId" not in body
    # The service copied the workflow from the source run.
    assert omics.runs[stack.physical_id]["workflowId"] == "1234567"


def test_every_run_carries_its_stack_so_iam_can_confine_the_provider_to_it(stack: Stack, omics: OmicsStandIn) -> None:
    omics.enforce_stack_tag(STACK_ID)  # the provider's policy: aws:RequestTag and aws:ResourceTag conditions

    stack.create(A)
    stack.update(B)
    stack.delete()

    assert omics.runs[stack.physical_id]["status"] == "CANCELLED"


def test_an_update_of_a_run_iam_hides_from_this_stack_starts_a_fresh_run(stack: Stack, omics: OmicsStandIn) -> None:
    stranger = omics.add_run(status="RUNNING", roleArn=ROLE_ARN, outputUri=OUTPUT_URI, workflowId="1234567")
    omics.enforce_stack_tag(STACK_ID)
    stack.properties, stack.physical_id = A, stranger["id"]

    response = stack.update(B)

    [_, start] = omics.requests  # GetRun (denied), then StartRun
    assert start.operation == "StartRun" and "runId" not in (start.body or {})
    assert response["PhysicalResourceId"] != stranger["id"]
    assert omics.runs[stranger["id"]]["status"] == "RUNNING"


def test_a_delete_of_a_run_iam_hides_from_this_stack_leaves_it_and_succeeds(stack: Stack, omics: OmicsStandIn) -> None:
    stranger = omics.add_run(status="RUNNING", roleArn=ROLE_ARN, outputUri=OUTPUT_URI, workflowId="1234567")
    omics.enforce_stack_tag(STACK_ID)

    response = stack.delete(physical_id=stranger["id"], properties=A)

    assert response["Status"] == "SUCCESS"
    assert operations(omics) == ["GetRun"]
    assert omics.runs[stranger["id"]]["status"] == "RUNNING"


def test_a_new_run_id_to_duplicate_starts_a_run(stack: Stack, omics: OmicsStandIn) -> None:
    source_a = omics.add_run(status="COMPLETED", roleArn=ROLE_ARN, outputUri=OUTPUT_URI, workflowId="1234567")
    source_b = omics.add_run(status="COMPLETED", roleArn=ROLE_ARN, outputUri=OUTPUT_URI, workflowId="1234567")
    duplicate = {"RunId": source_a["id"], "RoleArn": ROLE_ARN, "OutputUri": OUTPUT_URI}
    stack.create(duplicate)
    first = stack.physical_id

    stack.update({**duplicate, "RunId": source_b["id"]})

    assert stack.physical_id != first
    assert omics.start_run_bodies()[-1]["runId"] == source_b["id"]  # the run the template now names
