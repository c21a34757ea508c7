"""The private-workflow operations of the HealthOmics stand-in.

``OmicsStandIn`` serves them beside the run operations: it routes every path
under ``/workflow`` here (``route``) and calls ``WorkflowService.handle`` under
its own lock. Nothing here imports the run stand-in: the wire helpers (the
error type, the tag checks, paging) are handed in as its module, ``wire``,
so the two modules never import each other.

State rules, as the documents give them (FIDELITY.md, "Private workflows"):
- CreateWorkflow and CreateWorkflowVersion answer ``CREATING``; the workflow or
  version becomes ``ACTIVE`` after ``creating_reads`` Get calls (default 1),
  or ``FAILED`` with a ``statusMessage`` when its definition was marked with
  ``fail_definition`` (HealthOmics validates a definition while it creates it).
- Version names are unique per workflow; the workflow's own (default) version
  cannot be deleted, and a workflow with versions cannot be deleted.

A test reads ``workflows`` (ID -> record, with its versions under
``"versions"``) directly.
"""

from __future__ import annotations

import copy
import re
import uuid
from types import ModuleType
from typing import Any

__all__ = [
    "CREATE_WORKFLOW_VERSION_REQUIRED_MEMBERS",
    "DEFINITION_SOURCES",
    "GET_WORKFLOW_OUTPUT_MEMBERS",
    "GET_WORKFLOW_VERSION_OUTPUT_MEMBERS",
    "VERSION_NAME_LENGTH",
    "VERSION_NAME_PATTERN",
    "WORKFLOW_OPERATIONS",
    "WORKFLOW_STATUSES",
    "WORKFLOW_VERSION_LIST_ITEM_MEMBERS",
    "WorkflowService",
    "route",
]

WORKFLOW_OPERATIONS = frozenset(
    {
        "CreateWorkflow",
        "CreateWorkflowVersion",
        "GetWorkflow",
        "UpdateWorkflow",
        "GetWorkflowVersion",
        "ListWorkflowVersions",
        "DeleteWorkflowVersion",
        "DeleteWorkflow",
    }
)
# The WorkflowStatus enum of the model; the stand-in uses CREATING, ACTIVE and FAILED.
WORKFLOW_STATUSES = frozenset({"CREATING", "ACTIVE", "UPDATING", "DELETED", "FAILED", "INACTIVE"})
# "A request that includes more than one definition source fails" (User Guide, "Package and
# supply a HealthOmics workflow definition").
DEFINITION_SOURCES = ("definitionZip", "definitionUri", "definitionRepository")
CREATE_WORKFLOW_VERSION_REQUIRED_MEMBERS = ("workflowId", "versionName", "requestId")
# WorkflowVersionName: length 1-64, pattern [A-Za-z0-9][A-Za-z0-9\-\._]*.
VERSION_NAME_LENGTH = (1, 64)
VERSION_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9\-\._]*"
# The workflow name (WorkflowName): length 1-128.
WORKFLOW_NAME_LENGTH = (1, 128)

# Output shapes (GetWorkflowResponse, GetWorkflowVersionResponse, WorkflowVersionListItem),
# compared with the installed model by tests/test_support_workflow_stand_in.py.
GET_WORKFLOW_OUTPUT_MEMBERS = frozenset(
    {
        "arn",
        "id",
        "status",
        "type",
        "name",
        "description",
        "engine",
        "definition",
        "main",
        "digest",
        "parameterTemplate",
        "storageCapacity",
        "creationTime",
        "statusMessage",
        "tags",
        "metadata",
        "accelerators",
        "storageType",
        "uuid",
        "containerRegistryMap",
        "readme",
        "definitionRepositoryDetails",
        "readmePath",
        "profiles",
        "profileParameterTemplates",
    }
)
GET_WORKFLOW_VERSION_OUTPUT_MEMBERS = frozenset(
    {
        "arn",
        "workflowId",
        "versionName",
        "accelerators",
        "creationTime",
        "description",
        "definition",
        "digest",
        "engine",
        "main",
        "metadata",
        "parameterTemplate",
        "status",
        "statusMessage",
        "storageType",
        "storageCapacity",
        "type",
        "tags",
        "uuid",
        "workflowBucketOwnerId",
        "containerRegistryMap",
        "readme",
        "definitionRepositoryDetails",
        "readmePath",
        "profiles",
        "profileParameterTemplates",
    }
)
WORKFLOW_VERSION_LIST_ITEM_MEMBERS = frozenset(
    {"arn", "workflowId", "versionName", "description", "status", "type", "digest", "creationTime", "metadata"}
)
# Request members copied onto the record as the Get operations return them.
_DEFINITION_MEMBERS = (
    "engine",
    "main",
    "parameterTemplate",
    "storageCapacity",
    "storageType",
    "accelerators",
    "containerRegistryMap",
    "description",
)
_FIRST_WORKFLOW_ID = 7000001
# What UpdateWorkflow changes (its input shape besides the ID; the operation's documentation lists
# name, description, default storage type and capacity; the model adds readmeMarkdown).
UPDATABLE_MEMBERS = ("name", "description", "storageType", "storageCapacity", "readmeMarkdown")


def route(method: str, segments: list[str]) -> tuple[str | None, dict[str, str]]:
    """Routes the decoded path segments after ``/workflow`` (model: each operation's ``http`` trait)."""
    if not segments:
        return ({"POST": "CreateWorkflow"}.get(method), {})
    workflow_id = segments[0]
    if len(segments) == 1 and workflow_id:
        operation = {"GET": "GetWorkflow", "POST": "UpdateWorkflow", "DELETE": "DeleteWorkflow"}.get(method)
        return operation, {"id": workflow_id}
    if len(segments) == 2 and workflow_id and segments[1] == "version":
        operation = {"POST": "CreateWorkflowVersion", "GET": "ListWorkflowVersions"}.get(method)
        return operation, {"workflowId": workflow_id}
    if len(segments) == 3 and workflow_id and segments[1] == "version" and segments[2]:
        operation = {"GET": "GetWorkflowVersion", "DELETE": "DeleteWorkflowVersion"}.get(method)
        return operation, {"workflowId": workflow_id, "versionName": segments[2]}
    return None, {}


class WorkflowService:
    """Private workflows and their versions, in memory.

    ``host``: the ``OmicsStandIn`` (its ``region``, ``account`` and ``_authorize``);
    ``wire``: the run stand-in's module (``_ServiceError``, ``_check_tag_map``, ``_listing`` ...).
    """

    def __init__(self, host: Any, wire: ModuleType) -> None:
        self._host = host
        self._wire = wire
        self.workflows: dict[str, dict[str, Any]] = {}
        self.creating_reads = 1
        self._failing: dict[str, str] = {}
        self._request_ids: dict[str, tuple[str, str | None]] = {}
        self._next_number = _FIRST_WORKFLOW_ID

    # ----------------------------------------------------------- test helpers

    def fail_definition(self, definition_uri: str, status_message: str) -> None:
        """Workflows and versions created from ``definition_uri`` from now on end FAILED with ``status_message``."""
        self._failing[definition_uri] = status_message

    def reset(self) -> None:
        """Forget every workflow, token and marked definition; IDs restart; ``creating_reads`` back to 1."""
        self.workflows.clear()
        self._failing.clear()
        self._request_ids.clear()
        self._next_number = _FIRST_WORKFLOW_ID
        self.creating_reads = 1

    def handle(self, operation: str, params: dict, query: dict, body: dict) -> tuple[int, dict | None]:
        """Serves one workflow operation (called under the host's lock)."""
        handler = getattr(self, f"_op_{operation}")
        result: tuple[int, dict | None] = handler(params, query, body)
        return result

    # -------------------------------------------------------------- internals

    def _arn(self, workflow_id: str, version_name: str | None = None) -> str:
        arn = f"arn:aws:omics:{self._host.region}:{self._host.account}:workflow/{workflow_id}"
        return arn if version_name is None else f"{arn}/version/{version_name}"

    def _invalid(self, message: str) -> Exception:
        return self._wire._invalid(message)

    def _conflict(self, message: str) -> Exception:
        return self._wire._ServiceError("ConflictException", 409, message)

    def _check_definition(self, body: dict) -> None:
        sources = [name for name in DEFINITION_SOURCES if body.get(name) not in (None, "")]
        if len(sources) != 1:
            raise self._invalid(
                f"Specify exactly one definition source: definitionZip, definitionUri or definitionRepository "
                f"(got {' and '.join(sources) or 'none'})"
            )
        uri = body.get("definitionUri")
        if uri is not None and not str(uri).startswith("s3://"):
            raise self._invalid(f"definitionUri must be an S3 URI starting with s3:// (got {uri!r})")

    def _new_record(self, body: dict, arn: str) -> dict[str, Any]:
        record: dict[str, Any] = {m: copy.deepcopy(body[m]) for m in _DEFINITION_MEMBERS if m in body}
        record.update(
            arn=arn,
            status="CREATING",
            type="PRIVATE",
            uuid=str(uuid.uuid4()),
            creationTime=self._wire._now(),
            tags=dict(body.get("tags") or {}),
            _reads=0,
            _definition=body.get("definitionUri") or "",
        )
        return record

    def _settle(self, record: dict[str, Any]) -> None:
        """One Get read of a CREATING workflow or version: ACTIVE (or FAILED) once read often enough."""
        if record["status"] != "CREATING":
            return
        if record["_reads"] < self.creating_reads:
            record["_reads"] += 1
            return
        message = self._failing.get(record["_definition"])
        if message is None:
            record["status"] = "ACTIVE"
        else:
            record["status"], record["statusMessage"] = "FAILED", message

    def _find(self, workflow_id: Any, operation: str) -> dict[str, Any]:
        workflow = self.workflows.get(str(workflow_id))
        if workflow is None:
            raise self._wire._not_found(f"Workflow {workflow_id}")
        self._host._authorize(operation, workflow.get("tags") or {}, workflow["arn"])
        return workflow

    def _find_version(self, params: dict, operation: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The workflow and the version, authorized on the version's own tags (its resource type is
        ``workflow/${Id}/version/${VersionName}``, with ``aws:ResourceTag``)."""
        workflow = self.workflows.get(str(params["workflowId"]))
        version = None if workflow is None else workflow["versions"].get(params["versionName"])
        if workflow is None or version is None:
            raise self._wire._not_found(f"Workflow {params['workflowId']} version {params['versionName']}")
        self._host._authorize(operation, version.get("tags") or {}, version["arn"])
        return workflow, version

    @staticmethod
    def _shown(record: dict[str, Any], members: frozenset[str]) -> dict[str, Any]:
        return {k: copy.deepcopy(v) for k, v in record.items() if k in members}

    # ------------------------------------------------------------- operations

    def _op_CreateWorkflow(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        if body.get("requestId") in (None, ""):
            raise self._wire._missing("requestId")
        self._check_definition(body)
        name = body.get("name")
        if name is not None and not WORKFLOW_NAME_LENGTH[0] <= len(str(name)) <= WORKFLOW_NAME_LENGTH[1]:
            raise self._invalid(
                f"1 validation error detected: Value at 'name' failed to satisfy constraint: "
                f"Member must have length between {WORKFLOW_NAME_LENGTH[0]} and {WORKFLOW_NAME_LENGTH[1]}"
            )
        tags = self._wire._check_tag_map(body.get("tags", {}), "tags", resource="a workflow")
        self._host._authorize("CreateWorkflow", tags, self._arn("*"))
        replay = self._request_ids.get(body["requestId"])
        if replay is not None and replay[0] in self.workflows:
            workflow = self.workflows[replay[0]]
            return 201, self._shown(workflow, frozenset({"arn", "id", "status", "tags", "uuid"}))
        while str(self._next_number) in self.workflows:
            self._next_number += 1
        workflow_id = str(self._next_number)
        self._next_number += 1
        workflow = self._new_record(body, self._arn(workflow_id))
        workflow.update(id=workflow_id, versions={})
        if name is not None:
            workflow["name"] = name
        self.workflows[workflow_id] = workflow
        self._request_ids[body["requestId"]] = (workflow_id, None)
        return 201, self._shown(workflow, frozenset({"arn", "id", "status", "tags", "uuid"}))

    def _op_CreateWorkflowVersion(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        body = {**body, "workflowId": params["workflowId"]}
        for member in CREATE_WORKFLOW_VERSION_REQUIRED_MEMBERS:
            if body.get(member) in (None, ""):
                raise self._wire._missing(member)
        name = str(body["versionName"])
        low, high = VERSION_NAME_LENGTH
        if not low <= len(name) <= high or not re.fullmatch(VERSION_NAME_PATTERN, name):
            raise self._invalid(
                f"1 validation error detected: Value {name!r} at 'versionName' failed to satisfy constraint: "
                f"Member must have length between {low} and {high} and match pattern {VERSION_NAME_PATTERN}"
            )
        self._check_definition(body)
        tags = self._wire._check_tag_map(body.get("tags", {}), "tags", resource="a workflow version")
        workflow = self._find(params["workflowId"], "CreateWorkflowVersion")
        replay = self._request_ids.get(body["requestId"])
        if replay is not None and replay[1] in workflow["versions"]:
            return 201, self._version_response(workflow["versions"][replay[1]])
        if name in workflow["versions"]:
            raise self._conflict(f"Workflow {workflow['id']} already has a version named {name}")
        if workflow["status"] != "ACTIVE":
            raise self._conflict(f"Workflow {workflow['id']} is {workflow['status']}; versions need an ACTIVE workflow")
        version = self._new_record(body, self._arn(workflow["id"], name))
        version.update(workflowId=workflow["id"], versionName=name, tags=dict(tags))
        workflow["versions"][name] = version
        self._request_ids[body["requestId"]] = (workflow["id"], name)
        return 201, self._version_response(version)

    def _version_response(self, version: dict[str, Any]) -> dict[str, Any]:
        return self._shown(version, frozenset({"arn", "workflowId", "versionName", "status", "tags", "uuid"}))

    def _op_GetWorkflow(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        workflow = self._find(params["id"], "GetWorkflow")
        self._settle(workflow)
        return 200, self._shown(workflow, GET_WORKFLOW_OUTPUT_MEMBERS)

    def _op_UpdateWorkflow(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        workflow = self._find(params["id"], "UpdateWorkflow")
        name = body.get("name")
        if name is not None and not WORKFLOW_NAME_LENGTH[0] <= len(str(name)) <= WORKFLOW_NAME_LENGTH[1]:
            raise self._invalid(
                f"1 validation error detected: Value at 'name' failed to satisfy constraint: "
                f"Member must have length between {WORKFLOW_NAME_LENGTH[0]} and {WORKFLOW_NAME_LENGTH[1]}"
            )
        for member in UPDATABLE_MEMBERS:
            if body.get(member) is not None:
                workflow["readme" if member == "readmeMarkdown" else member] = copy.deepcopy(body[member])
        return 202, None

    def _op_GetWorkflowVersion(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        _, version = self._find_version(params, "GetWorkflowVersion")
        self._settle(version)
        return 200, self._shown(version, GET_WORKFLOW_VERSION_OUTPUT_MEMBERS)

    def _op_ListWorkflowVersions(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        workflow = self._find(params["workflowId"], "ListWorkflowVersions")
        size = self._wire._page_size(query, "maxResults")
        items = list(workflow["versions"].values())  # in creation order
        return 200, self._wire._listing(
            "items", items, query, "ListWorkflowVersions", workflow["id"], size, WORKFLOW_VERSION_LIST_ITEM_MEMBERS
        )

    def _op_DeleteWorkflowVersion(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        workflow, version = self._find_version(params, "DeleteWorkflowVersion")
        del workflow["versions"][version["versionName"]]
        return 202, None

    def _op_DeleteWorkflow(self, params: dict, query: dict, body: dict) -> tuple[int, None]:
        workflow = self._find(params["id"], "DeleteWorkflow")
        if workflow["versions"]:
            raise self._conflict(
                f"Workflow {workflow['id']} has {len(workflow['versions'])} versions; "
                "delete all the user-defined versions, then delete the workflow"
            )
        del self.workflows[workflow["id"]]
        return 202, None
