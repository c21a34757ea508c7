"""The provider handler over real HTTP: a HealthOmics stand-in and a presigned HTTPS ResponseURL on moto."""

from __future__ import annotations

import json
import logging
from types import ModuleType

import pytest
from events import LOGICAL_ID, MINIMAL_PROPERTIES, OUTPUT_URI, ROLE_ARN, STACK_ID, invoke_handler
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

from omics_run.bookkeeping import fingerprint, owner
from omics_run.request_mapping import derive_request_id

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
            "cdk-omics-run:stack": STACK_ID,
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


def test_neither_the_response_url_nor_the_event_nor_parameters_are_logged_at_info(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    secretish = "patient-7f3a9c-consented-cohort"
    properties = {**MINIMAL_PROPERTIES, "Parameters": json.dumps({"cohort": secretish})}

    created = invoke_handler(handler_module, response_bucket, "Create", properties).response
    invoke_handler(handler_module, response_bucket, "Update", {**properties, "Name": "x"},
                   old_properties=properties, physical_id=created["PhysicalResourceId"])  # fmt: skip
    invoke_handler(handler_module, response_bucket, "Create", {**properties, "LogLevel": "LOUD"},
                   expected_status="FAILED")  # fmt: skip
    invoke_handler(handler_module, response_bucket, "Delete", properties, physical_id=created["PhysicalResourceId"])

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "the handler should log something at INFO"
    for leak in ("X-Amz-Signature", "X-Amz-Credential", response_bucket.endpoint_url, secretish, "ResponseURL"):
        assert leak not in logged


def test_a_rejected_parameters_document_is_quoted_only_in_part(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn
) -> None:
    parameters = json.dumps(["sample-" + "x" * 500, "s3://bucket/secret-path/reads.bam"])

    invocation = invoke_handler(
        handler_module, response_bucket, "Create", {**MINIMAL_PROPERTIES, "Parameters": parameters},
        expected_status="FAILED",
    )  # fmt: skip

    reason = invocation.response["Reason"]
    assert (
        reason
        == 'CramToBam property Parameters: got ["sample-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…; allowed: a JSON object, as a string or an object'
    )
    assert "secret-path" not in reason
