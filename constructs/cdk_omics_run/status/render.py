"""A snapshot drawn for a person with rich: a table, a progress bar per batch, failures in red.

Example::

    Console().print(renderable(snapshot))
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from cdk_omics_run.status.progress import BatchProgress
from cdk_omics_run.status.report import (
    Snapshot,
    clock,
    cost_lines,
    elapsed_seconds,
    failure_lines,
    progress_text,
    status_of,
    wait_of,
)

# A batch's progress bar, in characters.
BAR_WIDTH = 30
_STATUS_STYLES = {"COMPLETED": "green", "PROCESSED": "green", "FAILED": "red", "CANCELLED": "yellow"}


def renderable(snapshot: Snapshot, footer: str = "") -> RenderableType:
    """The table of runs and batches, the failures under it, and a footer line (for --watch)."""
    table = Table(title=f"Runs of stack {snapshot.stack}", title_justify="left", expand=False)
    for column in ("Resource", "ID", "Status", "Elapsed", "Wait", "Progress"):
        table.add_column(column, no_wrap=column != "Progress")
    for entry in snapshot.entries:
        resource, progress = entry.resource, entry.progress
        status = status_of(entry)
        cell: RenderableType = Text(progress_text(progress))
        if isinstance(progress, BatchProgress) and progress.total_runs:
            cell = Table.grid(padding=(0, 1))
            cell.add_row(
                ProgressBar(total=progress.total_runs, completed=progress.finished_runs, width=BAR_WIDTH),
                Text(progress_text(progress)),
            )
        table.add_row(
            f"{resource.stack}/{resource.logical_id}",
            resource.physical_id or "-",
            Text(status, style=_STATUS_STYLES.get(status, "cyan")),
            clock(elapsed_seconds(entry, snapshot.taken)),
            wait_of(resource),
            cell,
        )
    failures = [Text(line, style="red") for entry in snapshot.entries for line in failure_lines(entry)]
    costs = [Text(line) for entry in snapshot.entries for line in cost_lines(entry)]
    return Group(table, *failures, *costs, *([Text(footer, style="dim")] if footer else []))
