"""The provider handler over real HTTP: a HealthOmics stand-in and a presigned HTTPS ResponseURL on moto."""
from __future__ import annotations

import json
import logging
from types import ModuleType

import pytest

from events import LOGICAL_ID, MINIMAL_PROPERTIES, OUTPUT_URI, ROLE_ARN, STACK_ID, invoke_handler
from omics_run.bookkeeping import fingerprint, owner
from omics_run.request_mapping import derive_request_id
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

CLOUDFORMATION_RESPONSE_LIMIT = 4096


def test_create_starts_the_run_and_answers_with_its_attributes(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    invocation = invoke_handler(handler_module, response_bucket, "Create", MINIMAL_PROPERTIES, request_id="req-1")

    [request] = omics.start_run_bodies()
    run_defining = {"workflowId": "1234567", "roleArn": ROLE_ARN, "outputUri": OUTPUT_URI}
    assert request == {
        **run_defining,
        "requestId": derive_request_id(STACK_ID, LOGICAL_ID, "req-1"),
        "tags": {
            "cdk-omics-run:fingerprint": fingerprint(run_defining, None),
            "cdk-omics-run:owner": owner(STACK_ID, LOGICAL_ID),
        },
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


def test_a_service_error_fails_the_create_with_the_service_message(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    omics.fail_next("StartRun", "AccessDeniedException", 403, "not authorized to perform omics:StartRun")

    invocation = invoke_handler(handler_module, response_bucket, "Create", MINIMAL_PROPERTIES, expected_status="FAILED")

    assert invocation.response["Reason"] == (
        "CramToBam: StartRun failed: AccessDeniedException: not authorized to perform omics:StartRun"
    )
    assert omics.runs == {}


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
