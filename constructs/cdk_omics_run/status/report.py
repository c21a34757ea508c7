"""A snapshot of a stack's runs and batches, and its plain forms: JSON, and tab-separated lines.

The plain forms are what ``status`` prints with ``--json`` or without a terminal; ``render``
draws the same snapshot for a person.

Example::

    snapshot = Snapshot(stack="Genomics", entries=[Entry(resource, progress)], taken=datetime.now(timezone.utc))
    print(json.dumps(snapshot_json(snapshot)))
    print("\\n".join(plain_lines(snapshot)))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdk_omics_run.status.cost import BatchCost, RunCost
from cdk_omics_run.status.progress import WORKFLOW_LOG_GROUP, BatchProgress, RunProgress
from cdk_omics_run.status.stack_resources import TrackedResource

# Said wherever a run's task count appears: the engine starts tasks as the workflow unfolds.
TOTAL_UNKNOWN = "total unknown until the run ends"
PLAIN_HEADER = ("STACK", "RESOURCE", "KIND", "ID", "STATUS", "ELAPSED", "WAIT", "PROGRESS")
# What a WaitCondition's resource status means for the run behind it.
_WAIT_STATES = {"CREATE_IN_PROGRESS": "waiting", "CREATE_COMPLETE": "signalled", "UPDATE_COMPLETE": "signalled"}


@dataclass(frozen=True)
class Entry:
    """One run or batch resource, what was read of it (None: CloudFormation has not created it yet), and its cost
    (with --cost, once it ended)."""

    resource: TrackedResource
    progress: RunProgress | BatchProgress | None
    cost: RunCost | BatchCost | None = None


@dataclass(frozen=True)
class Snapshot:
    """Every run and batch of a stack at one moment."""

    stack: str
    entries: tuple[Entry, ...]
    taken: datetime

    @property
    def finished(self) -> bool:
        """Whether nothing will change any more: every run and batch has ended."""
        return all(entry.progress is not None and entry.progress.finished for entry in self.entries)


def status_of(entry: Entry) -> str:
    """The run's or batch's status, or the resource's while it has no run yet."""
    return entry.progress.status if entry.progress is not None else entry.resource.resource_status


def wait_of(resource: TrackedResource) -> str:
    """The wait's state (waiting, signalled, failed) and what for, when known; "-" when the run does not wait."""
    if resource.wait is None:
        return "-"
    state = _WAIT_STATES.get(resource.wait, "failed" if "FAILED" in resource.wait else resource.wait.lower())
    if resource.wait_for is None:
        return state
    return f"waiting for {resource.wait_for}" if state == "waiting" else f"{state} ({resource.wait_for})"


def elapsed_seconds(entry: Entry, now: datetime) -> int | None:
    """Seconds since the run started (or was created) until it stopped, or until now."""
    progress = entry.progress
    if progress is None:
        return None
    begin = (progress.started if isinstance(progress, RunProgress) else None) or progress.created
    if begin is None:
        return None
    return max(0, int(((progress.stopped or now) - begin).total_seconds()))


def clock(seconds: int | None) -> str:
    """``H:MM:SS`` (``-`` when unknown)."""
    if seconds is None:
        return "-"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def progress_text(progress: RunProgress | BatchProgress | None) -> str:
    """Task progress of a run (of the tasks seen so far) or run progress of a batch (against totalRuns)."""
    if isinstance(progress, RunProgress):
        counts = progress.tasks
        if progress.finished:
            return f"{counts.done} done, {counts.failed} failed of {counts.seen} tasks"
        tally = f"{counts.done} done, {counts.running} running, {counts.failed} failed"
        return f"{tally} of {counts.seen} tasks seen ({TOTAL_UNKNOWN})"
    if isinstance(progress, BatchProgress):
        total = "?" if progress.total_runs is None else str(progress.total_runs)
        summary = progress.run_summary
        return (
            f"{progress.finished_runs}/{total} runs ended ({summary.get('completedRunCount', 0)} completed, "
            f"{summary.get('failedRunCount', 0)} failed, {summary.get('runningRunCount', 0)} running)"
        )
    return "-"


def failure_lines(entry: Entry) -> list[str]:
    """A failed run's reason, its failed tasks with their messages, and where its logs are."""
    progress = entry.progress
    if isinstance(progress, BatchProgress) and progress.failure_reason:
        return [f"batch {progress.batch_id} ({entry.resource.logical_id}) {progress.status}: {progress.failure_reason}"]
    if not isinstance(progress, RunProgress) or progress.status != "FAILED":
        return []
    reason = progress.failure_reason or progress.status_message or "no failureReason given"
    lines = [f"run {progress.run_id} ({entry.resource.logical_id}) FAILED: {reason}"]
    for task in progress.failed_tasks:
        lines.append(f"  task {task.task_id} {task.name} FAILED: {task.status_message}")
    streams = [progress.run_log_stream, *(task.log_stream for task in progress.failed_tasks)]
    lines.append(f"  logs: CloudWatch Logs group {WORKFLOW_LOG_GROUP}, streams {', '.join(streams)}")
    return lines


def cost_lines(entry: Entry) -> list[str]:
    """The estimate of a run or batch that ended, what it could not price, and where the prices came from."""
    cost, name = entry.cost, entry.resource.logical_id
    if isinstance(cost, RunCost):
        lines = [
            f"cost of run {cost.run_id} ({name}): USD {cost.total_usd:.2f} (tasks {cost.tasks_usd:.2f}, "
            f"run storage {cost.storage_usd:.2f} for {cost.storage}); prices: {cost.source}"
        ]
        return lines + ([f"  not priced: {', '.join(cost.unpriced)}"] if cost.unpriced else [])
    if isinstance(cost, BatchCost):
        ended = cost.runs_priced + cost.runs_unpriced
        lines = [
            f"cost of batch {cost.batch_id} ({name}): USD {cost.total_usd:.2f} over its {ended} runs that ended; "
            f"prices: {cost.source}"
        ]
        return lines + ([f"  not fully priced: {cost.runs_unpriced} runs"] if cost.runs_unpriced else [])
    return []


def plain_lines(snapshot: Snapshot) -> list[str]:
    """Tab-separated rows (a header first), then the failures' lines."""
    rows = ["\t".join(PLAIN_HEADER)]
    for entry in snapshot.entries:
        resource = entry.resource
        rows.append(
            "\t".join(
                (
                    resource.stack,
                    resource.logical_id,
                    resource.kind,
                    resource.physical_id or "-",
                    status_of(entry),
                    clock(elapsed_seconds(entry, snapshot.taken)),
                    wait_of(resource),
                    progress_text(entry.progress),
                )
            )
        )
        if isinstance(entry.progress, BatchProgress) and entry.progress.runs is not None:
            rows.extend(_batch_run_rows(resource, entry.progress))
    notes = [line for entry in snapshot.entries for line in (*failure_lines(entry), *cost_lines(entry))]
    return rows + (["", *notes] if notes else [])


def _batch_run_rows(resource: TrackedResource, batch: BatchProgress) -> list[str]:
    return [
        "\t".join(
            (
                resource.stack,
                f"{resource.logical_id}/{run.get('runSettingId', '-')}",
                "batch-run",
                run.get("runId") or "-",
                run.get("submissionStatus", "-"),
                "-",
                "-",
                run.get("submissionFailureMessage") or "-",
            )
        )
        for run in batch.runs or ()
    ]


def snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as one JSON object (times in ISO-8601, durations in seconds)."""
    return {
        "stack": snapshot.stack,
        "time": snapshot.taken.isoformat(),
        "finished": snapshot.finished,
        "resources": [_entry_json(entry, snapshot.taken) for entry in snapshot.entries],
    }


def _entry_json(entry: Entry, now: datetime) -> dict[str, Any]:
    resource, progress = entry.resource, entry.progress
    found: dict[str, Any] = {
        "stack": resource.stack,
        "logicalId": resource.logical_id,
        "kind": resource.kind,
        "id": resource.physical_id,
        "resourceStatus": resource.resource_status,
        "status": status_of(entry),
        "elapsedSeconds": elapsed_seconds(entry, now),
        "wait": resource.wait,
        "waitFor": resource.wait_for,
    }
    if isinstance(progress, RunProgress):
        counts = progress.tasks
        found["tasks"] = {
            "done": counts.done,
            "running": counts.running,
            "failed": counts.failed,
            "seen": counts.seen,
            # Known only once the run ended.
            "total": counts.seen if progress.finished else None,
        }
        found["logs"] = {"logGroup": WORKFLOW_LOG_GROUP, "runLogStream": progress.run_log_stream}
        if progress.status == "FAILED":
            found["failureReason"] = progress.failure_reason
            found["failedTasks"] = [
                {"taskId": t.task_id, "name": t.name, "statusMessage": t.status_message, "logStream": t.log_stream}
                for t in progress.failed_tasks
            ]
    elif isinstance(progress, BatchProgress):
        found["totalRuns"] = progress.total_runs
        found["runSummary"] = progress.run_summary
        found["runsEnded"] = progress.finished_runs
        if progress.failure_reason:
            found["failureReason"] = progress.failure_reason
        if progress.runs is not None:
            found["runs"] = list(progress.runs)
    if isinstance(entry.cost, RunCost):
        found["cost"] = {
            "usd": round(entry.cost.total_usd, 6),
            "tasksUsd": round(entry.cost.tasks_usd, 6),
            "storageUsd": round(entry.cost.storage_usd, 6),
            "storage": entry.cost.storage,
            "unpriced": list(entry.cost.unpriced),
            "priceSource": entry.cost.source,
        }
    elif isinstance(entry.cost, BatchCost):
        found["cost"] = {
            "usd": round(entry.cost.total_usd, 6),
            "runsPriced": entry.cost.runs_priced,
            "runsUnpriced": entry.cost.runs_unpriced,
            "priceSource": entry.cost.source,
        }
    return found
