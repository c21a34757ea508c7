"""``status --timeline FILE.html``: a Gantt chart of a run's tasks (or a batch's runs) on one self-contained page.

One horizontal bar per task, from its start (or, while it waits, its creation) to its stop (or now),
coloured by status; a grey line before the bar is the time it queued (creation to start). The page
carries plotly.js inline, so it opens offline.

Example::

    write_timeline(Path("run.html"), items_by_resource)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

STATUS_COLOURS = {
    "PENDING": "#b0b7c3",
    "STARTING": "#8d99ae",
    "RUNNING": "#1f77b4",
    "STOPPING": "#9467bd",
    "COMPLETED": "#2ca02c",
    "FAILED": "#d62728",
    "CANCELLED": "#ff7f0e",
    "DELETED": "#7f7f7f",
}
QUEUED_COLOUR = "#c8ccd4"


@dataclass(frozen=True)
class Lane:
    """One bar: a task of a run, or a run of a batch."""

    label: str
    status: str
    created: datetime | None
    started: datetime | None
    stopped: datetime | None


def task_lanes(prefix: str, tasks: list[dict[str, Any]]) -> list[Lane]:
    """A run's tasks (ListRunTasks items) as lanes, labelled ``prefix name (task ID)``."""
    return [
        Lane(
            label=f"{prefix} {task.get('name', '')} ({task['taskId']})",
            status=task.get("status", "PENDING"),
            created=task.get("creationTime"),
            started=task.get("startTime"),
            stopped=task.get("stopTime"),
        )
        for task in tasks
    ]


def run_lanes(prefix: str, runs: list[dict[str, Any]]) -> list[Lane]:
    """A batch's runs (ListRuns items) as lanes, labelled ``prefix name (run ID)``."""
    return [
        Lane(
            label=f"{prefix} {run.get('name') or 'run'} ({run['id']})",
            status=run.get("status", "PENDING"),
            created=run.get("creationTime"),
            started=run.get("startTime"),
            stopped=run.get("stopTime"),
        )
        for run in runs
    ]


def figure(title: str, lanes: list[Lane], now: datetime) -> go.Figure:
    """The chart: a bar trace per status (one bar per lane), and the queued times as one grey line trace."""
    chart = go.Figure()
    queued_x: list[Any] = []
    queued_y: list[Any] = []
    for lane in lanes:
        if lane.created is not None and lane.started is not None and lane.started > lane.created:
            queued_x += [lane.created, lane.started, None]
            queued_y += [lane.label, lane.label, None]
    if queued_x:
        chart.add_trace(
            go.Scatter(x=queued_x, y=queued_y, mode="lines", name="queued", line={"color": QUEUED_COLOUR, "width": 6})
        )
    for status in STATUS_COLOURS:
        chosen = [lane for lane in lanes if lane.status == status]
        if not chosen:
            continue
        begins = [lane.started or lane.created or now for lane in chosen]
        ends = [lane.stopped or now for lane in chosen]
        chart.add_trace(
            go.Bar(
                orientation="h",
                name=status,
                y=[lane.label for lane in chosen],
                base=[begin.isoformat() for begin in begins],
                # Bars on a date axis are as long as their duration in milliseconds.
                x=[max(0.0, (end - begin).total_seconds() * 1000) for begin, end in zip(begins, ends, strict=True)],
                marker={"color": STATUS_COLOURS[status]},
                hovertemplate="%{y}<br>" + status + "<br>%{base} for %{x} ms<extra></extra>",
            )
        )
    chart.update_layout(
        title=title,
        barmode="overlay",
        xaxis={"type": "date", "title": "time (UTC)"},
        yaxis={"autorange": "reversed", "categoryorder": "array", "categoryarray": [lane.label for lane in lanes]},
        height=max(300, 120 + 24 * len(lanes)),
        legend={"title": "status"},
    )
    return chart


def write_timeline(path: Path, title: str, lanes: list[Lane], now: datetime) -> None:
    """Writes the self-contained page (plotly.js inline: it opens without a network)."""
    figure(title, lanes, now).write_html(str(path), include_plotlyjs=True, full_html=True)
