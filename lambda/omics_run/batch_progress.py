"""What a batch's GetBatch says: its state, its counts, the attributes it answers with, and what each call allows.

The states and what they allow come from the HealthOmics user guide, "Batch
runs in HealthOmics", and from the model's documentation of each operation.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omics_run.attributes import attribute_value

logger = logging.getLogger(__name__)

# CancelRunBatch: "Cancel is only allowed on batches in PENDING, SUBMITTING, or INPROGRESS state."
CANCELLABLE = frozenset({"PENDING", "SUBMITTING", "INPROGRESS"})
# DeleteRunBatch: "Delete is only allowed on batches in PROCESSED or CANCELLED state."
RUNS_DELETABLE = frozenset({"PROCESSED", "CANCELLED"})
# DeleteBatch "requires the batch to be in a terminal state: PROCESSED, FAILED, CANCELLED,
# RUNS_DELETE_FAILED, or RUNS_DELETED".
TERMINAL = frozenset({"PROCESSED", "FAILED", "CANCELLED", "RUNS_DELETE_FAILED", "RUNS_DELETED"})
# User guide: INPROGRESS, "all run submissions have been attempted"; PROCESSED, "all runs
# have reached a terminal state (completed, failed, or cancelled)".
REACHED = {"SUBMITTED": frozenset({"INPROGRESS", "PROCESSED"}), "PROCESSED": frozenset({"PROCESSED"})}
# A batch in these states will never reach a wait's target.
ENDED = frozenset({"FAILED", "CANCELLED", "STOPPING", "RUNS_DELETING", "RUNS_DELETE_FAILED", "RUNS_DELETED"})
# How many failed runSettingIds a Reason names.
FIRST_FAILED_LIMIT = 3

# Attribute name -> GetBatch (or StartRunBatch) output member.
BATCH_ATTRIBUTES = {"Arn": "arn", "Id": "id", "Uuid": "uuid", "Status": "status", "TotalRuns": "totalRuns"}
# Attribute name -> member of GetBatch's runSummary, answered once the batch has counts.
RUN_COUNT_ATTRIBUTES = {"CompletedRuns": "completedRunCount", "FailedRuns": "failedRunCount"}


def batch_attributes(batch: Mapping[str, Any], run_count: int | None = None) -> dict[str, str]:
    """The attributes of a batch, as flat strings; ``run_count`` stands in for a ``totalRuns`` not known yet."""
    attributes = {
        name: attribute_value(batch[member])
        for name, member in BATCH_ATTRIBUTES.items()
        if batch.get(member) is not None
    }
    if "TotalRuns" not in attributes and run_count is not None:
        attributes["TotalRuns"] = str(run_count)
    summary = batch.get("runSummary") or {}
    for name, member in RUN_COUNT_ATTRIBUTES.items():
        if summary.get(member) is not None:
            attributes[name] = str(summary[member])
    return attributes


def can_cancel(batch: Mapping[str, Any]) -> bool:
    return batch.get("status") in CANCELLABLE


@dataclass(frozen=True)
class BatchProgress:
    """A batch's state and counts, as one GetBatch saw them."""

    status: str
    total_runs: int | None
    failed_to_start: int
    failed_runs_ended: int
    completed_runs: int
    failure_reason: str | None

    @classmethod
    def of(cls, batch: Mapping[str, Any]) -> BatchProgress:
        submissions = batch.get("submissionSummary") or {}
        runs = batch.get("runSummary") or {}
        return cls(
            status=str(batch.get("status")),
            total_runs=batch.get("totalRuns"),
            failed_to_start=int(submissions.get("failedStartSubmissionCount") or 0),
            failed_runs_ended=int(runs.get("failedRunCount") or 0),
            completed_runs=int(runs.get("completedRunCount") or 0),
            failure_reason=batch.get("failureReason"),
        )

    @property
    def failed_runs(self) -> int:
        """Runs that failed: those that never started, and those that ended FAILED."""
        return self.failed_to_start + self.failed_runs_ended

    def reached(self, target: str) -> bool:
        return self.status in REACHED[target]

    def ended_without_success(self) -> str | None:
        """Why the batch will never reach a wait's target, or None."""
        if self.status == "FAILED":
            return f"failed: {self.failure_reason or 'no reason given'}"
        if self.status in ENDED:
            return f"is {self.status}: it was cancelled or its runs deleted"
        return None

    def counts_text(self) -> str:
        total = "?" if self.total_runs is None else str(self.total_runs)
        return f"{self.completed_runs} of {total} runs completed, {self.failed_runs} failed"

    def too_many_failures(self, max_failed_runs: int, first_failed: list[str]) -> str:
        total = "?" if self.total_runs is None else str(self.total_runs)
        text = (
            f"has {self.failed_runs} failed runs of {total} ({self.failed_to_start} failed to start, "
            f"{self.failed_runs_ended} ended FAILED), more than max_failed_runs {max_failed_runs}"
        )
        if first_failed:
            text += f"; first failed runSettingIds: {', '.join(first_failed)}"
        return text


def first_failed_setting_ids(client: Any, batch_id: str, progress: BatchProgress) -> list[str]:
    """The runSettingIds of the first few failed runs: submissions that failed, then runs that ended FAILED.

    ListRunsInBatch filters by submission status but knows nothing of how a
    run ended, so the runs that ended FAILED come from ListRuns (filtered by
    batch and status), each mapped back by a ListRunsInBatch filtered by run
    ID: at most ``FIRST_FAILED_LIMIT`` + 2 calls. Best effort: a failed call
    leaves the list shorter, never the wait stuck.
    """
    found: list[str] = []
    try:
        if progress.failed_to_start:
            listed = client.list_runs_in_batch(batchId=batch_id, submissionStatus="FAILED", maxItems=FIRST_FAILED_LIMIT)
            found += [item["runSettingId"] for item in listed.get("runs", []) if item.get("runSettingId")]
        if progress.failed_runs_ended and len(found) < FIRST_FAILED_LIMIT:
            failed = client.list_runs(batchId=batch_id, status="FAILED", maxResults=FIRST_FAILED_LIMIT - len(found))
            for run in failed.get("items", []):
                listed = client.list_runs_in_batch(batchId=batch_id, runId=run["id"], maxItems=1)
                found += [item["runSettingId"] for item in listed.get("runs", []) if item.get("runSettingId")]
    except Exception as error:  # noqa: BLE001 - the counts alone still make the Reason; the IDs are a courtesy
        logger.warning("the failed runs of batch %s could not be listed: %s", batch_id, error)
    return found[:FIRST_FAILED_LIMIT]
