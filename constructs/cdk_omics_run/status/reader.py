"""Reads a stack's runs and batches into snapshots, politely: what has ended is not read again.

Example::

    reader = StackReader(omics, "Genomics", stack_resources(cloudformation, "Genomics"), with_runs=False)
    first = reader.snapshot()
    later = reader.snapshot()  # only new tasks, and only of runs that had not ended
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cdk_omics_run.status.cost import BatchCost, RunCost, run_cost
from cdk_omics_run.status.manifest import storage_average_gib
from cdk_omics_run.status.prices import PriceBook
from cdk_omics_run.status.progress import BatchProgress, RunProgress, TaskCursor, read_batch, read_run
from cdk_omics_run.status.report import Entry, Snapshot
from cdk_omics_run.status.stack_resources import TrackedResource


class StackReader:
    """Keeps a task cursor per run, and the last reading of everything that ended.

    With a ``prices`` book, each run that ended is priced once (``logs`` reads the manifests of runs
    with DYNAMIC storage), and each batch that ended is priced over its runs.
    """

    def __init__(
        self,
        omics: Any,
        stack: str,
        resources: list[TrackedResource],
        *,
        with_runs: bool,
        prices: PriceBook | None = None,
        logs: Any = None,
    ) -> None:
        self._omics = omics
        self._stack = stack
        self._resources = resources
        self._with_runs = with_runs or prices is not None
        self._prices = prices
        self._logs = logs
        self._cursors: dict[str, TaskCursor] = {}
        self._ended: dict[str, RunProgress | BatchProgress] = {}
        self._costs: dict[str, RunCost | BatchCost] = {}
        self.last: Snapshot | None = None
        """The latest snapshot."""

    def snapshot(self) -> Snapshot:
        """One reading of every run and batch; raises ``StatusError`` (or a throttling ``ClientError``)."""
        entries = []
        for resource in self._resources:
            progress = self._read(resource)
            entries.append(Entry(resource, progress, self._cost(resource, progress)))
        self.last = Snapshot(stack=self._stack, entries=tuple(entries), taken=datetime.now(timezone.utc))
        return self.last

    @property
    def omics(self) -> Any:
        """The HealthOmics client it reads with."""
        return self._omics

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

    def _cost(
        self, resource: TrackedResource, progress: RunProgress | BatchProgress | None
    ) -> RunCost | BatchCost | None:
        if self._prices is None or progress is None or not progress.finished:
            return None
        if progress_id(progress) not in self._costs:
            if isinstance(progress, RunProgress):
                self._costs[progress.run_id] = self._run_cost(progress)
            else:
                label = f"{resource.stack}/{resource.logical_id}"
                runs = [self._batch_run(run["runId"], label) for run in progress.runs or () if run.get("runId")]
                costs = [self._run_cost(run) for run in runs if run.finished]
                self._costs[progress.batch_id] = BatchCost.of(progress.batch_id, costs, self._prices.source)
        return self._costs[progress_id(progress)]

    def _batch_run(self, run_id: str, label: str) -> RunProgress:
        return read_run(
            self._omics, run_id, self._cursors.setdefault(run_id, TaskCursor()), label=f"{label} run {run_id}"
        )

    def _run_cost(self, run: RunProgress) -> RunCost:
        assert self._prices is not None
        average = None
        if run.details.get("storageType") == "DYNAMIC" and self._logs is not None and run.details.get("uuid"):
            average = storage_average_gib(self._logs, run.run_id, run.details["uuid"])
        return run_cost(run, self._prices, average)


def progress_id(progress: RunProgress | BatchProgress) -> str:
    """The run or batch ID."""
    return progress.run_id if isinstance(progress, RunProgress) else progress.batch_id
