"""Self-tests for the test stand-ins: the HealthOmics HTTP server and the
moto-backed HTTPS response bucket, exercised over real HTTP with boto3."""

from __future__ import annotations

import http.client
import json
import pathlib
import ssl
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff
from support.omics_run_tasks import TASK_OPERATIONS
from support.omics_stand_in import (
    BATCH_OPERATIONS,
    ERROR_STATUS,
    GET_RUN_OUTPUT_MEMBERS,
    MAX_TAGS_PER_RUN,
    OPERATIONS,
    OWNER_TAG_KEY,
    RERUN_COPIED_MEMBERS,
    RERUN_NOT_COPIED_MEMBERS,
    RESERVED_TAG_PREFIX,
    STACK_TAG_KEY,
    STACK_TAG_OPERATIONS,
    START_RUN_REQUEST_MEMBERS,
    START_RUN_REQUIRED_MEMBERS,
    TAG_KEY_LENGTH,
    TAG_VALUE_LENGTH,
    OmicsStandIn,
    RecordedRequest,
)
from support.omics_workflow_stand_in import WORKFLOW_OPERATIONS
from support.raw_http import aim_boto3_at, raw_request, service_error
from support.response_bucket import ResponseBucket

ROLE_ARN = "arn:aws:iam::123456789012:role/omics-run"
OUTPUT_URI = "s3://results-bucket/runs/"

# The run operations this file covers; the batch operations and ListRuns are
# covered by tests/test_support_batch_stand_in.py.
# The run task operations have self-tests of their own: tests/test_support_run_tasks_stand_in.py.
RUN_OPERATIONS = OPERATIONS - BATCH_OPERATIONS - TASK_OPERATIONS - WORKFLOW_OPERATIONS - {"ListRuns"}

# No retries by default: a fault must surface on the first call, and retry
# back-off would only slow the tests down. (In botocore's retries config
# "max_attempts" counts retries; "total_max_attempts" counts all attempts.)
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def omics() -> Iterator[OmicsStandIn]:
    """A fresh stand-in per test; starting one costs about a millisecond."""
    stand_in = OmicsStandIn().start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


@pytest.fixture
def omics_env(omics: OmicsStandIn, monkeypatch: pytest.MonkeyPatch) -> OmicsStandIn:
    """Point boto3 at the stand-in the same way the code under test will be."""
    aim_boto3_at(omics, monkeypatch)
    return omics


def _omics_client(config: Config = NO_RETRIES) -> Any:
    # A new Session per client so the monkeypatched environment is read now,
    # not whatever boto3's cached default session saw earlier.
    return boto3.session.Session().client("omics", config=config)


@pytest.fixture
def client(omics_env: OmicsStandIn) -> Any:
    return _omics_client()


def _start(client: Any, request_id: str | None = None, **extra: Any) -> dict:
    return client.start_run(
        workflowId="1234567",
        roleArn=ROLE_ARN,
        outputUri=OUTPUT_URI,
        requestId=request_id or str(uuid.uuid4()),
        **extra,
    )


@pytest.fixture(scope="module")
def bucket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResponseBucket]:
    """One moto server for the module: it takes ~0.5 s to start."""
    response_bucket = ResponseBucket(tmp_path_factory.mktemp("response-bucket"))
    response_bucket.start()
    try:
        yield response_bucket
    finally:
        response_bucket.stop()


def _put_like_crhelper(url: str, payload: dict, context: ssl.SSLContext) -> int:
    """PUT the way crhelper does: HTTPSConnection to host, path+query, empty content-type."""
    parts = urlsplit(url)
    body = json.dumps(payload)
    connection = http.client.HTTPSConnection(parts.netloc, context=context, timeout=10)
    try:
        connection.request(
            "PUT",
            urlunsplit(("", "", parts.path, parts.query, parts.fragment)),
            body=body,
            headers={"content-type": "", "content-length": str(len(body))},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


# ------------------------------------------------- omics stand-in: the model


def test_stand_in_matches_botocore_omics_model() -> None:
    """The hard-coded routes and GetRun members agree with botocore's model."""
    model = botocore.session.get_session().get_service_model("omics")
    assert model.metadata["protocol"] == "rest-json"
    expected_http = {
        "StartRun": ("POST", "/run", 201),
        "GetRun": ("GET", "/run/{id}", 200),
        "CancelRun": ("POST", "/run/{id}/cancel", 202),
        "DeleteRun": ("DELETE", "/run/{id}", 202),
        "TagResource": ("POST", "/tags/{resourceArn}", 204),
        "UntagResource": ("DELETE", "/tags/{resourceArn}", 204),
        "ListTagsForResource": ("GET", "/tags/{resourceArn}", 200),
    }
    # The batch operations and ListRuns: tests/test_support_batch_stand_in.py.
    assert set(expected_http) == RUN_OPERATIONS
    for name, (method, uri, code) in expected_http.items():
        http = model.operation_model(name).http
        assert (http["method"], http["requestUri"], http.get("responseCode", 200)) == (
            method,
            uri,
            code,
        ), name
    get_run_out = model.operation_model("GetRun").output_shape
    assert set(get_run_out.members) == GET_RUN_OUTPUT_MEMBERS
    assert get_run_out.members["creationTime"].serialization["timestampFormat"] == "iso8601"


def test_stand_in_limits_and_members_match_botocore_omics_model() -> None:
    """Hard-coded StartRun members, required list, tag limits and error statuses."""
    model = botocore.session.get_session().get_service_model("omics")
    start_in = model.operation_model("StartRun").input_shape
    assert start_in.name == "StartRunRequest"
    assert set(start_in.members) == START_RUN_REQUEST_MEMBERS
    # Exactly the model's required list, in its order.
    assert list(start_in.required_members) == list(START_RUN_REQUIRED_MEMBERS)

    # Tag keys and values, wherever tags travel.
    tag_maps = {
        "StartRunRequest.tags": start_in.members["tags"],
        "TagResourceRequest.tags": model.operation_model("TagResource").input_shape.members["tags"],
    }
    for where, tag_map in tag_maps.items():
        key, value = tag_map.key.metadata, tag_map.value.metadata
        assert (key["min"], key["max"]) == TAG_KEY_LENGTH, where
        assert (value["min"], value["max"]) == TAG_VALUE_LENGTH, where
        assert "pattern" not in key, where  # nothing else constrains a key in the model
    assert model.shape_for("TagKey").metadata == {"min": 1, "max": 128}
    assert model.shape_for("TagValue").metadata == {"min": 0, "max": 256}
    # 50 per run: TagResource's map and UntagResource's key list say so in
    # the model; StartRun's TagMap has no max, only the documentation.
    assert tag_maps["TagResourceRequest.tags"].metadata["max"] == MAX_TAGS_PER_RUN
    untag_keys = model.operation_model("UntagResource").input_shape.members["tagKeys"]
    assert untag_keys.metadata["max"] == MAX_TAGS_PER_RUN
    start_tags = tag_maps["StartRunRequest.tags"]
    assert start_tags.metadata.get("max", MAX_TAGS_PER_RUN) == MAX_TAGS_PER_RUN
    assert f"up to {MAX_TAGS_PER_RUN} tags per run" in start_tags.documentation
    assert RESERVED_TAG_PREFIX == "aws:"

    # Every error the run operations declare, with its modeled status.
    declared = {
        shape.name: shape.metadata["error"]["httpStatusCode"]
        for name in OPERATIONS
        for shape in model.operation_model(name).error_shapes
    }
    assert declared == ERROR_STATUS

    # Duplicating a run: copied members are StartRun members or GetRun
    # members; the ones not copied are StartRun members; GetRun has runId.
    assert RERUN_NOT_COPIED_MEMBERS <= START_RUN_REQUEST_MEMBERS
    assert not RERUN_COPIED_MEMBERS & RERUN_NOT_COPIED_MEMBERS
    assert RERUN_COPIED_MEMBERS | RERUN_NOT_COPIED_MEMBERS >= START_RUN_REQUEST_MEMBERS
    assert RERUN_COPIED_MEMBERS - START_RUN_REQUEST_MEMBERS <= GET_RUN_OUTPUT_MEMBERS
    assert "runId" in GET_RUN_OUTPUT_MEMBERS
    assert start_in.members["workflowType"].enum == ["PRIVATE", "READY2RUN"]
    assert STACK_TAG_OPERATIONS <= OPERATIONS


# ---------------------------------------------- omics stand-in: over boto3


def test_start_run_creates_pending_run_and_is_idempotent(client: Any, omics_env: OmicsStandIn) -> None:
    first = _start(client, request_id="req-1", tags={"team": "genomics"})
    again = _start(client, request_id="req-1", tags={"team": "genomics"})
    other = _start(client, request_id="req-2")

    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert first["id"] == "1000001"
    assert other["id"] == "1000002"
    assert {k: v for k, v in again.items() if k != "ResponseMetadata"} == {
        k: v for k, v in first.items() if k != "ResponseMetadata"
    }
    assert sorted(omics_env.runs) == ["1000001", "1000002"]
    assert first["status"] == "PENDING"
    assert first["arn"] == "arn:aws:omics:us-east-1:123456789012:run/1000001"
    assert first["runOutputUri"] == "s3://results-bucket/runs/1000001"
    assert first["tags"] == {"team": "genomics"}
    assert uuid.UUID(first["uuid"]).version == 4

    # Every call is recorded, including the idempotent replay.
    bodies = omics_env.start_run_bodies()
    assert [b["requestId"] for b in bodies] == ["req-1", "req-1", "req-2"]
    assert bodies[0]["workflowId"] == "1234567"
    assert bodies[0]["roleArn"] == ROLE_ARN
    # No "workflows-" host prefix reached the wire.
    recorded = omics_env.requests_for("StartRun")[0]
    assert isinstance(recorded, RecordedRequest)
    assert recorded.headers["host"] == urlsplit(omics_env.endpoint_url).netloc
    assert (recorded.method, recorded.path) == ("POST", "/run")


def test_get_run_returns_output_shape_with_parsed_timestamps(client: Any, omics_env: OmicsStandIn) -> None:
    started = _start(
        client,
        request_id="req-get",
        name="my-run",
        parameters={"sample": "s3://in/a.fastq", "threads": 4},
        priority=10,
        storageCapacity=1200,
        logLevel="ALL",
    )
    run = client.get_run(id=started["id"])

    assert isinstance(run["creationTime"], datetime)
    assert run["creationTime"].tzinfo is not None
    assert run["parameters"] == {"sample": "s3://in/a.fastq", "threads": 4}
    assert (run["name"], run["priority"], run["storageCapacity"], run["logLevel"]) == (
        "my-run",
        10,
        1200,
        "ALL",
    )
    assert run["workflowId"] == "1234567"
    assert run["outputUri"] == OUTPUT_URI
    assert run["uuid"] == started["uuid"]
    # The record keeps the whole request, GetRun shows only output members.
    assert omics_env.runs[started["id"]]["requestId"] == "req-get"
    assert "requestId" not in run

    omics_env.set_status(started["id"], "FAILED", failure_reason="out of memory")
    failed = client.get_run(id=started["id"])
    assert failed["status"] == "FAILED"
    assert failed["failureReason"] == "out of memory"
    assert isinstance(failed["stopTime"], datetime)

    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.get_run(id="9999999")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_cancel_run_and_its_conflicts(client: Any, omics_env: OmicsStandIn) -> None:
    run_id = _start(client)["id"]
    response = client.cancel_run(id=run_id)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert omics_env.runs[run_id]["status"] == "CANCELLED"

    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        client.cancel_run(id=run_id)
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.cancel_run(id="424242")


def test_delete_run_conflicts_while_active(client: Any, omics_env: OmicsStandIn) -> None:
    seeded = omics_env.add_run(status="RUNNING", workflowId="77", outputUri="s3://b/o")
    assert seeded["id"] == "1000001"
    assert seeded["runOutputUri"] == "s3://b/o/1000001"

    with pytest.raises(client.exceptions.ConflictException):
        client.delete_run(id=seeded["id"])

    omics_env.set_status(seeded["id"], "COMPLETED")
    response = client.delete_run(id=seeded["id"])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert seeded["id"] not in omics_env.runs

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_run(id=seeded["id"])
    # Started runs never reuse a seeded id.
    assert _start(client)["id"] == "1000002"


def test_tag_untag_and_list_tags(client: Any, omics_env: OmicsStandIn) -> None:
    arn = _start(client, tags={"a": "1"})["arn"]

    client.tag_resource(resourceArn=arn, tags={"b": "2", "c": "3"})
    client.untag_resource(resourceArn=arn, tagKeys=["a", "c"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}

    untag = omics_env.requests_for("UntagResource")[0]
    assert untag.query == {"tagKeys": ["a", "c"]}
    # The ARN travels percent-encoded as a single path segment.
    assert untag.path == "/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3Arun%2F1000001"

    missing = "arn:aws:omics:us-east-1:123456789012:run/404"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_resource(resourceArn=missing)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.tag_resource(resourceArn=missing, tags={"x": "y"})


def test_fail_next_injects_faults_in_order(client: Any, omics_env: OmicsStandIn) -> None:
    omics_env.fail_next("StartRun", "ThrottlingException", 429, "slow down", times=2)
    omics_env.fail_next("StartRun", "ServiceQuotaExceededException", 402)

    for _ in range(2):
        with pytest.raises(client.exceptions.ThrottlingException) as excinfo:
            _start(client, request_id="req-fault")
        assert excinfo.value.response["Error"]["Message"] == "slow down"
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    with pytest.raises(client.exceptions.ServiceQuotaExceededException):
        _start(client, request_id="req-fault")

    assert _start(client, request_id="req-fault")["id"] == "1000001"
    assert len(omics_env.start_run_bodies()) == 4  # failed attempts are recorded
    assert list(omics_env.runs) == ["1000001"]

    omics_env.fail_next("GetRun", "ValidationException", 400)
    with pytest.raises(client.exceptions.ValidationException):
        client.get_run(id="1000001")
    assert client.get_run(id="1000001")["status"] == "PENDING"

    with pytest.raises(ValueError, match="unknown operation"):
        omics_env.fail_next("StartRuns", "ThrottlingException", 429)


def test_botocore_retries_through_injected_throttling(omics_env: OmicsStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    # Shows retry-based handler code works against the stand-in; botocore
    # treats ThrottlingException as retryable from the error header alone.
    # The random back-off (up to 1 s) is irrelevant here, so drop it.
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    retrying = _omics_client(Config(retries={"mode": "standard", "total_max_attempts": 2}))
    omics_env.fail_next("GetRun", "ThrottlingException", 429)
    run_id = omics_env.add_run()["id"]
    response = retrying.get_run(id=run_id)
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(omics_env.requests_for("GetRun")) == 2


def test_start_run_validates_required_members(omics_env: OmicsStandIn) -> None:
    # Client-side validation off, so the request reaches the server without
    # roleArn; botocore still fills in requestId (an idempotency token).
    lax = _omics_client(Config(parameter_validation=False, retries={"total_max_attempts": 1}))
    with pytest.raises(lax.exceptions.ValidationException, match="roleArn"):
        lax.start_run(workflowId="1", outputUri=OUTPUT_URI)
    assert omics_env.start_run_bodies()[0]["requestId"]

    # requestId can only go missing on the raw wire.
    status, headers, body = raw_request(omics_env, "POST", "/run", {"roleArn": ROLE_ARN, "outputUri": OUTPUT_URI})
    assert status == 400
    assert headers["x-amzn-errortype"] == "ValidationException"
    assert "requestId" in body["message"]
    assert omics_env.runs == {}


def _lax_client() -> Any:
    """A client without botocore's own parameter checks, so the server decides."""
    return _omics_client(Config(parameter_validation=False, retries={"total_max_attempts": 1}))


def _seed_source_run(omics: OmicsStandIn, **overrides: Any) -> dict:
    """A finished run with every run-defining member set, to duplicate."""
    fields: dict[str, Any] = {
        "status": "FAILED",
        "workflowId": "7654321",
        "workflowType": "PRIVATE",
        "roleArn": "arn:aws:iam::123456789012:role/original-role",
        "outputUri": "s3://original-bucket/out/",
        "requestId": "original-request",
        "name": "original-name",
        "parameters": {"sample": "s3://in/a.fastq", "threads": 4},
        "priority": 7,
        "storageCapacity": 2400,
        "storageType": "STATIC",
        "cacheId": "555",
        "cacheBehavior": "CACHE_ALWAYS",
        "runGroupId": "8888",
        "logLevel": "ERROR",
        "retentionMode": "REMOVE",
        "workflowVersionName": "v2",
        "networkingMode": "VPC",
        "scratchStorageMode": "LOCAL",
        "configurationName": "my-config",
        "configuration": {"name": "my-config", "arn": "arn:cfg", "uuid": "cfg-uuid"},
        "engineSettings": {"profiles": ["aws"]},
        "sessionPolicy": '{"Version": "2012-10-17"}',
        "outputUriPrefixMode": "SERVICE_DEFINED",
        "requesterPaysEnabled": True,
        "tags": {"team": "original"},
    }
    fields.update(overrides)
    return omics.add_run(**{k: v for k, v in fields.items() if v is not None})


def test_start_run_needs_workflow_id_or_run_id(omics_env: OmicsStandIn) -> None:
    lax = _lax_client()
    with pytest.raises(lax.exceptions.ValidationException) as excinfo:
        lax.start_run(roleArn=ROLE_ARN, outputUri=OUTPUT_URI, requestId="neither")
    assert "workflowId" in service_error(excinfo, "ValidationException", 400)
    assert omics_env.runs == {}


def test_start_run_refuses_run_id_with_workflow_id_or_owner(client: Any, omics_env: OmicsStandIn) -> None:
    source = _seed_source_run(omics_env)
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        _start(client, runId=source["id"])  # _start sends workflowId too
    message = service_error(excinfo, "ValidationException", 400)
    assert message == "Specify either workflowId or runId, not both"

    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.start_run(
            runId=source["id"],
            workflowOwnerId="111122223333",
            roleArn=ROLE_ARN,
            outputUri=OUTPUT_URI,
            requestId="with-owner",
        )
    assert "workflowOwnerId" in service_error(excinfo, "ValidationException", 400)

    # Documented for StartRun: parameters and parametersUri exclude each other.
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        _start(client, parameters={"a": 1}, parametersUri="s3://bucket/params.json")
    assert "parametersUri" in service_error(excinfo, "ValidationException", 400)
    assert list(omics_env.runs) == [source["id"]]


def test_duplicate_still_needs_role_arn_and_output_uri(omics_env: OmicsStandIn) -> None:
    # The model's required list holds for duplicates, though the reference
    # says other unspecified members come from the duplicated run.
    source = _seed_source_run(omics_env)
    lax = _lax_client()
    with pytest.raises(lax.exceptions.ValidationException) as excinfo:
        lax.start_run(runId=source["id"], outputUri=OUTPUT_URI, requestId="no-role")
    assert "'roleArn'" in service_error(excinfo, "ValidationException", 400)
    with pytest.raises(lax.exceptions.ValidationException) as excinfo:
        lax.start_run(runId=source["id"], roleArn=ROLE_ARN, requestId="no-output")
    assert "'outputUri'" in service_error(excinfo, "ValidationException", 400)


def test_start_run_with_run_id_copies_the_source_run(client: Any, omics_env: OmicsStandIn) -> None:
    source = _seed_source_run(omics_env)
    started = client.start_run(
        runId=source["id"],
        roleArn=ROLE_ARN,
        outputUri=OUTPUT_URI,
        requestId="duplicate-1",
        name="renamed",
        tags={"purpose": "retry"},
    )
    assert started["ResponseMetadata"]["HTTPStatusCode"] == 201
    new_id = started["id"]
    assert new_id != source["id"]
    assert started["tags"] == {"purpose": "retry"}  # tags are not copied
    assert started["uuid"] != source["uuid"]
    assert started["runOutputUri"] == f"s3://results-bucket/runs/{new_id}"

    run = client.get_run(id=new_id)
    assert run["runId"] == source["id"]
    assert (run["status"], run["name"], run["roleArn"], run["outputUri"]) == (
        "PENDING",
        "renamed",
        ROLE_ARN,
        OUTPUT_URI,
    )
    assert run["arn"] == f"arn:aws:omics:us-east-1:123456789012:run/{new_id}"
    assert isinstance(run["creationTime"], datetime)
    assert "stopTime" not in run and "failureReason" not in run
    copied_in_get_run = (RERUN_COPIED_MEMBERS - {"name"}) & GET_RUN_OUTPUT_MEMBERS
    for member in sorted(copied_in_get_run):
        if member in source:
            assert run[member] == source[member], member
    # Members GetRun does not show (configurationName) are copied into the record.
    record = omics_env.runs[new_id]
    for member in sorted(RERUN_COPIED_MEMBERS - {"name"}):
        if member in source:
            assert record[member] == source[member], member
    assert record["requestId"] == "duplicate-1"
    assert record["tags"] == {"purpose": "retry"}
    # The source run is untouched.
    assert omics_env.runs[source["id"]]["tags"] == {"team": "original"}
    assert omics_env.runs[source["id"]]["name"] == "original-name"


def test_duplicate_copies_neither_member_of_an_exclusive_pair(client: Any, omics_env: OmicsStandIn) -> None:
    source = _seed_source_run(omics_env)
    started = client.start_run(
        runId=source["id"],
        roleArn=ROLE_ARN,
        outputUri=OUTPUT_URI,
        parametersUri="s3://bucket/params.json",
        configurationName="other-config",
    )
    record = omics_env.runs[started["id"]]
    assert record["parametersUri"] == "s3://bucket/params.json"
    assert "parameters" not in record
    assert record["configurationName"] == "other-config"
    assert "configuration" not in record  # the source's details were for my-config
    assert record["workflowId"] == source["workflowId"]


def test_duplicate_of_a_missing_run_is_404(client: Any, omics_env: OmicsStandIn) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.start_run(runId="4242424", roleArn=ROLE_ARN, outputUri=OUTPUT_URI)
    assert service_error(excinfo, "ResourceNotFoundException", 404) == "Run 4242424 not found"

    # A deleted run cannot be duplicated either.
    gone = _seed_source_run(omics_env)
    client.delete_run(id=gone["id"])
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.start_run(runId=gone["id"], roleArn=ROLE_ARN, outputUri=OUTPUT_URI)
    service_error(excinfo, "ResourceNotFoundException", 404)
    assert omics_env.runs == {}


def test_duplicate_of_a_ready2run_run_needs_workflow_type(client: Any, omics_env: OmicsStandIn) -> None:
    source = _seed_source_run(omics_env, workflowType="READY2RUN", workflowId="9500001", storageCapacity=None)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
        client.start_run(runId=source["id"], roleArn=ROLE_ARN, outputUri=OUTPUT_URI)
    assert service_error(excinfo, "ResourceNotFoundException", 404) == "Workflow 9500001 not found"
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.start_run(runId=source["id"], workflowType="PRIVATE", roleArn=ROLE_ARN, outputUri=OUTPUT_URI)

    started = client.start_run(runId=source["id"], workflowType="READY2RUN", roleArn=ROLE_ARN, outputUri=OUTPUT_URI)
    run = client.get_run(id=started["id"])
    assert (run["workflowType"], run["workflowId"], run["runId"]) == (
        "READY2RUN",
        "9500001",
        source["id"],
    )

    # The other way round: no Ready2Run workflow has a private workflow's id.
    private = _seed_source_run(omics_env)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.start_run(runId=private["id"], workflowType="READY2RUN", roleArn=ROLE_ARN, outputUri=OUTPUT_URI)
    # And a private source needs no workflowType.
    assert client.start_run(runId=private["id"], roleArn=ROLE_ARN, outputUri=OUTPUT_URI)["id"]


def _tags(count: int) -> dict[str, str]:
    return {f"key-{n:02d}": f"value-{n}" for n in range(count)}


def test_start_run_tag_limits(client: Any, omics_env: OmicsStandIn) -> None:
    key_max, value_max = TAG_KEY_LENGTH[1], TAG_VALUE_LENGTH[1]
    accepted = _start(client, tags=_tags(MAX_TAGS_PER_RUN))
    assert len(accepted["tags"]) == MAX_TAGS_PER_RUN
    edge = _start(client, tags={"k" * key_max: "v" * value_max, "empty-value": ""})
    assert edge["tags"]["empty-value"] == ""

    refused = [
        _tags(MAX_TAGS_PER_RUN + 1),
        {"k" * (key_max + 1): "v"},
        {"k": "v" * (value_max + 1)},
        {"aws:cloudformation:stack-name": "mine"},
        {"AWS:Owner": "mine"},
    ]
    for tags in refused:
        with pytest.raises(client.exceptions.ValidationException) as excinfo:
            _start(client, tags=tags)
        service_error(excinfo, "ValidationException", 400)
    # An empty key never leaves botocore (it checks the model's min length),
    # so the server's own check is shown without that validation.
    lax = _lax_client()
    with pytest.raises(lax.exceptions.ValidationException) as excinfo:
        _start(lax, tags={"": "v"})
    service_error(excinfo, "ValidationException", 400)
    assert len(omics_env.runs) == 2


def test_tag_resource_limits_count_the_merged_tags(client: Any, omics_env: OmicsStandIn) -> None:
    arn = _start(client, tags=_tags(MAX_TAGS_PER_RUN - 1))["arn"]
    # Overwriting an existing key adds no tag.
    client.tag_resource(resourceArn=arn, tags={"key-00": "changed", "one-more": "x"})
    assert len(client.list_tags_for_resource(resourceArn=arn)["tags"]) == MAX_TAGS_PER_RUN

    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.tag_resource(resourceArn=arn, tags={"one-too-many": "x"})
    service_error(excinfo, "ValidationException", 400)
    for tags in ({"aws:reserved": "x"}, {"k" * 129: "x"}, {"key-01": "v" * 257}):
        with pytest.raises(client.exceptions.ValidationException) as excinfo:
            client.tag_resource(resourceArn=arn, tags=tags)
        service_error(excinfo, "ValidationException", 400)
    tags = client.list_tags_for_resource(resourceArn=arn)["tags"]
    assert len(tags) == MAX_TAGS_PER_RUN and tags["key-00"] == "changed"

    # Untagging: reserved keys cannot be removed, and at most 50 keys a call.
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.untag_resource(resourceArn=arn, tagKeys=["aws:reserved"])
    service_error(excinfo, "ValidationException", 400)
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.untag_resource(resourceArn=arn, tagKeys=[f"k{n}" for n in range(51)])
    service_error(excinfo, "ValidationException", 400)
    client.untag_resource(resourceArn=arn, tagKeys=["one-more"])
    client.tag_resource(resourceArn=arn, tags={"room-again": "x"})


def test_deleted_run_ids_are_reused_when_asked(client: Any, omics_env: OmicsStandIn) -> None:
    assert omics_env.reuse_deleted_ids is False
    omics_env.reuse_deleted_ids = True
    first = _start(client, tags={"owner": "first"})
    omics_env.set_status(first["id"], "COMPLETED")
    client.delete_run(id=first["id"])

    second = _start(client, tags={"owner": "second"})
    # Same id and ARN, another run: only the uuid tells them apart.
    assert (second["id"], second["arn"]) == (first["id"], first["arn"])
    assert second["uuid"] != first["uuid"]
    assert client.get_run(id=first["id"])["tags"] == {"owner": "second"}
    # Free ids are used again only after a deletion.
    assert _start(client)["id"] == "1000002"

    omics_env.reset()
    assert omics_env.reuse_deleted_ids is False  # back to the constructor value
    with OmicsStandIn(reuse_deleted_ids=True) as reusing:
        reusing.add_run(id="1000005", status="FAILED")
        reusing.runs.pop("1000005")  # not a DeleteRun: nothing to reuse
        assert reusing.add_run()["id"] == "1000001"


def test_deleted_ids_are_not_reused_by_default(client: Any, omics_env: OmicsStandIn) -> None:
    first = _start(client)
    client.cancel_run(id=first["id"])
    client.delete_run(id=first["id"])
    assert _start(client)["id"] == "1000002"


# One call per operation, for the fault-injection test.
_CALLS = {
    "StartRun": lambda c, run: _start(c),
    "GetRun": lambda c, run: c.get_run(id=run["id"]),
    "CancelRun": lambda c, run: c.cancel_run(id=run["id"]),
    "DeleteRun": lambda c, run: c.delete_run(id=run["id"]),
    "TagResource": lambda c, run: c.tag_resource(resourceArn=run["arn"], tags={"a": "b"}),
    "UntagResource": lambda c, run: c.untag_resource(resourceArn=run["arn"], tagKeys=["a"]),
    "ListTagsForResource": lambda c, run: c.list_tags_for_resource(resourceArn=run["arn"]),
}


@pytest.mark.parametrize("operation", sorted(RUN_OPERATIONS))
def test_fail_next_works_for_every_operation(operation: str, client: Any, omics_env: OmicsStandIn) -> None:
    assert set(_CALLS) == RUN_OPERATIONS  # the others: tests/test_support_batch_stand_in.py
    status = "RUNNING" if operation == "CancelRun" else "COMPLETED"
    run = omics_env.add_run(status=status, outputUri="s3://b/o")
    omics_env.fail_next(operation, "ConflictException")  # status from the model: 409
    omics_env.fail_next(operation, "AccessDeniedException", message="nope")
    with pytest.raises(client.exceptions.ConflictException) as excinfo:
        _CALLS[operation](client, run)
    assert "Injected ConflictException" in service_error(excinfo, "ConflictException", 409)
    with pytest.raises(client.exceptions.AccessDeniedException) as excinfo:
        _CALLS[operation](client, run)
    assert service_error(excinfo, "AccessDeniedException", 403) == "nope"
    _CALLS[operation](client, run)  # the queue is empty again
    assert len(omics_env.requests_for(operation)) == 3


def test_fail_next_refuses_what_it_cannot_inject(omics: OmicsStandIn) -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        omics.fail_next("ListWorkflows", "ThrottlingException", 429)
    with pytest.raises(ValueError, match="give its status"):
        omics.fail_next("GetRun", "ServiceUnavailable")
    omics.fail_next("GetRun", "ServiceUnavailable", 503)  # fine with a status
    with pytest.raises(ValueError, match="at least 1"):
        omics.fail_next("GetRun", "ThrottlingException", times=0)


STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1"


def test_enforce_stack_tag_denies_other_stacks_runs(client: Any, omics_env: OmicsStandIn) -> None:
    mine = omics_env.add_run(status="RUNNING", tags={STACK_TAG_KEY: STACK})
    other = omics_env.add_run(status="COMPLETED", tags={STACK_TAG_KEY: STACK + "-other"})
    untagged = omics_env.add_run(status="COMPLETED")
    omics_env.enforce_stack_tag(STACK)

    denied_calls = {
        "GetRun": lambda run: client.get_run(id=run["id"]),
        "CancelRun": lambda run: client.cancel_run(id=run["id"]),
        "DeleteRun": lambda run: client.delete_run(id=run["id"]),
        "TagResource": lambda run: client.tag_resource(resourceArn=run["arn"], tags={"x": "y"}),
        "UntagResource": lambda run: client.untag_resource(resourceArn=run["arn"], tagKeys=["x"]),
    }
    assert set(denied_calls) == STACK_TAG_OPERATIONS - {"StartRun"} - BATCH_OPERATIONS
    for run in (other, untagged):
        for operation, call in denied_calls.items():
            with pytest.raises(client.exceptions.AccessDeniedException) as excinfo:
                call(run)
            message = service_error(excinfo, "AccessDeniedException", 403)
            assert message == (
                f"User: {omics_env.caller_arn} is not authorized to perform: "
                f"omics:{operation} on resource: {run['arn']} because no "
                f"identity-based policy allows the omics:{operation} action"
            )
    assert omics_env.runs[other["id"]]["tags"] == {STACK_TAG_KEY: STACK + "-other"}
    assert other["id"] in omics_env.runs and untagged["id"] in omics_env.runs
    # Not guarded unless asked for: listing tags.
    assert client.list_tags_for_resource(resourceArn=other["arn"])["tags"]
    # A missing run is still a 404.
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_run(id="9999999")

    # The stack's own run: every operation goes through.
    client.tag_resource(resourceArn=mine["arn"], tags={"x": "y"})
    client.untag_resource(resourceArn=mine["arn"], tagKeys=["x"])
    assert client.get_run(id=mine["id"])["status"] == "RUNNING"
    client.cancel_run(id=mine["id"])
    client.delete_run(id=mine["id"])

    # StartRun: the request's tags must carry the stack tag (aws:RequestTag).
    with pytest.raises(client.exceptions.AccessDeniedException) as excinfo:
        _start(client, tags={STACK_TAG_KEY: "someone-else"})
    message = service_error(excinfo, "AccessDeniedException", 403)
    assert "omics:StartRun on resource: arn:aws:omics:us-east-1:123456789012:run/*" in message
    with pytest.raises(client.exceptions.AccessDeniedException):
        _start(client)
    assert _start(client, tags={STACK_TAG_KEY: STACK})["ResponseMetadata"]["HTTPStatusCode"] == 201
    # A duplicate gets no tags from its source, so it needs them too.
    source = omics_env.add_run(status="FAILED", workflowId="1", tags={STACK_TAG_KEY: STACK})
    with pytest.raises(client.exceptions.AccessDeniedException):
        client.start_run(runId=source["id"], roleArn=ROLE_ARN, outputUri=OUTPUT_URI)

    # Opt-in guard of ListTagsForResource; None turns everything off.
    omics_env.enforce_stack_tag(STACK, operations=STACK_TAG_OPERATIONS | {"ListTagsForResource"})
    with pytest.raises(client.exceptions.AccessDeniedException):
        client.list_tags_for_resource(resourceArn=other["arn"])
    omics_env.enforce_stack_tag(None)
    assert client.get_run(id=other["id"])["status"] == "COMPLETED"
    with pytest.raises(ValueError, match="unknown operation"):
        omics_env.enforce_stack_tag(STACK, operations={"ListRuns"})


def test_enforce_stack_tag_lets_a_run_without_the_stack_tag_be_read_and_given_this_stacks_tag_only(
    client: Any, omics_env: OmicsStandIn
) -> None:
    old = omics_env.add_run(status="RUNNING", tags={OWNER_TAG_KEY: "digest"})
    ownerless = omics_env.add_run(status="RUNNING", tags={"team": "x"})
    omics_env.enforce_stack_tag(STACK)

    assert client.get_run(id=old["id"])["status"] == "RUNNING"
    for tags in ({STACK_TAG_KEY: STACK + "-other"}, {STACK_TAG_KEY: STACK, "x": "y"}, {"x": "y"}):
        with pytest.raises(client.exceptions.AccessDeniedException):
            client.tag_resource(resourceArn=old["arn"], tags=tags)
    for denied in (lambda: client.cancel_run(id=old["id"]), lambda: client.delete_run(id=old["id"]),
                   lambda: client.untag_resource(resourceArn=old["arn"], tagKeys=[OWNER_TAG_KEY]),
                   lambda: client.get_run(id=ownerless["id"]),
                   lambda: client.tag_resource(resourceArn=ownerless["arn"], tags={STACK_TAG_KEY: STACK})):  # fmt: skip
        with pytest.raises(client.exceptions.AccessDeniedException):
            denied()
    client.tag_resource(resourceArn=old["arn"], tags={STACK_TAG_KEY: STACK})
    assert omics_env.runs[old["id"]]["tags"] == {OWNER_TAG_KEY: "digest", STACK_TAG_KEY: STACK}
    client.cancel_run(id=old["id"])  # adopted: the stack-tag conditions now allow it

    # Without the adoption grant, such a run is hidden like any other.
    another = omics_env.add_run(status="RUNNING", tags={OWNER_TAG_KEY: "digest"})
    omics_env.enforce_stack_tag(STACK, adoption=False)
    with pytest.raises(client.exceptions.AccessDeniedException):
        client.get_run(id=another["id"])
    with pytest.raises(client.exceptions.AccessDeniedException):
        client.tag_resource(resourceArn=another["arn"], tags={STACK_TAG_KEY: STACK})


def test_reused_id_of_another_stacks_run_is_denied(client: Any, omics_env: OmicsStandIn) -> None:
    # The hazard the two switches reproduce together: an id this stack knew
    # now names another stack's run, and IAM keeps the code off it.
    omics_env.reuse_deleted_ids = True
    omics_env.enforce_stack_tag(STACK)
    ours = _start(client, tags={STACK_TAG_KEY: STACK})
    omics_env.set_status(ours["id"], "COMPLETED")
    client.delete_run(id=ours["id"])
    omics_env.enforce_stack_tag(None)  # another stack's provider starts a run
    theirs = _start(client, tags={STACK_TAG_KEY: "another-stack"})
    assert theirs["id"] == ours["id"]

    omics_env.enforce_stack_tag(STACK)
    with pytest.raises(client.exceptions.AccessDeniedException):
        client.cancel_run(id=ours["id"])
    assert omics_env.runs[theirs["id"]]["status"] == "PENDING"


def test_reset_clears_stack_tag_enforcement(client: Any, omics_env: OmicsStandIn) -> None:
    omics_env.enforce_stack_tag(STACK)
    omics_env.reset()
    assert _start(client)["id"] == "1000001"
    assert client.get_run(id="1000001")["status"] == "PENDING"


def test_unknown_route_is_a_clear_404(omics: OmicsStandIn) -> None:
    status, headers, body = raw_request(omics, "GET", "/sequencestore/1")
    assert status == 404
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    assert "no route for GET /sequencestore/1" in body["message"]
    assert omics.requests[-1].operation == "Unknown"


def test_reset_forgets_everything(client: Any, omics_env: OmicsStandIn) -> None:
    _start(client, request_id="req-reset")
    omics_env.fail_next("GetRun", "ThrottlingException", 429)
    omics_env.reset()

    assert omics_env.runs == {} and omics_env.requests == []
    assert client.start_run  # client stays usable against the same server
    assert _start(client, request_id="req-reset")["id"] == "1000001"  # token forgotten
    assert client.get_run(id="1000001")["status"] == "PENDING"  # fault forgotten


def test_concurrent_start_runs_get_distinct_ids(omics_env: OmicsStandIn) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    # One shared client (boto3 clients are thread-safe); building eight
    # would cost more than the calls themselves.
    shared = _omics_client()

    def worker() -> None:
        run_id = _start(shared)["id"]
        with lock:
            ids.append(run_id)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(ids) == [str(n) for n in range(1000001, 1000009)]


def test_stop_is_idempotent_and_releases_the_endpoint() -> None:
    stand_in = OmicsStandIn(account="111122223333", region="eu-west-1").start()
    assert stand_in.add_run()["arn"] == "arn:aws:omics:eu-west-1:111122223333:run/1000001"
    stand_in.stop()
    stand_in.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = stand_in.endpoint_url


# ------------------------------------------------------------ response bucket


def test_presigned_url_is_https_sigv4_put_url(bucket: ResponseBucket) -> None:
    url = bucket.presigned_response_url("stack-1/req-1")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert bucket.endpoint_url.startswith("https://localhost:")
    assert f"{parts.scheme}://{parts.netloc}" == bucket.endpoint_url
    assert parts.path == "/cfn-responses/stack-1/req-1"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["3600"]
    assert pathlib.Path(bucket.ca_file).is_file()


def test_put_to_presigned_url_is_read_back(bucket: ResponseBucket) -> None:
    key = "stack-1/req-put"
    url = bucket.presigned_response_url(key)
    assert bucket.read_response(key) is None

    payload = {"Status": "SUCCESS", "PhysicalResourceId": "1000001", "Data": {"RunId": "1000001"}}
    status = _put_like_crhelper(url, payload, ssl.create_default_context(cafile=bucket.ca_file))

    assert status == 200
    assert bucket.read_response(key) == payload
    assert bucket.wait_for_response(key, timeout=1) == payload


def test_ssl_cert_file_makes_default_context_trust_the_bucket(
    bucket: ResponseBucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    # crhelper builds ssl.create_default_context() with no cafile; OpenSSL
    # reads SSL_CERT_FILE when the context loads its default paths.
    key = "stack-1/req-env"
    url = bucket.presigned_response_url(key)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(ssl.SSLCertVerificationError):
        _put_like_crhelper(url, {"Status": "FAILED"}, ssl.create_default_context())

    monkeypatch.setenv("SSL_CERT_FILE", bucket.ca_file)
    assert _put_like_crhelper(url, {"Status": "SUCCESS"}, ssl.create_default_context()) == 200
    assert bucket.read_response(key) == {"Status": "SUCCESS"}


def test_crhelper_send_response_reaches_the_bucket(bucket: ResponseBucket, monkeypatch: pytest.MonkeyPatch) -> None:
    # The exact code path the Lambda handler uses (a private crhelper helper,
    # so skip rather than fail if a crhelper release renames it).
    utils = pytest.importorskip("crhelper.utils")
    send = getattr(utils, "_send_response", None)
    if send is None:
        pytest.skip("crhelper.utils._send_response is gone")
    monkeypatch.setenv("SSL_CERT_FILE", bucket.ca_file)
    key = "stack-1/req-crhelper"
    send(bucket.presigned_response_url(key), {"Status": "SUCCESS", "Reason": "ok"})
    assert bucket.wait_for_response(key, timeout=2) == {"Status": "SUCCESS", "Reason": "ok"}


def test_wait_for_response_times_out_with_clear_message(bucket: ResponseBucket) -> None:
    key = "stack-1/never"
    bucket.presigned_response_url(key)
    with pytest.raises(AssertionError, match=r"no CloudFormation response .*stack-1/never"):
        bucket.wait_for_response(key, timeout=0.2)
