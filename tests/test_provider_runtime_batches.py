"""Custom::OmicsRunBatch through the handler: StartRunBatch, updates, rollbacks, delete policies, waits.

Every request goes over real HTTP to the HealthOmics stand-in (which plays
the batch states as the model documents them) and every answer lands on a
real presigned S3 URL served by moto.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from conftest import REPO_ROOT, handler_environment
from events import LOGICAL_ID, ROLE_ARN, STACK_ID, Handle, LambdaContext, Stack, invoke_handler, operations
from support.event_source_mapping import EventSourceMapping
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

from cdk_omics_run import OmicsRunBatch
from omics_run import batch_lifecycle, bookkeeping
from omics_run.request_mapping import derive_request_id

BATCH = "Custom::OmicsRunBatch"
STACK_TAG = "cdk-omics-run:stack"
RUNS = [{"RunSettingId": "NA12878"}, {"RunSettingId": "NA12891", "Priority": 5}, {"RunSettingId": "NA12892"}]
PROPERTIES: dict[str, Any] = {
    "WorkflowId": "1234567",
    "RoleArn": ROLE_ARN,
    "OutputUri": "s3://omics-artifacts/cohort/",
    "Parameters": '{"threads": 16}',
    "InlineSettings": RUNS,
}


@pytest.fixture
def cohort(handler_module: ModuleType, response_bucket: ResponseBucket, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """One Custom::OmicsRunBatch, played through the handler; Delete polls the stand-in without delay."""
    monkeypatch.setattr(batch_lifecycle, "SETTLE_POLL_SECONDS", 0.05)
    return Stack(handler_module, response_bucket, resource_type=BATCH)


def batch_bodies(omics: OmicsStandIn) -> list[dict[str, Any]]:
    return [r.body or {} for r in omics.requests if r.operation == "StartRunBatch"]


def test_create_sends_start_run_batch_with_bookkeeping_tags_and_the_stack_tag_on_every_run(
    cohort: Stack, omics: OmicsStandIn
) -> None:
    answer = cohort.create({**PROPERTIES, "Tags": {"team": "genomics"}, "RunTags": {"project": "p1"}})

    [body] = batch_bodies(omics)
    request_id = omics.requests[0].body["requestId"]  # type: ignore[index]
    owner = bookkeeping.owner(STACK_ID, LOGICAL_ID)
    assert body == {
        "requestId": request_id,
        "defaultRunSetting": {
            "workflowId": "1234567",
            "roleArn": ROLE_ARN,
            "outputUri": "s3://omics-artifacts/cohort/",
            "parameters": {"threads": 16},
            "runTags": {"project": "p1", STACK_TAG: STACK_ID},
        },
        "batchRunSettings": {
            "inlineSettings": [
                {"runSettingId": "NA12878"},
                {"runSettingId": "NA12891", "priority": 5},
                {"runSettingId": "NA12892"},
            ]
        },
        "tags": {
            "team": "genomics",
            "cdk-omics-run:fingerprint": omics.batches[answer["PhysicalResourceId"]]["tags"][
                "cdk-omics-run:fingerprint"
            ],
            "cdk-omics-run:owner": owner,
            STACK_TAG: STACK_ID,
        },
    }
    [batch] = omics.batches.values()
    assert answer["PhysicalResourceId"] == batch["id"]
    assert answer["Data"] == {
        "Arn": batch["arn"], "Id": batch["id"], "Uuid": batch["uuid"], "Status": "CREATING", "TotalRuns": "3"
    }  # fmt: skip
    assert operations(omics) == ["StartRunBatch"]


def test_a_create_delivered_three_times_starts_one_batch(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    answers = [
        invoke_handler(handler_module, response_bucket, "Create", PROPERTIES, request_id="r-1", resource_type=BATCH)
        for _ in range(3)
    ]

    assert len(omics.batches) == 1
    assert {a.response["PhysicalResourceId"] for a in answers} == set(omics.batches)
    assert {body["requestId"] for body in batch_bodies(omics)} == {derive_request_id(STACK_ID, LOGICAL_ID, "r-1")}


def test_a_tags_only_update_retags_the_batch_and_starts_nothing(cohort: Stack, omics: OmicsStandIn) -> None:
    cohort.create({**PROPERTIES, "Tags": {"team": "genomics", "old": "x"}})
    batch_id = cohort.physical_id
    omics.reset_requests()

    answer = cohort.update({**PROPERTIES, "Tags": {"team": "platform"}})

    assert answer["PhysicalResourceId"] == batch_id
    assert operations(omics) == ["GetBatch", "UntagResource", "TagResource"]
    tags = omics.batches[batch_id]["tags"]
    assert tags["team"] == "platform" and "old" not in tags
    assert len(omics.batches) == 1


def test_a_changed_default_setting_starts_a_new_batch_that_records_what_it_replaced(
    cohort: Stack, omics: OmicsStandIn
) -> None:
    cohort.create(PROPERTIES)
    first = cohort.physical_id

    answer = cohort.update({**PROPERTIES, "Parameters": '{"threads": 32}'})

    second = answer["PhysicalResourceId"]
    assert second != first and len(omics.batches) == 2
    assert batch_bodies(omics)[1]["defaultRunSetting"]["parameters"] == {"threads": 32}
    tags = omics.batches[second]["tags"]
    assert tags["cdk-omics-run:replaces"] == first
    assert tags["cdk-omics-run:replaces-fingerprint"] == omics.batches[first]["tags"]["cdk-omics-run:fingerprint"]
    assert omics.batches[first]["status"] == "CREATING"  # untouched until CloudFormation's cleanup deletes it


def test_a_rollback_returns_the_replaced_batch_and_cleanup_cancels_the_new_one(
    cohort: Stack, omics: OmicsStandIn
) -> None:
    cohort.create(PROPERTIES)
    first = cohort.physical_id
    omics.set_batch_status(first, "INPROGRESS")
    changed = {**PROPERTIES, "Parameters": '{"threads": 32}'}
    cohort.update(changed)
    second = cohort.physical_id
    omics.set_batch_status(second, "PENDING")
    omics.reset_requests()

    answer = cohort.update(PROPERTIES)  # the rollback: back to the first properties
    cohort.delete(physical_id=second, properties=changed)  # cleanup of the failed update's batch

    assert answer["PhysicalResourceId"] == first
    assert "StartRunBatch" not in operations(omics)
    assert omics.batches[first]["status"] == "INPROGRESS"
    assert omics.batches[second]["status"] in ("STOPPING", "CANCELLED")
    assert omics.batches[second]["tags"]["cdk-omics-run:retired"] == "true"


def test_a_revert_after_cleanup_retired_the_old_batch_starts_a_new_one(cohort: Stack, omics: OmicsStandIn) -> None:
    cohort.create(PROPERTIES)
    first = cohort.physical_id
    omics.set_batch_status(first, "PENDING")  # past CREATING, which Delete waits out (the stand-in stays in it)
    changed = {**PROPERTIES, "Parameters": '{"threads": 32}'}
    cohort.update(changed)
    cohort.delete(physical_id=first, properties=PROPERTIES)  # cleanup after the update succeeded

    answer = cohort.update(PROPERTIES)

    assert answer["PhysicalResourceId"] != first and len(omics.batches) == 3
    assert omics.batches[first]["status"] in ("STOPPING", "CANCELLED")


def submitted(omics: OmicsStandIn, batch_id: str, statuses: dict[int, str] | None = None) -> list[str]:
    """Plays the service's submission of every run, then moves runs to the given statuses (by index)."""
    run_ids = omics.submit_batch(batch_id)
    for index, status in (statuses or {}).items():
        omics.set_status(run_ids[index], status)
    return run_ids


@pytest.mark.parametrize(
    ("policy", "prepare", "expected_calls", "expected_status"),
    [
        ("LEAVE", "pending", ["GetBatch", "TagResource"], "PENDING"),
        ("LEAVE", "in_progress", ["GetBatch", "TagResource"], "INPROGRESS"),
        ("LEAVE", "processed", ["GetBatch", "TagResource"], "PROCESSED"),
        ("LEAVE", "failed", ["GetBatch", "TagResource"], "FAILED"),
        ("LEAVE", "cancelled", ["GetBatch", "TagResource"], "CANCELLED"),
        ("CANCEL", "cancelled", ["GetBatch", "TagResource"], "CANCELLED"),
        (
            "CANCEL_AND_DELETE",
            "pending",
            ["GetBatch", "TagResource", "CancelRunBatch", "GetBatch", "GetBatch", "DeleteRunBatch", "GetBatch",
             "GetBatch", "DeleteBatch"],
            None,
        ),
        (
            "CANCEL_AND_DELETE",
            "cancelled",
            ["GetBatch", "TagResource", "DeleteRunBatch", "GetBatch", "GetBatch", "DeleteBatch"],
            None,
        ),
        ("CANCEL", "pending", ["GetBatch", "TagResource", "CancelRunBatch"], "STOPPING"),
        ("CANCEL", "in_progress", ["GetBatch", "TagResource", "CancelRunBatch"], "STOPPING"),
        ("CANCEL", "processed", ["GetBatch", "TagResource"], "PROCESSED"),
        ("CANCEL", "failed", ["GetBatch", "TagResource"], "FAILED"),
        (
            "CANCEL_AND_DELETE",
            "in_progress",
            ["GetBatch", "TagResource", "CancelRunBatch", "GetBatch", "GetBatch", "DeleteRunBatch", "GetBatch",
             "GetBatch", "DeleteBatch"],
            None,
        ),
        (
            "CANCEL_AND_DELETE",
            "processed",
            ["GetBatch", "TagResource", "DeleteRunBatch", "GetBatch", "GetBatch", "DeleteBatch"],
            None,
        ),
        ("CANCEL_AND_DELETE", "failed", ["GetBatch", "TagResource", "DeleteBatch"], None),
    ],
)  # fmt: skip
def test_each_delete_policy_in_each_batch_state(
    cohort: Stack,
    omics: OmicsStandIn,
    policy: str,
    prepare: str,
    expected_calls: list[str],
    expected_status: str | None,
) -> None:
    cohort.create({**PROPERTIES, "DeletePolicy": policy})
    batch_id = cohort.physical_id
    if prepare == "pending":
        omics.set_batch_status(batch_id, "PENDING")
    elif prepare == "in_progress":
        submitted(omics, batch_id, {0: "RUNNING"})
    elif prepare == "processed":
        submitted(omics, batch_id, {0: "COMPLETED", 1: "COMPLETED", 2: "FAILED"})
        omics.set_batch_status(batch_id, "PROCESSED")
    elif prepare == "failed":
        omics.set_batch_status(batch_id, "FAILED", failure_reason="the settings file changed")
    elif prepare == "cancelled":
        submitted(omics, batch_id, {0: "CANCELLED", 1: "CANCELLED", 2: "CANCELLED"})
        omics.set_batch_status(batch_id, "CANCELLED")
    omics.reset_requests()

    answer = cohort.delete()

    assert answer["Status"] == "SUCCESS" and answer["PhysicalResourceId"] == batch_id
    assert operations(omics) == expected_calls
    if expected_status is None:
        assert batch_id not in omics.batches
        assert not [run for run in omics.runs.values() if run.get("batchId") == batch_id]
    else:
        assert omics.batches[batch_id]["status"] == expected_status


def test_delete_leaves_a_batch_that_will_not_settle_and_still_answers_before_its_deadline(
    cohort: Stack, omics: OmicsStandIn, handler_module: ModuleType, response_bucket: ResponseBucket
) -> None:
    cohort.create({**PROPERTIES, "DeletePolicy": "CANCEL_AND_DELETE"})
    submitted(omics, cohort.physical_id)
    omics.hold_transitions = True  # STOPPING for ever

    invocation = invoke_handler(
        handler_module, response_bucket, "Delete", cohort.properties, physical_id=cohort.physical_id,
        resource_type=BATCH, context=LambdaContext(timeout_seconds=12),
    )  # fmt: skip

    assert invocation.response["Status"] == "SUCCESS"
    assert invocation.seconds < 5  # the bound: 12 s left, minus the 10 s Delete keeps in hand
    assert omics.batches[cohort.physical_id]["status"] == "STOPPING"
    assert "DeleteRunBatch" not in operations(omics)


def test_a_batch_this_resource_did_not_start_is_never_touched(cohort: Stack, omics: OmicsStandIn) -> None:
    cohort.create({**PROPERTIES, "DeletePolicy": "CANCEL_AND_DELETE"})
    foreign = cohort.physical_id
    omics.batches[foreign]["tags"][bookkeeping.OWNER_TAG] = "another resource"
    omics.set_batch_status(foreign, "INPROGRESS")
    omics.reset_requests()

    cohort.delete()
    answer = cohort.update({**PROPERTIES, "Tags": {"team": "genomics"}})

    assert omics.batches[foreign]["status"] == "INPROGRESS"
    assert operations(omics) == ["GetBatch", "GetBatch", "StartRunBatch"]  # Update starts a batch of its own
    assert answer["PhysicalResourceId"] != foreign


def test_a_batch_of_another_stack_is_refused_by_iam_and_left_alone(cohort: Stack, omics: OmicsStandIn) -> None:
    cohort.create(PROPERTIES)
    omics.set_batch_status(cohort.physical_id, "INPROGRESS")
    omics.enforce_stack_tag("arn:aws:cloudformation:us-east-1:123456789012:stack/Other/1")
    omics.reset_requests()

    answer = cohort.delete()

    assert answer["Status"] == "SUCCESS"
    assert operations(omics) == ["GetBatch"]
    assert omics.batches[cohort.physical_id]["status"] == "INPROGRESS"


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({**PROPERTIES, "Prority": "1"}, "CramToBam property Prority: unknown property; did you mean Priority?"),
        (
            {**PROPERTIES, "InlineSettings": [{"RunSettingId": "A", "Priority": "high"}]},
            "CramToBam property InlineSettings[0].Priority: got \"high\"; allowed: an integer from 0 to 100000",
        ),
        (
            {**PROPERTIES, "InlineSettings": [{"RunSettingId": "A"}, {"RunSettingId": "A"}]},
            "CramToBam property InlineSettings[1].RunSettingId: got \"A\" again (first at InlineSettings[0]); "
            "allowed: a unique ID per run",
        ),
        (
            {**{k: v for k, v in PROPERTIES.items() if k != "InlineSettings"}, "S3UriSettings": "https://b/k.json"},
            "CramToBam property S3UriSettings: got \"https://b/k.json\"; allowed: an s3:// URI of a JSON array of "
            "run settings",
        ),
        (
            {k: v for k, v in PROPERTIES.items() if k != "InlineSettings"},
            "CramToBam property InlineSettings, S3UriSettings: got neither; allowed: exactly one of the two",
        ),
        ({**PROPERTIES, "MaxFailedRuns": "-2"}, "CramToBam property MaxFailedRuns: got \"-2\"; allowed: an integer "
         "from 0 to 100000 (runs)"),
    ],
)  # fmt: skip
def test_bad_input_fails_at_once_naming_the_property_with_no_api_call(
    handler_module: ModuleType,
    response_bucket: ResponseBucket,
    omics: OmicsStandIn,
    properties: dict[str, Any],
    reason: str,
) -> None:
    invocation = invoke_handler(
        handler_module, response_bucket, "Create", properties, expected_status="FAILED", resource_type=BATCH
    )

    assert invocation.response["Reason"] == reason
    # The handler's own decision (the answer's PUT to the stand-in bucket is the test machine's network).
    assert invocation.seconds_to_answer < 1.0
    assert omics.requests == []


def test_the_handler_sends_what_the_aws_cli_sends_for_the_same_cli_input_json_file(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    request_file = REPO_ROOT / "examples" / "cohort-batch.json"
    subprocess.run(
        [sys.executable, "-m", "awscli", "omics", "start-run-batch", "--cli-input-json", f"file://{request_file}"],
        env={**os.environ, **handler_environment(omics, response_bucket)},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    [cli_body] = batch_bodies(omics)
    # The construct's properties for the same file, as CloudFormation hands them to the provider.
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Stack")
    OmicsRunBatch.from_cli_input_json(stack, "Cohort", request_file)
    [resource] = Template.from_stack(stack).find_resources(BATCH).values()
    properties = {k: v for k, v in resource["Properties"].items() if k != "ServiceToken"}

    invoke_handler(handler_module, response_bucket, "Create", properties, resource_type=BATCH)

    [_, handler_body] = batch_bodies(omics)
    assert without_batch_bookkeeping(handler_body) == without_batch_bookkeeping(cli_body)
    assert handler_body["requestId"] != cli_body["requestId"]


def without_batch_bookkeeping(body: dict[str, Any]) -> dict[str, Any]:
    """A StartRunBatch body as declared: no requestId, no cdk-omics-run: tags on the batch or its runs."""

    def declared(tags: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in tags.items() if not k.startswith("cdk-omics-run:")}

    default = dict(body["defaultRunSetting"])
    default["runTags"] = declared(default.get("runTags", {}))
    return {**{k: v for k, v in body.items() if k != "requestId"}, "tags": declared(body.get("tags", {})),
            "defaultRunSetting": default}  # fmt: skip


# --- waits


def waiting(handle: Handle, target: str, **extra: Any) -> dict[str, Any]:
    return {**PROPERTIES, "WaitFor": target, "WaitHandle": handle.url, "WaitTimeout": 600, "WaitPollInterval": 1,
            **extra}  # fmt: skip


def test_a_wait_for_processed_signals_success_with_the_counts_once_every_run_ended(
    cohort: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, response_bucket: ResponseBucket
) -> None:
    handle = Handle(response_bucket)
    cohort.create(waiting(handle, "PROCESSED", MaxFailedRuns=1))
    batch_id = cohort.physical_id
    run_ids = submitted(omics, batch_id, {0: "COMPLETED", 1: "RUNNING"})
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 2)
    assert handle.signal is None
    omics.set_status(run_ids[1], "COMPLETED")
    omics.set_status(run_ids[2], "FAILED")  # one failure is allowed

    event_source_mapping.run_until(lambda: handle.signal is not None)

    signal = handle.signal
    assert signal is not None and signal["Status"] == "SUCCESS" and signal["UniqueId"] == batch_id
    assert signal["Reason"] == f"CramToBam: batch {batch_id} reached PROCESSED: 2 of 3 runs completed, 1 failed"
    assert json.loads(signal["Data"]) == {
        "Arn": omics.batches[batch_id]["arn"], "Id": batch_id, "Uuid": omics.batches[batch_id]["uuid"],
        "Status": "PROCESSED", "TotalRuns": "3", "CompletedRuns": "2", "FailedRuns": "1",
    }  # fmt: skip
    assert bookkeeping.WAIT_TAG not in omics.batches[batch_id]["tags"]


def test_a_wait_fails_naming_the_first_failed_runs_once_more_than_max_failed_runs_failed(
    cohort: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, response_bucket: ResponseBucket
) -> None:
    handle = Handle(response_bucket)
    cohort.create(waiting(handle, "SUBMITTED", MaxFailedRuns=1))
    batch_id = cohort.physical_id
    run_ids = omics.submit_batch(batch_id, failed_setting_ids=["NA12878"])
    omics.set_status(run_ids[1], "FAILED")

    event_source_mapping.run_until(lambda: handle.signal is not None)

    signal = handle.signal
    assert signal is not None and signal["Status"] == "FAILURE"
    assert signal["Reason"] == (
        f"CramToBam: batch {batch_id} has 2 failed runs of 3 (1 failed to start, 1 ended FAILED), more than "
        "max_failed_runs 1; first failed runSettingIds: NA12878, NA12892"
    )
    # The wait ends without cancelling: CloudFormation's rollback applies the delete policy.
    assert omics.batches[batch_id]["status"] == "INPROGRESS"


def test_a_failed_batch_fails_its_wait_with_the_service_reason(
    cohort: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, response_bucket: ResponseBucket
) -> None:
    handle = Handle(response_bucket)
    cohort.create(waiting(handle, "SUBMITTED"))
    omics.set_batch_status(cohort.physical_id, "FAILED", failure_reason="S3 ETag changed")

    event_source_mapping.run_until(lambda: handle.signal is not None)

    signal = handle.signal
    assert signal is not None and signal["Status"] == "FAILURE"
    assert signal["Reason"] == f"CramToBam: batch {cohort.physical_id} failed: S3 ETag changed"


def test_the_result_resource_reads_the_batch_once_its_wait_succeeded(
    handler_module: ModuleType, response_bucket: ResponseBucket, cohort: Stack, omics: OmicsStandIn
) -> None:
    cohort.create(PROPERTIES)
    submitted(omics, cohort.physical_id, {0: "COMPLETED", 1: "COMPLETED", 2: "COMPLETED"})
    started = time.monotonic()

    answer = invoke_handler(
        handler_module, response_bucket, "Create", {"BatchId": cohort.physical_id},
        resource_type="Custom::OmicsRunResult", logical_id="CramToBamResult",
    ).response  # fmt: skip

    assert time.monotonic() - started < 5
    assert answer["PhysicalResourceId"] == cohort.physical_id
    assert answer["Data"]["Status"] == "PROCESSED" and answer["Data"]["CompletedRuns"] == "3"


def test_the_stand_in_runs_of_a_batch_carry_the_stack_tag_the_provider_policy_requires(
    cohort: Stack, omics: OmicsStandIn
) -> None:
    cohort.create(PROPERTIES)
    run_ids = omics.submit_batch(cohort.physical_id)

    assert {omics.runs[run_id]["tags"][STACK_TAG] for run_id in run_ids} == {STACK_ID}
    assert Path(REPO_ROOT / "examples" / "cohort-batch.json").is_file()


def test_a_refused_start_run_batch_fails_with_its_error_and_the_rollback_delete_touches_nothing(
    cohort: Stack, omics: OmicsStandIn, handler_module: ModuleType, response_bucket: ResponseBucket
) -> None:
    message = "The run role cannot read s3://omics-artifacts/cohort/settings.json"
    omics.fail_next("StartRunBatch", "ValidationException", message=message)

    failed = invoke_handler(
        handler_module, response_bucket, "Create", PROPERTIES, expected_status="FAILED", resource_type=BATCH
    ).response
    omics.reset_requests()
    cohort.delete(physical_id=failed["PhysicalResourceId"], properties=PROPERTIES)

    assert failed["Reason"] == f"CramToBam: StartRunBatch failed: ValidationException: {message}"
    assert failed["PhysicalResourceId"].startswith("not-started-")
    assert omics.batches == {} and omics.requests == []


def test_a_refused_delete_run_batch_is_not_waited_for(
    cohort: Stack, omics: OmicsStandIn, handler_module: ModuleType, response_bucket: ResponseBucket
) -> None:
    cohort.create({**PROPERTIES, "DeletePolicy": "CANCEL_AND_DELETE"})
    submitted(omics, cohort.physical_id, {0: "COMPLETED", 1: "COMPLETED", 2: "COMPLETED"})
    omics.set_batch_status(cohort.physical_id, "PROCESSED")
    omics.fail_next("DeleteRunBatch", "AccessDeniedException")
    omics.reset_requests()

    invocation = invoke_handler(
        handler_module, response_bucket, "Delete", cohort.properties, physical_id=cohort.physical_id,
        resource_type=BATCH,
    )  # fmt: skip

    assert invocation.response["Status"] == "SUCCESS" and invocation.seconds < 2
    assert operations(omics) == ["GetBatch", "TagResource", "DeleteRunBatch"]
    assert omics.batches[cohort.physical_id]["status"] == "PROCESSED"


def test_a_get_batch_that_fails_while_delete_follows_the_batch_is_polled_again(
    cohort: Stack, omics: OmicsStandIn
) -> None:
    cohort.create({**PROPERTIES, "DeletePolicy": "CANCEL_AND_DELETE"})
    submitted(omics, cohort.physical_id)
    omics.reset_requests()

    omics.fail_next("GetBatch", "ThrottlingException", times=1)  # the first GetBatch: Delete's own read
    omics.fail_next("GetBatch", "InternalServerException", times=1)  # the first poll after the cancel
    cohort.delete()

    assert cohort.physical_id not in omics.batches  # cancelled, runs deleted, record deleted
    assert operations(omics).count("DeleteBatch") == 1


def test_a_batch_still_creating_at_deletes_deadline_is_reported_not_cancelled(
    cohort: Stack, omics: OmicsStandIn, handler_module: ModuleType, response_bucket: ResponseBucket
) -> None:
    cohort.create(PROPERTIES)  # the stand-in keeps it CREATING
    omics.reset_requests()

    invocation = invoke_handler(
        handler_module, response_bucket, "Delete", cohort.properties, physical_id=cohort.physical_id,
        resource_type=BATCH, context=LambdaContext(timeout_seconds=12),
    )  # fmt: skip

    assert invocation.response["Status"] == "SUCCESS" and invocation.seconds < 5
    assert "CancelRunBatch" not in operations(omics)
    assert omics.batches[cohort.physical_id]["tags"]["cdk-omics-run:retired"] == "true"


def test_another_propertys_bad_value_never_changes_the_delete_policy(cohort: Stack, omics: OmicsStandIn) -> None:
    cohort.create({**PROPERTIES, "DeletePolicy": "LEAVE"})
    omics.set_batch_status(cohort.physical_id, "INPROGRESS")

    cohort.delete(properties={**PROPERTIES, "DeletePolicy": "LEAVE", "WaitTimeout": "forever"})

    assert omics.batches[cohort.physical_id]["status"] == "INPROGRESS"


def test_renaming_the_batch_keeps_it(cohort: Stack, omics: OmicsStandIn) -> None:
    cohort.create({**PROPERTIES, "BatchName": "cohort-a"})
    batch_id = cohort.physical_id

    answer = cohort.update({**PROPERTIES, "BatchName": "cohort-b"})

    assert answer["PhysicalResourceId"] == batch_id and len(omics.batches) == 1


def test_merged_run_tags_over_the_limit_are_refused_before_any_call(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    default_tags = {f"d{i}": "x" for i in range(30)}
    run_tags = {f"r{i}": "x" for i in range(20)}
    properties = {**PROPERTIES, "RunTags": default_tags, "InlineSettings": [{"RunSettingId": "A", "RunTags": run_tags}]}

    answer = invoke_handler(
        handler_module, response_bucket, "Create", properties, expected_status="FAILED", resource_type=BATCH
    ).response

    assert answer["Reason"] == (
        "CramToBam property InlineSettings[0].RunTags: with RunTags, the run would have 50 tags; allowed: at most "
        "49 (HealthOmics merges them, and one of a run's 50 is the provider's)"
    )
    assert omics.requests == []


def test_a_new_wait_for_the_same_batch_keeps_it_and_starts_a_wait_chain_on_it(
    cohort: Stack, omics: OmicsStandIn, event_source_mapping: EventSourceMapping, response_bucket: ResponseBucket
) -> None:
    cohort.create(PROPERTIES)
    batch_id = cohort.physical_id
    handle = Handle(response_bucket)

    answer = cohort.update(waiting(handle, "SUBMITTED"))  # only the wait settings changed: a new WaitCondition
    omics.submit_batch(batch_id)
    event_source_mapping.run_until(lambda: handle.signal is not None)

    assert answer["PhysicalResourceId"] == batch_id and len(omics.batches) == 1
    signal = handle.signal
    assert signal is not None and signal["Status"] == "SUCCESS"
    assert signal["Reason"] == f"CramToBam: batch {batch_id} reached INPROGRESS: 0 of 3 runs completed, 0 failed"


def test_delete_right_after_create_waits_out_creating_then_cancels(cohort: Stack, omics: OmicsStandIn) -> None:
    # A rollback straight after Create: the batch is still being set up, and cannot be cancelled yet.
    cohort.create(PROPERTIES)
    omics.creating_reads = 2
    omics.reset_requests()

    cohort.delete()

    assert operations(omics) == ["GetBatch", "TagResource", "GetBatch", "GetBatch", "CancelRunBatch"]
    assert omics.batches[cohort.physical_id]["status"] == "STOPPING"
