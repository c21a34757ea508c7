"""Where a run or a batch is: GetRun and ListRunTasks for a run, GetBatch (and ListRunsInBatch) for a batch.

A run's tasks are read through a ``TaskCursor``: ListRunTasks pages, and each read starts again
at the first page that still held an unfinished task (or at the last page), so that a run of
thousands of tasks costs a page or two per interval. The total number of tasks is not known
until the run ends: the engine starts tasks as the workflow unfolds.

Example::

    cursor = TaskCursor()
    run = read_run(omics, "1234567", cursor)
    print(run.status, run.tasks.done, "of", run.tasks.seen, "seen")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from cdk_omics_run.status.errors import StatusError, error_code, explain

# HealthOmics' log group for runs (user guide, "Monitoring HealthOmics with CloudWatch Logs").
WORKFLOW_LOG_GROUP = "/aws/omics/WorkflowLog"
# Run and task statuses after which nothing changes (RunStatus and TaskStatus enums of the omics model;
# STOPPING exports outputs and is not an end).
RUN_TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "DELETED"})
TASK_TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
# A batch's statuses after which its runs change no more (BatchStatus of the model).
BATCH_TERMINAL_STATUSES = frozenset({"PROCESSED", "FAILED", "CANCELLED", "RUNS_DELETED", "RUNS_DELETE_FAILED"})
# runSummary counters of runs that ended (RunSummary of the model).
FINISHED_RUN_COUNTERS = ("completedRunCount", "failedRunCount", "cancelledRunCount", "deletedRunCount")
# ListRunTasks answers at most 100 tasks a page (ListRunTasksRequestMaxResultsInteger).
TASK_PAGE_SIZE = 100
# How many failed tasks a failed run shows in detail (one GetRunTask each).
FAILED_TASKS_SHOWN = 10


@dataclass
class TaskCursor:
    """What the previous reads saw of a run's tasks, and where the next read starts.

    ``tasks``: task ID -> its latest TaskListItem. ``resume_token``: the starting token of the first
    page that still held an unfinished task (None: the first page). ``calls``: ListRunTasks calls made.
    """

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    resume_token: str | None = None
    calls: int = 0


@dataclass(frozen=True)
class TaskCounts:
    """Tasks seen so far: done (COMPLETED), running (STARTING, RUNNING, STOPPING), failed, and all seen."""

    done: int
    running: int
    failed: int
    seen: int

    @classmethod
    def of(cls, tasks: list[dict[str, Any]]) -> TaskCounts:
        statuses = [task.get("status") for task in tasks]
        return cls(
            done=statuses.count("COMPLETED"),
            running=sum(status in {"STARTING", "RUNNING", "STOPPING"} for status in statuses),
            failed=statuses.count("FAILED"),
            seen=len(statuses),
        )


@dataclass(frozen=True)
class FailedTask:
    """A failed task, from GetRunTask: its status message and log stream."""

    task_id: str
    name: str
    status_message: str
    log_stream: str


@dataclass(frozen=True)
class RunProgress:
    """One run, as GetRun and ListRunTasks show it."""

    run_id: str
    status: str
    name: str | None
    created: datetime | None
    started: datetime | None
    stopped: datetime | None
    tasks: TaskCounts
    task_items: tuple[dict[str, Any], ...]
    failure_reason: str | None
    status_message: str | None
    failed_tasks: tuple[FailedTask, ...]
    run_log_stream: str
    details: dict[str, Any]

    @property
    def finished(self) -> bool:
        return self.status in RUN_TERMINAL_STATUSES


@dataclass(frozen=True)
class BatchProgress:
    """One batch, as GetBatch shows it; ``runs`` only when asked for (ListRunsInBatch)."""

    batch_id: str
    status: str
    name: str | None
    created: datetime | None
    stopped: datetime | None
    total_runs: int | None
    run_summary: dict[str, int]
    failure_reason: str | None
    runs: tuple[dict[str, Any], ...] | None

    @property
    def finished_runs(self) -> int:
        return sum(self.run_summary.get(counter, 0) for counter in FINISHED_RUN_COUNTERS)

    @property
    def finished(self) -> bool:
        return self.status in BATCH_TERMINAL_STATUSES


def read_run(omics: Any, run_id: str, cursor: TaskCursor, *, label: str) -> RunProgress:
    """GetRun, then the tasks from the cursor on; a run that ended is read from its first task once more."""
    run = _call(omics.get_run, "omics:GetRun", f"run {run_id} ({label})", id=run_id)
    if run["status"] in RUN_TERMINAL_STATUSES:
        cursor.resume_token = None
    _read_tasks(omics, run_id, cursor, label)
    items = tuple(cursor.tasks.values())
    failed: tuple[FailedTask, ...] = ()
    if run["status"] == "FAILED":
        failed = tuple(_failed_task(omics, run_id, task, label) for task in _failed(items)[:FAILED_TASKS_SHOWN])
    return RunProgress(
        run_id=run_id,
        status=run["status"],
        name=run.get("name"),
        created=run.get("creationTime"),
        started=run.get("startTime"),
        stopped=run.get("stopTime"),
        tasks=TaskCounts.of(list(items)),
        task_items=items,
        failure_reason=run.get("failureReason"),
        status_message=run.get("statusMessage"),
        failed_tasks=failed,
        # GetRun's logLocation names the streams; the user guide's name when it is absent.
        run_log_stream=(run.get("logLocation") or {}).get("runLogStream") or f"run/{run_id}",
        details=run,
    )


def read_batch(omics: Any, batch_id: str, *, label: str, with_runs: bool) -> BatchProgress:
    """GetBatch, and with ``with_runs`` every page of ListRunsInBatch."""
    batch = _call(omics.get_batch, "omics:GetBatch", f"batch {batch_id} ({label})", batchId=batch_id)
    runs: tuple[dict[str, Any], ...] | None = None
    if with_runs:
        request = {"batchId": batch_id, "maxItems": 100}
        where = f"batch {batch_id} ({label})"
        runs = tuple(_every_item(omics.list_runs_in_batch, "omics:ListRunsInBatch", where, "runs", request))
    return BatchProgress(
        batch_id=batch_id,
        status=batch["status"],
        name=batch.get("name"),
        created=batch.get("creationTime"),
        stopped=batch.get("processedTime") or batch.get("failedTime"),
        total_runs=batch.get("totalRuns"),
        run_summary=dict(batch.get("runSummary") or {}),
        failure_reason=batch.get("failureReason"),
        runs=runs,
    )


def batch_run_items(omics: Any, batch_id: str, *, label: str) -> list[dict[str, Any]]:
    """Every run of a batch as ListRuns lists it (``batchId`` filter, 100 a page): status and times, one call a page."""
    request = {"batchId": batch_id, "maxResults": 100}
    return _every_item(omics.list_runs, "omics:ListRuns", f"batch {batch_id} ({label})", "items", request)


def _every_item(
    operation: Any, permission: str, where: str, items_key: str, request: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every item of a paged list operation, one call a page (``startingToken`` from the last ``nextToken``)."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = _call(operation, permission, where, **request, **({"startingToken": token} if token else {}))
        found.extend(page.get(items_key, []))
        token = page.get("nextToken")
        if not token:
            return found


def _read_tasks(omics: Any, run_id: str, cursor: TaskCursor, label: str) -> None:
    token = cursor.resume_token
    resume: str | None = None
    resume_found = False
    while True:
        request: dict[str, Any] = {"id": run_id, "maxResults": TASK_PAGE_SIZE}
        if token:
            request["startingToken"] = token
        page = _call(omics.list_run_tasks, "omics:ListRunTasks", f"run {run_id} ({label})", **request)
        cursor.calls += 1
        items = page.get("items", [])
        for item in items:
            cursor.tasks[item["taskId"]] = item
        next_token = page.get("nextToken")
        unfinished = any(item.get("status") not in TASK_TERMINAL_STATUSES for item in items)
        if not resume_found and (unfinished or not next_token):
            resume, resume_found = token, True
        if not next_token:
            break
        token = next_token
    cursor.resume_token = resume


def _failed(tasks: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [task for task in tasks if task.get("status") == "FAILED"]


def _failed_task(omics: Any, run_id: str, task: dict[str, Any], label: str) -> FailedTask:
    detail = _call(omics.get_run_task, "omics:GetRunTask", f"run {run_id} ({label})", id=run_id, taskId=task["taskId"])
    return FailedTask(
        task_id=task["taskId"],
        name=detail.get("name") or task.get("name") or "",
        status_message=detail.get("statusMessage") or detail.get("failureReason") or "",
        log_stream=detail.get("logStream") or f"run/{run_id}/task/{task['taskId']}",
    )


def _call(operation: Any, action: str, subject: str, **request: Any) -> dict[str, Any]:
    """One API call; a run or batch gone since the stack started it, or a denial, becomes a StatusError."""
    try:
        return dict(operation(**request))
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            raise StatusError(
                f"{subject} no longer exists: it was deleted since the stack started it; "
                "update the stack to start it again, or remove it from the stack"
            ) from error
        if error_code(error) in {"ThrottlingException", "Throttling"}:
            raise
        raise StatusError(explain(error, action, subject)) from error
