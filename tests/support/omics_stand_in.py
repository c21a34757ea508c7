"""A local HTTP stand-in for the AWS HealthOmics run API.

moto has no HealthOmics backend, so tests point boto3 at this server instead::

    stand_in = OmicsStandIn().start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", stand_in.endpoint_url)
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")

It speaks the REST-JSON wire protocol of botocore's ``omics`` service model
(paths, status codes, ``x-amzn-errortype`` error header, ISO-8601
timestamps), so the code under test runs its real boto3 calls and sees real
botocore exceptions (``client.exceptions.ResourceNotFoundException`` ...).

It also refuses what the service refuses (missing required members, bad
tags, workflowId and runId together ...) with the service's error shapes, and
can simulate run ID reuse after deletion (``reuse_deleted_ids``) and IAM
denials keyed on the ``cdk-omics-run:stack`` tag (``enforce_stack_tag``).
FIDELITY.md beside this file lists each behaviour, the document it follows,
and where the documents are silent and the stand-in chose.

Only the standard library is used, so the server has no moving parts of its
own: a ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread, with all state
behind one lock. Constants taken from botocore's model are hard-coded; the
self-tests compare them with the installed model.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import socket
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from support import omics_workflow_stand_in
from support.omics_run_tasks import TASK_OPERATIONS, RunTasks, route_run_task

__all__ = [
    "ACTIVE_STATUSES",
    "BATCH_CANCELLABLE_STATUSES",
    "BATCH_DELETABLE_STATUSES",
    "BATCH_LIST_ITEM_MEMBERS",
    "BATCH_OPERATIONS",
    "BATCH_RUNS_DELETABLE_STATUSES",
    "BATCH_STATUSES",
    "BATCH_TERMINAL_STATUSES",
    "DEFAULT_RUN_SETTING_REQUIRED_MEMBERS",
    "ERROR_STATUS",
    "GET_BATCH_OUTPUT_MEMBERS",
    "GET_RUN_OUTPUT_MEMBERS",
    "MAX_INLINE_SETTINGS",
    "MAX_TAGS_PER_RUN",
    "OPERATIONS",
    "RERUN_COPIED_MEMBERS",
    "RERUN_NOT_COPIED_MEMBERS",
    "RESERVED_TAG_PREFIX",
    "RUN_BATCH_LIST_ITEM_MEMBERS",
    "RUN_LIST_ITEM_MEMBERS",
    "RUN_SUMMARY_COUNTERS",
    "STACK_TAG_KEY",
    "STACK_TAG_OPERATIONS",
    "START_RUN_BATCH_REQUIRED_MEMBERS",
    "START_RUN_REQUEST_MEMBERS",
    "START_RUN_REQUIRED_MEMBERS",
    "SUBMISSION_SUMMARY_MEMBERS",
    "TAG_KEY_LENGTH",
    "TAG_VALUE_LENGTH",
    "TERMINAL_STATUSES",
    "OmicsStandIn",
    "RecordedRequest",
]

# The run batch operations (HealthOmics "batch runs").
BATCH_OPERATIONS = frozenset(
    {
        "StartRunBatch",
        "GetBatch",
        "ListRunsInBatch",
        "CancelRunBatch",
        "DeleteRunBatch",
        "DeleteBatch",
        "ListBatch",
    }
)
# Operations this stand-in implements; fail_next() rejects anything else so a
# typo in a test cannot silently inject a fault that never fires.
OPERATIONS = (
    frozenset(
        {
            "StartRun",
            "GetRun",
            "ListRuns",
            "CancelRun",
            "DeleteRun",
            "TagResource",
            "UntagResource",
            "ListTagsForResource",
        }
    )
    | BATCH_OPERATIONS
    | TASK_OPERATIONS
    | omics_workflow_stand_in.WORKFLOW_OPERATIONS
)

# Statuses in which the real service refuses DeleteRun (the run still holds
# compute) and in which CancelRun is meaningful.
ACTIVE_STATUSES = frozenset({"PENDING", "STARTING", "RUNNING", "STOPPING"})
# Statuses from which a run cannot be cancelled any more.
TERMINAL_STATUSES = frozenset({"COMPLETED", "DELETED", "CANCELLED", "FAILED"})
# Where a completed WDL or CWL run's output summary lands, relative to its runOutputUri (FIDELITY.md).
OUTPUT_SUMMARY_NAME = "logs/outputs.json"

# Members of the GetRun output shape (botocore omics 2022-11-28). Hard-coded to
# keep this module free of botocore; the self-test compares it with the model
# so a botocore upgrade that changes the shape is noticed.
GET_RUN_OUTPUT_MEMBERS = frozenset(
    {
        "arn",
        "id",
        "cacheId",
        "cacheBehavior",
        "engineVersion",
        "status",
        "workflowId",
        "workflowType",
        "runId",
        "roleArn",
        "name",
        "runGroupId",
        "batchId",
        "priority",
        "definition",
        "digest",
        "parameters",
        "storageCapacity",
        "outputUri",
        "logLevel",
        "resourceDigests",
        "startedBy",
        "creationTime",
        "startTime",
        "stopTime",
        "statusMessage",
        "tags",
        "accelerators",
        "retentionMode",
        "failureReason",
        "logLocation",
        "uuid",
        "runOutputUri",
        "storageType",
        "workflowOwnerId",
        "workflowVersionName",
        "workflowUuid",
        "networkingMode",
        "scratchStorageMode",
        "configuration",
        "vpcConfig",
        "engineSettings",
        "sessionPolicy",
        "outputUriPrefixMode",
        "requesterPaysEnabled",
        "parametersUri",
    }
)

# Members of the StartRun input shape (StartRunRequest, botocore omics
# 2022-11-28), compared with the model by the self-test like the set above.
START_RUN_REQUEST_MEMBERS = frozenset(
    {
        "workflowId",
        "workflowType",
        "runId",
        "roleArn",
        "name",
        "cacheId",
        "cacheBehavior",
        "runGroupId",
        "priority",
        "parameters",
        "storageCapacity",
        "outputUri",
        "logLevel",
        "tags",
        "requestId",
        "retentionMode",
        "storageType",
        "workflowOwnerId",
        "workflowVersionName",
        "networkingMode",
        "scratchStorageMode",
        "configurationName",
        "sessionPolicy",
        "engineSettings",
        "outputUriPrefixMode",
        "requesterPaysEnabled",
        "parametersUri",
    }
)
# StartRunRequest's "required" list in the model, exactly. It holds for
# duplicates too: with runId, roleArn and outputUri must still be sent.
START_RUN_REQUIRED_MEMBERS = ("roleArn", "outputUri", "requestId")

# StartRun with runId duplicates that run: members the request leaves out are
# copied from it. Not copied: what identifies the request or the new run, and
# tags (a new run gets only the tags the request sends).
RERUN_NOT_COPIED_MEMBERS = frozenset({"runId", "roleArn", "outputUri", "tags", "requestId"})
RERUN_COPIED_MEMBERS = (START_RUN_REQUEST_MEMBERS - RERUN_NOT_COPIED_MEMBERS) | {
    # GetRun-only members that describe the run's definition: the details of
    # configurationName, and the VPC settings that configuration carries.
    "configuration",
    "vpcConfig",
}
# Members that only travel together: a request that sets one of a group gets
# none of that group copied from the source run.
_RERUN_MEMBER_GROUPS = (
    frozenset({"parameters", "parametersUri"}),
    frozenset({"configurationName", "configuration", "vpcConfig"}),
)

# Tag limits. Keys and values: shapes TagKey (length 1-128) and TagValue
# (length 0-256) of the model. 50 tags per run: the documentation of
# StartRunRequest.tags, and max 50 of TagResourceRequestTagsMap / TagKeyList.
MAX_TAGS_PER_RUN = 50
TAG_KEY_LENGTH = (1, 128)
TAG_VALUE_LENGTH = (0, 256)
# AWS's general tagging rules reserve this prefix (any case) for AWS itself.
RESERVED_TAG_PREFIX = "aws:"

# enforce_stack_tag(): the tag an IAM condition on aws:ResourceTag/... and
# aws:RequestTag/... would test, and the operations it guards by default.
STACK_TAG_KEY = "cdk-omics-run:stack"
# enforce_stack_tag(adoption=True): runs that carry this tag but not STACK_TAG_KEY (started by a release
# before the stack tag) may be read, and tagged with the stack tag alone (the provider's adoption grant).
OWNER_TAG_KEY = "cdk-omics-run:owner"
STACK_TAG_OPERATIONS = frozenset(
    {
        "StartRun",
        "GetRun",
        "CancelRun",
        "DeleteRun",
        "TagResource",
        "UntagResource",
        "StartRunBatch",
        "GetBatch",
        "ListRunsInBatch",
        "CancelRunBatch",
        "DeleteRunBatch",
        "DeleteBatch",
    }
)
# Operations whose IAM resource is "*" (Service Authorization Reference: no
# resource type for ListRuns; assumed, not checked, for ListBatch), so no tag
# condition can guard them; enforce_stack_tag() refuses them.
_UNGUARDABLE_OPERATIONS = frozenset({"ListRuns", "ListBatch"})

# HTTP status of each error shape the run operations declare (the model's
# "error": {"httpStatusCode": ...}); fail_next() uses it when no status is given.
ERROR_STATUS = {
    "AccessDeniedException": 403,
    "ConflictException": 409,
    "InternalServerException": 500,
    "RequestTimeoutException": 408,
    "ResourceNotFoundException": 404,
    "ServiceQuotaExceededException": 402,
    "ThrottlingException": 429,
    "ValidationException": 400,
}

# The StartRun output members this stand-in fills in.
_START_RUN_RESPONSE_MEMBERS = ("arn", "id", "status", "tags", "uuid", "runOutputUri")
# Timestamp members; the model declares timestampFormat "iso8601" for them.
_TIMESTAMP_MEMBERS = ("creationTime", "startTime", "stopTime")
_FIRST_RUN_ID = 1000001

# ------------------------------------------------------------- run batches

# Members of the GetBatch output shape (GetBatchResponse), compared with the
# model by the self-test like GET_RUN_OUTPUT_MEMBERS.
GET_BATCH_OUTPUT_MEMBERS = frozenset(
    {
        "id",
        "arn",
        "uuid",
        "name",
        "status",
        "tags",
        "totalRuns",
        "defaultRunSetting",
        "submissionSummary",
        "runSummary",
        "creationTime",
        "submittedTime",
        "processedTime",
        "failedTime",
        "failureReason",
    }
)
# StartRunBatchRequest's and DefaultRunSetting's "required" lists, exactly.
START_RUN_BATCH_REQUIRED_MEMBERS = ("requestId", "defaultRunSetting", "batchRunSettings")
DEFAULT_RUN_SETTING_REQUIRED_MEMBERS = ("workflowId", "roleArn")
# BatchRunSettings.inlineSettings: list max 100 ("For batches with more than
# 100 runs, use s3UriSettings").
MAX_INLINE_SETTINGS = 100
# The BatchStatus enum, and the statuses each batch operation accepts (model
# documentation of CancelRunBatch, DeleteRunBatch and DeleteBatch).
BATCH_STATUSES = frozenset(
    {
        "CREATING",
        "PENDING",
        "SUBMITTING",
        "INPROGRESS",
        "STOPPING",
        "CANCELLED",
        "FAILED",
        "PROCESSED",
        "RUNS_DELETING",
        "RUNS_DELETE_FAILED",
        "RUNS_DELETED",
    }
)
BATCH_CANCELLABLE_STATUSES = frozenset({"PENDING", "SUBMITTING", "INPROGRESS"})
BATCH_RUNS_DELETABLE_STATUSES = frozenset({"PROCESSED", "CANCELLED"})
BATCH_TERMINAL_STATUSES = frozenset({"PROCESSED", "FAILED", "CANCELLED", "RUNS_DELETE_FAILED", "RUNS_DELETED"})
BATCH_DELETABLE_STATUSES = BATCH_TERMINAL_STATUSES
# Transitional statuses the stand-in settles on GetBatch reads, and where to.
_BATCH_SETTLES_TO = {"STOPPING": "CANCELLED", "RUNS_DELETING": "RUNS_DELETED"}
# SubmissionSummary members, and RunSummary's counter for each RunStatus.
SUBMISSION_SUMMARY_MEMBERS = (
    "successfulStartSubmissionCount",
    "failedStartSubmissionCount",
    "pendingStartSubmissionCount",
    "successfulCancelSubmissionCount",
    "failedCancelSubmissionCount",
    "successfulDeleteSubmissionCount",
    "failedDeleteSubmissionCount",
)
RUN_SUMMARY_COUNTERS = {
    "PENDING": "pendingRunCount",
    "STARTING": "startingRunCount",
    "RUNNING": "runningRunCount",
    "STOPPING": "stoppingRunCount",
    "COMPLETED": "completedRunCount",
    "DELETED": "deletedRunCount",
    "FAILED": "failedRunCount",
    "CANCELLED": "cancelledRunCount",
}
# List item shapes: RunBatchListItem (ListRunsInBatch), RunListItem
# (ListRuns), BatchListItem (ListBatch).
RUN_BATCH_LIST_ITEM_MEMBERS = frozenset(
    {
        "runSettingId",
        "runId",
        "runInternalUuid",
        "runArn",
        "submissionStatus",
        "submissionFailureReason",
        "submissionFailureMessage",
    }
)
RUN_LIST_ITEM_MEMBERS = frozenset(
    {
        "arn",
        "id",
        "status",
        "workflowId",
        "batchId",
        "name",
        "priority",
        "storageCapacity",
        "creationTime",
        "startTime",
        "stopTime",
        "storageType",
        "workflowVersionName",
        "workflowName",
    }
)
BATCH_LIST_ITEM_MEMBERS = frozenset({"id", "name", "status", "createdAt", "totalRuns", "workflowId"})
# ListRunsInBatch and ListBatch: "Only one filter per call is supported".
_LIST_RUNS_IN_BATCH_FILTERS = ("submissionStatus", "runSettingId", "runId")
_LIST_BATCH_FILTERS = ("status", "name", "runGroupId")
_SUBMISSION_STATUSES = frozenset(
    {"SUCCESS", "FAILED", "CANCEL_SUCCESS", "CANCEL_FAILED", "DELETE_SUCCESS", "DELETE_FAILED"}
)
_FIRST_BATCH_ID = 5000001


class RequestRateQuota:
    """A token bucket on a clock: ``tps`` tokens at most, refilled at ``tps`` per second."""

    def __init__(self, clock: Callable[[], float], tps: float) -> None:
        self._clock = clock
        self._tps = tps
        self._capacity = max(1.0, tps)
        self._tokens = self._capacity
        self._at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + max(0.0, now - self._at) * self._tps)
        self._at = max(self._at, now)
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as the stand-in received it.

    ``path`` is the raw (still percent-encoded) path without the query string,
    ``headers`` has lower-cased names, ``body`` is the parsed JSON object or
    None when the request had no (valid JSON object) body.
    """

    operation: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict | None


class _ServiceError(Exception):
    """An error response in the service's wire format."""

    def __init__(self, code: str, status: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message


@dataclass
class _Fault:
    """A pending injected error and how many more requests it applies to."""

    code: str
    status: int
    message: str
    remaining: int


def _access_key(headers: Mapping[str, str]) -> str:
    """The access key ID of a SigV4 ``Authorization`` header (``Credential=AKID/date/region/...``)."""
    credential = headers.get("authorization", "").partition("Credential=")[2]
    return credential.partition("/")[0]


def _iso8601(value: datetime) -> str:
    """Format a datetime the way the service sends timestamps (UTC, 'Z')."""
    if value.tzinfo is None:
        # Naive datetimes in tests mean UTC; never silently use local time.
        value = value.replace(tzinfo=timezone.utc)
    text = value.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _now() -> str:
    return _iso8601(datetime.now(timezone.utc))


def _not_found(what: str) -> _ServiceError:
    return _ServiceError("ResourceNotFoundException", 404, f"{what} not found")


def _invalid(message: str) -> _ServiceError:
    return _ServiceError("ValidationException", 400, message)


def _missing(member: str) -> _ServiceError:
    return _invalid(
        f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    )


def _check_tag_key(key: Any, where: str) -> None:
    """A tag key: a string of TagKey's length, not in the reserved namespace."""
    low, high = TAG_KEY_LENGTH
    if not isinstance(key, str) or not low <= len(key) <= high:
        raise _invalid(
            f"1 validation error detected: Value {key!r} at '{where}' failed to satisfy "
            f"constraint: Member must have length between {low} and {high}"
        )
    if key.lower().startswith(RESERVED_TAG_PREFIX):
        raise _invalid(
            f"Tag key {key!r} at '{where}' uses the reserved prefix "
            f"'{RESERVED_TAG_PREFIX}'; keys with this prefix are reserved for AWS use"
        )


def _check_tag_map(tags: Any, where: str, existing: dict | None = None, resource: str = "a run") -> dict:
    """Validate a tag map (and, with ``existing``, the resource's tags after merging it)."""
    if not isinstance(tags, dict):
        raise _invalid(f"1 validation error detected: Value at '{where}' must be a map")
    for key, value in tags.items():
        _check_tag_key(key, f"{where}.key")
        low, high = TAG_VALUE_LENGTH
        if not isinstance(value, str) or not low <= len(value) <= high:
            raise _invalid(
                f"1 validation error detected: Value at '{where}.{key}' failed to satisfy "
                f"constraint: Member must have length between {low} and {high}"
            )
    total = len(set(tags) | set(existing or {}))
    if total > MAX_TAGS_PER_RUN:
        raise _invalid(
            f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
            f"{resource} can have at most {MAX_TAGS_PER_RUN} tags (this request would leave {total})"
        )
    return tags


def _page_token(operation: str, scope: str, offset: int) -> str:
    """An opaque pagination token for the item at ``offset`` of a listing."""
    raw = json.dumps([operation, scope, offset], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _page_offset(token: str | None, operation: str, scope: str) -> int:
    """The offset a token from _page_token() stands for; 400 for anything else."""
    if token is None:
        return 0
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:  # bad base64, UTF-8 or JSON
        decoded = None
    if not (
        isinstance(decoded, list)
        and len(decoded) == 3
        and decoded[:2] == [operation, scope]
        and isinstance(decoded[2], int)
        and decoded[2] >= 0
    ):
        raise _invalid(f"Invalid startingToken {token!r} for {operation}")
    return decoded[2]


def _query_value(query: dict[str, list[str]], name: str) -> str | None:
    """The (last) value of a query parameter; an empty value counts as absent."""
    values = query.get(name)
    return values[-1] if values and values[-1] != "" else None


def _page_size(query: dict[str, list[str]], name: str, default: int = 100, high: int = 100) -> int:
    """A page-size query parameter (maxItems / maxResults): an integer 1..high."""
    text = _query_value(query, name)
    if text is None:
        return default
    try:
        size = int(text)
    except ValueError:
        size = 0
    if not 1 <= size <= high:
        raise _invalid(
            f"1 validation error detected: Value {text!r} at '{name}' failed to satisfy "
            f"constraint: Member must have value between 1 and {high}"
        )
    return size


def _paginate(
    items: list, query: dict[str, list[str]], operation: str, scope: str, size: int
) -> tuple[list, str | None]:
    """One page of ``items`` from the query's startingToken, and the next token (None at the end)."""
    offset = _page_offset(_query_value(query, "startingToken"), operation, scope)
    end = offset + size
    return items[offset:end], (_page_token(operation, scope, end) if end < len(items) else None)


def _listing(
    key: str,
    items: list[dict],
    query: dict[str, list[str]],
    operation: str,
    scope: str,
    size: int,
    members: frozenset[str] | None = None,
) -> dict[str, Any]:
    """A List* response: one page of ``items`` (copies, cut to ``members``) under ``key``, and its nextToken."""
    page, next_token = _paginate(items, query, operation, scope, size)
    response: dict[str, Any] = {
        key: [{k: copy.deepcopy(v) for k, v in item.items() if members is None or k in members} for item in page]
    }
    if next_token:
        response["nextToken"] = next_token
    return response


def _route(method: str, raw_path: str) -> tuple[str | None, dict[str, str]]:
    """Map method + raw path to (operation, decoded path parameters)."""
    # Split before unquoting: the ARN label arrives percent-encoded (its '/'
    # is %2F), so it must stay a single segment.
    segments = [unquote(s) for s in raw_path.split("/")[1:]]
    if (task_route := route_run_task(method, segments))[0]:
        return task_route
    if segments == ["run"]:
        operation = {"POST": "StartRun", "GET": "ListRuns"}.get(method)
        return operation, {}
    if segments and segments[0] == "runBatch":
        return _route_run_batch(method, segments[1:])
    if segments and segments[0] == "workflow":
        return omics_workflow_stand_in.route(method, segments[1:])
    if len(segments) == 2 and segments[0] == "run" and segments[1]:
        if method == "GET":
            return "GetRun", {"id": segments[1]}
        if method == "DELETE":
            return "DeleteRun", {"id": segments[1]}
    if len(segments) == 3 and segments[0] == "run" and segments[1] and segments[2] == "cancel" and method == "POST":
        return "CancelRun", {"id": segments[1]}
    if len(segments) == 2 and segments[0] == "tags" and segments[1]:
        operation = {
            "POST": "TagResource",
            "DELETE": "UntagResource",
            "GET": "ListTagsForResource",
        }.get(method)
        if operation:
            return operation, {"resourceArn": segments[1]}
    return None, {}


def _route_run_batch(method: str, rest: list[str]) -> tuple[str | None, dict[str, str]]:
    """Routes under /runBatch. The fixed paths /runBatch/cancel and
    /runBatch/delete are POST only; GET and DELETE /runBatch/{batchId} take
    any other segment as a batch ID."""
    if not rest:
        return {"POST": "StartRunBatch", "GET": "ListBatch"}.get(method), {}
    if len(rest) == 1 and rest[0] in ("cancel", "delete") and method == "POST":
        return ("CancelRunBatch" if rest[0] == "cancel" else "DeleteRunBatch"), {}
    if len(rest) == 1 and rest[0]:
        operation = {"GET": "GetBatch", "DELETE": "DeleteBatch"}.get(method)
        return operation, ({"batchId": rest[0]} if operation else {})
    if len(rest) == 2 and rest[0] and rest[1] == "run" and method == "GET":
        return "ListRunsInBatch", {"batchId": rest[0]}
    return None, {}


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its stand-in and its open connections."""

    daemon_threads = True

    def __init__(self, stand_in: OmicsStandIn) -> None:
        self.stand_in = stand_in
        # Keep-alive connections keep a handler thread reading; stop() shuts
        # these sockets down so no thread outlives the server.
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, lets the stand-in answer it, writes the response."""

    # Headers and body go out in separate writes: without this, each answer
    # waits for the client's delayed ACK (about 40 ms).
    disable_nagle_algorithm = True

    # HTTP/1.1 so botocore's connection pool can keep connections alive, as
    # it does against the real endpoint.
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.open_connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: request logs would only clutter test output."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length > 0 else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, body, extra_headers = self.server.stand_in._handle(self.command, self.path, headers, raw_body)
        payload = b"" if body is None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if status != 204:  # a 204 carries no body, so no entity headers
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and status != 204:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch


class OmicsStandIn(RunTasks):
    """In-memory HealthOmics run API served over HTTP on 127.0.0.1.

    State (``runs``, ``requests``) is plain data that tests may inspect; the
    server thread guards its own reads and writes with ``self._lock``.

    ``reuse_deleted_ids`` (constructor flag and attribute, default False):
    when True, the next run ID allocated is the most recently deleted one
    still free, as HealthOmics may do ("HealthOmics reuses deleted run IDs").
    ``caller_arn`` is the principal named in simulated IAM denials (see
    ``enforce_stack_tag``).

    Run batches live in ``batches`` (batch ID -> record). The service works
    through a batch asynchronously; here a test plays that part with
    ``submit_batch`` and ``set_batch_status``. ``batch_settle_reads``
    (default 1) is how many GetBatch calls still see a batch STOPPING (after
    CancelRunBatch) or RUNS_DELETING (after DeleteRunBatch) before it settles
    to CANCELLED / RUNS_DELETED; ``hold_transitions`` (default False) keeps
    them there for good. ``creating_reads`` (default None: never) is how many
    GetBatch calls see a new batch CREATING before it is PENDING, as the
    service moves it once its initial setup completes.
    """

    def __init__(
        self,
        account: str = "123456789012",
        region: str = "us-east-1",
        reuse_deleted_ids: bool = False,
    ) -> None:
        self.account = account
        self.region = region
        self.reuse_deleted_ids = reuse_deleted_ids
        self._reuse_deleted_ids_default = reuse_deleted_ids
        self.caller_arn = f"arn:aws:sts::{account}:assumed-role/omics-run-provider/stand-in"
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[RecordedRequest] = []
        self.runs: dict[str, dict] = {}
        self._faults: dict[str, list[_Fault]] = {}
        # requestId -> the original StartRun response, for idempotent replays.
        self._request_ids: dict[str, dict] = {}
        self._next_run_number = _FIRST_RUN_ID
        # IDs of deleted runs, oldest first (for reuse_deleted_ids).
        self._deleted_ids: list[str] = []
        # enforce_stack_tag(): the required tag value and the guarded operations.
        self._stack_id: str | None = None
        self._stack_operations: frozenset[str] = STACK_TAG_OPERATIONS
        self._adoption = True
        # enforce_stack_tag_by_caller(): access key ID -> the stack tag its policy requires.
        self._stack_id_by_access_key: dict[str, str] = {}
        self._caller_stack_id: str | None = None
        # enforce_quotas(): operation -> its request-rate bucket, and the throttled requests.
        self._quotas: dict[str, RequestRateQuota] = {}
        self.throttled: list[RecordedRequest] = []
        # Run batches: batch ID -> record (see _op_StartRunBatch for its keys).
        self.batches: dict[str, dict] = {}
        # requestId -> the original StartRunBatch response, for replays.
        self._batch_request_ids: dict[str, dict] = {}
        self._next_batch_number = _FIRST_BATCH_ID
        self.batch_settle_reads = 1
        self.hold_transitions = False
        self.creating_reads: int | None = None
        self._init_run_tasks()
        # Private workflows and their versions (omics_workflow_stand_in).
        self.workflow_service = omics_workflow_stand_in.WorkflowService(self, sys.modules[__name__])

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> OmicsStandIn:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("OmicsStandIn is already running")
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # short, so stop() returns quickly
            name=f"omics-stand-in-{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        with server.connections_lock:
            for conn in list(server.open_connections):
                with contextlib.suppress(OSError):  # already closed by the peer
                    conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> OmicsStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        if self._server is None:
            raise RuntimeError("OmicsStandIn is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def client_environment(self) -> dict[str, str]:
        """Environment variables that point boto3's omics client here."""
        return {
            "AWS_ENDPOINT_URL_OMICS": self.endpoint_url,
            # The run API's endpoint trait would prefix the host with
            # "workflows-"/"tags-", which cannot resolve for 127.0.0.1.
            "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        }

    # ------------------------------------------------------------ test helpers

    def requests_for(self, operation: str) -> list[RecordedRequest]:
        """Requests for one operation (e.g. "StartRun"), in arrival order."""
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    def start_run_bodies(self) -> list[dict]:
        """JSON bodies of all StartRun calls in order, including rejected ones."""
        return [r.body if r.body is not None else {} for r in self.requests_for("StartRun")]

    def set_status(self, run_id: str, status: str, failure_reason: str | None = None) -> None:
        """Move a run to ``status``, filling start/stop times as the service would."""
        with self._lock:
            run = self.runs.get(run_id)
            if run is None:
                raise KeyError(f"no run {run_id!r} in the stand-in (runs: {sorted(self.runs)})")
            run["status"] = status
            if failure_reason is not None:
                run["failureReason"] = failure_reason
            if status in {"RUNNING", "STOPPING", "COMPLETED"}:
                run.setdefault("startTime", _now())
            if status in TERMINAL_STATUSES:
                run.setdefault("stopTime", _now())

    def complete_with_outputs(
        self,
        run_id: str,
        s3: Any,
        outputs: dict[str, str | list[str]],
        *,
        engine: str = "WDL",
        workflow_name: str = "BWAMappingWorkflow",
        published: Iterable[str] = (),
        unwritten: Iterable[str] = (),
        summary_name: str = OUTPUT_SUMMARY_NAME,
    ) -> dict[str, Any]:
        """Completes a run as HealthOmics does: its files under ``<runOutputUri>/out/``, then its output summary.

        ``outputs``: output name -> path (or paths, for an array) under ``out/``. The summary
        (user guide, "HealthOmics run outputs") is written for WDL and CWL only: WDL's keys are
        ``WorkflowName.output_name`` and its values S3 URIs (arrays of them for ``Array[File]``);
        CWL's values are ``File`` objects with ``location``, ``basename``, ``class`` and ``size``.
        NEXTFLOW writes no summary; ``published`` paths (relative to runOutputUri, as a workflow's
        ``/mnt/workflow/pubdir`` exports them, "Task outputs") are written for any engine.
        ``unwritten``: output names listed in the summary whose files are not there (a faulty run).
        Returns the summary written ({} for Nextflow).
        """
        with self._lock:
            run = self.runs[run_id]
            base = run["runOutputUri"].rstrip("/")
        bucket, _, prefix = base[len("s3://") :].partition("/")
        skipped = set(unwritten)

        def written(path: str) -> str:
            uri = f"{base}/out/{path}"
            if all(name not in skipped for name in names_of.get(path, ())):
                s3.put_object(Bucket=bucket, Key=f"{prefix}/out/{path}", Body=b"data of " + path.encode())
            return uri

        names_of: dict[str, list[str]] = {}
        for name, paths in outputs.items():
            for path in paths if isinstance(paths, list) else [paths]:
                names_of.setdefault(path, []).append(name)
        summary: dict[str, Any] = {}
        for name, paths in outputs.items():
            uris = [written(path) for path in (paths if isinstance(paths, list) else [paths])]
            if engine == "CWL":
                files = [
                    {"location": uri, "basename": uri.rsplit("/", 1)[-1], "class": "File", "size": 8} for uri in uris
                ]
                summary[name] = files if isinstance(paths, list) else files[0]
            else:
                summary[f"{workflow_name}.{name}"] = uris if isinstance(paths, list) else uris[0]
        for path in published:
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{path}", Body=b"published")
        if engine != "NEXTFLOW":
            s3.put_object(Bucket=bucket, Key=f"{prefix}/{summary_name}", Body=json.dumps(summary).encode())
        else:
            summary = {}
        self.set_status(run_id, "COMPLETED")
        return summary

    def add_run(self, **fields: Any) -> dict:
        """Seed a run directly and return its (live) record.

        Any GetRun/StartRun members may be given; ``id``, ``arn``, ``uuid``,
        ``status`` ("PENDING"), ``tags`` and ``creationTime`` get defaults, and
        datetime values for timestamp members are converted to ISO-8601.
        A ``requestId`` makes a later StartRun with that id replay this run.
        Seeded records are not validated (tags included): tests may seed
        what the service would refuse. Without ``id``, the id is allocated
        as StartRun's is (so ``reuse_deleted_ids`` applies).
        """
        with self._lock:
            record = copy.deepcopy(fields)
            for member in _TIMESTAMP_MEMBERS:
                if isinstance(record.get(member), datetime):
                    record[member] = _iso8601(record[member])
            run_id = str(record.get("id") or self._allocate_run_id())
            if run_id in self.runs:
                raise ValueError(f"run {run_id!r} already exists in the stand-in")
            record["id"] = run_id
            record.setdefault("arn", self._run_arn(run_id))
            record.setdefault("uuid", str(uuid.uuid4()))
            record.setdefault("status", "PENDING")
            record.setdefault("tags", {})
            record.setdefault("creationTime", _now())
            if "outputUri" in record:
                record.setdefault("runOutputUri", self._run_output_uri(record["outputUri"], run_id))
            self.runs[run_id] = record
            if record.get("requestId"):
                self._request_ids[record["requestId"]] = self._start_run_response(record)
            return record

    def set_batch_status(self, batch_id: str, status: str, failure_reason: str | None = None) -> None:
        """Move a batch to ``status`` (one of ``BATCH_STATUSES``), as the service would.

        ``failure_reason`` becomes ``failureReason``; FAILED sets ``failedTime``
        and PROCESSED ``processedTime``. STOPPING and RUNS_DELETING settle on
        GetBatch reads like the ones CancelRunBatch / DeleteRunBatch cause.
        """
        if status not in BATCH_STATUSES:
            raise ValueError(f"unknown batch status {status!r}; expected one of {sorted(BATCH_STATUSES)}")
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                raise KeyError(f"no batch {batch_id!r} in the stand-in (batches: {sorted(self.batches)})")
            self._move_batch(batch, status)
            if failure_reason is not None:
                batch["failureReason"] = failure_reason
            if status == "FAILED":
                batch.setdefault("failedTime", _now())
            if status == "PROCESSED":
                batch.setdefault("processedTime", _now())

    def submit_batch(
        self,
        batch_id: str,
        settings: Iterable[dict] | None = None,
        failed_setting_ids: Iterable[str] = (),
    ) -> list[str]:
        """Play the service's asynchronous submission of a batch's runs.

        Each per-run setting (the request's ``inlineSettings``, or for an
        ``s3UriSettings`` batch the ``settings`` the test passes, which also
        set ``totalRuns``) becomes a PENDING run in ``runs`` with ``batchId``
        set: the defaultRunSetting's members, overridden by the setting's,
        except that ``parameters`` and ``runTags`` merge (the setting's keys
        win); the merged runTags are the run's ``tags``. Settings whose
        runSettingId is in ``failed_setting_ids`` get no run and a FAILED
        submission entry. The batch's submissionSummary and submittedTime are
        filled in and it becomes INPROGRESS. Returns the new run IDs in order.
        """
        failed = set(failed_setting_ids)
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                raise KeyError(f"no batch {batch_id!r} in the stand-in (batches: {sorted(self.batches)})")
            if batch["status"] not in {"CREATING", "PENDING", "SUBMITTING"}:
                raise ValueError(f"batch {batch_id} is {batch['status']}; only a new batch can be submitted")
            inline = batch["batchRunSettings"].get("inlineSettings")
            if inline is not None:
                if settings is not None:
                    raise ValueError(f"batch {batch_id} has inlineSettings; settings are for s3UriSettings batches")
                run_settings = copy.deepcopy(inline)
            else:
                if settings is None:
                    raise ValueError(f"batch {batch_id} has s3UriSettings; pass the settings its file would hold")
                run_settings = copy.deepcopy(list(settings))
                ids = [setting.get("runSettingId") if isinstance(setting, dict) else None for setting in run_settings]
                if None in ids or "" in ids or len(set(ids)) != len(ids):
                    raise ValueError("every setting needs a runSettingId, unique within the batch")
                batch["totalRuns"] = len(run_settings)
            unknown = failed - {setting["runSettingId"] for setting in run_settings}
            if unknown:
                raise ValueError(f"failed_setting_ids {sorted(unknown)} are not run settings of batch {batch_id}")
            summary = batch["submissionSummary"]
            created: list[str] = []
            for setting in run_settings:
                setting_id = setting["runSettingId"]
                if setting_id in failed:
                    batch["_entries"].append(
                        {
                            "runSettingId": setting_id,
                            "submissionStatus": "FAILED",
                            "submissionFailureReason": "ValidationException",
                            "submissionFailureMessage": f"Run setting {setting_id} failed validation (set by submit_batch)",
                        }
                    )
                    summary["failedStartSubmissionCount"] += 1
                    continue
                run = self._batch_run(batch, setting)
                self.runs[run["id"]] = run
                created.append(run["id"])
                batch["_entries"].append(
                    {
                        "runSettingId": setting_id,
                        "runId": run["id"],
                        "runArn": run["arn"],
                        "runInternalUuid": run["uuid"],
                        "submissionStatus": "SUCCESS",
                    }
                )
                summary["successfulStartSubmissionCount"] += 1
            batch["submittedTime"] = _now()
            self._move_batch(batch, "INPROGRESS")
            return created

    def fail_next(
        self,
        operation: str,
        error_code: str,
        status: int | None = None,
        message: str = "",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``operation`` with an error.

        ``operation`` is any of ``OPERATIONS``. ``status`` defaults to the
        model's status for a modeled error code (``ERROR_STATUS``); other
        codes need it. Faults for the same operation queue up in the order
        they were added, and fire before any validation or authorization.
        Failed calls are still recorded in ``requests``.
        """
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; expected one of {sorted(OPERATIONS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        if status is None:
            if error_code not in ERROR_STATUS:
                raise ValueError(f"{error_code!r} is not an error the omics model declares; give its status")
            status = ERROR_STATUS[error_code]
        fault = _Fault(
            code=error_code,
            status=status,
            message=message or f"Injected {error_code} for {operation}",
            remaining=times,
        )
        with self._lock:
            self._faults.setdefault(operation, []).append(fault)

    def reset_requests(self) -> None:
        """Forget the recorded requests only, so a test can assert on what follows."""
        with self._lock:
            self.requests.clear()

    def enforce_stack_tag(
        self, stack_id: str | None, operations: Iterable[str] = STACK_TAG_OPERATIONS, *, adoption: bool = True
    ) -> None:
        """Simulate an IAM policy conditioned on the ``cdk-omics-run:stack`` tag.

        With a ``stack_id``, the guarded ``operations`` answer 403
        AccessDeniedException (IAM's message for an action no identity-based
        policy allows): GetRun, CancelRun, DeleteRun, TagResource and
        UntagResource when the run's tags lack ``STACK_TAG_KEY`` == stack_id
        (``aws:ResourceTag/...``), StartRun when the request's tags lack it
        (``aws:RequestTag/...``). Likewise for batches: GetBatch,
        ListRunsInBatch, CancelRunBatch, DeleteRunBatch, DeleteBatch and the
        tag operations on the batch's tags, StartRunBatch on the request's
        (batch) ``tags``; DeleteRunBatch also needs the tag on every run of
        the batch it would delete. ListTagsForResource is guarded only if
        listed. ListRuns and ListBatch cannot be guarded (their IAM resource
        is "*"). ``None`` (the default, and after reset()) turns it off.

        ``adoption`` (default True, as the provider's policy has it): a run
        with ``OWNER_TAG_KEY`` but no ``STACK_TAG_KEY`` (``Null`` conditions
        on ``aws:ResourceTag``) may still be read (GetRun) and tagged
        (TagResource) when the request's tags are exactly ``STACK_TAG_KEY`` ==
        stack_id (``aws:RequestTag``, ``aws:TagKeys``). False simulates a
        policy without that grant.
        """
        guarded = frozenset(operations)
        unknown = guarded - (OPERATIONS - _UNGUARDABLE_OPERATIONS)
        if unknown:
            raise ValueError(
                f"unknown operation(s) {sorted(unknown)} (or one whose IAM resource is '*', "
                f"which no tag condition can guard); expected some of {sorted(OPERATIONS - _UNGUARDABLE_OPERATIONS)}"
            )
        with self._lock:
            self._stack_id = stack_id
            self._stack_operations = guarded
            self._adoption = adoption

    def enforce_stack_tag_by_caller(self, stack_id_by_access_key: Mapping[str, str]) -> None:
        """``enforce_stack_tag`` for several providers at once, each known by its access key ID.

        A request signed with an access key in the map is judged against that
        key's stack ID (each stack's provider role has its own policy); other
        requests against ``enforce_stack_tag``'s, if any. The guarded
        operations are those ``enforce_stack_tag`` set (all of them by default).
        """
        with self._lock:
            self._stack_id_by_access_key = dict(stack_id_by_access_key)

    def enforce_quotas(self, clock: Callable[[], float], tps_by_operation: Mapping[str, float]) -> None:
        """Throttle each listed operation past its documented rate, on ``clock`` (seconds).

        Each operation gets a bucket of ``tps`` tokens, refilled at ``tps`` per
        second of ``clock``: a burst of one second's quota, then the quota.
        A request that finds the bucket empty answers 429 ThrottlingException
        (the API reference's common error for "the request was denied due to
        request throttling") and is recorded in ``throttled``. The user
        guide's "HealthOmics API quotas" gives the rates (FIDELITY.md).
        """
        with self._lock:
            self._quotas = {op: RequestRateQuota(clock, tps) for op, tps in tps_by_operation.items()}
            self.throttled = []

    def reset(self) -> None:
        """Forget runs, batches, requests, faults, idempotency tokens, deleted
        ids and the stack-tag enforcement; ids restart, ``reuse_deleted_ids``
        returns to its constructor value, ``batch_settle_reads`` to 1,
        ``hold_transitions`` to False and ``creating_reads`` to None."""
        with self._lock:
            self.requests.clear()
            self.runs.clear()
            self.batches.clear()
            self._stack_id_by_access_key.clear()
            self._quotas.clear()
            self.throttled = []
            self._batch_request_ids.clear()
            self._next_batch_number = _FIRST_BATCH_ID
            self.batch_settle_reads = 1
            self.hold_transitions = False
            self.creating_reads = None
            self._faults.clear()
            self._request_ids.clear()
            self._next_run_number = _FIRST_RUN_ID
            self._deleted_ids.clear()
            self.reuse_deleted_ids = self._reuse_deleted_ids_default
            self._stack_id = None
            self._stack_operations = STACK_TAG_OPERATIONS
            self._adoption = True
            self._init_run_tasks()
            self.workflow_service.reset()

    # --------------------------------------------------------------- internals

    def _run_arn(self, run_id: str) -> str:
        return f"arn:aws:omics:{self.region}:{self.account}:run/{run_id}"

    @staticmethod
    def _run_output_uri(output_uri: str, run_id: str) -> str:
        return output_uri.rstrip("/") + "/" + run_id

    def _allocate_run_id(self) -> str:
        if self.reuse_deleted_ids:
            # Most recently deleted first; skip one add_run(id=...) took again.
            while self._deleted_ids:
                run_id = self._deleted_ids.pop()
                if run_id not in self.runs:
                    return run_id
        # Skip ids taken by add_run(id=...) so seeded and started runs never clash.
        while str(self._next_run_number) in self.runs:
            self._next_run_number += 1
        run_id = str(self._next_run_number)
        self._next_run_number += 1
        return run_id

    @staticmethod
    def _start_run_response(run: dict) -> dict:
        return {m: copy.deepcopy(run[m]) for m in _START_RUN_RESPONSE_MEMBERS if m in run}

    def _take_fault(self, operation: str) -> _ServiceError | None:
        queue = self._faults.get(operation)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return _ServiceError(fault.code, fault.status, fault.message)

    def _find_run(self, run_id: str, operation: str) -> dict:
        run = self.runs.get(run_id)
        if run is None:
            raise _not_found(f"Run {run_id}")
        self._authorize(operation, run.get("tags") or {}, run.get("arn", self._run_arn(run_id)))
        return run

    def _find_tagged_resource(self, arn: str, operation: str, request_tags: Any = None) -> tuple[dict, str]:
        """The run or batch with this ARN, authorized; and "a run" / "a batch"."""
        for run in self.runs.values():
            if run.get("arn") == arn:
                self._authorize(operation, run.get("tags") or {}, arn, request_tags)
                return run, "a run"
        for batch in self.batches.values():
            if batch["arn"] == arn:
                self._authorize(operation, batch.get("tags") or {}, arn)
                return batch, "a batch"
        raise _not_found(f"Resource {arn}")

    # ---------------------------------------------------------- batch internals

    def _batch_arn(self, batch_id: str) -> str:
        return f"arn:aws:omics:{self.region}:{self.account}:runBatch/{batch_id}"

    def _allocate_batch_id(self) -> str:
        # A counter of its own (never reused), far from the run IDs.
        while str(self._next_batch_number) in self.batches:
            self._next_batch_number += 1
        batch_id = str(self._next_batch_number)
        self._next_batch_number += 1
        return batch_id

    def _move_batch(self, batch: dict, status: str, settles_to: str | None = None) -> None:
        """Set a batch's status; a transitional one settles after batch_settle_reads GetBatch calls."""
        batch["status"] = status
        if status in _BATCH_SETTLES_TO:
            batch["_settles_to"] = settles_to or _BATCH_SETTLES_TO[status]
            batch["_reads_left"] = self.batch_settle_reads
        else:
            batch.pop("_settles_to", None)
            batch.pop("_reads_left", None)

    def _batch_run(self, batch: dict, setting: dict) -> dict:
        """The run record one per-run setting of a batch becomes (DefaultRunSetting's merge rules)."""
        default = copy.deepcopy(batch["defaultRunSetting"])
        record = {k: v for k, v in default.items() if k not in ("runTags", "parameters")}
        record.update({k: v for k, v in setting.items() if k not in ("runSettingId", "runTags", "parameters")})
        default_parameters, parameters = default.get("parameters"), setting.get("parameters")
        if isinstance(default_parameters, dict) and isinstance(parameters, dict):
            record["parameters"] = {**default_parameters, **parameters}
        elif parameters is not None:
            record["parameters"] = parameters
        elif default_parameters is not None:
            record["parameters"] = default_parameters
        run_id = self._allocate_run_id()
        record.update(
            id=run_id,
            arn=self._run_arn(run_id),
            uuid=str(uuid.uuid4()),
            status="PENDING",
            batchId=batch["id"],
            tags={**(default.get("runTags") or {}), **(setting.get("runTags") or {})},
            creationTime=_now(),
        )
        if record.get("outputUri"):
            record["runOutputUri"] = self._run_output_uri(record["outputUri"], run_id)
        return record

    def _entry_run(self, entry: dict) -> dict | None:
        """The live run of a batch entry; None when it was never created or is deleted
        (a reused run ID with another uuid is another run)."""
        run = self.runs.get(entry.get("runId") or "")
        if run is None or run.get("uuid") != entry.get("runInternalUuid"):
            return None
        return run

    def _refresh_batch(self, batch: dict) -> None:
        """Recount runSummary from the runs, and finish an INPROGRESS batch whose runs all ended."""
        counts = dict.fromkeys(RUN_SUMMARY_COUNTERS.values(), 0)
        statuses = []
        for entry in batch["_entries"]:
            if not entry.get("runId"):
                continue  # submission failed: there is no run
            run = self._entry_run(entry)
            status = "DELETED" if run is None else run.get("status", "PENDING")
            statuses.append(status)
            if status in RUN_SUMMARY_COUNTERS:
                counts[RUN_SUMMARY_COUNTERS[status]] += 1
        batch["runSummary"] = counts
        if (
            batch["status"] == "INPROGRESS"
            and "submittedTime" in batch
            and all(status in TERMINAL_STATUSES for status in statuses)
        ):
            batch["status"] = "PROCESSED"
            batch.setdefault("processedTime", _now())

    def _settle_on_read(self, batch: dict) -> None:
        """One GetBatch read of a STOPPING / RUNS_DELETING batch. Reads while
        ``hold_transitions`` is on still count, so the first read after it is
        turned off settles a batch that was read often enough."""
        if batch["status"] == "CREATING" and self.creating_reads is not None:
            batch["_creating_reads"] = batch.get("_creating_reads", 0) + 1
            if batch["_creating_reads"] > self.creating_reads:
                self._move_batch(batch, "PENDING")
            return
        if batch["status"] not in _BATCH_SETTLES_TO:
            return
        if batch.get("_reads_left", 0) > 0:
            batch["_reads_left"] -= 1
            return
        if self.hold_transitions:
            return
        self._move_batch(batch, batch.get("_settles_to") or _BATCH_SETTLES_TO[batch["status"]])

    def _find_batch(self, batch_id: Any, operation: str) -> dict:
        """The batch, or 404; authorized for ``operation`` and refreshed."""
        if batch_id in (None, ""):
            raise _missing("batchId")
        batch = self.batches.get(str(batch_id))
        if batch is None:
            raise _not_found(f"Batch {batch_id}")
        self._authorize(operation, batch.get("tags") or {}, batch["arn"])
        self._refresh_batch(batch)
        return batch

    @staticmethod
    def _batch_conflict(batch: dict, action: str, allowed: frozenset[str]) -> _ServiceError:
        return _ServiceError(
            "ConflictException",
            409,
            f"Batch {batch['id']} cannot be {action} in status {batch['status']}; "
            f"allowed only in {', '.join(sorted(allowed))} (one cancel or delete operation per batch at a time)",
        )

    @staticmethod
    def _start_run_batch_response(batch: dict) -> dict:
        return {m: copy.deepcopy(batch[m]) for m in ("id", "arn", "status", "uuid", "tags") if m in batch}

    def _authorize(self, operation: str, tags: dict, resource_arn: str, request_tags: Any = None) -> None:
        """Deny like IAM when enforce_stack_tag() is on and the tag does not match.

        ``request_tags``: TagResource's ``tags``, for the adoption grant's request conditions.
        """
        stack_id = self._caller_stack_id
        if stack_id is None or operation not in self._stack_operations:
            return
        if tags.get(STACK_TAG_KEY) == stack_id:
            return
        unadopted = OWNER_TAG_KEY in tags and STACK_TAG_KEY not in tags and ":run/" in resource_arn
        adopting = operation == "GetRun" or (operation == "TagResource" and request_tags == {STACK_TAG_KEY: stack_id})
        if self._adoption and unadopted and adopting:
            return
        action = f"omics:{operation}"
        raise _ServiceError(
            "AccessDeniedException",
            403,
            f"User: {self.caller_arn} is not authorized to perform: {action} on resource: "
            f"{resource_arn} because no identity-based policy allows the {action} action",
        )

    def _handle(
        self, method: str, target: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, dict | None, dict[str, str]]:
        """Record one request and produce (status, JSON body, extra headers)."""
        split = urlsplit(target)
        operation, params = _route(method, split.path)
        query = parse_qs(split.query, keep_blank_values=True)
        body: dict | None = None
        body_error = ""
        if raw_body:
            try:
                parsed = json.loads(raw_body)
            except ValueError as exc:
                body_error = f"Request body is not valid JSON: {exc}"
            else:
                if isinstance(parsed, dict):
                    body = parsed
                else:
                    body_error = "Request body must be a JSON object"
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    operation=operation or "Unknown",
                    method=method,
                    path=split.path,
                    query=query,
                    headers=headers,
                    # A private copy, so later changes to a run record can
                    # never rewrite what the test sees as "sent".
                    body=copy.deepcopy(body),
                )
            )
            try:
                if operation is None:
                    raise _ServiceError(
                        "UnknownOperationException",
                        404,
                        f"The HealthOmics stand-in has no route for {method} {split.path}",
                    )
                self._caller_stack_id = self._stack_id_by_access_key.get(_access_key(headers), self._stack_id)
                quota = self._quotas.get(operation)
                if quota is not None and not quota.take():
                    self.throttled.append(self.requests[-1])
                    raise _ServiceError("ThrottlingException", 429, "Rate exceeded")
                fault = self._take_fault(operation)
                if fault is not None:
                    raise fault
                if body_error:
                    raise _ServiceError("ValidationException", 400, body_error)
                if operation in omics_workflow_stand_in.WORKFLOW_OPERATIONS:
                    status, response = self.workflow_service.handle(operation, params, query, body or {})
                else:
                    status, response = getattr(self, f"_op_{operation}")(params, query, body or {})
                return status, response, {}
            except _ServiceError as exc:
                return exc.status, {"message": exc.message}, {"x-amzn-errortype": exc.code}
            except Exception as exc:  # noqa: BLE001 - a bug in the stand-in itself must still answer
                # Show the traceback (pytest captures it) and answer like the
                # service would, rather than dropping the connection.
                traceback.print_exc(file=sys.stderr)
                return (
                    500,
                    {"message": f"OmicsStandIn internal error: {exc!r}"},
                    {"x-amzn-errortype": "InternalServerException"},
                )

    # Operation handlers run under self._lock and return (status, body).

    def _op_StartRun(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        # 1. What the model itself constrains: required members, tag shapes.
        for member in START_RUN_REQUIRED_MEMBERS:
            if body.get(member) in (None, ""):
                raise _missing(member)
        tags = _check_tag_map(body.get("tags", {}), "tags")
        # 2. Member combinations the reference documents or the stand-in refuses.
        source_id = body.get("runId")
        if source_id in (None, ""):
            if body.get("workflowId") in (None, ""):
                raise _invalid("Specify either workflowId (to start a run) or runId (to duplicate one)")
            source_id = None
        else:
            if body.get("workflowId") not in (None, ""):
                raise _invalid("Specify either workflowId or runId, not both")
            if body.get("workflowOwnerId") not in (None, ""):
                raise _invalid(
                    "workflowOwnerId cannot be used with runId; the duplicate uses the "
                    "workflow of the run it duplicates"
                )
        if body.get("parameters") is not None and body.get("parametersUri") not in (None, ""):
            raise _invalid("Specify either parameters or parametersUri, not both")
        # 3. IAM (aws:RequestTag) decides before the service acts on the request.
        self._authorize("StartRun", tags, f"arn:aws:omics:{self.region}:{self.account}:run/*")
        # 4. Idempotent replay: same run, nothing new created.
        request_id = body["requestId"]
        if request_id in self._request_ids:
            for run in self.runs.values():
                if run.get("requestId") == request_id:
                    return 201, self._start_run_response(run)
            return 201, copy.deepcopy(self._request_ids[request_id])
        record = copy.deepcopy(body)
        # 5. Duplicating a run: copy what the request leaves out.
        if source_id is not None:
            source = self.runs.get(source_id)
            if source is None:
                raise _not_found(f"Run {source_id}")
            source_type = source.get("workflowType") or "PRIVATE"
            requested_type = body.get("workflowType") or "PRIVATE"
            if requested_type != source_type:
                # workflowType is not taken from the source run: without it
                # the service looks for a PRIVATE workflow with the source's
                # workflowId (aws-healthomics-tools issue #39 / PR #41).
                raise _not_found(f"Workflow {source.get('workflowId', '')}".rstrip())
            skipped = set(body)
            for group in _RERUN_MEMBER_GROUPS:
                if group & set(body):
                    skipped |= group
            for member in sorted(RERUN_COPIED_MEMBERS - skipped):
                if member in source:
                    record[member] = copy.deepcopy(source[member])
            record["runId"] = source_id
        run_id = self._allocate_run_id()
        record.update(
            id=run_id,
            arn=self._run_arn(run_id),
            uuid=str(uuid.uuid4()),
            status="PENDING",
            tags=dict(tags),
            runOutputUri=self._run_output_uri(body["outputUri"], run_id),
            creationTime=_now(),
        )
        self.runs[run_id] = record
        response = self._start_run_response(record)
        self._request_ids[request_id] = copy.deepcopy(response)
        return 201, response

    def _op_GetRun(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        run = self._find_run(params["id"], "GetRun")
        return 200, {k: copy.deepcopy(v) for k, v in run.items() if k in GET_RUN_OUTPUT_MEMBERS}

    def _op_CancelRun(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        run = self._find_run(params["id"], "CancelRun")
        if run.get("status") in TERMINAL_STATUSES:
            raise _ServiceError(
                "ConflictException",
                409,
                f"Run {params['id']} cannot be cancelled in status {run['status']}",
            )
        run["status"] = "CANCELLED"
        run.setdefault("stopTime", _now())
        return 202, None

    def _op_DeleteRun(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        run = self._find_run(params["id"], "DeleteRun")
        if run.get("status") in ACTIVE_STATUSES:
            raise _ServiceError(
                "ConflictException",
                409,
                f"Run {params['id']} cannot be deleted in status {run['status']}",
            )
        del self.runs[params["id"]]
        self._deleted_ids.append(params["id"])
        return 202, None

    def _op_TagResource(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        run, resource = self._find_tagged_resource(params["resourceArn"], "TagResource", body.get("tags"))
        tags = body.get("tags")
        if tags is None:
            raise _missing("tags")
        existing = run.setdefault("tags", {})
        existing.update(_check_tag_map(tags, "tags", existing=existing, resource=resource))
        return 204, None

    def _op_UntagResource(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        run, _ = self._find_tagged_resource(params["resourceArn"], "UntagResource")
        keys = query.get("tagKeys")
        if not keys:
            raise _missing("tagKeys")
        if len(keys) > MAX_TAGS_PER_RUN:
            raise _invalid(
                "1 validation error detected: Value at 'tagKeys' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MAX_TAGS_PER_RUN}"
            )
        for key in keys:
            _check_tag_key(key, "tagKeys.member")
        for key in keys:
            run.setdefault("tags", {}).pop(key, None)
        return 204, None

    def _op_ListTagsForResource(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        run, _ = self._find_tagged_resource(params["resourceArn"], "ListTagsForResource")
        return 200, {"tags": dict(run.get("tags", {}))}

    def _op_ListRuns(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        # No authorization: ListRuns' IAM resource is "*".
        filters = {name: _query_value(query, name) for name in ("name", "runGroupId", "batchId", "status")}
        if filters["status"] is not None and filters["status"] not in RUN_SUMMARY_COUNTERS:
            raise _invalid(
                f"1 validation error detected: Value {filters['status']!r} at 'status' failed to satisfy "
                f"constraint: Member must satisfy enum value set: {sorted(RUN_SUMMARY_COUNTERS)}"
            )
        given = {name: value for name, value in filters.items() if value is not None}
        size = _page_size(query, "maxResults")
        matching = [run for run in self.runs.values() if all(run.get(k) == v for k, v in given.items())]
        return 200, _listing("items", matching, query, "ListRuns", "", size, RUN_LIST_ITEM_MEMBERS)

    # Run batches. The service does the work of a batch asynchronously; tests
    # play that part with submit_batch() and set_batch_status().

    def _op_StartRunBatch(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        # 1. What the model constrains: required members, the union, tags.
        for member in START_RUN_BATCH_REQUIRED_MEMBERS:
            if body.get(member) in (None, ""):
                raise _missing(member)
        default, settings = body["defaultRunSetting"], body["batchRunSettings"]
        for member, value in (("defaultRunSetting", default), ("batchRunSettings", settings)):
            if not isinstance(value, dict):
                raise _invalid(f"1 validation error detected: Value at '{member}' must be a structure")
        for member in DEFAULT_RUN_SETTING_REQUIRED_MEMBERS:
            if default.get(member) in (None, ""):
                raise _missing(f"defaultRunSetting.{member}")
        tags = _check_tag_map(body.get("tags", {}), "tags", resource="a batch")
        default_run_tags = _check_tag_map(default.get("runTags", {}), "defaultRunSetting.runTags")
        chosen = [member for member in ("inlineSettings", "s3UriSettings") if settings.get(member) is not None]
        if len(chosen) != 1:
            raise _invalid(
                "batchRunSettings must specify exactly one of inlineSettings or s3UriSettings "
                f"(got {' and '.join(chosen) or 'neither'})"
            )
        inline = settings.get("inlineSettings")
        if inline is not None:
            self._check_inline_settings(inline, default_run_tags)
        elif not isinstance(settings["s3UriSettings"], str) or not settings["s3UriSettings"].startswith("s3://"):
            raise _invalid(
                f"batchRunSettings.s3UriSettings must be an S3 URI starting with s3:// (got {settings['s3UriSettings']!r})"
            )
        # 2. What the documentation adds.
        if default.get("workflowType") == "READY2RUN":
            raise _invalid("Batch runs are not supported with READY2RUN workflows (defaultRunSetting.workflowType)")
        # 3. IAM (aws:RequestTag on the batch's tags) before the service acts.
        self._authorize("StartRunBatch", tags, self._batch_arn("*"))
        # 4. Idempotent replay: the same batch, nothing new created.
        request_id = body["requestId"]
        if request_id in self._batch_request_ids:
            for earlier in self.batches.values():
                if earlier.get("requestId") == request_id:
                    return 201, self._start_run_batch_response(earlier)
            return 201, copy.deepcopy(self._batch_request_ids[request_id])
        batch_id = self._allocate_batch_id()
        batch: dict[str, Any] = {
            "id": batch_id,
            "arn": self._batch_arn(batch_id),
            "uuid": str(uuid.uuid4()),
            "status": "CREATING",
            "tags": dict(tags),
            "defaultRunSetting": copy.deepcopy(default),
            "batchRunSettings": copy.deepcopy(settings),
            "requestId": request_id,
            "creationTime": _now(),
            "submissionSummary": dict.fromkeys(SUBMISSION_SUMMARY_MEMBERS, 0),
            "runSummary": dict.fromkeys(RUN_SUMMARY_COUNTERS.values(), 0),
            # One entry per per-run setting once submitted (ListRunsInBatch).
            "_entries": [],
        }
        if body.get("batchName") not in (None, ""):
            batch["name"] = body["batchName"]
        if inline is not None:
            batch["totalRuns"] = len(inline)
        self.batches[batch_id] = batch
        response = self._start_run_batch_response(batch)
        self._batch_request_ids[request_id] = copy.deepcopy(response)
        return 201, response

    @staticmethod
    def _check_inline_settings(inline: Any, default_run_tags: dict) -> None:
        where = "batchRunSettings.inlineSettings"
        if not isinstance(inline, list) or not inline:
            raise _invalid(f"1 validation error detected: Value at '{where}' must be a list of at least 1 entry")
        if len(inline) > MAX_INLINE_SETTINGS:
            raise _invalid(
                f"1 validation error detected: Value at '{where}' failed to satisfy constraint: Member must have "
                f"length less than or equal to {MAX_INLINE_SETTINGS}; for batches with more than "
                f"{MAX_INLINE_SETTINGS} runs, use s3UriSettings"
            )
        seen: set[str] = set()
        for index, setting in enumerate(inline, start=1):
            if not isinstance(setting, dict):
                raise _invalid(f"1 validation error detected: Value at '{where}.{index}' must be a structure")
            setting_id = setting.get("runSettingId")
            if setting_id in (None, ""):
                raise _missing(f"{where}.{index}.runSettingId")
            if setting_id in seen:
                raise _invalid(
                    f"Duplicate runSettingId {setting_id!r} in {where}: each runSettingId must be unique within the batch"
                )
            seen.add(setting_id)
            if setting.get("runTags") is not None:
                _check_tag_map(setting["runTags"], f"{where}.{index}.runTags", existing=default_run_tags)

    def _op_GetBatch(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        batch = self._find_batch(params["batchId"], "GetBatch")
        self._settle_on_read(batch)
        return 200, {k: copy.deepcopy(v) for k, v in batch.items() if k in GET_BATCH_OUTPUT_MEMBERS}

    def _op_ListRunsInBatch(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        batch = self._find_batch(params["batchId"], "ListRunsInBatch")
        given = {name: value for name in _LIST_RUNS_IN_BATCH_FILTERS if (value := _query_value(query, name))}
        if len(given) > 1:
            raise _invalid(f"Only one filter per call is supported (got {', '.join(given)})")
        status = given.get("submissionStatus")
        if status is not None and status not in _SUBMISSION_STATUSES:
            raise _invalid(
                f"1 validation error detected: Value {status!r} at 'submissionStatus' failed to satisfy "
                f"constraint: Member must satisfy enum value set: {sorted(_SUBMISSION_STATUSES)}"
            )
        size = _page_size(query, "maxItems")
        matching = [entry for entry in batch["_entries"] if all(entry.get(k) == v for k, v in given.items())]
        return 200, _listing("runs", matching, query, "ListRunsInBatch", batch["id"], size, RUN_BATCH_LIST_ITEM_MEMBERS)

    def _op_CancelRunBatch(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        batch = self._find_batch(body.get("batchId"), "CancelRunBatch")
        if batch["status"] not in BATCH_CANCELLABLE_STATUSES:
            raise self._batch_conflict(batch, "cancelled", BATCH_CANCELLABLE_STATUSES)
        summary = batch["submissionSummary"]
        for entry in batch["_entries"]:
            run = self._entry_run(entry)
            if run is None or run.get("status") not in ACTIVE_STATUSES:
                continue
            run["status"] = "CANCELLED"
            run.setdefault("stopTime", _now())
            entry["submissionStatus"] = "CANCEL_SUCCESS"
            summary["successfulCancelSubmissionCount"] += 1
        self._move_batch(batch, "STOPPING")
        self._refresh_batch(batch)
        return 202, None

    def _op_DeleteRunBatch(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        batch = self._find_batch(body.get("batchId"), "DeleteRunBatch")
        live = [(entry, run) for entry in batch["_entries"] if (run := self._entry_run(entry)) is not None]
        # DeleteRunBatch authorizes on the runs too (resource types run* and runBatch*).
        for _, run in live:
            self._authorize("DeleteRunBatch", run.get("tags") or {}, run["arn"])
        if batch["status"] not in BATCH_RUNS_DELETABLE_STATUSES:
            raise self._batch_conflict(batch, "have its runs deleted", BATCH_RUNS_DELETABLE_STATUSES)
        summary = batch["submissionSummary"]
        failures = 0
        for entry, run in live:
            if run.get("status") in ACTIVE_STATUSES:  # as DeleteRun refuses
                entry["submissionStatus"] = "DELETE_FAILED"
                summary["failedDeleteSubmissionCount"] += 1
                failures += 1
                continue
            del self.runs[run["id"]]
            self._deleted_ids.append(run["id"])
            entry["submissionStatus"] = "DELETE_SUCCESS"
            summary["successfulDeleteSubmissionCount"] += 1
        self._move_batch(batch, "RUNS_DELETING", settles_to="RUNS_DELETE_FAILED" if failures else "RUNS_DELETED")
        self._refresh_batch(batch)
        return 202, None

    def _op_DeleteBatch(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        batch = self._find_batch(params["batchId"], "DeleteBatch")
        if batch["status"] not in BATCH_DELETABLE_STATUSES:
            raise self._batch_conflict(batch, "deleted", BATCH_DELETABLE_STATUSES)
        del self.batches[batch["id"]]  # the runs stay (DeleteRunBatch deletes them)
        return 202, None

    def _op_ListBatch(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        # No authorization: ListBatch's IAM resource is "*".
        given = {name: value for name in _LIST_BATCH_FILTERS if (value := _query_value(query, name))}
        if len(given) > 1:
            raise _invalid(f"Only one filter per call is supported (got {', '.join(given)})")
        size = _page_size(query, "maxItems")
        items = []
        for batch in self.batches.values():
            self._refresh_batch(batch)
            default = batch["defaultRunSetting"]
            values = {"status": batch["status"], "name": batch.get("name"), "runGroupId": default.get("runGroupId")}
            if any(values[k] != v for k, v in given.items()):
                continue
            item = {"id": batch["id"], "status": batch["status"], "createdAt": batch["creationTime"]}
            item.update({k: batch[k] for k in ("name", "totalRuns") if k in batch})
            item["workflowId"] = default["workflowId"]
            items.append(item)
        return 200, _listing("items", items, query, "ListBatch", "", size)
