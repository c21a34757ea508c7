"""Custom::OmicsWorkflow through the handler: one workflow ID, a version per content, retention, delete policies.

Every request goes over real HTTP to the HealthOmics stand-in, which plays
CREATING -> ACTIVE (or FAILED with a statusMessage) as the documents give it,
and every answer lands on a real presigned S3 URL served by moto.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from events import LOGICAL_ID, STACK_ID, LambdaContext, Stack, invoke_handler, operations
from support.omics_stand_in import OmicsStandIn
from support.omics_workflow_stand_in import WORKFLOW_OPERATIONS
from support.response_bucket import ResponseBucket

from omics_run import bookkeeping, workflow_lifecycle
from omics_run.request_mapping import derive_request_id

WORKFLOW = "Custom::OmicsWorkflow"
FIRST = "s3://cdk-assets-123456789012-us-east-1/4f1c0c2a.zip"
SECOND = "s3://cdk-assets-123456789012-us-east-1/9b2e77d1.zip"
THIRD = "s3://cdk-assets-123456789012-us-east-1/c3d4e5f6.zip"
PROPERTIES: dict[str, Any] = {
    "Name": "cram-to-bam",
    "DefinitionUri": FIRST,
    "Engine": "WDL",
    "Main": "main.wdl",
    "VersionName": "v-4f1c0c2a",
    "Tags": {"team": "genomics"},
}
OWNER = bookkeeping.owner(STACK_ID, LOGICAL_ID)
BOOKKEEPING = {"cdk-omics-run:owner": OWNER, "cdk-omics-run:stack": STACK_ID}


@pytest.fixture
def pipeline(handler_module: ModuleType, response_bucket: ResponseBucket, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """One Custom::OmicsWorkflow, played through the handler; waits poll the stand-in without delay."""
    monkeypatch.setattr(workflow_lifecycle, "POLL_SECONDS", 0.01)
    return Stack(handler_module, response_bucket, resource_type=WORKFLOW)


def bodies(omics: OmicsStandIn, operation: str) -> list[dict[str, Any]]:
    return [r.body or {} for r in omics.requests_for(operation)]


def versions(omics: OmicsStandIn, workflow_id: str) -> dict[str, dict[str, Any]]:
    return dict(omics.workflow_service.workflows[workflow_id]["versions"])


def test_create_makes_the_workflow_and_its_first_version_both_active(pipeline: Stack, omics: OmicsStandIn) -> None:
    answer = pipeline.create(PROPERTIES)

    [workflow] = omics.workflow_service.workflows.values()
    assert answer["PhysicalResourceId"] == workflow["id"]
    [create] = bodies(omics, "CreateWorkflow")
    assert create == {
        "name": "cram-to-bam",
        "definitionUri": FIRST,
        "engine": "WDL",
        "main": "main.wdl",
        "tags": {"team": "genomics", **BOOKKEEPING},
        "requestId": create["requestId"],
    }
    [version_request] = bodies(omics, "CreateWorkflowVersion")
    assert version_request == {
        "versionName": "v-4f1c0c2a",
        "definitionUri": FIRST,
        "engine": "WDL",
        "main": "main.wdl",
        "tags": {"team": "genomics", **BOOKKEEPING},
        "requestId": version_request["requestId"],
    }
    assert answer["Data"] == {
        "Arn": workflow["arn"],
        "Id": workflow["id"],
        "Uuid": workflow["uuid"],
        "VersionName": "v-4f1c0c2a",
        "VersionArn": f"{workflow['arn']}/version/v-4f1c0c2a",
        "Status": "ACTIVE",
    }
    assert workflow["status"] == "ACTIVE" and versions(omics, workflow["id"])["v-4f1c0c2a"]["status"] == "ACTIVE"


def test_a_create_delivered_three_times_makes_one_workflow(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workflow_lifecycle, "POLL_SECONDS", 0.01)
    answers = [
        invoke_handler(handler_module, response_bucket, "Create", PROPERTIES, request_id="r-1", resource_type=WORKFLOW)
        for _ in range(3)
    ]

    assert len(omics.workflow_service.workflows) == 1
    assert {a.response["PhysicalResourceId"] for a in answers} == set(omics.workflow_service.workflows)
    assert {b["requestId"] for b in bodies(omics, "CreateWorkflow")} == {derive_request_id(STACK_ID, LOGICAL_ID, "r-1")}


def test_an_update_with_changed_content_adds_a_version_to_the_same_workflow(
    pipeline: Stack, omics: OmicsStandIn
) -> None:
    pipeline.create(PROPERTIES)
    workflow_id = pipeline.physical_id
    omics.reset_requests()

    answer = pipeline.update({**PROPERTIES, "DefinitionUri": SECOND, "VersionName": "v-9b2e77d1"})

    assert answer["PhysicalResourceId"] == workflow_id
    assert operations(omics)[:3] == ["GetWorkflow", "GetWorkflowVersion", "CreateWorkflowVersion"]
    assert "CreateWorkflow" not in operations(omics)
    [request] = bodies(omics, "CreateWorkflowVersion")
    assert (request["versionName"], request["definitionUri"]) == ("v-9b2e77d1", SECOND)
    assert sorted(versions(omics, workflow_id)) == ["v-4f1c0c2a", "v-9b2e77d1"]
    assert answer["Data"]["VersionName"] == "v-9b2e77d1" and answer["Data"]["Status"] == "ACTIVE"


def test_an_unchanged_update_and_a_rollback_find_their_versions_and_create_nothing(
    pipeline: Stack, omics: OmicsStandIn
) -> None:
    pipeline.create(PROPERTIES)
    pipeline.update({**PROPERTIES, "DefinitionUri": SECOND, "VersionName": "v-9b2e77d1"})
    omics.reset_requests()

    unchanged = pipeline.update({**PROPERTIES, "DefinitionUri": SECOND, "VersionName": "v-9b2e77d1"})
    rollback = pipeline.update(PROPERTIES)

    assert operations(omics) == ["GetWorkflow", "GetWorkflowVersion", "GetWorkflowVersion"] * 2
    assert unchanged["Data"]["VersionName"] == "v-9b2e77d1" and rollback["Data"]["VersionName"] == "v-4f1c0c2a"


def test_a_failed_version_fails_the_update_with_its_status_message_and_keeps_the_workflow(
    pipeline: Stack, omics: OmicsStandIn
) -> None:
    pipeline.create(PROPERTIES)
    workflow_id = pipeline.physical_id
    omics.workflow_service.fail_definition(SECOND, "WDL validation failed: main.wdl:7: unknown type 'Fiel'")

    answer = pipeline.update({**PROPERTIES, "DefinitionUri": SECOND, "VersionName": "v-9b2e77d1"}, "FAILED")

    assert answer["Reason"] == (
        f"{LOGICAL_ID}: CreateWorkflowVersion v-9b2e77d1 ended FAILED: "
        "WDL validation failed: main.wdl:7: unknown type 'Fiel'"
    )
    assert answer["PhysicalResourceId"] == workflow_id
    assert sorted(versions(omics, workflow_id)) == ["v-4f1c0c2a"]  # the failed one is deleted


def test_a_failed_workflow_fails_the_create_with_its_status_message_and_leaves_nothing(
    pipeline: Stack, omics: OmicsStandIn
) -> None:
    omics.workflow_service.fail_definition(FIRST, "No workflow definition file found in the archive")

    answer = invoke_handler(
        pipeline.handler, pipeline.bucket, "Create", PROPERTIES, resource_type=WORKFLOW, expected_status="FAILED"
    ).response

    assert (
        answer["Reason"]
        == f"{LOGICAL_ID}: CreateWorkflow ended FAILED: No workflow definition file found in the archive"
    )
    assert answer["PhysicalResourceId"].startswith("not-started-")
    assert omics.workflow_service.workflows == {}
    assert "CreateWorkflowVersion" not in operations(omics)


def test_a_workflow_still_creating_at_the_time_limit_fails_naming_it(pipeline: Stack, omics: OmicsStandIn) -> None:
    omics.workflow_service.creating_reads = 10**6

    answer = invoke_handler(
        pipeline.handler, pipeline.bucket, "Create", PROPERTIES, resource_type=WORKFLOW, expected_status="FAILED",
        context=LambdaContext(timeout_seconds=workflow_lifecycle.WAIT_MARGIN_SECONDS + 0.5),
    ).response  # fmt: skip

    [workflow_id] = omics.workflow_service.workflows
    assert answer["PhysicalResourceId"] == workflow_id  # so the delete policy applies to it
    assert answer["Reason"] == (
        f"{LOGICAL_ID}: CreateWorkflow still CREATING at the provider's time limit; deploy again to wait for it "
        "(the same content finds the same version)"
    )


def test_retain_versions_deletes_the_oldest_of_this_resources_versions(pipeline: Stack, omics: OmicsStandIn) -> None:
    # IAM as the provider's policy has it: workflow actions only on what carries this stack's tag.
    omics.enforce_stack_tag(STACK_ID, operations=WORKFLOW_OPERATIONS - {"CreateWorkflow"})
    retained = {**PROPERTIES, "RetainVersions": 2}
    pipeline.create(retained)
    workflow_id = pipeline.physical_id
    omics.workflow_service.workflows[workflow_id]["versions"]["by-hand"] = {
        **versions(omics, workflow_id)["v-4f1c0c2a"], "versionName": "by-hand", "tags": {}
    }  # fmt: skip
    pipeline.update({**retained, "DefinitionUri": SECOND, "VersionName": "v-2"})
    assert sorted(versions(omics, workflow_id)) == ["by-hand", "v-2", "v-4f1c0c2a"]

    pipeline.update({**retained, "DefinitionUri": THIRD, "VersionName": "v-3"})

    assert sorted(versions(omics, workflow_id)) == ["by-hand", "v-2", "v-3"]
    assert [r.path.rsplit("/", 1)[-1] for r in omics.requests_for("DeleteWorkflowVersion")] == ["v-4f1c0c2a"]


@pytest.mark.parametrize(
    ("policy", "left"),
    [(None, True), ("RETAIN", True), ("DELETE", False)],
)
def test_delete_applies_the_delete_policy(pipeline: Stack, omics: OmicsStandIn, policy: str | None, left: bool) -> None:
    properties = PROPERTIES if policy is None else {**PROPERTIES, "DeletePolicy": policy}
    pipeline.create(properties)
    pipeline.update({**properties, "DefinitionUri": SECOND, "VersionName": "v-2"})

    answer = pipeline.delete()

    assert answer["Status"] == "SUCCESS"
    assert (pipeline.physical_id in omics.workflow_service.workflows) is left


def test_delete_never_touches_another_resources_workflow(pipeline: Stack, omics: OmicsStandIn) -> None:
    pipeline.create({**PROPERTIES, "DeletePolicy": "DELETE"})

    pipeline.delete(logical_id="SomeOtherWorkflow")
    pipeline.delete(physical_id="not-started-0123456789abcdef0123")

    assert pipeline.physical_id in omics.workflow_service.workflows
    assert "DeleteWorkflow" not in operations(omics) and "DeleteWorkflowVersion" not in operations(omics)


def test_a_bad_property_fails_naming_it_before_any_call(pipeline: Stack, omics: OmicsStandIn) -> None:
    answer = invoke_handler(
        pipeline.handler, pipeline.bucket, "Create", {**PROPERTIES, "Engin": "WDL"}, resource_type=WORKFLOW,
        expected_status="FAILED",
    ).response  # fmt: skip

    assert answer["Reason"] == f"{LOGICAL_ID} property Engin: unknown property; did you mean Engine?"
    assert operations(omics) == []


def test_without_a_version_name_the_version_is_named_after_the_content_digest(
    pipeline: Stack, omics: OmicsStandIn
) -> None:
    properties = {k: v for k, v in PROPERTIES.items() if k != "VersionName"}
    first = pipeline.create(properties)["Data"]["VersionName"]
    retagged = pipeline.update({**properties, "Tags": {"team": "platform"}})["Data"]["VersionName"]
    changed = pipeline.update({**properties, "DefinitionUri": SECOND})["Data"]["VersionName"]

    assert len(first) == 64 and first == retagged and changed != first


def test_a_new_name_renames_the_workflow_and_new_tags_change_nothing(pipeline: Stack, omics: OmicsStandIn) -> None:
    pipeline.create(PROPERTIES)
    workflow_id = pipeline.physical_id
    omics.reset_requests()

    answer = pipeline.update({**PROPERTIES, "Name": "cram-to-bam-v2", "Tags": {"team": "platform"}})

    assert answer["PhysicalResourceId"] == workflow_id
    assert operations(omics) == ["GetWorkflow", "UpdateWorkflow", "GetWorkflowVersion", "GetWorkflowVersion"]
    assert bodies(omics, "UpdateWorkflow") == [{"name": "cram-to-bam-v2"}]
    workflow = omics.workflow_service.workflows[workflow_id]
    assert (workflow["name"], workflow["tags"]["team"]) == ("cram-to-bam-v2", "genomics")  # tags as created


def test_delete_reads_its_policy_even_when_another_property_is_bad(pipeline: Stack, omics: OmicsStandIn) -> None:
    pipeline.create({**PROPERTIES, "DeletePolicy": "DELETE"})

    pipeline.delete(properties={**PROPERTIES, "DeletePolicy": "DELETE", "Engine": "SNAKEMAKE"})

    assert omics.workflow_service.workflows == {}
