"""Custom::OmicsRunResult: a waiting run's (or batch's) attributes, read once its WaitCondition has succeeded.

The construct makes this resource depend on the run's WaitCondition and points
the run's ``attr_*`` at it, so whatever reads them starts only after the wait,
and sees the run as it is then (Status COMPLETED, or RUNNING).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from omics_run.attributes import run_attributes
from omics_run.batch_progress import batch_attributes
from omics_run.lifecycle import (
    RUN_ID,
    CloudFormationEvent,
    Outcome,
    ResourceFailure,
    property_failure_reason,
    service_failure_reason,
)

RESOURCE_TYPE = "Custom::OmicsRunResult"


def read(event: CloudFormationEvent, client: Any) -> Outcome:
    """Create and Update: the run's (or, with BatchId, the batch's) current attributes; its ID is the physical ID."""
    properties = event.get("ResourceProperties", {})
    batch = "BatchId" in properties
    property_name, operation = ("BatchId", "GetBatch") if batch else ("RunId", "GetRun")
    resource_id = str(properties.get(property_name, ""))
    if not RUN_ID.fullmatch(resource_id):
        raise ResourceFailure(
            property_failure_reason(
                event["LogicalResourceId"],
                property_name,
                f"missing or not a {'batch' if batch else 'run'} ID; allowed: digits",
            )
        )
    try:
        found = client.get_batch(batchId=resource_id) if batch else client.get_run(id=resource_id)
    except ClientError as error:
        raise ResourceFailure(service_failure_reason(event, operation, error)) from None
    return Outcome(resource_id, batch_attributes(found) if batch else run_attributes(found))


def forget(event: CloudFormationEvent) -> Outcome:
    """Delete: nothing to do; the run belongs to its Custom::OmicsRun."""
    return Outcome(event.get("PhysicalResourceId", ""))
