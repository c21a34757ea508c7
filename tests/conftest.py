"""Shared fixtures: the local HealthOmics stand-in, the HTTPS response bucket, and the handler."""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from events import Stack
from support.cloudformation_stand_in import CloudFormationStandIn
from support.event_source_mapping import EventSourceMapping
from support.lambda_stand_in import LambdaStandIn
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

REPO_ROOT = Path(__file__).resolve().parents[1]

# jsii runs `node` from PATH: use the Node.js LTS that package.json pins, when npm installed it,
# before anything imports aws_cdk (the CDK CLI's subprocesses inherit it too).
_PINNED_NODE = REPO_ROOT / "node_modules" / ".bin"
if (_PINNED_NODE / "node").exists():
    os.environ["PATH"] = f"{_PINNED_NODE}{os.pathsep}{os.environ.get('PATH', '')}"
REGION = "us-east-1"


def load_module(path: Path) -> ModuleType:
    """A Python file that is not on the path (an example app, a script), loaded as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A run that executes no test must fail loudly, whatever selected it away.
    if session.testscollected == 0 or exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("\nERROR: no test was executed")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def omics_service() -> Iterator[OmicsStandIn]:
    """One HealthOmics stand-in for the whole run, on a loopback port."""
    stand_in = OmicsStandIn(region=REGION).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def omics(omics_service: OmicsStandIn) -> OmicsStandIn:
    """The stand-in, emptied for this test."""
    omics_service.reset()
    return omics_service


@pytest.fixture(scope="session")
def response_bucket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ResponseBucket]:
    """moto's S3 server over HTTPS, where the handler PUTs its CloudFormation responses."""
    bucket = ResponseBucket(tmp_path_factory.mktemp("tls")).start()
    yield bucket
    bucket.stop()


@pytest.fixture(scope="session")
def cloudformation_service() -> Iterator[CloudFormationStandIn]:
    """What CloudFormation says of deployed stacks (ListStackResources, GetTemplate, DescribeStackResource)."""
    stand_in = CloudFormationStandIn(region=REGION).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def cloudformation(cloudformation_service: CloudFormationStandIn) -> CloudFormationStandIn:
    """The CloudFormation stand-in, emptied for this test."""
    cloudformation_service.reset()
    return cloudformation_service


@pytest.fixture(scope="session")
def lambda_service() -> Iterator[LambdaStandIn]:
    """Where the provider's self-invocations (and any stray EventBridge call) land."""
    stand_in = LambdaStandIn().start()
    yield stand_in
    stand_in.stop()


def handler_environment(
    omics: OmicsStandIn,
    response_bucket: ResponseBucket,
    lambda_service: LambdaStandIn | None = None,
    cloudformation: CloudFormationStandIn | None = None,
    wake_queue: str | None = None,
) -> dict[str, str]:
    """The environment the handler runs with: SDK standard settings only, as in Lambda (and the
    wake-up queue's URL, which the construct sets when a run waits)."""
    invoke = {}
    if lambda_service is not None:
        # crhelper's own polling would call EventBridge: send that to the trap too.
        invoke = {
            "AWS_ENDPOINT_URL_LAMBDA": lambda_service.endpoint_url,
            "AWS_ENDPOINT_URL_EVENTS": lambda_service.endpoint_url,
        }
    stack_records = {}
    if cloudformation is not None:
        # A wake that finds its run deleted asks CloudFormation about the run's resource.
        stack_records = {"AWS_ENDPOINT_URL_CLOUDFORMATION": cloudformation.endpoint_url}
    queue = {} if wake_queue is None else {"OMICS_RUN_WAIT_QUEUE_URL": wake_queue}
    return {
        **invoke,
        **stack_records,
        **queue,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL_OMICS": omics.endpoint_url,
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        # crhelper sends its response over HTTPS with the default SSL context.
        "SSL_CERT_FILE": response_bucket.ca_file,
        # Waits send their wake-ups to SQS: moto's server, beside the response bucket.
        "AWS_ENDPOINT_URL_SQS": response_bucket.endpoint_url,
        # Completed runs' output summaries and outputs live in moto's S3 too. By IP address, so that
        # the SDK addresses buckets by path (a virtual host of "localhost" resolves nowhere here).
        "AWS_ENDPOINT_URL_S3": response_bucket.endpoint_url.replace("localhost", "127.0.0.1"),
        "AWS_CA_BUNDLE": response_bucket.ca_file,
    }


@pytest.fixture
def handler_module(
    omics: OmicsStandIn,
    response_bucket: ResponseBucket,
    lambda_service: LambdaStandIn,
    cloudformation: CloudFormationStandIn,
    wake_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> ModuleType:
    """The handler module from lambda/, loaded the way Lambda loads it, by module name."""
    lambda_service.reset()
    for name, value in handler_environment(omics, response_bucket, lambda_service, cloudformation).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("OMICS_RUN_WAIT_QUEUE_URL", wake_queue)
    module = importlib.import_module("omics_run_handler")
    # crhelper pauses this long before answering a Delete, for CloudWatch Logs to catch up: a
    # deployed function's concern, not the handler's behaviour, and 2 s for every Delete in the suite.
    assert module.helper._sleep_on_delete == module.SLEEP_ON_DELETE_SECONDS == 2
    monkeypatch.setattr(module.helper, "_sleep_on_delete", 0)
    from omics_run.client import omics_client, s3_client, sqs_client, wake_cloudformation_client, wake_omics_client

    for client in (omics_client, sqs_client, wake_omics_client, wake_cloudformation_client, s3_client):
        client.cache_clear()
    return module


@pytest.fixture
def sqs(response_bucket: ResponseBucket) -> Any:
    """An SQS client for moto's server, as the tests (not the handler) use it."""
    return boto3.session.Session(
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    ).client("sqs", endpoint_url=response_bucket.endpoint_url, verify=response_bucket.ca_file)


@pytest.fixture
def wake_queue(sqs: Any) -> str:
    """A fresh wake-up queue for this test, on moto's SQS."""
    return str(sqs.create_queue(QueueName=f"omics-run-waits-{uuid.uuid4().hex[:12]}")["QueueUrl"])


@pytest.fixture
def event_source_mapping(handler_module: ModuleType, sqs: Any, wake_queue: str) -> EventSourceMapping:
    """The provider's SQS event source mapping, played by the test."""
    return EventSourceMapping(handler_module, sqs, wake_queue)


@pytest.fixture
def stack(handler_module: ModuleType, response_bucket: ResponseBucket, cloudformation: CloudFormationStandIn) -> Stack:
    """One Custom::OmicsRun, played through the handler the way CloudFormation plays it."""
    return Stack(handler_module, response_bucket, cloudformation=cloudformation)
