"""The provider handler over real HTTP: a HealthOmics stand-in and a presigned HTTPS ResponseURL on moto."""
from __future__ import annotations

import json
import logging
from types import ModuleType

import pytest

from events import LOGICAL_ID, MINIMAL_PROPERTIES, OUTPUT_URI, ROLE_ARN, STACK_ID, invoke_handler
from omics_run.request_mapping import derive_request_id
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

CLOUDFORMATION_RESPONSE_LIMIT = 4096


def test_create_starts_the_run_and_answers_with_its_attributes(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    invocation = invoke_handler(handler_module, response_bucket, "Create", MINIMAL_PROPERTIES, request_id="req-1")

    [request] = omics.start_run_bodies()
    assert request == {
        "workflowId": "1234567",
        "roleArn": ROLE_ARN,
        "outputUri": OUTPUT_URI,
        "requestId": derive_request_id(STACK_ID, LOGICAL_ID, "req-1"),
    }
    [run] = omics.runs.values()
    response = invocation.response
    assert response["Status"] == "SUCCESS"
    assert response["PhysicalResourceId"] == run["id"]
    assert response["Data"] == {
        "Arn": f"arn:aws:omics:us-east-1:123456789012:run/{run['id']}",
        "Id": run["id"],
        "Uuid": run["uuid"],
        "RunOutputUri": f"s3://omics-artifacts/workflow-output/{run['id']}",
        "Status": "PENDING",
    }
    assert [r.operation for r in omics.requests] == ["StartRun"]


def test_create_restores_integer_and_boolean_members_from_cloudformation_strings(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    properties = {**MINIMAL_PROPERTIES, "Priority": 1, "StorageCapacity": 10, "RequesterPaysEnabled": True}

    invoke_handler(handler_module, response_bucket, "Create", properties)

    [request] = omics.start_run_bodies()
    assert (request["priority"], request["storageCapacity"], request["requesterPaysEnabled"]) == (1, 10, True)


def test_create_keeps_the_types_of_parameters_given_as_a_json_string(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    parameters = {"threads": 4, "ratio": 0.5, "gvcf": True, "intervals": ["chr1"], "nested": {"x": None}}
    properties = {**MINIMAL_PROPERTIES, "Parameters": json.dumps(parameters), "EngineSettings": '{"retries": 2}'}

    invoke_handler(handler_module, response_bucket, "Create", properties)

    [request] = omics.start_run_bodies()
    assert request["parameters"] == parameters
    assert request["engineSettings"] == {"retries": 2}


def test_create_accepts_parameters_written_as_an_object_whose_scalars_cloudformation_stringified(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    properties = {**MINIMAL_PROPERTIES, "Parameters": {"threads": 4, "gvcf": True, "sample": "NA12878"}}

    invoke_handler(handler_module, response_bucket, "Create", properties)

    [request] = omics.start_run_bodies()
    assert request["parameters"] == {"threads": "4", "gvcf": "true", "sample": "NA12878"}


def test_a_redelivered_create_starts_no_second_run(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    answers = [
        invoke_handler(handler_module, response_bucket, "Create", MINIMAL_PROPERTIES, request_id="same").response
        for _ in range(3)
    ]

    assert len(omics.runs) == 1
    assert len({a["PhysicalResourceId"] for a in answers}) == 1
    assert len({body["requestId"] for body in omics.start_run_bodies()}) == 1


def test_a_new_cloudformation_request_gets_a_new_request_id(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    invoke_handler(handler_module, response_bucket, "Create", MINIMAL_PROPERTIES, request_id="first")
    invoke_handler(handler_module, response_bucket, "Create", MINIMAL_PROPERTIES, request_id="second")

    assert len(omics.runs) == 2


BAD_PROPERTIES = [
    ({"LogLevel": "VERBOSE"}, 'CramToBam property LogLevel: got "VERBOSE"; allowed: OFF, FATAL, ERROR, ALL'),
    ({"Priority": "high"}, 'CramToBam property Priority: got "high"; allowed: an integer from 0 to 100000'),
    ({"StorageCapacity": 100001}, "CramToBam property StorageCapacity: got 100001; allowed: an integer from 0 to 100000"),
    ({"WorkflowId": "wf-1"}, 'CramToBam property WorkflowId: got "wf-1"; allowed: a string matching [0-9]+'),
    (
        {"Parameters": "{not json"},
        "CramToBam property Parameters: got invalid JSON (Expecting property name enclosed in double quotes "
        "at character 1); allowed: a JSON object, as a string or an object",
    ),
    ({"Parameters": "[1, 2]"}, "CramToBam property Parameters: got [1, 2]; allowed: a JSON object, as a string or an object"),
    ({"WorkflowID": "1234567"}, "CramToBam property WorkflowID: unknown property; did you mean WorkflowId?"),
    ({"RequesterPaysEnabled": "yes"}, 'CramToBam property RequesterPaysEnabled: got "yes"; allowed: true or false'),
    ({"Tags": "team=genomics"}, 'CramToBam property Tags: got "team=genomics"; allowed: an object of string keys and values'),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_PROPERTIES, ids=[next(iter(b)) for b, _ in BAD_PROPERTIES])
def test_bad_input_fails_within_a_second_naming_the_property_and_starts_nothing(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn, bad: dict, reason: str
) -> None:
    invocation = invoke_handler(
        handler_module, response_bucket, "Create", {**MINIMAL_PROPERTIES, **bad}, expected_status="FAILED"
    )

    assert invocation.response["Reason"] == reason
    assert omics.requests == []
    assert invocation.seconds < 1.0


def test_a_missing_required_member_fails_naming_it(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    properties = {"WorkflowId": "1234567", "RoleArn": ROLE_ARN}

    invocation = invoke_handler(handler_module, response_bucket, "Create", properties, expected_status="FAILED")

    assert invocation.response["Reason"] == "CramToBam property OutputUri: missing; it is required by StartRun"
    assert omics.requests == []


def test_a_service_error_fails_the_create_with_the_service_message(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    omics.fail_next("StartRun", "AccessDeniedException", 403, "not authorized to perform omics:StartRun")

    invocation = invoke_handler(handler_module, response_bucket, "Create", MINIMAL_PROPERTIES, expected_status="FAILED")

    assert invocation.response["Reason"].endswith("not authorized to perform omics:StartRun")
    assert omics.runs == {}


def test_update_starts_nothing_keeps_the_physical_id_and_refreshes_the_attributes(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    run = omics.add_run(status="RUNNING", outputUri=OUTPUT_URI, roleArn=ROLE_ARN, workflowId="1234567")
    changed = {**MINIMAL_PROPERTIES, "Name": "renamed"}

    invocation = invoke_handler(
        handler_module, response_bucket, "Update", changed, old_properties=MINIMAL_PROPERTIES, physical_id=run["id"]
    )

    assert omics.start_run_bodies() == []
    assert invocation.response["PhysicalResourceId"] == run["id"]
    assert invocation.response["Data"]["Status"] == "RUNNING"
    assert invocation.response["Data"]["Id"] == run["id"]


def test_delete_succeeds_and_touches_nothing(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    run = omics.add_run(status="RUNNING", outputUri=OUTPUT_URI, roleArn=ROLE_ARN)

    invocation = invoke_handler(handler_module, response_bucket, "Delete", MINIMAL_PROPERTIES, physical_id=run["id"])

    assert invocation.response["PhysicalResourceId"] == run["id"]
    assert omics.requests == []
    assert omics.runs[run["id"]]["status"] == "RUNNING"


def test_the_response_stays_under_cloudformations_limit_for_the_longest_values(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    longest_output_uri = "s3://" + "b" * 63 + "/" + "p" * (750 - 5 - 63 - 2) + "/"
    properties = {**MINIMAL_PROPERTIES, "OutputUri": longest_output_uri}

    invocation = invoke_handler(
        handler_module, response_bucket, "Create", properties, logical_id="L" * 255, request_id="r" * 36
    )

    assert len(json.dumps(invocation.response)) < CLOUDFORMATION_RESPONSE_LIMIT


def test_the_presigned_response_url_is_never_logged_at_info(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    invoke_handler(handler_module, response_bucket, "Create", MINIMAL_PROPERTIES)

    assert caplog.records, "the handler should log something at INFO"
    assert not [r for r in caplog.records if "X-Amz-Signature" in r.getMessage()]
