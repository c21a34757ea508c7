"""Which Run Status Change events a provider's rule delivers: only those that can end one of its waits.

Kept apart from ``wake_events`` (which builds the rule) so that it stays plain
Python: the tests' account simulation matches events with the same function.

HealthOmics' event ``detail`` carries the run's ``status``, ``workflowId``
and ``runOutputUri``, the run's output location followed by its ID
(HealthOmics user guide, "Using EventBridge with AWS HealthOmics", event
structure and its example). A wait for COMPLETED ends on COMPLETED, FAILED,
CANCELLED or DELETED; only a wait for RUNNING also needs RUNNING, the most
frequent of them. When every waiting run of the provider names its workflow,
the rule also matches only those workflows, and when every one names its
output location, only run outputs under those locations (EventBridge's
``prefix`` matching): the runs of other stacks and tools in the account, even
of the same workflow, then cost this provider no invocation and no GetRun.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# waiting.ENDED_WITHOUT_SUCCESS and COMPLETED: these end a wait whatever it waits for.
ENDING_STATUSES = ("COMPLETED", "FAILED", "CANCELLED", "DELETED")
# The rule names at most this many workflows (and output locations); a provider of more gets every
# workflow's (location's) events rather than a long pattern that would change with each one.
MAX_FILTERED_WORKFLOWS = 20
MAX_FILTERED_OUTPUT_URIS = 20


def run_event_detail(
    wait_targets: Iterable[str], workflow_ids: Sequence[str] | None, output_uris: Sequence[str] | None = None
) -> dict[str, list[Any]]:
    """The ``detail`` of the rule's event pattern.

    ``wait_targets``: what the provider's waits wait for (``RUNNING``,
    ``COMPLETED``). ``workflow_ids`` and ``output_uris``: the workflow and the
    output location of every waiting run, or None when some waiting run's is
    not known (a run started from another run's ID, or a provider serving
    templates written without CDK).

    Example::

        run_event_detail({"COMPLETED"}, ["1234567"], ["s3://results/cohort-a/"])
        # {"status": ["COMPLETED", "FAILED", "CANCELLED", "DELETED"], "workflowId": ["1234567"],
        #  "runOutputUri": [{"prefix": "s3://results/cohort-a/"}]}
    """
    statuses = (["RUNNING"] if "RUNNING" in set(wait_targets) else []) + list(ENDING_STATUSES)
    detail: dict[str, list[Any]] = {"status": statuses}
    workflows = _few(workflow_ids, MAX_FILTERED_WORKFLOWS)
    if workflows:
        detail["workflowId"] = workflows
    locations = _few(output_uris, MAX_FILTERED_OUTPUT_URIS)
    if locations:
        detail["runOutputUri"] = [{"prefix": location} for location in locations]
    return detail


def _few(values: Sequence[str] | None, most: int) -> list[str]:
    """The distinct values in order, or none when they are unknown (None) or more than ``most``."""
    distinct = list(dict.fromkeys(values or ()))
    return distinct if values is not None and len(distinct) <= most else []
