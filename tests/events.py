"""The one builder of CloudFormation custom-resource events, and the handler invoker."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

from support.cloudformation_stand_in import CloudFormationStandIn
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/OmicsRunExample/5b918d10-cd98-11ee-a3ff-0a5d9f5b5b5b"
LOGICAL_ID = "CramToBam"
SERVICE_TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:OmicsRunProvider"
ROLE_ARN = "arn:aws:iam::123456789012:role/omics-service-role"
OUTPUT_URI = "s3://omics-artifacts/workflow-output/"

MINIMAL_PROPERTIES: dict[str, Any] = {"WorkflowId": "1234567", "RoleArn": ROLE_ARN, "OutputUri": OUTPUT_URI}


def as_cloudformation_sends(value: Any) -> Any:
    """CloudFormation hands a custom resource every scalar as a string, nested ones included."""
    if isinstance(value, Mapping):
        return {key: as_cloudformation_sends(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_cloudformation_sends(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def cfn_event(
    request_type: Literal["Create", "Update", "Delete"],
    properties: Mapping[str, Any],
    *,
    response_url: str,
    old_properties: Mapping[str, Any] | None = None,
    physical_id: str | None = None,
    logical_id: str = LOGICAL_ID,
    request_id: str | None = None,
    resource_type: str = "Custom::OmicsRun",
) -> dict[str, Any]:
    """A custom-resource request as CloudFormation sends it."""
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": SERVICE_TOKEN,
        "ResponseURL": response_url,
        "StackId": STACK_ID,
        "RequestId": request_id or str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": as_cloudformation_sends({"ServiceToken": SERVICE_TOKEN, **properties}),
    }
    if old_properties is not None:
        event["OldResourceProperties"] = as_cloudformation_sends({"ServiceToken": SERVICE_TOKEN, **old_properties})
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    return event


class LambdaContext:
    """The parts of Lambda's context object that crhelper reads."""

    function_name = "OmicsRunProvider"
    aws_request_id = "lambda-request"
    invoked_function_arn = SERVICE_TOKEN
    log_group_name = "/aws/lambda/OmicsRunProvider"
    log_stream_name = "stream"

    def __init__(self, timeout_seconds: float = 300.0) -> None:
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


@dataclass(frozen=True)
class Invocation:
    """What the handler answered, and how long it took.

    ``seconds``: the whole invocation, the answer's PUT to the response URL
    included. ``seconds_to_answer``: until the handler handed its answer to
    crhelper to send: its own decision, without the stand-in bucket's HTTP
    round trip, which the test machine's load can stall.
    """

    response: dict[str, Any]
    seconds: float
    seconds_to_answer: float


def invoke_handler(
    handler_module: ModuleType,
    bucket: ResponseBucket,
    request_type: Literal["Create", "Update", "Delete"],
    properties: Mapping[str, Any],
    *,
    old_properties: Mapping[str, Any] | None = None,
    physical_id: str | None = None,
    expected_status: Literal["SUCCESS", "FAILED"] = "SUCCESS",
    context: LambdaContext | None = None,
    response_endpoint: str | None = None,
    **event_fields: Any,
) -> Invocation:
    """Plays one event through the handler and reads its answer from the presigned S3 URL.

    Every answer in the suite passes through here, so every answer is held to
    CloudFormation's limits: a Reason of at most 256 characters (crhelper keeps
    only the tail of a longer one) and a body of at most 4096 bytes.
    """
    key = f"responses/{uuid.uuid4()}"
    event = cfn_event(
        request_type,
        properties,
        response_url=bucket.presigned_response_url(key, endpoint_url=response_endpoint),
        old_properties=old_properties,
        physical_id=physical_id,
        **event_fields,
    )
    helper = handler_module.helper
    answered: list[float] = []

    def send(*args: Any, **kwargs: Any) -> Any:
        answered.append(time.monotonic())
        return type(helper)._send(helper, *args, **kwargs)

    helper._send = send  # crhelper calls self._send(...) once the answer is set
    started = time.monotonic()
    try:
        handler_module.handler(event, context or LambdaContext())
    finally:
        del helper._send
    finished = time.monotonic()
    response = bucket.wait_for_response(key)
    assert_within_cloudformation_limits(response)
    assert response["Status"] == expected_status, response
    [answered_at] = answered  # exactly one answer per invocation
    return Invocation(response, finished - started, answered_at - started)


REASON_LIMIT = 256
RESPONSE_BODY_LIMIT = 4096


def assert_within_cloudformation_limits(response: Mapping[str, Any]) -> None:
    """A custom resource's answer as CloudFormation accepts it, with a non-empty physical ID."""
    assert len(response.get("Reason", "")) <= REASON_LIMIT, response["Reason"]
    assert len(json.dumps(response).encode("utf-8")) <= RESPONSE_BODY_LIMIT, response
    assert response.get("PhysicalResourceId"), response


def without_bookkeeping(start_run_body: Mapping[str, Any]) -> dict[str, Any]:
    """A StartRun body as the user declared it: no requestId, no cdk-omics-run: tags."""
    body = {k: v for k, v in start_run_body.items() if k != "requestId"}
    tags = {k: v for k, v in body.pop("tags", {}).items() if not k.startswith("cdk-omics-run:")}
    return {**body, "tags": tags} if tags else body


class Stack:
    """Plays requests for one Custom::OmicsRun (or ``resource_type``) the way CloudFormation does,
    tracking its physical ID, and keeping CloudFormation's record of the resource when given a
    ``cloudformation`` stand-in (what DescribeStackResource then answers)."""

    def __init__(
        self,
        handler: ModuleType,
        bucket: ResponseBucket,
        resource_type: str = "Custom::OmicsRun",
        cloudformation: CloudFormationStandIn | None = None,
    ) -> None:
        self.handler = handler
        self.bucket = bucket
        self.resource_type = resource_type
        self.cloudformation = cloudformation
        self.properties: dict[str, Any] = {}
        self.physical_id = ""

    def create(self, properties: dict[str, Any], **fields: Any) -> dict[str, Any]:
        fields.setdefault("resource_type", self.resource_type)
        response = invoke_handler(self.handler, self.bucket, "Create", properties, **fields).response
        self.properties, self.physical_id = properties, response["PhysicalResourceId"]
        self._record("CREATE_COMPLETE", fields)
        return response

    def update(self, properties: dict[str, Any], expected_status: str = "SUCCESS", **fields: Any) -> dict[str, Any]:
        fields.setdefault("resource_type", self.resource_type)
        response = invoke_handler(
            self.handler, self.bucket, "Update", properties, old_properties=self.properties,
            physical_id=self.physical_id, expected_status=expected_status, **fields,
        ).response  # fmt: skip
        if response["Status"] == "SUCCESS":
            self.properties, self.physical_id = properties, response["PhysicalResourceId"]
            self._record("UPDATE_COMPLETE", fields)
        return response

    def delete(
        self, physical_id: str | None = None, properties: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        fields.setdefault("resource_type", self.resource_type)
        response = invoke_handler(
            self.handler, self.bucket, "Delete", properties if properties is not None else self.properties,
            physical_id=physical_id or self.physical_id, **fields,
        ).response  # fmt: skip
        if physical_id in (None, self.physical_id):
            self._record("DELETE_COMPLETE", fields)
        return response

    def _record(self, status: str, fields: Mapping[str, Any]) -> None:
        if self.cloudformation is not None:
            logical_id = fields.get("logical_id", LOGICAL_ID)
            self.cloudformation.record(STACK_ID, logical_id, self.physical_id, self.resource_type, status)


def operations(omics: OmicsStandIn) -> list[str]:
    return [r.operation for r in omics.requests]


class Handle:
    """A WaitCondition handle: a presigned S3 URL, and the signal CloudFormation would read from it."""

    def __init__(self, bucket: ResponseBucket) -> None:
        self.bucket = bucket
        self.key = f"handles/{uuid.uuid4()}"
        self.url = bucket.presigned_response_url(self.key)

    @property
    def signal(self) -> dict[str, Any] | None:
        return self.bucket.read_response(self.key)


def run_status_change(
    run: Mapping[str, Any], account: str = "123456789012", region: str = "us-east-1"
) -> dict[str, Any]:
    """The EventBridge event HealthOmics sends when ``run`` changes status (as GetRun returns the run).

    The shape of the HealthOmics user guide's "Using EventBridge with AWS HealthOmics" (source
    ``aws.omics``, detail-type ``Run Status Change``; ``detail`` with ``runId``, ``status``, ``arn``, ``uuid``, ``runName``,
    ``runOutputUri``, ``workflowId``) in EventBridge's event envelope; an SQS target receives it as the message body.
    """
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Run Status Change",
        "source": "aws.omics",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [run["arn"]],
        "detail": {
            "omicsVersion": "1.0.0",
            "arn": run["arn"],
            "status": run["status"],
            "uuid": run.get("uuid", ""),
            "runId": run["id"],
            "runName": run.get("name", ""),
            "runOutputUri": run.get("runOutputUri", ""),
            "workflowId": run.get("workflowId", ""),
        },
    }
