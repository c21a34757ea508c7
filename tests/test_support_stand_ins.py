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

from support.omics_stand_in import (
    GET_RUN_OUTPUT_MEMBERS,
    OPERATIONS,
    OmicsStandIn,
    RecordedRequest,
)
from support.response_bucket import ResponseBucket

ROLE_ARN = "arn:aws:iam::123456789012:role/omics-run"
OUTPUT_URI = "s3://results-bucket/runs/"

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
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", omics.endpoint_url)
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # A developer's own profile or global endpoint must not redirect the calls.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
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
    assert set(expected_http) == OPERATIONS
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


# ---------------------------------------------- omics stand-in: over boto3


def test_start_run_creates_pending_run_and_is_idempotent(
    client: Any, omics_env: OmicsStandIn
) -> None:
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


def test_get_run_returns_output_shape_with_parsed_timestamps(
    client: Any, omics_env: OmicsStandIn
) -> None:
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


def test_botocore_retries_through_injected_throttling(
    omics_env: OmicsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    status, headers, body = _raw(
        omics_env, "POST", "/run", {"roleArn": ROLE_ARN, "outputUri": OUTPUT_URI}
    )
    assert status == 400
    assert headers["x-amzn-errortype"] == "ValidationException"
    assert "requestId" in body["message"]
    assert omics_env.runs == {}


def _raw(
    stand_in: OmicsStandIn, method: str, path: str, body: dict | None = None
) -> tuple[int, dict[str, str], dict]:
    parts = urlsplit(stand_in.endpoint_url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=5)
    try:
        payload = json.dumps(body) if body is not None else None
        connection.request(method, path, body=payload, headers={"content-type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, json.loads(data) if data else {}
    finally:
        connection.close()


def test_unknown_route_is_a_clear_404(omics: OmicsStandIn) -> None:
    status, headers, body = _raw(omics, "GET", "/workflow/1")
    assert status == 404
    assert headers["x-amzn-errortype"] == "UnknownOperationException"
    assert "no route for GET /workflow/1" in body["message"]
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


def test_crhelper_send_response_reaches_the_bucket(
    bucket: ResponseBucket, monkeypatch: pytest.MonkeyPatch
) -> None:
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
