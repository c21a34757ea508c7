"""What the provider does for each CloudFormation request on a Custom::OmicsWorkflow.

The workflow ID is the physical ID, and each content the template declares is
a version of that one workflow, named after its digest (``workflow_request``).
``AWS::Omics::Workflow`` cannot do this: a new ``DefinitionUri`` replaces it,
so its ID would change with every edit (CloudFormation's resource reference).

- Create: CreateWorkflow, then CreateWorkflowVersion with the same content,
  so that runs always name a version; each waited for until ACTIVE.
- Update: the version of the declared content, created unless it exists
  (an unchanged template, a redelivery or a rollback finds it), then the
  oldest versions beyond ``RetainVersions`` deleted.
- Delete: RETAIN leaves the workflow; DELETE deletes its versions, then it.

It shares the run lifecycle's steps: the owner tag and the stack tag (so IAM
confines the provider to its own stack's workflows), requestIds derived from
the CloudFormation request, and Reasons naming the resource and property.
Waits are bounded by the invocation's time (``seconds_left``): a workflow
or version still CREATING then fails the request, saying so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from omics_run import bookkeeping
from omics_run.attributes import attribute_value
from omics_run.lifecycle import (
    ACCESS_DENIED,
    CloudFormationEvent,
    Outcome,
    ResourceFailure,
    call,
    error_code,
    not_started_physical_id,
    own_resource_or_none,
    property_failure_reason,
    resource_reason,
)
from omics_run.request_mapping import derive_request_id
from omics_run.start_run_shape import PropertyError
from omics_run.workflow_request import WorkflowSettings, workflow_settings

logger = logging.getLogger(__name__)

POLL_SECONDS = 5.0
# A wait ends this long before the invocation's deadline, so the handler answers itself.
WAIT_MARGIN_SECONDS = 20.0
SETTLING = frozenset({"CREATING", "UPDATING"})


class _Ended(ResourceFailure):
    """A workflow or version that HealthOmics failed to create (its definition was refused)."""


def create(
    event: CloudFormationEvent,
    client: Any,
    *,
    seconds_left: Callable[[], float],
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Creates the workflow and its first version; the workflow ID becomes the physical ID."""
    settings = _settings(event)
    return _new_workflow(event, client, settings, _Clock(seconds_left, sleep))


def update(
    event: CloudFormationEvent,
    client: Any,
    *,
    seconds_left: Callable[[], float],
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Keeps the workflow ID and makes the declared content its version (see the module's docstring).

    A physical ID that is no workflow of this resource (gone, or another
    resource's) gets a new workflow, as a Create would.
    """
    settings = _settings(event)
    clock = _Clock(seconds_left, sleep)
    workflow = _own_workflow_or_none(event, client, event.get("PhysicalResourceId", ""))
    if workflow is None:
        return _new_workflow(event, client, settings, clock)
    _rename(event, client, workflow, settings)
    version = _version(event, client, workflow["id"], settings, clock, token_suffix="version")
    _retire_old_versions(event, client, workflow["id"], settings, keep=version["versionName"])
    return Outcome(workflow["id"], workflow_attributes(workflow, version))


def delete(event: CloudFormationEvent, client: Any, **_: Any) -> Outcome:
    """Applies the delete policy to a workflow this resource created; always succeeds.

    Nothing is touched under RETAIN (the default), or when the physical ID is
    not a workflow of this resource (a failed Create, a gone workflow, another
    resource's). DELETE removes the versions first: HealthOmics deletes a
    workflow only once its user-defined versions are gone (user guide,
    "Delete a workflow version").
    """
    physical_id = event.get("PhysicalResourceId", "")
    outcome = Outcome(physical_id)
    # Read alone, so that another property's bad value cannot change what Delete does.
    if event.get("ResourceProperties", {}).get("DeletePolicy") != "DELETE":
        return outcome
    try:
        workflow = _own_workflow_or_none(event, client, physical_id)
        if workflow is None:
            return outcome
        for name in _version_names(client, physical_id):
            client.delete_workflow_version(workflowId=physical_id, versionName=name)
        client.delete_workflow(id=physical_id)
    except (ResourceFailure, ClientError, BotoCoreError) as error:
        logger.warning("leaving workflow %s: %s", physical_id, error)
    return outcome


def workflow_attributes(workflow: Mapping[str, Any], version: Mapping[str, Any]) -> dict[str, str]:
    """Fn::GetAtt attributes: the workflow's Arn, Id and Uuid, and its current version's name, ARN and status."""
    members = {
        "Arn": workflow.get("arn"),
        "Id": workflow.get("id"),
        "Uuid": workflow.get("uuid"),
        "VersionName": version.get("versionName"),
        "VersionArn": version.get("arn"),
        "Status": version.get("status"),
    }
    return {name: attribute_value(value) for name, value in members.items() if value is not None}


def _settings(event: CloudFormationEvent) -> WorkflowSettings:
    try:
        return workflow_settings(event.get("ResourceProperties", {}))
    except PropertyError as error:
        raise ResourceFailure(
            property_failure_reason(event["LogicalResourceId"], error.property_name, error.problem)
        ) from None


def _tags(event: CloudFormationEvent, settings: WorkflowSettings) -> dict[str, str]:
    return {
        **settings.request.get("tags", {}),
        bookkeeping.OWNER_TAG: bookkeeping.owner(event["StackId"], event["LogicalResourceId"]),
        bookkeeping.STACK_TAG: event["StackId"],
    }


def _request_id(event: CloudFormationEvent, suffix: str = "") -> str:
    return derive_request_id(event["StackId"], event["LogicalResourceId"], event["RequestId"] + suffix)


def _new_workflow(event: CloudFormationEvent, client: Any, settings: WorkflowSettings, clock: _Clock) -> Outcome:
    request = {**settings.request, "tags": _tags(event, settings), "requestId": _request_id(event)}
    created = call(event, "CreateWorkflow", lambda: client.create_workflow(**request))
    workflow_id = str(created["id"])
    try:
        workflow = clock.settled(event, "CreateWorkflow", "GetWorkflow", lambda: client.get_workflow(id=workflow_id))
        version = _version(event, client, workflow_id, settings, clock, token_suffix="first-version")
    except _Ended as failure:
        # Never usable: nothing is left behind (its failed version is already deleted).
        _ignoring_errors(lambda: client.delete_workflow(id=workflow_id))
        raise ResourceFailure(str(failure), not_started_physical_id(event)) from None
    except ResourceFailure as failure:
        # Still CREATING at the time limit: the workflow exists, so the delete policy applies to it.
        raise ResourceFailure(str(failure), failure.physical_resource_id or workflow_id) from None
    return Outcome(workflow_id, workflow_attributes(workflow, version))


def _rename(event: CloudFormationEvent, client: Any, workflow: Mapping[str, Any], settings: WorkflowSettings) -> None:
    """UpdateWorkflow with the declared name, when it changed: the one workflow-level setting that
    is not a version's (UpdateWorkflow also takes description, storage and README, which here
    define versions instead)."""
    name = settings.request.get("name")
    if name is not None and name != workflow.get("name"):
        call(event, "UpdateWorkflow", lambda: client.update_workflow(id=workflow["id"], name=name))


def _version(
    event: CloudFormationEvent,
    client: Any,
    workflow_id: str,
    settings: WorkflowSettings,
    clock: _Clock,
    *,
    token_suffix: str,
) -> dict[str, Any]:
    """The declared version of the workflow, ACTIVE: found (kept), or created and waited for.

    A version that fails is deleted, so that the same name can be created
    again, and the request fails with HealthOmics' statusMessage; the
    physical ID stays the workflow's, so a rollback keeps the workflow.
    """
    name = settings.version_name
    existing = _version_or_none(event, client, workflow_id, name)
    if existing is None or existing.get("status") == "FAILED":
        if existing is not None:
            _ignoring_errors(lambda: client.delete_workflow_version(workflowId=workflow_id, versionName=name))
        request = {
            **settings.version_request,
            "workflowId": workflow_id,
            "versionName": name,
            "tags": _tags(event, settings),
            "requestId": _request_id(event, "\n" + token_suffix),
        }
        call(event, "CreateWorkflowVersion", lambda: client.create_workflow_version(**request))

    def read() -> Any:
        return client.get_workflow_version(workflowId=workflow_id, versionName=name)

    try:
        return clock.settled(event, f"CreateWorkflowVersion {name}", "GetWorkflowVersion", read)
    except _Ended as failure:
        _ignoring_errors(lambda: client.delete_workflow_version(workflowId=workflow_id, versionName=name))
        raise _Ended(str(failure), workflow_id) from None
    except ResourceFailure as failure:
        raise ResourceFailure(str(failure), workflow_id) from None


def _retire_old_versions(
    event: CloudFormationEvent, client: Any, workflow_id: str, settings: WorkflowSettings, keep: str
) -> None:
    """Deletes this resource's oldest versions beyond RetainVersions, never the current one.

    Versions another resource or a person created (no owner tag of this
    resource) are neither counted nor deleted. Deleting a version does not
    affect runs already using it (DeleteWorkflowVersion reference). A failure
    is logged, not raised: the new version is in place either way.
    """
    if settings.retain_versions is None:
        return
    try:
        versions = _own_versions_oldest_first(event, client, workflow_id)
        names = [v["versionName"] for v in versions if v["versionName"] != keep]
        surplus = len(names) + 1 - settings.retain_versions
        for name in names[: max(surplus, 0)]:
            logger.info("deleting version %s of workflow %s (RetainVersions)", name, workflow_id)
            client.delete_workflow_version(workflowId=workflow_id, versionName=name)
    except (ClientError, BotoCoreError) as error:
        logger.warning("old versions of workflow %s were not all deleted: %s", workflow_id, error)


def _own_versions_oldest_first(event: CloudFormationEvent, client: Any, workflow_id: str) -> list[dict[str, Any]]:
    owner = bookkeeping.owner(event["StackId"], event["LogicalResourceId"])
    listed = _listed_versions(client, workflow_id)
    own = []
    for item in listed:
        try:
            version = client.get_workflow_version(workflowId=workflow_id, versionName=item["versionName"])
        except ClientError as error:
            # IAM lets the provider read only versions tagged with its stack: a denied one is not its own.
            if error_code(error) in ACCESS_DENIED or error_code(error) == "ResourceNotFoundException":
                continue
            raise
        if bookkeeping.tags_of(version).get(bookkeeping.OWNER_TAG) == owner:
            own.append(version)
    return sorted(own, key=lambda v: str(v.get("creationTime", "")))


def _listed_versions(client: Any, workflow_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("list_workflow_versions").paginate(workflowId=workflow_id):
        items.extend(page.get("items", []))
    return items


def _version_names(client: Any, workflow_id: str) -> list[str]:
    return [str(item["versionName"]) for item in _listed_versions(client, workflow_id)]


def _version_or_none(event: CloudFormationEvent, client: Any, workflow_id: str, name: str) -> dict[str, Any] | None:
    try:
        version: dict[str, Any] = client.get_workflow_version(workflowId=workflow_id, versionName=name)
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise ResourceFailure(
            resource_reason(event["LogicalResourceId"], f"GetWorkflowVersion failed: {error}"), workflow_id
        ) from None
    return version


def _own_workflow_or_none(event: CloudFormationEvent, client: Any, workflow_id: str) -> dict[str, Any] | None:
    expected_owner = bookkeeping.owner(event["StackId"], event["LogicalResourceId"])
    return own_resource_or_none(
        event, "GetWorkflow", lambda: client.get_workflow(id=workflow_id), workflow_id, expected_owner
    )


def _ignoring_errors(action: Callable[[], Any]) -> None:
    try:
        action()
    except (ClientError, BotoCoreError) as error:
        logger.warning("clean-up left as it is: %s", error)


class _Clock:
    """Polls a workflow or version until it leaves CREATING, within the invocation's time."""

    def __init__(self, seconds_left: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._seconds_left = seconds_left
        self._sleep = sleep

    def settled(self, event: CloudFormationEvent, what: str, operation: str, read: Callable[[], Any]) -> dict[str, Any]:
        """The record ``read`` returns, once ACTIVE.

        Any other end raises ``_Ended`` with HealthOmics' statusMessage (the
        caller cleans up); still settling at the time limit raises a ResourceFailure.
        """
        logical_id = event["LogicalResourceId"]
        while True:
            record: dict[str, Any] = call(event, operation, read)
            status = record.get("status")
            if status == "ACTIVE":
                return record
            if status not in SETTLING:
                message = record.get("statusMessage") or "no statusMessage"
                raise _Ended(resource_reason(logical_id, f"{what} ended {status}: {message}"))
            if self._seconds_left() - POLL_SECONDS < WAIT_MARGIN_SECONDS:
                raise ResourceFailure(
                    resource_reason(
                        logical_id,
                        f"{what} still {status} at the provider's time limit; deploy again to wait for it "
                        "(the same content finds the same version)",
                    )
                )
            self._sleep(POLL_SECONDS)


__all__ = ["create", "delete", "update", "workflow_attributes"]
