"""What the provider does for each CloudFormation request on a Custom::OmicsRunBatch.

A batch is HealthOmics' own engine for cohorts: StartRunBatch starts up to
100,000 runs that share a default setting, and submits them at the account's
StartRun rate. The resource keeps the conventions of Custom::OmicsRun: the
batch ID is the physical ID, the same bookkeeping tags (fingerprint, owner,
stack, replaces, retired, wait) sit on the batch, and the same delete policies
apply. Batches have no re-run by ID, so any run-defining change starts a new
batch, and CloudFormation's cleanup applies the delete policy to the old one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from omics_run import batch_progress, bookkeeping
from omics_run.batch_request import BatchSettings, batch_settings, inline_run_count, start_run_batch_request
from omics_run.lifecycle import (
    DELETE_MARGIN_SECONDS,
    CloudFormationEvent,
    Desired,
    Outcome,
    ResourceFailure,
    apply_tag_difference,
    call,
    delete_policy_of,
    desired_of,
    error_code,
    first_wake,
    ignoring_finished_or_gone,
    kept,
    own_resource_or_none,
    retire,
    unchanged_wait_handle_failure,
    wait_handle_changed,
)
from omics_run.start_run_shape import PropertyError

logger = logging.getLogger(__name__)

# How long Delete follows a batch through cancelling and deleting its runs, within the
# invocation's own deadline; past it, the batch is left as it is then (docs/limits.md).
SETTLE_SECONDS = 240.0
SETTLE_POLL_SECONDS = 5.0
# What _Follower reports once GetBatch says the batch no longer exists.
GONE = "GONE"
# A replaced batch in these states will never run again, so a rollback starts a new one.
NOT_RESTORABLE = batch_progress.ENDED


def create(event: CloudFormationEvent, client: Any) -> Outcome:
    """Starts the batch the properties describe; the batch ID becomes the physical ID."""
    desired = desired_of(event, start_run_batch_request, batch_settings, kind="batch")
    batch = _start_batch(event, client, desired, replaced=None)
    return _started(event, desired, batch)


def update(event: CloudFormationEvent, client: Any) -> Outcome:
    """Keeps, restores or replaces the batch, whichever the change calls for.

    - Nothing run-defining changed (the fingerprint matches): apply the tag
      difference to the batch and keep it.
    - The properties are those of the batch the current one replaced (a
      rollback): return that batch, unless cleanup already retired it.
    - Otherwise start a new batch; cleanup applies the delete policy to this one.
    """
    desired = desired_of(event, start_run_batch_request, batch_settings, kind="batch")
    current = _own_batch_or_none(event, client, event.get("PhysicalResourceId", ""), desired.owner)
    current_tags = bookkeeping.tags_of(current or {})
    if current is not None and current_tags.get(bookkeeping.FINGERPRINT_TAG) == desired.fingerprint:
        apply_tag_difference(event, client, current, desired.request.get("tags", {}), _previously_declared_tags(event))
        return _kept(event, client, desired, current)
    replaced_id = current_tags.get(bookkeeping.REPLACES_TAG)
    if replaced_id and current_tags.get(bookkeeping.REPLACES_FINGERPRINT_TAG) == desired.fingerprint:
        replaced = _own_batch_or_none(event, client, replaced_id, desired.owner)
        if replaced is not None and _restorable(replaced):
            logger.info("rollback to batch %s, which batch %s replaced", replaced_id, event.get("PhysicalResourceId"))
            return _kept(event, client, desired, replaced)
        logger.info("batch %s was retired or stopped; starting a batch instead of restoring it", replaced_id)
    if desired.settings.wait_handle is not None and not wait_handle_changed(event, desired):
        raise unchanged_wait_handle_failure(event, "batch")
    batch = _start_batch(event, client, desired, replaced=current)
    return _started(event, desired, batch)


def delete(
    event: CloudFormationEvent,
    client: Any,
    *,
    seconds_left: Callable[[], float] = lambda: SETTLE_SECONDS + DELETE_MARGIN_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Retires a batch this resource started and applies the delete policy to it; always succeeds.

    - LEAVE: the batch goes on; it is only tagged retired.
    - CANCEL: CancelRunBatch, once the batch is past CREATING and while it
      still allows it (PENDING, SUBMITTING, INPROGRESS).
    - CANCEL_AND_DELETE: cancel, follow the batch until it is PROCESSED or
      CANCELLED, then DeleteRunBatch (which deletes its runs) and, once they
      are deleted, DeleteBatch (its metadata).
    Nothing is touched for an ID that is no batch of this resource. Every wait
    is bounded by SETTLE_SECONDS and the invocation's deadline: past it, the
    batch is left as it is, and Delete still answers SUCCESS.
    """
    physical_id = event.get("PhysicalResourceId", "")
    outcome = Outcome(physical_id)
    policy = delete_policy_of(event.get("ResourceProperties", {}))
    expected_owner = bookkeeping.owner(event["StackId"], event["LogicalResourceId"])
    try:
        batch = _own_batch_or_none(event, client, physical_id, expected_owner)
        if batch is None:
            return outcome
        retire(client, batch)
        if policy == "LEAVE":
            return outcome
        follow = _Follower(client, physical_id, seconds_left, sleep)
        status = follow.until_not({"CREATING"}, str(batch.get("status")))
        if status == "CREATING":
            # Its runs will start once it is set up: say so where an operator looks.
            logger.error("batch %s was still CREATING at Delete's time limit: it was not cancelled", physical_id)
            return outcome
        cancelled = status in batch_progress.CANCELLABLE
        if cancelled and not ignoring_finished_or_gone(lambda: client.cancel_run_batch(batchId=physical_id)):
            logger.error("batch %s could not be cancelled; it is left as it is", physical_id)
            return outcome
        if policy == "CANCEL_AND_DELETE":
            _delete_runs_and_batch(client, physical_id, follow, None if cancelled else status)
    except (ResourceFailure, ClientError, BotoCoreError) as error:
        # Delete must never fail or hang the stack: report and leave the batch.
        logger.warning("leaving batch %s: %s", physical_id, error)
    return outcome


def _delete_runs_and_batch(client: Any, batch_id: str, follow: _Follower, status: str | None) -> None:
    """DeleteRunBatch once the batch allows it, then DeleteBatch; ``status``: the batch's, when known."""
    status = follow.until_in(batch_progress.TERMINAL, status)
    if status in batch_progress.RUNS_DELETABLE:
        if not ignoring_finished_or_gone(lambda: client.delete_run_batch(batchId=batch_id)):
            return  # refused (IAM, say): waiting for RUNS_DELETED would only run out the clock
        status = follow.until_in({"RUNS_DELETED", "RUNS_DELETE_FAILED"})
    if status == "RUNS_DELETE_FAILED":
        # Keep the batch's record: its submission summary says which runs remain.
        logger.warning("some runs of batch %s were not deleted; its record is kept", batch_id)
        return
    if status in batch_progress.TERMINAL:
        ignoring_finished_or_gone(lambda: client.delete_batch(batchId=batch_id))
    else:
        logger.warning("batch %s is still %s; it is left as it is", batch_id, status)


class _Follower:
    """Polls GetBatch until a state is reached, within SETTLE_SECONDS and the invocation's deadline."""

    def __init__(
        self, client: Any, batch_id: str, seconds_left: Callable[[], float], sleep: Callable[[float], None]
    ) -> None:
        self._client = client
        self._batch_id = batch_id
        self._sleep = sleep
        self._deadline = time.monotonic() + min(SETTLE_SECONDS, seconds_left() - DELETE_MARGIN_SECONDS)

    def until_not(self, states: Collection[str], current: str) -> str:
        return self._until(lambda status: status not in states, current)

    def until_in(self, states: Collection[str], current: str | None = None) -> str:
        return self._until(lambda status: status in states, current)

    def _until(self, done: Callable[[str], bool], current: str | None) -> str:
        status = current if current is not None else self._status("UNKNOWN")
        while not done(status) and status != GONE:
            if time.monotonic() + SETTLE_POLL_SECONDS >= self._deadline:
                logger.warning("batch %s is still %s at Delete's time limit", self._batch_id, status)
                return status
            self._sleep(SETTLE_POLL_SECONDS)
            status = self._status(status)
        return status

    def _status(self, last_seen: str) -> str:
        """The batch's status; GONE once it is deleted; the last one seen while GetBatch fails otherwise."""
        try:
            return str(self._client.get_batch(batchId=self._batch_id).get("status"))
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return GONE
            logger.warning("GetBatch of batch %s failed, polling on: %s", self._batch_id, error)
            return last_seen


def _start_batch(
    event: CloudFormationEvent, client: Any, desired: Desired, replaced: Mapping[str, Any] | None
) -> dict[str, Any]:
    """StartRunBatch, with the bookkeeping tags on the batch and the stack tag on each of its runs.

    The runs carry the stack tag because IAM authorizes each run the batch
    starts as a StartRun of the caller, and the provider's policy requires
    that tag on every run it starts or deletes.
    """
    request = desired.request
    tags = {
        **request.get("tags", {}),
        **bookkeeping.bookkeeping_tags(
            run_fingerprint=desired.fingerprint,
            run_owner=desired.owner,
            stack_id=event["StackId"],
            replaced_run=replaced,
        ),
    }
    if desired.settings.wait_handle is not None:
        tags[bookkeeping.WAIT_TAG] = desired.wait_token
    default = request["defaultRunSetting"]
    run_tags = {**default.get("runTags", {}), bookkeeping.STACK_TAG: event["StackId"]}
    sent = {**request, "tags": tags, "defaultRunSetting": {**default, "runTags": run_tags}}
    return dict(call(event, "StartRunBatch", lambda: client.start_run_batch(**sent)))


def _started(event: CloudFormationEvent, desired: Desired, batch: Mapping[str, Any]) -> Outcome:
    return Outcome(batch["id"], _attributes(desired, batch), first_wake(event, desired, batch["id"]))


def _kept(event: CloudFormationEvent, client: Any, desired: Desired, batch: Mapping[str, Any]) -> Outcome:
    return kept(event, client, desired, batch, _attributes(desired, batch))


def _attributes(desired: Desired, batch: Mapping[str, Any]) -> dict[str, str]:
    settings = desired.settings
    known_count = inline_run_count(desired.request) or (
        settings.run_count if isinstance(settings, BatchSettings) else None
    )
    return batch_progress.batch_attributes(batch, run_count=known_count)


def _restorable(batch: Mapping[str, Any]) -> bool:
    return not bookkeeping.is_retired(batch) and batch.get("status") not in NOT_RESTORABLE


def _previously_declared_tags(event: CloudFormationEvent) -> Mapping[str, str]:
    try:
        old = start_run_batch_request(event.get("OldResourceProperties", {}), request_id="-")
    except PropertyError:
        return {}
    tags: Mapping[str, str] = old.get("tags", {})
    return tags


def _own_batch_or_none(
    event: CloudFormationEvent, client: Any, batch_id: str, expected_owner: str
) -> dict[str, Any] | None:
    return own_resource_or_none(event, "GetBatch", lambda: client.get_batch(batchId=batch_id), batch_id, expected_owner)


__all__ = ["create", "delete", "update"]
