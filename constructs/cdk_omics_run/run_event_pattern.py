"""Which Run Status Change events a provider's rule delivers: only those that can end one of its waits.

Kept apart from ``wake_events`` (which builds the rule) so that it stays plain
Python: the tests' account simulation matches events with the same function.

HealthOmics' event ``detail`` carries the run's ``status`` and ``workflowId``
(HealthOmics user guide, "Using EventBridge with AWS HealthOmics", event
structure). A wait for COMPLETED ends on COMPLETED, FAILED, CANCELLED or
DELETED; only a wait for RUNNING also needs RUNNING, the most frequent of
them. When every waiting run of the provider names its workflow, the rule also
matches only those workflows, so that the runs of other stacks and tools in
the account cost this provider no invocation and no GetRun.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# waiting.ENDED_WITHOUT_SUCCESS and COMPLETED: these end a wait whatever it waits for.
ENDING_STATUSES = ("COMPLETED", "FAILED", "CANCELLED", "DELETED")
# The rule names at most this many workflows; a provider of more gets every workflow's events
# rather than a long pattern that would change with each one.
MAX_FILTERED_WORKFLOWS = 20


def run_event_detail(wait_targets: Iterable[str], workflow_ids: Sequence[str] | None) -> dict[str, list[str]]:
    """The ``detail`` of the rule's event pattern.

    ``wait_targets``: what the provider's waits wait for (``RUNNING``,
    ``COMPLETED``). ``workflow_ids``: the workflow of every waiting run, or None
    when some waiting run's workflow is not known (a run started from another
    run's ID, or a provider serving templates written without CDK).

    Example::

        run_event_detail({"COMPLETED"}, ["1234567"])
        # {"status": ["COMPLETED", "FAILED", "CANCELLED", "DELETED"], "workflowId": ["1234567"]}
    """
    statuses = (["RUNNING"] if "RUNNING" in set(wait_targets) else []) + list(ENDING_STATUSES)
    detail = {"status": statuses}
    distinct = list(dict.fromkeys(workflow_ids or ()))
    if workflow_ids is not None and 0 < len(distinct) <= MAX_FILTERED_WORKFLOWS:
        detail["workflowId"] = distinct
    return detail
