"""What a run that ended cost, estimated as AWS's run_analyzer estimates it.

The rules (HealthOmics pricing page; awslabs/aws-healthomics-tools ``omics/cli/run_analyzer``):

- each task is billed for its instance type (``instanceType`` of ListRunTasks) from its start to
  its stop, at least 60 seconds;
- run storage is billed from the run's start to its stop: STATIC storage for its billed size
  (``storageCapacity`` rounded up: 1,200 GiB at least, then steps of 2,400 GiB; user guide, "Run
  storage types"), priced as ``Run Storage``; DYNAMIC storage for the average size it measured
  (the run manifest's ``storageAverageGiB``), priced as ``Dynamic Run Storage``.

Example::

    cost = run_cost(progress, book)
    print(cost.total_usd, cost.unpriced)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdk_omics_run.status.prices import PriceBook
from cdk_omics_run.status.progress import RunProgress

MINIMUM_TASK_SECONDS = 60
STATIC_STORAGE_MINIMUM_GIB = 1200
STATIC_STORAGE_STEP_GIB = 2400
STATIC_STORAGE_PRICE = "Run Storage"
DYNAMIC_STORAGE_PRICE = "Dynamic Run Storage"


@dataclass(frozen=True)
class RunCost:
    """A run's estimated cost in USD: its tasks' and its storage's; ``unpriced`` names what had no price."""

    run_id: str
    tasks_usd: float
    storage_usd: float
    storage: str
    unpriced: tuple[str, ...]
    source: str

    @property
    def total_usd(self) -> float:
        return self.tasks_usd + self.storage_usd


@dataclass(frozen=True)
class BatchCost:
    """A batch's estimated cost: the sum over its runs that ended; ``runs_unpriced`` of them lack a price."""

    batch_id: str
    total_usd: float
    runs_priced: int
    runs_unpriced: int
    source: str

    @classmethod
    def of(cls, batch_id: str, costs: list[RunCost], source: str) -> BatchCost:
        return cls(
            batch_id=batch_id,
            total_usd=sum(cost.total_usd for cost in costs),
            runs_priced=sum(not cost.unpriced for cost in costs),
            runs_unpriced=sum(bool(cost.unpriced) for cost in costs),
            source=source,
        )


def static_storage_gib(capacity: int | None) -> int:
    """The static run storage billed for a requested ``storageCapacity`` (GiB)."""
    if not capacity or capacity <= STATIC_STORAGE_MINIMUM_GIB:
        return STATIC_STORAGE_MINIMUM_GIB
    return -(-capacity // STATIC_STORAGE_STEP_GIB) * STATIC_STORAGE_STEP_GIB


def billed_seconds(task: dict[str, Any]) -> float:
    """A task's billed time: start to stop, at least 60 seconds (a task that never started costs nothing)."""
    start, stop = task.get("startTime"), task.get("stopTime")
    if not isinstance(start, datetime) or not isinstance(stop, datetime):
        return 0.0
    return max(float(MINIMUM_TASK_SECONDS), (stop - start).total_seconds())


def run_cost(run: RunProgress, book: PriceBook, storage_average_gib: float | None = None) -> RunCost:
    """The estimate for a run that ended; ``storage_average_gib`` from its manifest, for DYNAMIC storage."""
    region = str(run.details.get("arn", "arn:aws:omics:us-east-1")).split(":")[3]
    unpriced: list[str] = []
    tasks_usd = 0.0
    for task in run.task_items:
        seconds = billed_seconds(task)
        if not seconds:
            continue
        instance = task.get("instanceType") or "unknown instance type"
        price = book.price(instance, region)
        if price is None:
            unpriced.append(f"task {task['taskId']} ({instance})")
            continue
        tasks_usd += price * seconds / 3600
    hours = _hours(run.started, run.stopped)
    storage_usd = 0.0
    if run.details.get("storageType") == "DYNAMIC":
        storage = f"DYNAMIC, {storage_average_gib:g} GiB on average" if storage_average_gib is not None else "DYNAMIC"
        price = book.price(DYNAMIC_STORAGE_PRICE, region)
        if price is None or storage_average_gib is None:
            unpriced.append("run storage (DYNAMIC)" + ("" if storage_average_gib is not None else ": no manifest"))
        else:
            storage_usd = price * storage_average_gib * hours
    else:
        gib = static_storage_gib(run.details.get("storageCapacity"))
        storage = f"STATIC, {gib} GiB"
        price = book.price(STATIC_STORAGE_PRICE, region)
        if price is None:
            unpriced.append("run storage (STATIC)")
        else:
            storage_usd = price * gib * hours
    return RunCost(run.run_id, tasks_usd, storage_usd, storage, tuple(unpriced), book.source)


def _hours(start: datetime | None, stop: datetime | None) -> float:
    if start is None or stop is None:
        return 0.0
    return max(0.0, (stop - start).total_seconds() / 3600)
