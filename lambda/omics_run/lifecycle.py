"""What the provider does for each CloudFormation request type.

Each function takes the CloudFormation event and a HealthOmics client and
returns the outcome; the crhelper wiring in ``omics_run_handler`` only
passes it on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from omics_run.attributes import run_attributes
from omics_run.request_mapping import derive_request_id, start_run_request
from omics_run.start_run_shape import PropertyError

RequestType = Literal["Create", "Update", "Delete"]

# A Reason longer than this is cut by crhelper, which keeps only its tail.
REASON_LIMIT = 256
LOGICAL_ID_QUOTE_LIMIT = 60


class CloudFormationEvent(TypedDict, total=False):
    """The fields of a custom-resource request that the provider reads."""

    RequestType: RequestType
    StackId: str
    RequestId: str
    LogicalResourceId: str
    PhysicalResourceId: str
    ResourceProperties: dict[str, Any]
    OldResourceProperties: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """The physical ID and the attributes to answer CloudFormation with."""

    physical_resource_id: str
    attributes: dict[str, str] = field(default_factory=dict)


class ResourceFailure(Exception):
    """A failure whose message is the Reason CloudFormation shows."""


def create(event: CloudFormationEvent, client: Any) -> Outcome:
    """Starts the run the properties describe; the run ID becomes the physical ID."""
    request = _validated_request(event)
    run = client.start_run(**request)
    return Outcome(run["id"], run_attributes(run))


def update(event: CloudFormationEvent, client: Any) -> Outcome:
    """Starts nothing: keeps the run and refreshes its attributes.

    The properties are still checked, so an invalid change fails the update
    naming the property instead of being silently accepted.
    """
    _validated_request(event)
    run_id = event["PhysicalResourceId"]
    run = client.get_run(id=run_id)
    return Outcome(run_id, run_attributes(run))


def delete(event: CloudFormationEvent, client: Any) -> Outcome:
    """Leaves the run as it is and succeeds."""
    return Outcome(event.get("PhysicalResourceId", ""))


def _validated_request(event: CloudFormationEvent) -> dict[str, Any]:
    request_id = derive_request_id(event["StackId"], event["LogicalResourceId"], event["RequestId"])
    try:
        return start_run_request(event.get("ResourceProperties", {}), request_id=request_id)
    except PropertyError as error:
        raise ResourceFailure(
            property_failure_reason(event["LogicalResourceId"], error.property_name, error.problem)
        ) from None


def property_failure_reason(logical_resource_id: str, property_name: str, problem: str) -> str:
    """A Reason that names the resource and the property, the allowed values last."""
    resource = logical_resource_id
    if len(resource) > LOGICAL_ID_QUOTE_LIMIT:
        resource = resource[: LOGICAL_ID_QUOTE_LIMIT - 1] + "…"
    reason = f"{resource} property {property_name}: {problem}"
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 1] + "…"


__all__ = [
    "CloudFormationEvent",
    "Outcome",
    "ResourceFailure",
    "create",
    "delete",
    "property_failure_reason",
    "update",
]
