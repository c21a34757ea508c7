"""Signalling a run's wait from its status-change event, within seconds of the change.

HealthOmics sends a ``Run Status Change`` event (source ``aws.omics``; ``detail``
carries ``runId`` and ``status``) to EventBridge whenever a run changes status
(HealthOmics user guide, "Using EventBridge with AWS HealthOmics"). The
provider's rule delivers every such event of its account and region to the
wake queue. Delivery is best effort (EventBridge user guide, "Event delivery"),
so the polling chain of ``waiting`` stays on as the safety net.

An event is acted on only for a run of this provider's stacks that waits:
- one GetRun confirms the status (an event may arrive late or out of order)
  and returns the tags; IAM denies GetRun on a run without this stack's tag
  (``aws:ResourceTag``), which then is simply not ours;
- the run's ``wait`` tag names the target, the run resource and the
  WaitCondition handle (``bookkeeping.WaitTag``). ``Ref`` of an
  ``AWS::CloudFormation::WaitConditionHandle`` is its presigned URL
  (CloudFormation template reference, "AWS::CloudFormation::WaitConditionHandle",
  Return values), so the URL is the handle's physical ID, which
  DescribeStackResource returns (``PhysicalResourceId``) for the stack named by
  the run's ``stack`` tag.

Then it signals and ends the chain as a wake would (``waiting.end``): the
polling chain's next wake finds no token and stops. Nothing is cancelled here:
an event never reaches a deadline.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from omics_run import bookkeeping, stack_resource, waiting

logger = logging.getLogger(__name__)

SOURCE = "aws.omics"
DETAIL_TYPE = "Run Status Change"
# The statuses that can end a wait (waiting.REACHED and ENDED_WITHOUT_SUCCESS); the rule
# delivers only these, and any other costs no call.
DECIDING_STATUSES = ("RUNNING", "COMPLETED", "FAILED", "CANCELLED", "DELETED")
NOT_OURS = frozenset({"AccessDeniedException", "AccessDenied", "ResourceNotFoundException"})

EventResult = Literal["signalled", "ignored", "dropped", "retried"]
# An event whose reading fails (a throttle, most likely: every provider reads every event of its
# workflows) comes back this many times, each time after a delay drawn from RETRY_DELAY_SECONDS, so
# that a burst spreads over the quota; after that, the wait's polling ends it.
MAX_EVENT_RETRIES = 3
RETRY_DELAY_SECONDS = (5, 30)
# Our own key in a retried event's body, beside EventBridge's envelope: how often it came back.
RETRIES_KEY = "cdk-omics-run:retries"


def is_status_event(body: Mapping[str, Any]) -> bool:
    """Whether an SQS message body is a Run Status Change event (rather than a wake-up)."""
    return body.get("source") == SOURCE and body.get("detail-type") == DETAIL_TYPE


def _retry_delay() -> int:
    return random.randint(*RETRY_DELAY_SECONDS)


@dataclass(frozen=True)
class EventServices:
    """What an event acts through: HealthOmics, the stacks' records, the handle, and the Reason's form."""

    omics: Any
    cloudformation: Any
    signal: Callable[[str, waiting.Signal], None]
    reason: Callable[[str, str], str]
    # Sends an event body back to the wake queue, delivered after the delay (seconds).
    retry_later: Callable[[Mapping[str, Any], int], None] | None = None
    delay: Callable[[], int] = _retry_delay


def on_status_change(event: Mapping[str, Any], services: EventServices) -> EventResult:
    """Signals the wait of the event's run if the change ends it; otherwise does nothing.

    An event that meets a service error (throttling in a burst, most likely)
    is sent back to the queue, to come again 5 to 30 s later (one message in,
    one out), up to ``MAX_EVENT_RETRIES`` times; then it is let go with a log
    line and the wait's own polling ends the wait. Reporting it failed instead
    would bring it back only after the queue's visibility timeout (30 minutes).
    """
    try:
        return _on_status_change(event, services)
    except (ClientError, BotoCoreError, OSError) as error:
        run_id = (event.get("detail") or {}).get("runId")
        retries = int(event.get(RETRIES_KEY, 0))
        if services.retry_later is None or retries >= MAX_EVENT_RETRIES:
            logger.warning("event for run %s left to polling: %s", run_id, error)
            return "ignored"
        logger.info("event for run %s comes back later (%d): %s", run_id, retries + 1, error)
        services.retry_later({**event, RETRIES_KEY: retries + 1}, services.delay())
        return "retried"


def _on_status_change(event: Mapping[str, Any], services: EventServices) -> EventResult:
    detail = event.get("detail") or {}
    run_id, status = str(detail.get("runId", "")), detail.get("status")
    if not run_id or status not in DECIDING_STATUSES:
        return "ignored"
    try:
        run = services.omics.get_run(id=run_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NOT_OURS:
            return "ignored"
        raise
    wait_tag = bookkeeping.wait_tag_of(run)
    tags = bookkeeping.tags_of(run)
    if wait_tag is None or not wait_tag.signals_on_events or bookkeeping.RETIRED_TAG in tags:
        # No wait, a wait only polling ends (an earlier release's, or a batch's), or a run cleanup retired.
        return "ignored"
    verdict = waiting.run_verdict(wait_tag.target, run)
    if verdict is None:
        return "ignored"
    stack_id = tags.get(bookkeeping.STACK_TAG, "")
    handle_url = _handle_url(services.cloudformation, stack_id, wait_tag.handle_logical_id)
    if not handle_url:
        logger.info("event for run %s dropped: its WaitCondition handle is gone", run_id)
        return "dropped"
    message = waiting.WaitMessage(
        run_id=run_id,
        target=wait_tag.target,
        deadline=math.inf,
        poll_seconds=waiting.DEFAULT_POLL_SECONDS,
        token=wait_tag.token,
        handle_url=handle_url,
        logical_resource_id=wait_tag.logical_resource_id,
        # Never used: an event does not cancel.
        delete_policy="LEAVE",
        stack_id=stack_id,
    )
    wake_services = waiting.WakeServices(
        omics=services.omics,
        schedule=_never_scheduled,
        signal=services.signal,
        reason=lambda text: services.reason(wait_tag.logical_resource_id, text),
    )
    status_sent, what_happened, data = verdict
    result = waiting.end(message, wake_services, status_sent, what_happened, cancel=False, data=data, subject=run)
    return "signalled" if result == "signalled" else "dropped"


def _handle_url(cloudformation: Any, stack_id: str, handle_logical_id: str) -> str:
    """The handle's URL (its physical ID), or "" when the stack no longer has it.

    A handle deleted with its stack is DELETE_COMPLETE. Errors other than the
    stack's "no such resource" propagate, so the event comes again.
    """
    if not stack_id:
        return ""
    detail = stack_resource.resource_detail(cloudformation, stack_id, handle_logical_id)
    if detail is None or stack_resource.is_deleted(detail):
        return ""
    return str(detail.get("PhysicalResourceId") or "")


def _never_scheduled(message: waiting.WaitMessage, delay: int) -> None:
    raise AssertionError("an event schedules no wake")  # pragma: no cover - end() never schedules


__all__ = [
    "DECIDING_STATUSES",
    "DETAIL_TYPE",
    "MAX_EVENT_RETRIES",
    "SOURCE",
    "EventServices",
    "is_status_event",
    "on_status_change",
]
