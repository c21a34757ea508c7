"""Reads a stack's runs and batches into snapshots, politely: what has ended is not read again.

Example::

    reader = StackReader(omics, "Genomics", stack_resources(cloudformation, "Genomics"), with_runs=False)
    first = reader.snapshot()
    later = reader.snapshot()  # only new tasks, and only of runs that had not ended
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cdk_omics_run.status.progress import BatchProgress, RunProgress, TaskCursor, read_batch, read_run
from cdk_omics_run.status.report import Entry, Snapshot
from cdk_omics_run.status.stack_resources import TrackedResource


class StackReader:
    """Keeps a task cursor per run, and the last reading of everything that ended."""

    def __init__(self, omics: Any, stack: str, resources: list[TrackedResource], *, with_runs: bool) -> None:
        self._omics = omics
        self._stack = stack
        self._resources = resources
        self._with_runs = with_runs
        self._cursors: dict[str, TaskCursor] = {}
        self._ended: dict[str, RunProgress | BatchProgress] = {}

    def snapshot(self) -> Snapshot:
        """One reading of every run and batch; raises ``StatusError`` (or a throttling ``ClientError``)."""
        entries = tuple(Entry(resource, self._read(resource)) for resource in self._resources)
        return Snapshot(stack=self._stack, entries=entries, taken=datetime.now(timezone.utc))

    def task_items(self, run_id: str) -> list[dict[str, Any]]:
        """Every task of a run seen so far."""
        cursor = self._cursors.get(run_id)
        return list(cursor.tasks.values()) if cursor else []

    def _read(self, resource: TrackedResource) -> RunProgress | BatchProgress | None:
        key = resource.physical_id
        if key is None:
            return None
        if key in self._ended:
            return self._ended[key]
        label = f"{resource.stack}/{resource.logical_id}"
        progress: RunProgress | BatchProgress
        if resource.kind == "run":
            progress = read_run(self._omics, key, self._cursors.setdefault(key, TaskCursor()), label=label)
        else:
            progress = read_batch(self._omics, key, label=label, with_runs=self._with_runs)
        if progress.finished:
            self._ended[key] = progress
        return progress
