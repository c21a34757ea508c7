"""Run tasks for the HealthOmics stand-in: ListRunTasks and GetRunTask, and the helpers tests seed tasks with.

``OmicsStandIn`` mixes this class in; a test adds tasks to a run and moves them along::

    task = omics.add_task(run_id, "BwaMem", instance_type="omics.c.large")
    omics.set_task_status(run_id, task["taskId"], "RUNNING")
    omics.set_task_status(run_id, task["taskId"], "FAILED", status_message="exit code 137")

Routes, members and limits follow botocore's ``omics`` model (FIDELITY.md, "Run tasks").
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "GET_RUN_TASK_OUTPUT_MEMBERS",
    "TASK_LIST_ITEM_MEMBERS",
    "TASK_OPERATIONS",
    "TASK_STATUSES",
    "RunTasks",
    "route_run_task",
]

TASK_OPERATIONS = frozenset({"ListRunTasks", "GetRunTask"})
# The model's TaskStatus enum, and the statuses after which a task changes no more.
TASK_STATUSES = frozenset({"PENDING", "STARTING", "RUNNING", "STOPPING", "COMPLETED", "CANCELLED", "FAILED"})
_TASK_TERMINAL_STATUSES = frozenset({"COMPLETED", "CANCELLED", "FAILED"})
# TaskListItem (ListRunTasks) and GetRunTaskResponse members, compared with the model by the self-test.
TASK_LIST_ITEM_MEMBERS = frozenset(
    {
        "taskId",
        "status",
        "name",
        "cpus",
        "cacheHit",
        "cacheS3Uri",
        "memory",
        "creationTime",
        "startTime",
        "stopTime",
        "gpus",
        "instanceType",
        "uuid",
    }
)
GET_RUN_TASK_OUTPUT_MEMBERS = TASK_LIST_ITEM_MEMBERS | {"statusMessage", "logStream", "failureReason", "imageDetails"}
# Task IDs: the model's TaskId pattern is [0-9]+; the stand-in counts from here, far from run IDs.
_FIRST_TASK_ID = 7000001


def route_run_task(method: str, segments: list[str]) -> tuple[str | None, dict[str, str]]:
    """``GET /run/{id}/task`` (ListRunTasks) and ``GET /run/{id}/task/{taskId}`` (GetRunTask); else no route."""
    if method != "GET" or len(segments) not in (3, 4) or segments[0] != "run" or segments[2] != "task":
        return None, {}
    if not segments[1]:
        return None, {}
    if len(segments) == 3:
        return "ListRunTasks", {"id": segments[1]}
    if segments[3]:
        return "GetRunTask", {"id": segments[1], "taskId": segments[3]}
    return None, {}


def _timestamp(value: datetime | None = None) -> str:
    """A task timestamp the way the stand-in sends every timestamp (ISO-8601, UTC, milliseconds, 'Z')."""
    moment = (value or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RunTasks:
    """The task half of the stand-in; its host (``OmicsStandIn``) provides ``runs``, ``_lock`` and ``_find_run``.

    ``run_tasks``: run ID -> that run's task records, in creation order (the order ListRunTasks lists).
    """

    run_tasks: dict[str, list[dict[str, Any]]]
    runs: dict[str, dict]
    _lock: Any

    def _init_run_tasks(self) -> None:
        self.run_tasks = {}
        self._next_task_number = _FIRST_TASK_ID

    # ------------------------------------------------------------ test helpers

    def add_task(
        self,
        run_id: str,
        name: str,
        status: str = "PENDING",
        *,
        cpus: int = 2,
        memory: int = 4,
        gpus: int = 0,
        instance_type: str = "omics.c.large",
        creation_time: datetime | None = None,
        start_time: datetime | None = None,
        stop_time: datetime | None = None,
        status_message: str | None = None,
        failure_reason: str | None = None,
    ) -> dict[str, Any]:
        """Adds a task to a run (as its engine would start one) and returns its live record.

        Times default to now, as ``set_task_status`` fills them; ``logStream`` is
        ``run/<run id>/task/<task id>`` (FIDELITY.md).
        """
        if status not in TASK_STATUSES:
            raise ValueError(f"unknown task status {status!r}; expected one of {sorted(TASK_STATUSES)}")
        with self._lock:
            if run_id not in self.runs:
                raise KeyError(f"no run {run_id!r} in the stand-in (runs: {sorted(self.runs)})")
            task_id = str(self._next_task_number)
            self._next_task_number += 1
            task: dict[str, Any] = {
                "taskId": task_id,
                "name": name,
                "status": "PENDING",
                "cpus": cpus,
                "memory": memory,
                "gpus": gpus,
                "instanceType": instance_type,
                "cacheHit": False,
                "creationTime": _timestamp(creation_time),
                "logStream": f"run/{run_id}/task/{task_id}",
                "uuid": str(uuid.uuid4()),
            }
            if start_time is not None:
                task["startTime"] = _timestamp(start_time)
            if stop_time is not None:
                task["stopTime"] = _timestamp(stop_time)
            self.run_tasks.setdefault(run_id, []).append(task)
            self.set_task_status(run_id, task_id, status, status_message, failure_reason)
            return task

    def set_task_status(
        self,
        run_id: str,
        task_id: str,
        status: str,
        status_message: str | None = None,
        failure_reason: str | None = None,
    ) -> None:
        """Moves a task to ``status``: ``startTime`` once it runs, ``stopTime`` once it ends (unless already set)."""
        if status not in TASK_STATUSES:
            raise ValueError(f"unknown task status {status!r}; expected one of {sorted(TASK_STATUSES)}")
        with self._lock:
            task = next((t for t in self.run_tasks.get(run_id, []) if t["taskId"] == task_id), None)
            if task is None:
                raise KeyError(f"no task {task_id!r} in run {run_id!r}")
            task["status"] = status
            if status_message is not None:
                task["statusMessage"] = status_message
            if failure_reason is not None:
                task["failureReason"] = failure_reason
            if status in {"RUNNING", "STOPPING", "COMPLETED"} or (status == "FAILED" and "startTime" in task):
                task.setdefault("startTime", _timestamp())
            if status in _TASK_TERMINAL_STATUSES:
                task.setdefault("stopTime", _timestamp())

    def write_manifest(self, run_id: str, logs: Any, *, storage_average_gib: float | None = None) -> str:
        """Writes the run's manifest to CloudWatch Logs (moto's, through ``logs``) as HealthOmics does once a run ends.

        The stream is ``manifest/run/<id>/<uuid>`` in ``/aws/omics/WorkflowLog``: one JSON record for the
        run (with ``metrics.storageAverageGiB`` when given), then one per task (FIDELITY.md). Returns the stream.
        """
        with self._lock:
            run = copy.deepcopy(self.runs[run_id])
            tasks = copy.deepcopy(self.run_tasks.get(run_id, []))
        group, stream = "/aws/omics/WorkflowLog", f"manifest/run/{run_id}/{run['uuid']}"
        if group not in {g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]}:
            logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        run_record = {k: run[k] for k in ("arn", "uuid", "status", "storageType", "startTime", "stopTime") if k in run}
        if storage_average_gib is not None:
            run_record["metrics"] = {"storageAverageGiB": storage_average_gib}
        arn_prefix = run["arn"].rsplit(":", 1)[0]
        records = [run_record] + [{**task, "arn": f"{arn_prefix}:task/{task['taskId']}"} for task in tasks]
        now = int(datetime.now(timezone.utc).timestamp() * 1000)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now, "message": json.dumps(record)} for record in records],
        )
        return stream

    # -------------------------------------------------------------- operations

    def _op_ListRunTasks(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        # Imported here: omics_stand_in imports this module to build its class.
        from support.omics_stand_in import _invalid, _listing, _page_size, _query_value

        run = self._find_run(params["id"], "ListRunTasks")
        status = _query_value(query, "status")
        if status is not None and status not in TASK_STATUSES:
            raise _invalid(
                f"1 validation error detected: Value {status!r} at 'status' failed to satisfy "
                f"constraint: Member must satisfy enum value set: {sorted(TASK_STATUSES)}"
            )
        size = _page_size(query, "maxResults")
        tasks = [t for t in self.run_tasks.get(run["id"], []) if status is None or t["status"] == status]
        # The scope names the filter too, so that a token of one listing is refused by another.
        scope = f"{run['id']}:{status or ''}"
        return 200, _listing("items", tasks, query, "ListRunTasks", scope, size, TASK_LIST_ITEM_MEMBERS)

    def _op_GetRunTask(self, params: dict, query: dict, body: dict) -> tuple[int, dict]:
        from support.omics_stand_in import _not_found

        run = self._find_run(params["id"], "GetRunTask")
        task = next((t for t in self.run_tasks.get(run["id"], []) if t["taskId"] == params["taskId"]), None)
        if task is None:
            raise _not_found(f"Task {params['taskId']} of run {run['id']}")
        return 200, {k: copy.deepcopy(v) for k, v in task.items() if k in GET_RUN_TASK_OUTPUT_MEMBERS}
