"""The timeline page of a stack: the lanes of every run's tasks and every batch's runs, from a reader's last reading.

Example::

    bars = write_stack_timeline(Path("genomics.html"), reader, reader.last)
"""

from __future__ import annotations

from pathlib import Path

from cdk_omics_run.status.progress import BatchProgress, RunProgress, batch_run_items
from cdk_omics_run.status.reader import StackReader
from cdk_omics_run.status.report import Snapshot
from cdk_omics_run.status.timeline import Lane, run_lanes, task_lanes, write_timeline


def write_stack_timeline(path: Path, reader: StackReader, snapshot: Snapshot) -> int:
    """Writes the page; returns how many bars it has (one per task, and one per run of a batch)."""
    lanes: list[Lane] = []
    for entry in snapshot.entries:
        name = entry.resource.logical_id
        if isinstance(entry.progress, RunProgress):
            lanes += task_lanes(name, reader.task_items(entry.progress.run_id))
        elif isinstance(entry.progress, BatchProgress):
            label = f"{entry.resource.stack}/{name}"
            lanes += run_lanes(name, batch_run_items(reader.omics, entry.progress.batch_id, label=label))
    write_timeline(path, f"Tasks and runs of stack {snapshot.stack}", lanes, snapshot.taken)
    return len(lanes)
