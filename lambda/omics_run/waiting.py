"""Waiting for a run (or a batch) through a CloudFormation WaitCondition, woken by delayed SQS messages.

The run resource answers CloudFormation as soon as StartRun returns. The wait
belongs to an ``AWS::CloudFormation::WaitCondition`` (up to 12 hours), whose
handle URL reaches the provider as the ``WaitHandle`` property. A delayed SQS
message wakes the provider; each wake makes one GetRun, then either signals
the handle or sends the next delayed message. No invocation is held between
wakes, and the only state is the message and the run's own tags. A batch's
wait makes one GetBatch instead (see ``batch_progress``).

SQS delivers at least once, so each wake chain carries a token that the run's
``cdk-omics-run:wait`` tag must match: a stale message (its wait ended, or a new
WaitCondition took the run over) finds a different token, or none, and does
nothing. The token stays the same from wake to wake, so a wake writes no tag.
A message SQS delivered twice therefore carries on as a second chain, which
costs one GetRun and one message per wake and nothing else: whichever chain
ends the wait first removes the tag, and the other then stops. To bound that
cost, the token moves every ``CHAIN_REFRESH_SECONDS`` of a chain's life (one
TagResource), which stops every copy but the one that moved it. Two
deliveries processed at the same moment can both signal: they send the same
status and ``UniqueId``, which CloudFormation counts as one signal
(WaitCondition documentation), and the second CancelRun, if any, meets a
conflict it ignores.

Polling is the safety net of ``status_events``, which signals a run's wait
from its Run Status Change event. Its interval adapts to the run's age: every
``YOUNG_POLL_SECONDS`` while the run is young, then as long as the run is old,
capped by the interval the user set; each delay is jittered down by up to
``JITTER`` so that runs started together do not wake together.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from omics_run import batch_progress, bookkeeping
from omics_run.attributes import run_attributes

logger = logging.getLogger(__name__)

REACHED = {"RUNNING": frozenset({"RUNNING", "COMPLETED"}), "COMPLETED": frozenset({"COMPLETED"})}
# EventBridge's Run Status Change statuses (HealthOmics user guide): STOPPING
# exports outputs and is not final; these are.
ENDED_WITHOUT_SUCCESS = frozenset({"FAILED", "CANCELLED", "DELETED"})

# AWS::CloudFormation::WaitCondition's Timeout is at most 43,200 s (12 hours).
MAX_WAIT_SECONDS = 43_200
# SQS DelaySeconds is 0 to 900 (SendMessage API reference).
MAX_DELAY_SECONDS = 900
# The safety net's cap when the user sets none: events end most waits within seconds.
DEFAULT_POLL_SECONDS = 900
# A young run is read this often. Its status-change event ends most waits within seconds; this is
# for the event EventBridge did not deliver. Five minutes bounds how long a run that failed on its
# inputs (within minutes) goes unseen then, at 4 to 5 wakes in a run's first hour rather than 8 at
# one minute (benchmarks/wait_benchmark.py).
YOUNG_POLL_SECONDS = 300
# Each delay is shortened by a random fraction of at most this much (jitter).
JITTER = 0.1
# How long a chain keeps its token before moving it, which ends copies SQS delivered twice.
CHAIN_REFRESH_SECONDS = 3 * 3600
# The last wake comes this long before the WaitCondition's own timeout, so the
# provider cancels the run and says why before CloudFormation gives up.
DEADLINE_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class WaitMessage:
    """One wake-up: which run (or batch), what for, until when, and where to signal. The SQS message body.

    ``run_id`` is the batch ID when ``kind`` is ``"batch"``; ``max_failed_runs`` applies to batches only.
    """

    run_id: str
    target: str
    deadline: float
    poll_seconds: int
    token: str
    handle_url: str
    logical_resource_id: str
    delete_policy: str
    failed_wakes: int = 0
    kind: Literal["run", "batch"] = "run"
    max_failed_runs: int = 0
    # The stack of the resource that waits; absent from the messages of earlier releases.
    stack_id: str = ""
    # When the wait began and when its token last moved; 0 in the messages of earlier releases,
    # which moved the token on every wake: such a wait polls at its interval and moves it once.
    started: float = 0.0
    token_moved: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, body: str) -> WaitMessage:
        return cls(**json.loads(body))

    def poll_interval(self, now: float) -> float:
        """The safety net's interval at ``now``: the run's age, at least ``YOUNG_POLL_SECONDS``, at most the cap."""
        cap = min(self.poll_seconds, MAX_DELAY_SECONDS)
        if not self.started:
            return cap
        return min(cap, max(YOUNG_POLL_SECONDS, now - self.started))

    def next_delay(self, now: float, jitter: float = 1.0) -> int:
        """Seconds until the next wake: the interval times ``jitter``, or less to land on the deadline."""
        # Rounded up: a delay that lands before the deadline would cost one more, zero-delay, wake.
        interval = max(1, math.ceil(self.poll_interval(now) * jitter))
        return max(0, min(interval, math.ceil(self.deadline - now)))

    def token_due(self, now: float) -> bool:
        """Whether this wake moves the chain's token (see the module's docstring)."""
        return now - self.token_moved >= CHAIN_REFRESH_SECONDS


def first_token(request_id: str) -> str:
    """The wait token of a run's first wake, derived so that a redelivered event reuses it."""
    return hashlib.sha256(f"wait\n{request_id}".encode()).hexdigest()[:16]


def new_token() -> str:
    return uuid.uuid4().hex[:16]


def deadline_for(timeout_seconds: float, now: float) -> float:
    """When the last wake decides: just before the WaitCondition's own timeout."""
    margin = min(DEADLINE_MARGIN_SECONDS, timeout_seconds / 4)
    return now + min(timeout_seconds, MAX_WAIT_SECONDS) - margin


@dataclass(frozen=True)
class Signal:
    """A WaitCondition signal, as CloudFormation documents it (a PUT of this JSON, empty Content-Type)."""

    status: Literal["SUCCESS", "FAILURE"]
    unique_id: str
    reason: str
    data: str

    def body(self) -> bytes:
        document = {"Status": self.status, "UniqueId": self.unique_id, "Data": self.data, "Reason": self.reason}
        return json.dumps(document, separators=(",", ":")).encode("utf-8")


WakeResult = Literal["signalled", "next", "retried", "dropped"]


class HandleRefused(Exception):
    """The WaitCondition handle refused the signal for good (an HTTP 4xx): its WaitCondition is gone."""


def spread() -> float:
    """The factor of a delay: 1 - JITTER to 1, at random, so that runs started together wake apart."""
    return random.uniform(1 - JITTER, 1.0)


def _nothing_let_go(message: WaitMessage) -> bool:
    return False


def _wall_clock() -> float:
    # Read through the module at each call, so that a simulated clock can stand in for it.
    return time.time()


@dataclass(frozen=True)
class WakeServices:
    """What a wake acts through: HealthOmics, the queue, the WaitCondition handle, and the stack's record.

    ``stack_let_go`` says whether the stack itself deleted (or replaced) the
    resource that started the message's run; see ``stack_resource``.
    """

    omics: Any
    schedule: Callable[[WaitMessage, int], None]
    signal: Callable[[str, Signal], None]
    reason: Callable[[str], str]
    now: Callable[[], float] = _wall_clock
    stack_let_go: Callable[[WaitMessage], bool] = _nothing_let_go
    jitter: Callable[[], float] = spread


def wake(message: WaitMessage, services: WakeServices) -> WakeResult:
    """One wake of one waiting run: signal its handle, or schedule the next wake.

    A wake that fails on a service error is retried by the next message (one
    in, one out, so failures never multiply messages) until the deadline; a
    wait that still cannot read its run then ends in FAILURE naming the error.
    An AccessDenied is such an error too: a deploy that changes the provider's
    policy while runs wait meets IAM's eventual consistency, and the run was
    readable when the wait began. The run is not cancelled on that path, since
    its token cannot be checked: CloudFormation's rollback applies the delete
    policy to it.
    """
    try:
        return _wake_once(message, services)
    except (ClientError, BotoCoreError, OSError) as error:
        failed = replace(message, failed_wakes=message.failed_wakes + 1)
        if services.now() >= message.deadline:
            if _is_access_denied(error):
                what = f"could not be read: the provider lost access to its own {message.kind} ({_describe(error)})"
            else:
                what = f"the wait could not continue: {_describe(error)}"
            return end(failed, services, "FAILURE", what, cancel=False)
        logger.warning(
            "wake %d for run %s failed, retrying with the next message: %s",
            failed.failed_wakes,
            message.run_id,
            _describe(error),
        )
        services.schedule(failed, message.next_delay(services.now(), services.jitter()))
        return "retried"


def _wake_once(message: WaitMessage, services: WakeServices) -> WakeResult:
    try:
        subject = _read_subject(message, services)
    except ClientError as error:
        code = _error_code(error)
        if code == "ResourceNotFoundException":
            return _gone(message, services)
        if _is_access_denied(error) and services.stack_let_go(message):
            # Deleted by the stack, and its ID since reused by a run this provider may not read.
            return _let_go(message, "its ID now names a run this provider may not read")
        raise
    tags = bookkeeping.tags_of(subject)
    wait_tag = bookkeeping.wait_tag_of(subject)
    if wait_tag is None or wait_tag.token != message.token:
        logger.info(
            "wake for %s %s dropped: its wait ended or another wake carries it on", message.kind, message.run_id
        )
        return "dropped"
    if bookkeeping.RETIRED_TAG in tags:
        # Delete retired it while this wake was on its way: the wait ends here, silently.
        services.omics.untag_resource(resourceArn=subject["arn"], tagKeys=[bookkeeping.WAIT_TAG])
        return "dropped"
    verdict = (
        _batch_verdict(message, subject, services) if message.kind == "batch" else run_verdict(message.target, subject)
    )
    if verdict is not None:
        status, what_happened, data = verdict
        return end(message, services, status, what_happened, cancel=False, data=data, subject=subject)
    now = services.now()
    if now >= message.deadline:
        cancellable = message.kind == "run" or batch_progress.can_cancel(subject)
        action = "cancelled" if message.delete_policy != "LEAVE" and cancellable else "left running"
        reason = f"is {subject.get('status')}, {action}: it did not reach {message.target} before the wait's timeout"
        return end(message, services, "FAILURE", reason, cancel=True, subject=subject)
    if not message.token_due(now):
        services.schedule(replace(message, failed_wakes=0), message.next_delay(now, services.jitter()))
        return "next"
    following = replace(message, token=new_token(), failed_wakes=0, token_moved=now)
    # Move the tag first, so the next message can never arrive before its token. If the
    # send then fails, the tag goes back, so that this message, retried, carries the chain on.
    moved = wait_tag.with_token(following.token).value()
    services.omics.tag_resource(resourceArn=subject["arn"], tags={bookkeeping.WAIT_TAG: moved})
    try:
        services.schedule(following, message.next_delay(now, services.jitter()))
    except Exception:
        services.omics.tag_resource(resourceArn=subject["arn"], tags={bookkeeping.WAIT_TAG: wait_tag.value()})
        raise
    return "next"


Verdict = tuple[Literal["SUCCESS", "FAILURE"], str, str]


def _read_subject(message: WaitMessage, services: WakeServices) -> Mapping[str, Any]:
    """GetRun or GetBatch."""
    if message.kind == "batch":
        batch: Mapping[str, Any] = services.omics.get_batch(batchId=message.run_id)
        return batch
    run: Mapping[str, Any] = services.omics.get_run(id=message.run_id)
    return run


def _gone(message: WaitMessage, services: WakeServices) -> WakeResult:
    """A run (or batch) HealthOmics no longer knows: deleted by the stack, or outside it."""
    if services.stack_let_go(message):
        # The resource's Delete (CANCEL_AND_DELETE) deleted it; its WaitCondition went first.
        return _let_go(message, "the stack deleted it")
    return end(message, services, "FAILURE", "was deleted before it reached " + message.target, cancel=False)


def _let_go(message: WaitMessage, why: str) -> WakeResult:
    logger.info("wake for %s %s dropped: %s, and its wait ended with it", message.kind, message.run_id, why)
    return "dropped"


def run_verdict(target: str, run: Mapping[str, Any]) -> Verdict | None:
    """SUCCESS once the run reached the target, FAILURE once it ended otherwise; None while it goes on."""
    status = str(run.get("status"))
    if status in REACHED[target]:
        return "SUCCESS", f"reached {status}", json.dumps(run_attributes(run), separators=(",", ":"))
    if status in ENDED_WITHOUT_SUCCESS:
        detail = run.get("failureReason") or run.get("statusMessage") or "no reason given"
        return "FAILURE", f"ended {status}: {detail}", ""
    return None


def _batch_verdict(message: WaitMessage, batch: Mapping[str, Any], services: WakeServices) -> Verdict | None:
    """What a batch's GetBatch means for its wait (see ``batch_progress``)."""
    progress = batch_progress.BatchProgress.of(batch)
    if progress.failed_runs > message.max_failed_runs:
        first = batch_progress.first_failed_setting_ids(services.omics, message.run_id, progress)
        return "FAILURE", progress.too_many_failures(message.max_failed_runs, first), ""
    ended = progress.ended_without_success()
    if ended is not None:
        return "FAILURE", ended, ""
    if progress.reached(message.target):
        data = json.dumps(batch_progress.batch_attributes(batch), separators=(",", ":"))
        return "SUCCESS", f"reached {progress.status}: {progress.counts_text()}", data
    return None


def end(
    message: WaitMessage,
    services: WakeServices,
    status: Literal["SUCCESS", "FAILURE"],
    what_happened: str,
    *,
    cancel: bool,
    data: str = "",
    subject: Mapping[str, Any] | None = None,
) -> WakeResult:
    """Cancels if asked (and allowed), signals the handle, then ends the chain by removing its token.

    A handle that refuses the signal for good (its WaitCondition deleted, or
    its URL expired) is not retried: the wake is dropped with a log line,
    since no one waits for it any more, and a retry would only end in the
    dead-letter queue operators alarm on.
    """
    if cancel and message.delete_policy != "LEAVE":
        try:
            if message.kind == "batch":
                if subject is not None and batch_progress.can_cancel(subject):
                    services.omics.cancel_run_batch(batchId=message.run_id)
            else:
                services.omics.cancel_run(id=message.run_id)
        except ClientError as error:
            logger.warning("%s %s was not cancelled: %s", message.kind, message.run_id, _describe(error))
    reason = services.reason(f"{message.kind} {message.run_id} {what_happened}")
    result: WakeResult = "signalled"
    try:
        services.signal(message.handle_url, Signal(status, message.run_id, reason, data))
    except HandleRefused as refusal:
        logger.warning("%s %s: %s; the %s is dropped", message.kind, message.run_id, refusal, status)
        result = "dropped"
    if subject is not None:
        # Signal first: a signal repeated with the same UniqueId is the same signal to
        # CloudFormation, while a token removed before a lost signal would strand the wait.
        services.omics.untag_resource(resourceArn=subject["arn"], tagKeys=[bookkeeping.WAIT_TAG])
    return result


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_access_denied(error: BaseException) -> bool:
    return isinstance(error, ClientError) and _error_code(error) in ("AccessDeniedException", "AccessDenied")


def _describe(error: BaseException) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{error.operation_name} failed: {details.get('Code', 'Error')}: {details.get('Message', '')}"
    return f"{type(error).__name__}: {error}"


__all__ = [
    "DEFAULT_POLL_SECONDS",
    "MAX_WAIT_SECONDS",
    "REACHED",
    "HandleRefused",
    "Signal",
    "WaitMessage",
    "WakeServices",
    "deadline_for",
    "end",
    "first_token",
    "new_token",
    "run_verdict",
    "spread",
    "wake",
]
