"""Waiting for a run to reach RUNNING or COMPLETED before answering CloudFormation.

One invocation polls GetRun for as long as its own deadline allows, then the
provider invokes itself again with the same event (see ``omics_run_handler``):
no EventBridge rule, no Lambda permission, nothing to clean up, whatever the
number of waiting resources. The whole wait is bounded by a deadline inside
the resource's ServiceTimeout, so CloudFormation always hears back.
"""
from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Mapping

from omics_run.attributes import run_attributes

# The event key that carries the wait from one invocation to the next.
WAIT_EVENT_KEY = "OmicsRunWait"
REACHED = {"RUNNING": frozenset({"RUNNING", "COMPLETED"}), "COMPLETED": frozenset({"COMPLETED"})}
ENDED_WITHOUT_SUCCESS = frozenset({"FAILED", "CANCELLED", "DELETED"})

# CloudFormation's own bound on a custom resource (ServiceTimeout), in seconds.
MAX_SERVICE_TIMEOUT = 3600


def poll_seconds() -> float:
    """Time between two GetRun calls: the worst-case delay after a status change."""
    return float(os.environ.get("OMICS_RUN_POLL_SECONDS", "15"))


def margin_seconds() -> float:
    """Time kept free before a deadline, to answer or hand over to the next invocation."""
    return float(os.environ.get("OMICS_RUN_WAIT_MARGIN_SECONDS", "30"))


@dataclass(frozen=True)
class WaitPlan:
    """What to wait for, on which run, until when (seconds since the epoch)."""

    run_id: str
    target: str
    deadline: float

    def to_event(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> WaitPlan:
        return cls(**event[WAIT_EVENT_KEY])


def plan_for(run_id: str, target: str, service_timeout: Any, now: float) -> WaitPlan | None:
    """The wait a freshly started run needs, or None when the resource does not wait."""
    if target not in REACHED:
        return None
    try:
        timeout = min(float(service_timeout), MAX_SERVICE_TIMEOUT)
    except (TypeError, ValueError):
        timeout = MAX_SERVICE_TIMEOUT
    return WaitPlan(run_id=run_id, target=target, deadline=now + timeout - margin_seconds())


@dataclass(frozen=True)
class Reached:
    run: dict[str, Any]

    @property
    def attributes(self) -> dict[str, str]:
        return run_attributes(self.run)


@dataclass(frozen=True)
class Ended:
    """The run ended FAILED, CANCELLED or was deleted."""

    run: dict[str, Any]


@dataclass(frozen=True)
class DeadlineReached:
    run: dict[str, Any]


@dataclass(frozen=True)
class StillWaiting:
    """This invocation's time is up; the next one carries on."""


WaitResult = Reached | Ended | DeadlineReached | StillWaiting


def poll(
    client: Any,
    plan: WaitPlan,
    *,
    seconds_left: Callable[[], float],
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> WaitResult:
    """Polls GetRun until the run reaches the target, ends, passes the deadline or this invocation must stop."""
    interval = poll_seconds()
    while True:
        run = client.get_run(id=plan.run_id)
        status = run.get("status")
        if status in REACHED[plan.target]:
            return Reached(run)
        if status in ENDED_WITHOUT_SUCCESS:
            return Ended(run)
        if now() + interval >= plan.deadline:
            return DeadlineReached(run)
        if seconds_left() - interval <= margin_seconds():
            return StillWaiting()
        sleep(interval)
