"""What the provider does for each CloudFormation request type on a Custom::OmicsRun.

The steps a Custom::OmicsRunBatch shares with it (``desired_of``, ``kept``,
``first_wake``, ownership, retiring, tag differences) are public here and used
by ``batch_lifecycle``.

Each function takes the CloudFormation event and a HealthOmics client and
returns the outcome; the crhelper wiring in ``omics_run_handler`` only
passes it on. No state is kept between requests: the run's own bookkeeping
tags (see ``bookkeeping``) carry what Update and Delete need to know.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from botocore.exceptions import BotoCoreError, ClientError

from omics_run import bookkeeping, waiting
from omics_run.attributes import run_attributes
from omics_run.request_mapping import (
    DEFAULT_DELETE_POLICY,
    ResourceSettings,
    delete_policy_and_rerun_token,
    derive_request_id,
    rerun_request,
    resource_settings,
    start_run_request,
)
from omics_run.start_run_shape import PropertyError

logger = logging.getLogger(__name__)

RequestType = Literal["Create", "Update", "Delete"]

# A Reason longer than this is cut by crhelper, which keeps only its tail.
REASON_LIMIT = 256
LOGICAL_ID_QUOTE_LIMIT = 60

RUN_ID = re.compile(r"[0-9]{1,18}")
ACTIVE_STATUSES = frozenset({"PENDING", "STARTING", "RUNNING", "STOPPING"})
# Members whose change means another workflow: a re-run by run ID would keep the old one.
WORKFLOW_IDENTITY = ("workflowId", "workflowType", "workflowOwnerId", "workflowVersionName")

# CANCEL_AND_DELETE waits this long for a cancelled run to stop before deleting its record.
STOP_WAIT_SECONDS = 60.0
STOP_POLL_SECONDS = 2.0
# Delete stops waiting this long before the invocation's deadline, so it always answers SUCCESS itself.
DELETE_MARGIN_SECONDS = 10.0
# The physical ID of a Create that failed before any run existed: never a run ID
# (run IDs are digits), so Delete recognises it and touches nothing.
NOT_STARTED_PREFIX = "not-started-"
# GetRun refused by IAM: the run lacks this stack's tag, so it is no run of this stack.
ACCESS_DENIED = frozenset({"AccessDeniedException", "AccessDenied"})


class CloudFormationEvent(TypedDict, total=False):
    """The fields of a custom-resource request that the provider reads."""

    RequestType: RequestType
    ResourceType: str
    ResponseURL: str
    StackId: str
    RequestId: str
    LogicalResourceId: str
    PhysicalResourceId: str
    ResourceProperties: dict[str, Any]
    OldResourceProperties: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """The physical ID and the attributes to answer CloudFormation with.

    With a ``wait``, the first wake-up of the run's wait is to be sent: the
    answer itself never waits.
    """

    physical_resource_id: str
    attributes: dict[str, str] = field(default_factory=dict)
    wait: waiting.WaitMessage | None = None


class ResourceFailure(Exception):
    """A failure whose message is the Reason CloudFormation shows.

    ``physical_resource_id`` is set when the failure concerns a run that
    exists, so CloudFormation's cleanup can still find and cancel it.
    """

    def __init__(self, reason: str, physical_resource_id: str | None = None) -> None:
        super().__init__(reason)
        self.physical_resource_id = physical_resource_id


def not_started_physical_id(event: CloudFormationEvent) -> str:
    """The deterministic physical ID of a Create that started no run.

    Set before any work, so that every answer, crhelper's timeout answer
    included, carries a physical ID that Delete knows is not a run.
    """
    digest = derive_request_id(event["StackId"], event["LogicalResourceId"], event["RequestId"])
    return NOT_STARTED_PREFIX + digest[:20]


@dataclass(frozen=True)
class Desired:
    """The run (or batch) the template asks for, checked.

    ``settings``: a ``ResourceSettings`` for a run, a ``BatchSettings`` (a subclass) for a batch.
    """

    request: dict[str, Any]
    settings: ResourceSettings
    fingerprint: str
    owner: str
    wait_token: str
    kind: Literal["run", "batch"] = "run"


def desired_of(
    event: CloudFormationEvent,
    request_of: Callable[..., dict[str, Any]],
    settings_of: Callable[[Mapping[str, Any]], ResourceSettings],
    kind: Literal["run", "batch"] = "run",
) -> Desired:
    """The request and settings the event's properties declare; a bad property is a ResourceFailure naming it."""
    properties = event.get("ResourceProperties", {})
    request_id = derive_request_id(event["StackId"], event["LogicalResourceId"], event["RequestId"])
    try:
        request = request_of(properties, request_id=request_id)
        settings = settings_of(properties)
    except PropertyError as error:
        raise ResourceFailure(
            property_failure_reason(event["LogicalResourceId"], error.property_name, error.problem)
        ) from None
    return Desired(
        request=request,
        settings=settings,
        fingerprint=bookkeeping.fingerprint(request, settings.rerun_token),
        owner=bookkeeping.owner(event["StackId"], event["LogicalResourceId"]),
        wait_token=waiting.first_token(request_id),
        kind=kind,
    )


def create(event: CloudFormationEvent, client: Any) -> Outcome:
    """Starts the run the properties describe; the run ID becomes the physical ID."""
    desired = desired_of(event, start_run_request, resource_settings)
    run = _start_run(event, client, desired, desired.request, replaced_run=None)
    return _started(event, desired, run)


def update(event: CloudFormationEvent, client: Any) -> Outcome:
    """Keeps, restores, re-runs or replaces the run, whichever the change calls for.

    - Nothing run-defining changed (the current run's fingerprint matches):
      apply the tag difference and keep the run.
    - The properties are those of the run the current one replaced (a
      rollback): return that run, so CloudFormation deletes the newer one.
    - Otherwise start a run: a re-run by run ID, or a fresh run when the
      workflow changed or is shared with the account.
    """
    desired = desired_of(event, start_run_request, resource_settings)
    current = _own_run_or_none(event, client, event.get("PhysicalResourceId", ""), desired.owner)
    current_tags = bookkeeping.tags_of(current or {})
    if current is not None and current_tags.get(bookkeeping.FINGERPRINT_TAG) == desired.fingerprint:
        _apply_tag_difference(event, client, current, desired.request.get("tags", {}))
        return _kept(event, client, desired, current)
    replaced_id = current_tags.get(bookkeeping.REPLACES_TAG)
    if replaced_id and current_tags.get(bookkeeping.REPLACES_FINGERPRINT_TAG) == desired.fingerprint:
        replaced = _own_run_or_none(event, client, replaced_id, desired.owner)
        if replaced is not None and _restorable(replaced):
            logger.info("rollback to run %s, which run %s replaced", replaced_id, event.get("PhysicalResourceId"))
            return _kept(event, client, desired, replaced)
        # A revert after cleanup retired that run: it will never produce outputs, so run again.
        logger.info("run %s was retired by cleanup; starting a run instead of restoring it", replaced_id)
    if desired.settings.wait_handle is not None and not wait_handle_changed(event, desired):
        # The template text is unchanged but a deploy-time value changed the run: its WaitCondition,
        # already signalled, would not wait for the new run (docs/limits.md).
        raise unchanged_wait_handle_failure(event, "run")
    request = desired.request
    if current is not None and _can_rerun(event, request):
        request = rerun_request(request, source_run_id=current["id"])
    run = _start_run(event, client, desired, request, replaced_run=current)
    return _started(event, desired, run)


def _kept(event: CloudFormationEvent, client: Any, desired: Desired, run: Mapping[str, Any]) -> Outcome:
    return kept(event, client, desired, run, run_attributes(run))


def kept(
    event: CloudFormationEvent, client: Any, desired: Desired, resource: Mapping[str, Any], attributes: dict[str, str]
) -> Outcome:
    """The answer for a run (or batch) the resource keeps or gets back, its wait chain made to match the properties.

    A new WaitCondition for the same run (only the wait settings changed) starts a chain on it; properties
    without a wait end any chain still on the run (a rollback from a waiting Update), so that no wake
    later cancels the run the stack points at.
    """
    if wait_handle_changed(event, desired):
        # The chain changes hands: the one tag write of a kept run's new wait.
        tag = {bookkeeping.WAIT_TAG: wait_tag_value(event, desired)}
        call(event, "TagResource", lambda: client.tag_resource(resourceArn=resource["arn"], tags=tag))
        return Outcome(resource["id"], attributes, first_wake(event, desired, resource["id"]))
    if desired.settings.wait_handle is None and bookkeeping.WAIT_TAG in bookkeeping.tags_of(resource):
        wait_tag = [bookkeeping.WAIT_TAG]
        call(event, "UntagResource", lambda: client.untag_resource(resourceArn=resource["arn"], tagKeys=wait_tag))
    return Outcome(resource["id"], attributes)


def delete_policy_of(properties: Mapping[str, Any]) -> str:
    """The declared delete policy, never failing (for Delete): another property's bad value cannot change it.

    Only a DeletePolicy that is itself invalid (never accepted by a Create) falls back to the default.
    """
    try:
        return delete_policy_and_rerun_token(properties)[0]
    except PropertyError:
        return DEFAULT_DELETE_POLICY


def _started(event: CloudFormationEvent, desired: Desired, run: Mapping[str, Any]) -> Outcome:
    """The answer for a run just started (or kept, with a new wait): its attributes, and its first wake."""
    return Outcome(run["id"], run_attributes(run), first_wake(event, desired, run["id"]))


def wait_tag_value(event: CloudFormationEvent, desired: Desired) -> str:
    """The ``wait`` tag a new chain starts with: its token and, for a run, where its event signals.

    A batch's wait polls only (HealthOmics documents Run Status Change events, none for batches),
    so its tag is the token alone.
    """
    if desired.kind != "run":
        return desired.wait_token
    settings = desired.settings
    return bookkeeping.WaitTag(
        desired.wait_token, settings.wait_for, event["LogicalResourceId"], settings.wait_handle_logical_id
    ).value()


def first_wake(event: CloudFormationEvent, desired: Desired, resource_id: str) -> waiting.WaitMessage | None:
    """The first wake-up of the wait the properties ask for, or None when they ask for none."""
    settings = desired.settings
    if settings.wait_for == "NONE" or settings.wait_handle is None:
        return None
    now = time.time()
    return waiting.WaitMessage(
        run_id=resource_id,
        target=settings.wait_for,
        deadline=waiting.deadline_for(settings.wait_timeout, now),
        poll_seconds=settings.wait_poll_interval,
        token=desired.wait_token,
        handle_url=settings.wait_handle,
        logical_resource_id=event["LogicalResourceId"],
        delete_policy=settings.delete_policy,
        kind=desired.kind,
        # Only a batch's settings carry it (BatchSettings); a run's wait never counts failed runs.
        max_failed_runs=getattr(settings, "max_failed_runs", 0),
        stack_id=event["StackId"],
        started=now,
        token_moved=now,
    )


def wait_handle_changed(event: CloudFormationEvent, desired: Desired) -> bool:
    """Whether this Update brings a new WaitCondition for a run it keeps (only the wait settings changed)."""
    old_handle = event.get("OldResourceProperties", {}).get("WaitHandle")
    return desired.settings.wait_handle is not None and desired.settings.wait_handle != old_handle


def unchanged_wait_handle_failure(event: CloudFormationEvent, what: str) -> ResourceFailure:
    """The failure of an Update that needs a new run (or batch) but keeps its already signalled WaitCondition."""
    return ResourceFailure(
        property_failure_reason(
            event["LogicalResourceId"],
            "WaitHandle",
            f"unchanged, but a value known only at deploy time changed the {what}, and a new {what} needs a new "
            "WaitCondition; change rerun_token (or another run-defining argument) to start it with a new wait",
        )
    )


def delete(
    event: CloudFormationEvent,
    client: Any,
    *,
    seconds_left: Callable[[], float] = lambda: STOP_WAIT_SECONDS + DELETE_MARGIN_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Retires a run this resource started and applies the delete policy to it; always succeeds.

    Nothing is touched when the physical ID is not a run (a failed Create),
    when the run is gone, or when its owner tag shows that another resource
    started it. Otherwise the run is tagged retired, so that a later revert
    never restores it and any wait on it stops; then LEAVE leaves it, CANCEL
    cancels it if active, and CANCEL_AND_DELETE also deletes its record. Every
    wait is bounded by ``seconds_left``: Delete answers before its deadline,
    leaving the run rather than failing.
    """
    physical_id = event.get("PhysicalResourceId", "")
    outcome = Outcome(physical_id)
    policy = delete_policy_of(event.get("ResourceProperties", {}))
    expected_owner = bookkeeping.owner(event["StackId"], event["LogicalResourceId"])
    try:
        run = _own_run_or_none(event, client, physical_id, expected_owner)
        if run is None:
            return outcome
        retire(client, run)
        if policy == "LEAVE":
            return outcome
        if run.get("status") in ACTIVE_STATUSES:
            ignoring_finished_or_gone(lambda: client.cancel_run(id=physical_id))
        if policy == "CANCEL_AND_DELETE" and _stopped_in_time(client, physical_id, seconds_left, sleep):
            ignoring_finished_or_gone(lambda: client.delete_run(id=physical_id))
    except (ResourceFailure, ClientError, BotoCoreError) as error:
        # Delete must never fail or hang the stack: report and leave the run.
        logger.warning("leaving run %s: %s", physical_id, error)
    return outcome


def _restorable(run: Mapping[str, Any]) -> bool:
    """Whether a replaced run may become the resource's run again (a rollback before cleanup)."""
    return not bookkeeping.is_retired(run) and run.get("status") not in ("CANCELLED", "DELETED")


def retire(client: Any, run: Mapping[str, Any]) -> None:
    """Marks the run (or batch) as let go of, and ends any wait on it (its wait token goes with the tag)."""
    tags = bookkeeping.tags_of(run)
    if bookkeeping.WAIT_TAG in tags:
        ignoring_finished_or_gone(lambda: client.untag_resource(resourceArn=run["arn"], tagKeys=[bookkeeping.WAIT_TAG]))
    if bookkeeping.RETIRED_TAG not in tags:
        try:
            client.tag_resource(resourceArn=run["arn"], tags={bookkeeping.RETIRED_TAG: "true"})
        except ClientError as error:
            # Not fatal for Delete, but a later revert could then restore this run: say so loudly.
            logger.error("%s could not be tagged retired: %s", run["arn"], error)


def _start_run(
    event: CloudFormationEvent,
    client: Any,
    desired: Desired,
    request: Mapping[str, Any],
    replaced_run: Mapping[str, Any] | None,
) -> dict[str, Any]:
    tags = {
        **desired.request.get("tags", {}),
        **bookkeeping.bookkeeping_tags(
            run_fingerprint=desired.fingerprint,
            run_owner=desired.owner,
            stack_id=event["StackId"],
            replaced_run=replaced_run,
        ),
    }
    if desired.settings.wait_handle is not None:
        tags[bookkeeping.WAIT_TAG] = wait_tag_value(event, desired)
    return call(event, "StartRun", lambda: client.start_run(**{**request, "tags": tags}))


def _can_rerun(event: CloudFormationEvent, request: Mapping[str, Any]) -> bool:
    """Whether the new run may be a re-run of the current one by run ID."""
    if request.get("workflowOwnerId"):
        return False  # StartRun does not re-run workflows shared with the account.
    if request.get("runId"):
        return False  # the template names the run to duplicate: duplicate that one.
    try:
        old = start_run_request(event.get("OldResourceProperties", {}), request_id="-")
    except PropertyError:
        return False
    return all(old.get(member) == request.get(member) for member in WORKFLOW_IDENTITY)


def _apply_tag_difference(
    event: CloudFormationEvent, client: Any, run: Mapping[str, Any], declared: Mapping[str, str]
) -> None:
    try:
        previously_declared = start_run_request(event.get("OldResourceProperties", {}), request_id="-").get("tags", {})
    except PropertyError:
        previously_declared = {}
    apply_tag_difference(event, client, run, declared, previously_declared)


def apply_tag_difference(
    event: CloudFormationEvent,
    client: Any,
    resource: Mapping[str, Any],
    declared: Mapping[str, str],
    previously_declared: Mapping[str, str],
) -> None:
    """Tags a run or batch with the declared tags, and removes those no longer declared."""
    run = resource
    current = bookkeeping.tags_of(run)
    removed = sorted(k for k in previously_declared if k not in declared and k in current)
    changed = {k: v for k, v in declared.items() if current.get(k) != v}
    if removed:
        call(event, "UntagResource", lambda: client.untag_resource(resourceArn=run["arn"], tagKeys=removed))
    if changed:
        call(event, "TagResource", lambda: client.tag_resource(resourceArn=run["arn"], tags=changed))


def _own_run_or_none(
    event: CloudFormationEvent, client: Any, run_id: str, expected_owner: str
) -> dict[str, Any] | None:
    """The run, when it is one this resource started; otherwise None (see ``own_resource_or_none``).

    A run of an earlier release, without the stack tag, is adopted first (see ``adopted``).
    """
    run = own_resource_or_none(event, "GetRun", lambda: client.get_run(id=run_id), run_id, expected_owner)
    if run is not None and bookkeeping.STACK_TAG not in bookkeeping.tags_of(run):
        return adopted(event, client, run)
    return run


def adopted(event: CloudFormationEvent, client: Any, run: Mapping[str, Any]) -> dict[str, Any]:
    """The run, tagged with this stack: one this resource started before runs carried the stack tag.

    Only ever called for a run whose owner tag names this resource (``own_resource_or_none``
    checked it): IAM cannot compare the digest, so the provider's policy lets it read and tag
    the old runs of every stack (constructs' ``adoption``), and this check keeps it to its own.
    Once tagged, the run is handled as usual, under the policy's stack-tag conditions.
    """
    stack_tag = {bookkeeping.STACK_TAG: event["StackId"]}
    logger.info("adopting run %s: started before runs carried the stack tag", run["id"])
    call(event, "TagResource", lambda: client.tag_resource(resourceArn=run["arn"], tags=stack_tag))
    return {**run, "tags": {**bookkeeping.tags_of(run), **stack_tag}}


def own_resource_or_none(
    event: CloudFormationEvent, operation: str, read: Callable[[], Any], resource_id: str, expected_owner: str
) -> dict[str, Any] | None:
    """The run or batch ``read`` returns, when this resource started it; otherwise None.

    None when the ID is not a HealthOmics ID (digits: a placeholder of a
    failed Create), the resource is gone, IAM denies reading it (the provider
    may read only what is tagged with its own stack), or its owner tag names
    another resource (run IDs are reused after deletion).
    """
    if not RUN_ID.fullmatch(resource_id or ""):
        return None
    try:
        found: dict[str, Any] = read()
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        if error_code(error) in ACCESS_DENIED:
            logger.warning("%s is not readable by this provider: not of this stack", resource_id)
            return None
        raise ResourceFailure(service_failure_reason(event, operation, error)) from None
    if bookkeeping.tags_of(found).get(bookkeeping.OWNER_TAG) != expected_owner:
        logger.warning("%s was not started by this resource", resource_id)
        return None
    return found


def _stopped_in_time(
    client: Any, run_id: str, seconds_left: Callable[[], float], sleep: Callable[[float], None]
) -> bool:
    """Waits for a cancelled run to stop, within STOP_WAIT_SECONDS and the invocation's own deadline."""
    deadline = time.monotonic() + min(STOP_WAIT_SECONDS, seconds_left() - DELETE_MARGIN_SECONDS)
    while True:
        try:
            if client.get_run(id=run_id).get("status") not in ACTIVE_STATUSES:
                return True
        except ClientError:
            return True
        if time.monotonic() + STOP_POLL_SECONDS >= deadline:
            logger.warning("run %s did not stop in time; it is cancelled and its record is kept", run_id)
            return False
        sleep(STOP_POLL_SECONDS)


def ignoring_finished_or_gone(call: Callable[[], Any]) -> bool:
    """Makes a cancel or delete call; False when it failed for another reason than "already done or gone"."""
    try:
        call()
    except ClientError as error:
        if error_code(error) not in ("ConflictException", "ResourceNotFoundException"):
            logger.warning("left it as it is: %s", error)
            return False
    return True


def call(event: CloudFormationEvent, operation: str, call: Callable[[], Any]) -> Any:
    """Runs one API call; a service error becomes a Reason naming the resource and the operation."""
    try:
        return call()
    except ClientError as error:
        raise ResourceFailure(service_failure_reason(event, operation, error)) from None


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def service_failure_reason(event: CloudFormationEvent, operation: str, error: ClientError) -> str:
    """A Reason naming the resource, the operation and the service's error code, the message last."""
    details = error.response.get("Error", {})
    return bounded_reason(
        f"{_shorten(event.get('LogicalResourceId', ''))}: {operation} failed: "
        f"{details.get('Code', 'Error')}: {details.get('Message', str(error))}"
    )


def unexpected_failure_reason(event: CloudFormationEvent, error: BaseException) -> str:
    """A Reason for a failure no rule foresaw: the resource, the error's type, its message last."""
    return bounded_reason(f"{_shorten(event.get('LogicalResourceId', ''))}: {type(error).__name__}: {error}")


def resource_reason(logical_resource_id: str, text: str) -> str:
    """A bounded Reason that starts with the resource's logical ID."""
    return bounded_reason(f"{_shorten(logical_resource_id)}: {text}")


def property_failure_reason(logical_resource_id: str, property_name: str, problem: str) -> str:
    """A Reason that names the resource and the property, the allowed values last."""
    return bounded_reason(f"{_shorten(logical_resource_id)} property {property_name}: {problem}")


def bounded_reason(reason: str) -> str:
    """Fits a Reason within CloudFormation's limit, keeping its start and its tail."""
    if len(reason) <= REASON_LIMIT:
        return reason
    head = 80
    return reason[:head] + "…" + reason[-(REASON_LIMIT - head - 1) :]


def _shorten(logical_resource_id: str) -> str:
    if len(logical_resource_id) > LOGICAL_ID_QUOTE_LIMIT:
        return logical_resource_id[: LOGICAL_ID_QUOTE_LIMIT - 1] + "…"
    return logical_resource_id


__all__ = [
    "ACCESS_DENIED",
    "DELETE_MARGIN_SECONDS",
    "CloudFormationEvent",
    "Desired",
    "Outcome",
    "ResourceFailure",
    "adopted",
    "apply_tag_difference",
    "bounded_reason",
    "call",
    "create",
    "delete",
    "delete_policy_of",
    "desired_of",
    "error_code",
    "first_wake",
    "ignoring_finished_or_gone",
    "kept",
    "not_started_physical_id",
    "own_resource_or_none",
    "property_failure_reason",
    "resource_reason",
    "retire",
    "service_failure_reason",
    "unchanged_wait_handle_failure",
    "unexpected_failure_reason",
    "update",
    "wait_handle_changed",
]
