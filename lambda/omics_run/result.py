"""Custom::OmicsRunResult: a waiting run's attributes, read once its WaitCondition has succeeded.

The construct makes this resource depend on the run's WaitCondition and points
the run's ``attr_*`` at it, so whatever reads them starts only after the wait,
and sees the run as it is then (Status COMPLETED, or RUNNING).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from omics_run.attributes import run_attributes
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
    """Create and Update: the run's current attributes; the physical ID is the run ID."""
    run_id = str(event.get("ResourceProperties", {}).get("RunId", ""))
    if not RUN_ID.fullmatch(run_id):
        raise ResourceFailure(
            property_failure_reason(event["LogicalResourceId"], "RunId", "missing or not a run ID; allowed: digits")
        )
    try:
        run = client.get_run(id=run_id)
    except ClientError as error:
        raise ResourceFailure(service_failure_reason(event, "GetRun", error)) from None
    return Outcome(run_id, run_attributes(run))


def forget(event: CloudFormationEvent) -> Outcome:
    """Delete: nothing to do; the run belongs to its Custom::OmicsRun."""
    return Outcome(event.get("PhysicalResourceId", ""))
