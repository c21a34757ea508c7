"""Self-tests for the run batch part of the HealthOmics stand-in
(StartRunBatch, GetBatch, ListRunsInBatch, CancelRunBatch, DeleteRunBatch,
DeleteBatch, ListBatch) and ListRuns, exercised over real HTTP with boto3."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config
from support.omics_stand_in import (
    BATCH_CANCELLABLE_STATUSES,
    BATCH_DELETABLE_STATUSES,
    BATCH_LIST_ITEM_MEMBERS,
    BATCH_OPERATIONS,
    BATCH_RUNS_DELETABLE_STATUSES,
    BATCH_STATUSES,
    BATCH_TERMINAL_STATUSES,
    DEFAULT_RUN_SETTING_REQUIRED_MEMBERS,
    ERROR_STATUS,
    GET_BATCH_OUTPUT_MEMBERS,
    MAX_INLINE_SETTINGS,
    MAX_TAGS_PER_RUN,
    OPERATIONS,
    RUN_BATCH_LIST_ITEM_MEMBERS,
    RUN_LIST_ITEM_MEMBERS,
    RUN_SUMMARY_COUNTERS,
    STACK_TAG_KEY,
    STACK_TAG_OPERATIONS,
    START_RUN_BATCH_REQUIRED_MEMBERS,
    SUBMISSION_SUMMARY_MEMBERS,
    OmicsStandIn,
)
from support.raw_http import aim_boto3_at, raw_request, service_error

ROLE_ARN = "arn:aws:iam::123456789012:role/omics-run"
OUTPUT_URI = "s3://results-bucket/runs/"
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1"
BATCH_ARN_PREFIX = "arn:aws:omics:us-east-1:123456789012:runBatch/"

# No retries: a fault must surface on the first call. ("total_max_attempts"
# counts all attempts; "max_attempts" would count retries only.)
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})

# The HTTP binding of each operation this file covers, as the model has it.
EXPECTED_HTTP = {
    "StartRunBatch": ("POST", "/runBatch", 201),
    "GetBatch": ("GET", "/runBatch/{batchId}", 200),
    "ListRunsInBatch": ("GET", "/runBatch/{batchId}/run", 200),
    "CancelRunBatch": ("POST", "/runBatch/cancel", 202),
    "DeleteRunBatch": ("POST", "/runBatch/delete", 202),
    "DeleteBatch": ("DELETE", "/runBatch/{batchId}", 202),
    "ListBatch": ("GET", "/runBatch", 200),
    "ListRuns": ("GET", "/run", 200),
    "StartRun": ("POST", "/run", 201),
}


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def omics_env(omics: OmicsStandIn, monkeypatch: pytest.MonkeyPatch) -> OmicsStandIn:
    """Point boto3 at the stand-in the way the code under test is pointed."""
    aim_boto3_at(omics, monkeypatch)
    return omics


# One botocore data loader for the module: it caches the parsed omics model,
# which a fresh loader would read again for every client (most of a test's time).
_LOADER = botocore.loaders.create_loader()


def _omics_client(config: Config = NO_RETRIES) -> Any:
    # A new Session per client, so the monkeypatched environment (endpoint,
    # credentials) is read now; only the model data is shared.
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return boto3.session.Session(botocore_session=session).client("omics", region_name="us-east-1", config=config)


@pytest.fixture
def client(omics_env: OmicsStandIn) -> Any:
    return _omics_client()


@pytest.fixture
def lax(omics_env: OmicsStandIn) -> Any:
    """A client without botocore's own parameter checks, so the server decides."""
    return _omics_client(Config(parameter_validation=False, retries={"total_max_attempts": 1}))


# ------------------------------------------------------------------- helpers


def _default_setting(**extra: Any) -> dict:
    return {"workflowId": "1234567", "roleArn": ROLE_ARN, "outputUri": OUTPUT_URI, **extra}


def _inline(*setting_ids: str) -> dict:
    return {"inlineSettings": [{"runSettingId": setting_id} for setting_id in setting_ids]}


def _start_batch(
    client: Any,
    settings: dict | None = None,
    default: dict | None = None,
    request_id: str | None = None,
    **extra: Any,
) -> dict:
    return client.start_run_batch(
        requestId=request_id or str(uuid.uuid4()),
        defaultRunSetting=default if default is not None else _default_setting(),
        batchRunSettings=settings if settings is not None else _inline("s1", "s2"),
        **extra,
    )


def _submitted_batch(client: Any, omics: OmicsStandIn, *setting_ids: str, **extra: Any) -> tuple[str, list[str]]:
    """A batch whose runs were submitted (INPROGRESS); its id and run ids."""
    batch_id = _start_batch(client, settings=_inline(*(setting_ids or ("s1", "s2"))), **extra)["id"]
    return batch_id, omics.submit_batch(batch_id)


def _body(response: dict) -> dict:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def _text(documentation: str) -> str:
    """Model documentation without its HTML tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", documentation).split())


def _model() -> Any:
    return botocore.session.get_session().get_service_model("omics")


# ---------------------------------------------------------------- the model


def test_batch_routes_and_members_match_botocore_omics_model() -> None:
    model = _model()
    for name, (method, uri, code) in EXPECTED_HTTP.items():
        http_trait = model.operation_model(name).http
        assert (http_trait["method"], http_trait["requestUri"], http_trait.get("responseCode", 200)) == (
            method,
            uri,
            code,
        ), name
    assert set(EXPECTED_HTTP) - {"StartRun"} == BATCH_OPERATIONS | {"ListRuns"}
    assert BATCH_OPERATIONS | {"ListRuns"} <= OPERATIONS
    # Every error the new operations declare has the status ERROR_STATUS gives it.
    for name in BATCH_OPERATIONS | {"ListRuns"}:
        for shape in model.operation_model(name).error_shapes:
            assert ERROR_STATUS[shape.name] == shape.metadata["error"]["httpStatusCode"], (name, shape.name)

    get_batch = model.operation_model("GetBatch").output_shape
    assert set(get_batch.members) == GET_BATCH_OUTPUT_MEMBERS
    for member in ("creationTime", "submittedTime", "processedTime", "failedTime"):
        assert get_batch.members[member].serialization["timestampFormat"] == "iso8601"
    assert set(get_batch.members["status"].enum) == BATCH_STATUSES
    assert list(get_batch.members["submissionSummary"].members) == list(SUBMISSION_SUMMARY_MEMBERS)
    assert list(get_batch.members["runSummary"].members) == list(RUN_SUMMARY_COUNTERS.values())
    assert set(model.shape_for("RunStatus").enum) == set(RUN_SUMMARY_COUNTERS)
    assert all(counter == f"{status.lower()}RunCount" for status, counter in RUN_SUMMARY_COUNTERS.items())

    start = model.operation_model("StartRunBatch").input_shape
    assert list(start.required_members) == list(START_RUN_BATCH_REQUIRED_MEMBERS)
    assert start.members["requestId"].metadata.get("idempotencyToken") is True
    default = start.members["defaultRunSetting"]
    assert list(default.required_members) == list(DEFAULT_RUN_SETTING_REQUIRED_MEMBERS)
    assert "Batch runs are not supported with READY2RUN workflows" in _text(
        default.members["workflowType"].documentation
    )
    union = start.members["batchRunSettings"]
    assert union.is_tagged_union and set(union.members) == {"inlineSettings", "s3UriSettings"}
    assert union.members["inlineSettings"].metadata == {"min": 1, "max": MAX_INLINE_SETTINGS}
    assert union.members["inlineSettings"].member.required_members == ["runSettingId"]
    assert "CREATING" in model.operation_model("StartRunBatch").output_shape.members["status"].documentation

    assert set(model.shape_for("RunBatchListItem").members) == RUN_BATCH_LIST_ITEM_MEMBERS
    assert set(model.shape_for("RunListItem").members) == RUN_LIST_ITEM_MEMBERS
    assert set(model.shape_for("BatchListItem").members) == BATCH_LIST_ITEM_MEMBERS

    # The state rules come from the operations' documentation; notice if it changes.
    def doc(name: str) -> str:
        return _text(model.operation_model(name).documentation)

    def listed(statuses: frozenset[str], order: tuple[str, ...]) -> str:
        """The statuses as the documentation lists them: "A, B, or C" (or "A or B")."""
        names = [status for status in order if status in statuses]
        assert len(names) == len(statuses)
        return " or ".join(names) if len(names) == 2 else ", ".join(names[:-1]) + ", or " + names[-1]

    cancellable = listed(BATCH_CANCELLABLE_STATUSES, ("PENDING", "SUBMITTING", "INPROGRESS"))
    assert f"Cancel is only allowed on batches in {cancellable} state" in doc("CancelRunBatch")
    runs_deletable = listed(BATCH_RUNS_DELETABLE_STATUSES, ("PROCESSED", "CANCELLED"))
    assert f"Delete is only allowed on batches in {runs_deletable} state" in doc("DeleteRunBatch")
    order = ("PROCESSED", "FAILED", "CANCELLED", "RUNS_DELETE_FAILED", "RUNS_DELETED")
    assert f"requires the batch to be in a terminal state: {listed(BATCH_DELETABLE_STATUSES, order)}." in doc(
        "DeleteBatch"
    )
    assert BATCH_TERMINAL_STATUSES == BATCH_DELETABLE_STATUSES
    assert "Only one filter per call is supported" in doc("ListRunsInBatch")
    assert {"StartRunBatch", "GetBatch", "ListRunsInBatch", "CancelRunBatch", "DeleteRunBatch", "DeleteBatch"} <= (
        STACK_TAG_OPERATIONS
    )
    assert STACK_TAG_OPERATIONS <= OPERATIONS


# Calls of each new operation for a batch in a state that accepts it.
_CALLS: dict[str, Callable[[Any, str], Any]] = {
    "StartRunBatch": lambda c, batch_id: _start_batch(c),
    "GetBatch": lambda c, batch_id: c.get_batch(batchId=batch_id),
    "ListRunsInBatch": lambda c, batch_id: c.list_runs_in_batch(batchId=batch_id),
    "CancelRunBatch": lambda c, batch_id: c.cancel_run_batch(batchId=batch_id),
    "DeleteRunBatch": lambda c, batch_id: c.delete_run_batch(batchId=batch_id),
    "DeleteBatch": lambda c, batch_id: c.delete_batch(batchId=batch_id),
    "ListBatch": lambda c, batch_id: c.list_batch(),
    "ListRuns": lambda c, batch_id: c.list_runs(),
}


@pytest.mark.parametrize("operation", sorted(_CALLS))
def test_each_new_operation_routes_by_the_model_and_takes_injected_faults(
    operation: str, client: Any, omics_env: OmicsStandIn
) -> None:
    assert set(_CALLS) == BATCH_OPERATIONS | {"ListRuns"}
    batch_id, _ = _submitted_batch(client, omics_env)
    omics_env.set_batch_status(batch_id, "CANCELLED" if "Delete" in operation else "INPROGRESS")
    earlier = len(omics_env.requests_for(operation))
    omics_env.fail_next(operation, "ThrottlingException")  # status from the model: 429
    with pytest.raises(client.exceptions.ThrottlingException) as excinfo:
        _CALLS[operation](client, batch_id)
    assert "Injected ThrottlingException" in service_error(excinfo, "ThrottlingException", 429)

    response = _CALLS[operation](client, batch_id)  # the queue is empty again
    method, uri, code = EXPECTED_HTTP[operation]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == code
    recorded = omics_env.requests_for(operation)
    assert len(recorded) == earlier + 2
    assert (recorded[-1].method, recorded[-1].path) == (method, uri.replace("{batchId}", batch_id))


def test_routes_that_look_alike_stay_apart(client: Any, omics_env: OmicsStandIn) -> None:
    # POST /run is still StartRun, GET /run is ListRuns.
    started = client.start_run(workflowId="1", roleArn=ROLE_ARN, outputUri=OUTPUT_URI)
    assert [item["id"] for item in client.list_runs()["items"]] == [started["id"]]
    # GET /runBatch/cancel is a GetBatch of a batch called "cancel" (a 404);
    # POST /runBatch/{id} and GET /runBatch/{id}/cancel are no route at all.
    status, headers, _ = raw_request(omics_env, "GET", "/runBatch/cancel")
    assert (status, headers["x-amzn-errortype"]) == (404, "ResourceNotFoundException")
    assert omics_env.requests[-1].operation == "GetBatch"
    for method, path in (("POST", "/runBatch/5000001"), ("GET", "/runBatch/5000001/cancel"), ("PUT", "/runBatch")):
        status, headers, _ = raw_request(omics_env, method, path, {})
        assert (status, headers["x-amzn-errortype"]) == (404, "UnknownOperationException"), (method, path)


# -------------------------------------------------------------- StartRunBatch


def test_start_run_batch_creates_a_creating_batch(client: Any, omics_env: OmicsStandIn) -> None:
    response = _start_batch(
        client,
        settings=_inline("a", "b", "c"),
        default=_default_setting(runTags={"team": "genomics"}),
        batchName="cohort-1",
        tags={"project": "p1"},
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert _body(response) == {
        "id": "5000001",
        "arn": BATCH_ARN_PREFIX + "5000001",
        "status": "CREATING",
        "uuid": response["uuid"],
        "tags": {"project": "p1"},
    }
    assert uuid.UUID(response["uuid"]).version == 4
    assert omics_env.runs == {}  # nothing runs before the service submits

    batch = client.get_batch(batchId="5000001")
    assert set(_body(batch)) <= GET_BATCH_OUTPUT_MEMBERS
    assert (batch["name"], batch["status"], batch["totalRuns"]) == ("cohort-1", "CREATING", 3)
    assert batch["defaultRunSetting"] == _default_setting(runTags={"team": "genomics"})
    assert batch["submissionSummary"] == dict.fromkeys(SUBMISSION_SUMMARY_MEMBERS, 0)
    assert batch["runSummary"] == dict.fromkeys(RUN_SUMMARY_COUNTERS.values(), 0)
    assert isinstance(batch["creationTime"], datetime) and batch["creationTime"].tzinfo is not None
    assert "submittedTime" not in batch and "failureReason" not in batch

    # An s3UriSettings batch does not know its size yet; batch IDs count on.
    s3 = _start_batch(client, settings={"s3UriSettings": "s3://in/settings.json"})
    assert s3["id"] == "5000002"
    assert "totalRuns" not in client.get_batch(batchId=s3["id"])
    recorded = omics_env.requests_for("StartRunBatch")[0]
    assert (recorded.method, recorded.path) == ("POST", "/runBatch")


_TOO_MANY = {"inlineSettings": [{"runSettingId": f"s{i}"} for i in range(MAX_INLINE_SETTINGS + 1)]}


@pytest.mark.parametrize(
    ("request_members", "message"),
    [
        ({"defaultRunSetting": None}, "'defaultRunSetting' failed to satisfy constraint: Member must not be null"),
        ({"batchRunSettings": None}, "'batchRunSettings' failed to satisfy constraint: Member must not be null"),
        ({"defaultRunSetting": {"roleArn": ROLE_ARN}}, "'defaultRunSetting.workflowId' failed"),
        ({"defaultRunSetting": {"workflowId": "1"}}, "'defaultRunSetting.roleArn' failed"),
        (
            {"batchRunSettings": {**_inline("s1"), "s3UriSettings": "s3://in/s.json"}},
            "exactly one of inlineSettings or s3UriSettings (got inlineSettings and s3UriSettings)",
        ),
        ({"batchRunSettings": {}}, "exactly one of inlineSettings or s3UriSettings (got neither)"),
        ({"batchRunSettings": _TOO_MANY}, "for batches with more than 100 runs, use s3UriSettings"),
        ({"batchRunSettings": {"inlineSettings": []}}, "at least 1 entry"),
        ({"batchRunSettings": _inline("a", "b", "a")}, "Duplicate runSettingId 'a'"),
        ({"batchRunSettings": {"inlineSettings": [{"name": "x"}]}}, "'batchRunSettings.inlineSettings.1.runSettingId'"),
        ({"batchRunSettings": {"s3UriSettings": "https://in/s.json"}}, "must be an S3 URI starting with s3://"),
        (
            {"defaultRunSetting": _default_setting(workflowType="READY2RUN")},
            "Batch runs are not supported with READY2RUN workflows",
        ),
        ({"tags": {"aws:owner": "me"}}, "reserved prefix"),
        (
            {"defaultRunSetting": _default_setting(runTags={f"k{i}": "v" for i in range(MAX_TAGS_PER_RUN + 1)})},
            "a run can have at most 50 tags",
        ),
        (
            {
                "defaultRunSetting": _default_setting(runTags={f"k{i}": "v" for i in range(30)}),
                "batchRunSettings": {
                    "inlineSettings": [{"runSettingId": "s", "runTags": {f"j{i}": "v" for i in range(30)}}]
                },
            },
            "'batchRunSettings.inlineSettings.1.runTags' failed to satisfy constraint: a run can have at most 50 tags",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_start_run_batch_refuses_what_the_model_and_docs_refuse(
    request_members: dict, message: str, lax: Any, omics_env: OmicsStandIn
) -> None:
    members = {"defaultRunSetting": _default_setting(), "batchRunSettings": _inline("s1"), **request_members}
    with pytest.raises(lax.exceptions.ValidationException) as excinfo:
        lax.start_run_batch(**{k: v for k, v in members.items() if v is not None})
    assert message in service_error(excinfo, "ValidationException", 400)
    assert omics_env.batches == {}


def test_start_run_batch_request_id_is_required_on_the_wire(omics: OmicsStandIn) -> None:
    # botocore fills in requestId itself (idempotency token), so drop it raw.
    body = {"defaultRunSetting": _default_setting(), "batchRunSettings": _inline("s1")}
    status, headers, response = raw_request(omics, "POST", "/runBatch", body)
    assert (status, headers["x-amzn-errortype"]) == (400, "ValidationException")
    assert "'requestId' failed to satisfy constraint: Member must not be null" in response["message"]


def test_start_run_batch_replays_the_same_batch(client: Any, omics_env: OmicsStandIn) -> None:
    first = _start_batch(client, request_id="batch-req", tags={"a": "1"})
    again = _start_batch(client, request_id="batch-req", settings=_inline("other"))  # a different body still replays
    assert _body(again) == _body(first)
    assert list(omics_env.batches) == [first["id"]]
    assert len(omics_env.requests_for("StartRunBatch")) == 2

    # The replay shows the batch as it is now, like StartRun's replay...
    omics_env.submit_batch(first["id"])
    assert _start_batch(client, request_id="batch-req")["status"] == "INPROGRESS"
    # ...and once the batch is deleted, the first response.
    omics_env.set_batch_status(first["id"], "PROCESSED")
    client.delete_batch(batchId=first["id"])
    assert _body(_start_batch(client, request_id="batch-req")) == _body(first)
    assert omics_env.batches == {}
    # Another request id is another batch.
    assert _start_batch(client, request_id="batch-req-2")["id"] == "5000002"


# ---------------------------------------------------------------- submit_batch


def test_submit_batch_merges_default_and_per_run_settings(client: Any, omics_env: OmicsStandIn) -> None:
    default = _default_setting(
        name="default-name",
        priority=5,
        storageCapacity=1200,
        parameters={"reference": "s3://ref/hg38.fa", "threads": 4},
        runTags={"team": "genomics", "sample": "unset"},
    )
    settings = {
        "inlineSettings": [
            {
                "runSettingId": "override",
                "name": "sample-1",
                "priority": 9,
                "outputUri": "s3://other-bucket/out",
                "parameters": {"threads": 8, "sample": "s3://in/1.fastq"},
                "runTags": {"sample": "1"},
            },
            {"runSettingId": "plain"},
            {"runSettingId": "broken", "parameters": {"sample": "s3://in/missing"}},
        ]
    }
    batch_id = _start_batch(client, settings=settings, default=default, tags={"batch-only": "yes"})["id"]
    run_ids = omics_env.submit_batch(batch_id, failed_setting_ids=["broken"])
    assert run_ids == ["1000001", "1000002"]

    override, plain = (omics_env.runs[run_id] for run_id in run_ids)
    assert override["parameters"] == {"reference": "s3://ref/hg38.fa", "threads": 8, "sample": "s3://in/1.fastq"}
    assert override["tags"] == {"team": "genomics", "sample": "1"}  # batch tags are not inherited
    assert (override["name"], override["priority"], override["storageCapacity"]) == ("sample-1", 9, 1200)
    assert override["runOutputUri"] == "s3://other-bucket/out/1000001"
    assert plain["parameters"] == {"reference": "s3://ref/hg38.fa", "threads": 4}
    assert plain["tags"] == {"team": "genomics", "sample": "unset"}
    assert (plain["name"], plain["priority"], plain["outputUri"]) == ("default-name", 5, OUTPUT_URI)
    assert plain["runOutputUri"] == OUTPUT_URI + "1000002"

    run = client.get_run(id="1000001")
    assert (run["batchId"], run["status"], run["workflowId"], run["roleArn"]) == (
        batch_id,
        "PENDING",
        "1234567",
        ROLE_ARN,
    )
    assert run["arn"] == "arn:aws:omics:us-east-1:123456789012:run/1000001"
    assert "runTags" not in omics_env.runs["1000001"] and "runSettingId" not in omics_env.runs["1000001"]

    batch = client.get_batch(batchId=batch_id)
    assert batch["status"] == "INPROGRESS"
    assert isinstance(batch["submittedTime"], datetime)
    assert batch["submissionSummary"]["successfulStartSubmissionCount"] == 2
    assert batch["submissionSummary"]["failedStartSubmissionCount"] == 1
    assert batch["runSummary"]["pendingRunCount"] == 2
    assert client.list_runs_in_batch(batchId=batch_id)["runs"] == [
        {
            "runSettingId": "override",
            "runId": "1000001",
            "runArn": override["arn"],
            "runInternalUuid": override["uuid"],
            "submissionStatus": "SUCCESS",
        },
        {
            "runSettingId": "plain",
            "runId": "1000002",
            "runArn": plain["arn"],
            "runInternalUuid": plain["uuid"],
            "submissionStatus": "SUCCESS",
        },
        {
            "runSettingId": "broken",
            "submissionStatus": "FAILED",
            "submissionFailureReason": "ValidationException",
            "submissionFailureMessage": "Run setting broken failed validation (set by submit_batch)",
        },
    ]
    with pytest.raises(ValueError, match="only a new batch can be submitted"):
        omics_env.submit_batch(batch_id)


def test_submit_batch_of_an_s3_batch_takes_the_settings(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id = _start_batch(client, settings={"s3UriSettings": "s3://in/settings.json"})["id"]
    with pytest.raises(ValueError, match="pass the settings its file would hold"):
        omics_env.submit_batch(batch_id)
    with pytest.raises(ValueError, match="unique"):
        omics_env.submit_batch(batch_id, settings=[{"runSettingId": "x"}, {"runSettingId": "x"}])
    with pytest.raises(ValueError, match=r"\['typo'\] are not run settings"):
        omics_env.submit_batch(batch_id, settings=[{"runSettingId": "x"}], failed_setting_ids=["typo"])
    assert omics_env.submit_batch(batch_id, settings=[{"runSettingId": f"r{i}"} for i in range(3)]) == [
        "1000001",
        "1000002",
        "1000003",
    ]
    assert client.get_batch(batchId=batch_id)["totalRuns"] == 3

    inline_id = _start_batch(client)["id"]
    with pytest.raises(ValueError, match="settings are for s3UriSettings batches"):
        omics_env.submit_batch(inline_id, settings=[{"runSettingId": "x"}])
    with pytest.raises(KeyError):
        omics_env.submit_batch("5999999")


def test_batch_is_processed_when_all_its_runs_are_terminal(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id, (first, second, third) = _submitted_batch(client, omics_env, "a", "b", "c")
    omics_env.set_status(first, "COMPLETED")
    omics_env.set_status(second, "RUNNING")
    batch = client.get_batch(batchId=batch_id)
    assert batch["status"] == "INPROGRESS" and "processedTime" not in batch
    assert (batch["runSummary"]["completedRunCount"], batch["runSummary"]["runningRunCount"]) == (1, 1)
    assert batch["runSummary"]["pendingRunCount"] == 1

    omics_env.set_status(second, "FAILED")
    client.cancel_run(id=third)
    batch = client.get_batch(batchId=batch_id)
    assert batch["status"] == "PROCESSED"
    assert isinstance(batch["processedTime"], datetime)
    summary = batch["runSummary"]
    assert (summary["completedRunCount"], summary["failedRunCount"], summary["cancelledRunCount"]) == (1, 1, 1)

    # A run deleted on its own counts as deleted; a reused id is not the batch's run.
    omics_env.reuse_deleted_ids = True
    client.delete_run(id=first)
    client.start_run(workflowId="1", roleArn=ROLE_ARN, outputUri=OUTPUT_URI)  # takes id `first` again
    assert omics_env.runs[first].get("batchId") is None
    assert client.get_batch(batchId=batch_id)["runSummary"]["deletedRunCount"] == 1

    # A batch set INPROGRESS before any submission waits for one.
    waiting = _start_batch(client)["id"]
    omics_env.set_batch_status(waiting, "INPROGRESS")
    assert client.get_batch(batchId=waiting)["status"] == "INPROGRESS"


def test_set_batch_status_fills_failure_members(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id = _start_batch(client)["id"]
    omics_env.set_batch_status(batch_id, "FAILED", failure_reason="settings file changed after submission")
    batch = client.get_batch(batchId=batch_id)
    assert (batch["status"], batch["failureReason"]) == ("FAILED", "settings file changed after submission")
    assert isinstance(batch["failedTime"], datetime)
    with pytest.raises(ValueError, match="unknown batch status"):
        omics_env.set_batch_status(batch_id, "DONE")
    with pytest.raises(KeyError):
        omics_env.set_batch_status("5999999", "FAILED")


# ------------------------------------------------------------- ListRunsInBatch


def test_list_runs_in_batch_filters_and_pages(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id = _start_batch(client, settings=_inline(*(f"s{i}" for i in range(5))))["id"]
    run_ids = omics_env.submit_batch(batch_id, failed_setting_ids=["s2"])

    def setting_ids(**filters: Any) -> list[str]:
        return [run["runSettingId"] for run in client.list_runs_in_batch(batchId=batch_id, **filters)["runs"]]

    assert setting_ids() == ["s0", "s1", "s2", "s3", "s4"]
    assert setting_ids(submissionStatus="FAILED") == ["s2"]
    assert setting_ids(submissionStatus="SUCCESS") == ["s0", "s1", "s3", "s4"]
    assert setting_ids(runSettingId="s3") == ["s3"]
    assert setting_ids(runId=run_ids[1]) == ["s1"]
    assert setting_ids(runId="424242") == []

    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.list_runs_in_batch(batchId=batch_id, submissionStatus="SUCCESS", runSettingId="s1")
    assert "Only one filter per call is supported" in service_error(excinfo, "ValidationException", 400)
    with pytest.raises(client.exceptions.ValidationException):
        client.list_runs_in_batch(batchId=batch_id, submissionStatus="DONE")

    # Pages of 2: tokens chain through all five in order.
    first = client.list_runs_in_batch(batchId=batch_id, maxItems=2)
    assert [run["runSettingId"] for run in first["runs"]] == ["s0", "s1"]
    second = client.list_runs_in_batch(batchId=batch_id, maxItems=2, startingToken=first["nextToken"])
    third = client.list_runs_in_batch(batchId=batch_id, maxItems=2, startingToken=second["nextToken"])
    assert [run["runSettingId"] for run in second["runs"] + third["runs"]] == ["s2", "s3", "s4"]
    assert "nextToken" not in third
    pages = client.get_paginator("list_runs_in_batch").paginate(batchId=batch_id, PaginationConfig={"PageSize": 3})
    assert [run["runSettingId"] for page in pages for run in page["runs"]] == ["s0", "s1", "s2", "s3", "s4"]
    # A filtered listing pages too.
    page = client.list_runs_in_batch(batchId=batch_id, submissionStatus="SUCCESS", maxItems=3)
    rest = client.list_runs_in_batch(
        batchId=batch_id, submissionStatus="SUCCESS", maxItems=3, startingToken=page["nextToken"]
    )
    assert [run["runSettingId"] for run in page["runs"] + rest["runs"]] == ["s0", "s1", "s3", "s4"]

    for bad in ({"maxItems": 101}, {"startingToken": "not-a-token"}, {"startingToken": first["nextToken"] + "x"}):
        with pytest.raises(client.exceptions.ValidationException):
            client.list_runs_in_batch(batchId=batch_id, **bad)
    # A token is only good for the listing it came from.
    other_id, _ = _submitted_batch(client, omics_env, "x", "y", "z")
    with pytest.raises(client.exceptions.ValidationException):
        client.list_runs_in_batch(batchId=other_id, maxItems=2, startingToken=first["nextToken"])
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_runs_in_batch(batchId="5999999")


# ------------------------------------------------- cancel, delete: state rules


@pytest.mark.parametrize("status", sorted(BATCH_STATUSES))
def test_batch_operations_allowed_and_refused_per_status(status: str, client: Any, omics_env: OmicsStandIn) -> None:
    expectations = {
        "CancelRunBatch": (BATCH_CANCELLABLE_STATUSES, lambda batch_id: client.cancel_run_batch(batchId=batch_id)),
        "DeleteRunBatch": (BATCH_RUNS_DELETABLE_STATUSES, lambda batch_id: client.delete_run_batch(batchId=batch_id)),
        "DeleteBatch": (BATCH_DELETABLE_STATUSES, lambda batch_id: client.delete_batch(batchId=batch_id)),
    }
    for operation, (allowed, call) in expectations.items():
        batch_id, _ = _submitted_batch(client, omics_env)
        omics_env.set_batch_status(batch_id, status)
        if status in allowed:
            assert call(batch_id)["ResponseMetadata"]["HTTPStatusCode"] == 202, operation
        else:
            with pytest.raises(client.exceptions.ConflictException) as excinfo:
                call(batch_id)
            message = service_error(excinfo, "ConflictException", 409)
            assert f"in status {status}" in message, operation
            assert omics_env.batches[batch_id]["status"] == status


def test_cancel_run_batch_cancels_active_runs_and_settles(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id, (done, running, pending) = _submitted_batch(client, omics_env, "a", "b", "c")
    omics_env.set_status(done, "COMPLETED")
    omics_env.set_status(running, "RUNNING")
    response = client.cancel_run_batch(batchId=batch_id)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    recorded = omics_env.requests_for("CancelRunBatch")[0]
    assert (recorded.path, recorded.body) == ("/runBatch/cancel", {"batchId": batch_id})

    assert [omics_env.runs[run_id]["status"] for run_id in (done, running, pending)] == [
        "COMPLETED",
        "CANCELLED",
        "CANCELLED",
    ]
    statuses = [run["submissionStatus"] for run in client.list_runs_in_batch(batchId=batch_id)["runs"]]
    assert statuses == ["SUCCESS", "CANCEL_SUCCESS", "CANCEL_SUCCESS"]
    # The GetBatch right after the cancel sees STOPPING once, then CANCELLED.
    stopping = client.get_batch(batchId=batch_id)
    assert stopping["status"] == "STOPPING"
    assert stopping["submissionSummary"]["successfulCancelSubmissionCount"] == 2
    assert stopping["runSummary"]["cancelledRunCount"] == 2
    with pytest.raises(client.exceptions.ConflictException):  # one cancel or delete at a time
        client.cancel_run_batch(batchId=batch_id)
    assert client.get_batch(batchId=batch_id)["status"] == "CANCELLED"
    assert client.get_batch(batchId=batch_id)["status"] == "CANCELLED"

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.cancel_run_batch(batchId="5999999")


def test_settling_reads_and_hold_transitions(client: Any, omics_env: OmicsStandIn) -> None:
    omics_env.batch_settle_reads = 0
    batch_id, _ = _submitted_batch(client, omics_env)
    client.cancel_run_batch(batchId=batch_id)
    assert client.get_batch(batchId=batch_id)["status"] == "CANCELLED"

    omics_env.batch_settle_reads = 3
    batch_id, _ = _submitted_batch(client, omics_env)
    client.cancel_run_batch(batchId=batch_id)
    assert [client.get_batch(batchId=batch_id)["status"] for _ in range(4)] == ["STOPPING"] * 3 + ["CANCELLED"]
    # Only GetBatch counts: other reads see the transitional status unchanged.
    client.delete_run_batch(batchId=batch_id)
    assert client.list_batch(status="RUNS_DELETING")["items"][0]["id"] == batch_id
    client.list_runs_in_batch(batchId=batch_id)
    assert [client.get_batch(batchId=batch_id)["status"] for _ in range(4)] == ["RUNS_DELETING"] * 3 + ["RUNS_DELETED"]

    omics_env.hold_transitions = True
    omics_env.batch_settle_reads = 1
    batch_id, _ = _submitted_batch(client, omics_env)
    client.cancel_run_batch(batchId=batch_id)
    assert {client.get_batch(batchId=batch_id)["status"] for _ in range(5)} == {"STOPPING"}
    omics_env.hold_transitions = False
    assert client.get_batch(batchId=batch_id)["status"] == "CANCELLED"


def test_delete_run_batch_removes_the_runs(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id, run_ids = _submitted_batch(client, omics_env, "a", "b")
    with pytest.raises(client.exceptions.ConflictException):  # INPROGRESS
        client.delete_run_batch(batchId=batch_id)
    for run_id in run_ids:
        omics_env.set_status(run_id, "COMPLETED")
    assert client.get_batch(batchId=batch_id)["status"] == "PROCESSED"

    response = client.delete_run_batch(batchId=batch_id)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert omics_env.requests_for("DeleteRunBatch")[0].path == "/runBatch/delete"
    assert not set(run_ids) & set(omics_env.runs)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_run(id=run_ids[0])
    deleting = client.get_batch(batchId=batch_id)
    assert deleting["status"] == "RUNS_DELETING"
    assert deleting["submissionSummary"]["successfulDeleteSubmissionCount"] == 2
    assert deleting["runSummary"]["deletedRunCount"] == 2
    assert client.get_batch(batchId=batch_id)["status"] == "RUNS_DELETED"
    statuses = [run["submissionStatus"] for run in client.list_runs_in_batch(batchId=batch_id)["runs"]]
    assert statuses == ["DELETE_SUCCESS", "DELETE_SUCCESS"]
    with pytest.raises(client.exceptions.ConflictException):  # RUNS_DELETED
        client.delete_run_batch(batchId=batch_id)


def test_delete_run_batch_with_an_active_run_settles_to_delete_failed(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id, (finished, revived) = _submitted_batch(client, omics_env, "a", "b")
    omics_env.set_batch_status(batch_id, "CANCELLED")
    omics_env.set_status(finished, "CANCELLED")
    omics_env.set_status(revived, "RUNNING")  # as DeleteRun, an active run is not deleted
    client.delete_run_batch(batchId=batch_id)
    assert finished not in omics_env.runs and revived in omics_env.runs
    batch = client.get_batch(batchId=batch_id)
    assert (
        batch["submissionSummary"]["successfulDeleteSubmissionCount"],
        batch["submissionSummary"]["failedDeleteSubmissionCount"],
    ) == (1, 1)
    assert client.get_batch(batchId=batch_id)["status"] == "RUNS_DELETE_FAILED"
    statuses = [run["submissionStatus"] for run in client.list_runs_in_batch(batchId=batch_id)["runs"]]
    assert statuses == ["DELETE_SUCCESS", "DELETE_FAILED"]


def test_delete_batch_forgets_the_batch_but_not_its_runs(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id, run_ids = _submitted_batch(client, omics_env)
    with pytest.raises(client.exceptions.ConflictException):
        client.delete_batch(batchId=batch_id)
    for run_id in run_ids:
        omics_env.set_status(run_id, "FAILED")
    response = client.delete_batch(batchId=batch_id)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert omics_env.requests_for("DeleteBatch")[0].method == "DELETE"
    assert batch_id not in omics_env.batches
    assert client.get_run(id=run_ids[0])["batchId"] == batch_id

    gone = {
        "GetBatch": lambda: client.get_batch(batchId=batch_id),
        "ListRunsInBatch": lambda: client.list_runs_in_batch(batchId=batch_id),
        "CancelRunBatch": lambda: client.cancel_run_batch(batchId=batch_id),
        "DeleteRunBatch": lambda: client.delete_run_batch(batchId=batch_id),
        "DeleteBatch": lambda: client.delete_batch(batchId=batch_id),
        "ListTagsForResource": lambda: client.list_tags_for_resource(resourceArn=BATCH_ARN_PREFIX + batch_id),
    }
    for operation, call in gone.items():
        with pytest.raises(client.exceptions.ResourceNotFoundException) as excinfo:
            call()
        assert f"{batch_id} not found" in service_error(excinfo, "ResourceNotFoundException", 404), operation


# ---------------------------------------------------------- tags and IAM


def test_tags_on_batch_arns(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id, (run_id, _) = _submitted_batch(client, omics_env, tags={"a": "1"})
    arn = BATCH_ARN_PREFIX + batch_id
    client.tag_resource(resourceArn=arn, tags={"b": "2", "c": "3"})
    client.untag_resource(resourceArn=arn, tagKeys=["a", "c"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    assert client.get_batch(batchId=batch_id)["tags"] == {"b": "2"}
    assert client.list_tags_for_resource(resourceArn=omics_env.runs[run_id]["arn"])["tags"] == {}  # not inherited

    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.tag_resource(resourceArn=arn, tags={f"k{i}": "v" for i in range(MAX_TAGS_PER_RUN)})
    assert "a batch can have at most 50 tags (this request would leave 51)" in service_error(
        excinfo, "ValidationException", 400
    )
    with pytest.raises(client.exceptions.ValidationException):
        client.tag_resource(resourceArn=arn, tags={"AWS:x": "y"})
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.tag_resource(resourceArn=BATCH_ARN_PREFIX + "5999999", tags={"x": "y"})


def test_enforce_stack_tag_guards_batches(client: Any, omics_env: OmicsStandIn) -> None:
    mine, _ = _submitted_batch(client, omics_env, tags={STACK_TAG_KEY: STACK})
    other, _ = _submitted_batch(client, omics_env, tags={STACK_TAG_KEY: STACK + "-other"})
    for batch_id in (mine, other):
        client.cancel_run_batch(batchId=batch_id)
        omics_env.set_batch_status(batch_id, "CANCELLED")
    omics_env.enforce_stack_tag(STACK)

    denied = {
        "GetBatch": lambda batch_id: client.get_batch(batchId=batch_id),
        "ListRunsInBatch": lambda batch_id: client.list_runs_in_batch(batchId=batch_id),
        "CancelRunBatch": lambda batch_id: client.cancel_run_batch(batchId=batch_id),
        "DeleteRunBatch": lambda batch_id: client.delete_run_batch(batchId=batch_id),
        "DeleteBatch": lambda batch_id: client.delete_batch(batchId=batch_id),
        "TagResource": lambda batch_id: client.tag_resource(resourceArn=BATCH_ARN_PREFIX + batch_id, tags={"x": "y"}),
        "UntagResource": lambda batch_id: client.untag_resource(resourceArn=BATCH_ARN_PREFIX + batch_id, tagKeys=["x"]),
    }
    for operation, call in denied.items():
        with pytest.raises(client.exceptions.AccessDeniedException) as excinfo:
            call(other)
        assert service_error(excinfo, "AccessDeniedException", 403) == (
            f"User: {omics_env.caller_arn} is not authorized to perform: omics:{operation} on resource: "
            f"{BATCH_ARN_PREFIX}{other} because no identity-based policy allows the omics:{operation} action"
        )
    assert other in omics_env.batches and omics_env.batches[other]["status"] == "CANCELLED"
    # Unguarded: listing tags (unless asked), ListRuns and ListBatch (resource "*").
    assert client.list_tags_for_resource(resourceArn=BATCH_ARN_PREFIX + other)["tags"]
    assert len(client.list_runs()["items"]) == 4
    assert len(client.list_batch()["items"]) == 2
    with pytest.raises(ValueError, match="unknown operation"):
        omics_env.enforce_stack_tag(STACK, operations={"ListRuns"})
    with pytest.raises(ValueError, match="unknown operation"):
        omics_env.enforce_stack_tag(STACK, operations={"ListBatch"})

    # StartRunBatch: aws:RequestTag on the request's (batch) tags.
    with pytest.raises(client.exceptions.AccessDeniedException) as excinfo:
        _start_batch(client, default=_default_setting(runTags={STACK_TAG_KEY: STACK}))
    assert f"omics:StartRunBatch on resource: {BATCH_ARN_PREFIX}*" in service_error(
        excinfo, "AccessDeniedException", 403
    )
    assert _start_batch(client, tags={STACK_TAG_KEY: STACK})["status"] == "CREATING"

    # DeleteRunBatch needs the tag on the batch's runs too: nothing is deleted.
    with pytest.raises(client.exceptions.AccessDeniedException) as excinfo:
        client.delete_run_batch(batchId=mine)
    run_arn = omics_env.batches[mine]["_entries"][0]["runArn"]
    assert f"omics:DeleteRunBatch on resource: {run_arn} " in service_error(excinfo, "AccessDeniedException", 403)
    assert omics_env.batches[mine]["status"] == "CANCELLED"
    for entry in omics_env.batches[mine]["_entries"]:
        omics_env.runs[entry["runId"]]["tags"][STACK_TAG_KEY] = STACK
    client.delete_run_batch(batchId=mine)
    assert client.get_batch(batchId=mine)["status"] == "RUNS_DELETING"
    client.tag_resource(resourceArn=BATCH_ARN_PREFIX + mine, tags={"x": "y"})
    client.untag_resource(resourceArn=BATCH_ARN_PREFIX + mine, tagKeys=["x"])
    assert client.get_batch(batchId=mine)["status"] == "RUNS_DELETED"
    client.delete_batch(batchId=mine)
    assert mine not in omics_env.batches


# ------------------------------------------------------- ListRuns, ListBatch


def test_list_runs_filters_by_batch_and_status(client: Any, omics_env: OmicsStandIn) -> None:
    loose = client.start_run(workflowId="1", roleArn=ROLE_ARN, outputUri=OUTPUT_URI, name="loose")["id"]
    batch_id, (first, second, third) = _submitted_batch(client, omics_env, "a", "b", "c")
    omics_env.set_status(second, "RUNNING")

    items = client.list_runs()["items"]
    assert [item["id"] for item in items] == [loose, first, second, third]  # creation order
    for item in items:
        assert set(item) <= RUN_LIST_ITEM_MEMBERS
    assert items[1]["batchId"] == batch_id and "batchId" not in items[0]
    assert items[0]["name"] == "loose" and isinstance(items[0]["creationTime"], datetime)
    assert [item["id"] for item in client.list_runs(batchId=batch_id)["items"]] == [first, second, third]
    assert [item["id"] for item in client.list_runs(status="RUNNING")["items"]] == [second]
    assert [item["id"] for item in client.list_runs(batchId=batch_id, status="PENDING")["items"]] == [first, third]
    assert client.list_runs(batchId="5999999")["items"] == []

    page = client.list_runs(maxResults=3)
    assert len(page["items"]) == 3
    rest = client.list_runs(maxResults=3, startingToken=page["nextToken"])
    assert [item["id"] for item in rest["items"]] == [third] and "nextToken" not in rest
    paginator = client.get_paginator("list_runs").paginate(PaginationConfig={"PageSize": 1})
    assert [item["id"] for page in paginator for item in page["items"]] == [loose, first, second, third]
    for bad in ({"status": "DONE"}, {"maxResults": 101}, {"startingToken": "garbage"}):
        with pytest.raises(client.exceptions.ValidationException):
            client.list_runs(**bad)


def test_list_batch_takes_one_filter(client: Any, omics_env: OmicsStandIn) -> None:
    first = _start_batch(client, batchName="one", default=_default_setting(runGroupId="77"))["id"]
    second, _ = _submitted_batch(client, omics_env, batchName="two")
    items = client.list_batch()["items"]
    assert [item["id"] for item in items] == [first, second]
    assert set(items[0]) <= BATCH_LIST_ITEM_MEMBERS
    assert (items[0]["name"], items[0]["status"], items[0]["totalRuns"], items[0]["workflowId"]) == (
        "one",
        "CREATING",
        2,
        "1234567",
    )
    assert isinstance(items[0]["createdAt"], datetime)
    assert [item["id"] for item in client.list_batch(status="INPROGRESS")["items"]] == [second]
    assert [item["id"] for item in client.list_batch(name="one")["items"]] == [first]
    assert [item["id"] for item in client.list_batch(runGroupId="77")["items"]] == [first]
    with pytest.raises(client.exceptions.ValidationException) as excinfo:
        client.list_batch(status="CREATING", name="one")
    assert "Only one filter per call is supported" in service_error(excinfo, "ValidationException", 400)
    page = client.list_batch(maxItems=1)
    assert [item["id"] for item in client.list_batch(startingToken=page["nextToken"])["items"]] == [second]


# ----------------------------------------------------------------- reset


def test_reset_forgets_batches(client: Any, omics_env: OmicsStandIn) -> None:
    batch_id, _ = _submitted_batch(client, omics_env, request_id="batch-reset")
    omics_env.batch_settle_reads = 5
    omics_env.hold_transitions = True
    omics_env.enforce_stack_tag(STACK)
    omics_env.reset()

    assert omics_env.batches == {} and omics_env.runs == {}
    assert (omics_env.batch_settle_reads, omics_env.hold_transitions) == (1, False)
    replayed = _start_batch(client, request_id="batch-reset")  # token forgotten, ids restart, no IAM
    assert replayed["id"] == batch_id == "5000001"
    assert omics_env.batches[batch_id]["status"] == "CREATING"


def test_creating_reads_moves_a_new_batch_to_pending_after_that_many_get_batch_calls(
    client: Any, omics_env: OmicsStandIn
) -> None:
    omics_env.creating_reads = 2
    batch_id = _start_batch(client)["id"]

    statuses = [client.get_batch(batchId=batch_id)["status"] for _ in range(3)]

    assert statuses == ["CREATING", "CREATING", "PENDING"]
    omics_env.reset()
    assert omics_env.creating_reads is None
