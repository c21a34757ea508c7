"""Self-tests for the private-workflow part of the HealthOmics stand-in (CreateWorkflow,
CreateWorkflowVersion, GetWorkflow, GetWorkflowVersion, ListWorkflowVersions,
DeleteWorkflowVersion, DeleteWorkflow), exercised over real HTTP with boto3."""

from __future__ import annotations

import re
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from support.omics_stand_in import ERROR_STATUS, OPERATIONS, OmicsStandIn
from support.omics_workflow_stand_in import (
    CREATE_WORKFLOW_VERSION_REQUIRED_MEMBERS,
    GET_WORKFLOW_OUTPUT_MEMBERS,
    GET_WORKFLOW_VERSION_OUTPUT_MEMBERS,
    UPDATABLE_MEMBERS,
    VERSION_NAME_LENGTH,
    VERSION_NAME_PATTERN,
    WORKFLOW_OPERATIONS,
    WORKFLOW_STATUSES,
    WORKFLOW_VERSION_LIST_ITEM_MEMBERS,
)
from support.raw_http import aim_boto3_at, raw_request, service_error

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
DEFINITION = "s3://cdk-assets-bucket/0f1e2d3c.zip"
WORKFLOW_ARN_PREFIX = "arn:aws:omics:us-east-1:123456789012:workflow/"

EXPECTED_HTTP = {
    "CreateWorkflow": ("POST", "/workflow", 201),
    "CreateWorkflowVersion": ("POST", "/workflow/{workflowId}/version", 201),
    "GetWorkflow": ("GET", "/workflow/{id}", 200),
    "UpdateWorkflow": ("POST", "/workflow/{id}", 202),
    "GetWorkflowVersion": ("GET", "/workflow/{workflowId}/version/{versionName}", 200),
    "ListWorkflowVersions": ("GET", "/workflow/{workflowId}/version", 200),
    "DeleteWorkflowVersion": ("DELETE", "/workflow/{workflowId}/version/{versionName}", 202),
    "DeleteWorkflow": ("DELETE", "/workflow/{id}", 202),
}


@pytest.fixture
def omics(omics: OmicsStandIn, monkeypatch: pytest.MonkeyPatch) -> OmicsStandIn:
    """conftest's stand-in, emptied, with boto3 aimed at it."""
    aim_boto3_at(omics, monkeypatch)
    return omics


@pytest.fixture
def client(omics: OmicsStandIn) -> Any:
    return boto3.client("omics", region_name="us-east-1", config=NO_RETRIES)


def _active_workflow(client: Any, **extra: Any) -> str:
    workflow_id = client.create_workflow(definitionUri=DEFINITION, engine="WDL", **extra)["id"]
    while client.get_workflow(id=workflow_id)["status"] == "CREATING":
        pass
    return str(workflow_id)


def test_workflow_routes_and_members_match_botocore_omics_model() -> None:
    model = botocore.session.get_session().get_service_model("omics")
    for name, (method, uri, code) in EXPECTED_HTTP.items():
        http_trait = model.operation_model(name).http
        assert (http_trait["method"], http_trait["requestUri"], http_trait.get("responseCode", 200)) == (
            method,
            uri,
            code,
        ), name
        for shape in model.operation_model(name).error_shapes:
            assert ERROR_STATUS[shape.name] == shape.metadata["error"]["httpStatusCode"], (name, shape.name)
    assert set(EXPECTED_HTTP) == WORKFLOW_OPERATIONS and WORKFLOW_OPERATIONS <= OPERATIONS
    assert set(model.operation_model("GetWorkflow").output_shape.members) == GET_WORKFLOW_OUTPUT_MEMBERS
    assert set(model.operation_model("GetWorkflowVersion").output_shape.members) == GET_WORKFLOW_VERSION_OUTPUT_MEMBERS
    assert set(model.shape_for("WorkflowVersionListItem").members) == WORKFLOW_VERSION_LIST_ITEM_MEMBERS
    assert set(model.shape_for("WorkflowStatus").enum) == WORKFLOW_STATUSES
    version_request = model.operation_model("CreateWorkflowVersion").input_shape
    assert list(version_request.required_members) == list(CREATE_WORKFLOW_VERSION_REQUIRED_MEMBERS)
    name = version_request.members["versionName"].metadata
    assert (name["min"], name["max"], name["pattern"]) == (*VERSION_NAME_LENGTH, VERSION_NAME_PATTERN)
    assert model.operation_model("CreateWorkflow").input_shape.members["requestId"].metadata["idempotencyToken"]


def test_a_new_workflow_is_creating_then_active_with_its_definition(client: Any, omics: OmicsStandIn) -> None:
    created = client.create_workflow(
        name="cram-to-bam", definitionUri=DEFINITION, engine="WDL", main="main.wdl", tags={"team": "g"}
    )

    assert created["status"] == "CREATING"
    assert created["arn"] == WORKFLOW_ARN_PREFIX + created["id"]
    assert client.get_workflow(id=created["id"])["status"] == "CREATING"
    workflow = client.get_workflow(id=created["id"])
    assert (workflow["status"], workflow["name"], workflow["engine"], workflow["main"]) == (
        "ACTIVE",
        "cram-to-bam",
        "WDL",
        "main.wdl",
    )
    assert workflow["tags"] == {"team": "g"} and workflow["type"] == "PRIVATE"


def test_a_workflow_from_a_failing_definition_ends_failed_with_its_status_message(
    client: Any, omics: OmicsStandIn
) -> None:
    omics.workflow_service.fail_definition(DEFINITION, "Workflow definition is invalid: line 3: unexpected token")
    workflow_id = client.create_workflow(definitionUri=DEFINITION, engine="WDL")["id"]

    client.get_workflow(id=workflow_id)
    workflow = client.get_workflow(id=workflow_id)

    assert (workflow["status"], workflow["statusMessage"]) == (
        "FAILED",
        "Workflow definition is invalid: line 3: unexpected token",
    )


def test_a_create_workflow_replayed_by_request_id_creates_one_workflow(client: Any, omics: OmicsStandIn) -> None:
    first = client.create_workflow(definitionUri=DEFINITION, engine="WDL", requestId="r-1")
    second = client.create_workflow(definitionUri=DEFINITION, engine="WDL", requestId="r-1")

    assert first["id"] == second["id"] and len(omics.workflow_service.workflows) == 1


def test_two_definition_sources_or_none_are_refused(omics: OmicsStandIn) -> None:
    status, headers, body = raw_request(
        omics, "POST", "/workflow", {"requestId": "r", "definitionUri": DEFINITION, "definitionZip": "UEsDBA=="}
    )
    assert (status, headers["x-amzn-errortype"]) == (400, "ValidationException")
    assert "got definitionZip and definitionUri" in body["message"]
    status, _, body = raw_request(omics, "POST", "/workflow", {"requestId": "r"})
    assert status == 400 and "got none" in body["message"]


def test_versions_are_named_uniquely_and_settle_like_workflows(client: Any, omics: OmicsStandIn) -> None:
    workflow_id = _active_workflow(client)
    other = "s3://cdk-assets-bucket/1a2b3c.zip"
    omics.workflow_service.fail_definition(other, "Missing main workflow file")

    created = client.create_workflow_version(workflowId=workflow_id, versionName="v1", definitionUri=DEFINITION)
    failing = client.create_workflow_version(workflowId=workflow_id, versionName="v2", definitionUri=other)
    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.create_workflow_version(workflowId=workflow_id, versionName="v1", definitionUri=DEFINITION)

    assert "already has a version named v1" in service_error(excinfo, "ConflictException", 409)
    assert created["arn"] == f"{WORKFLOW_ARN_PREFIX}{workflow_id}/version/v1" and created["status"] == "CREATING"
    assert failing["status"] == "CREATING"
    for name in ("v1", "v2"):
        client.get_workflow_version(workflowId=workflow_id, versionName=name)
    assert client.get_workflow_version(workflowId=workflow_id, versionName="v1")["status"] == "ACTIVE"
    failed = client.get_workflow_version(workflowId=workflow_id, versionName="v2")
    assert (failed["status"], failed["statusMessage"]) == ("FAILED", "Missing main workflow file")
    listed = client.list_workflow_versions(workflowId=workflow_id)["items"]
    assert [(item["versionName"], item["status"]) for item in listed] == [("v1", "ACTIVE"), ("v2", "FAILED")]


def test_a_version_name_outside_the_model_pattern_is_refused(omics: OmicsStandIn, client: Any) -> None:
    workflow_id = _active_workflow(client)
    status, _, body = raw_request(
        omics, "POST", f"/workflow/{workflow_id}/version", {"requestId": "r", "versionName": "-x", "definitionUri": DEFINITION}
    )  # fmt: skip
    assert status == 400 and "versionName" in body["message"]
    assert re.fullmatch(VERSION_NAME_PATTERN, "a" * 64)


def test_a_workflow_with_versions_cannot_be_deleted_until_they_are(client: Any, omics: OmicsStandIn) -> None:
    workflow_id = _active_workflow(client)
    client.create_workflow_version(workflowId=workflow_id, versionName="v1", definitionUri=DEFINITION)

    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.delete_workflow(id=workflow_id)
    assert "delete all the user-defined versions" in service_error(excinfo, "ConflictException", 409)

    client.delete_workflow_version(workflowId=workflow_id, versionName="v1")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_workflow_version(workflowId=workflow_id, versionName="v1")
    client.delete_workflow(id=workflow_id)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_workflow(id=workflow_id)


def test_workflow_operations_take_injected_faults(client: Any, omics: OmicsStandIn) -> None:
    omics.fail_next("CreateWorkflow", "ThrottlingException")

    with pytest.raises(client.exceptions.ThrottlingException):
        client.create_workflow(definitionUri=DEFINITION, engine="WDL")
    assert omics.workflow_service.workflows == {}


def test_update_workflow_renames_it_and_returns_nothing(client: Any, omics: OmicsStandIn) -> None:
    workflow_id = _active_workflow(client, name="old")

    response = client.update_workflow(id=workflow_id, name="new", description="renamed")

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    workflow = client.get_workflow(id=workflow_id)
    assert (workflow["name"], workflow["description"]) == ("new", "renamed")
    assert set(botocore.session.get_session().get_service_model("omics").operation_model(
        "UpdateWorkflow").input_shape.members) - {"id"} == set(UPDATABLE_MEMBERS)  # fmt: skip
