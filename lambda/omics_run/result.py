"""Custom::OmicsRunResult: a waiting run's (or batch's) attributes, read once its WaitCondition has succeeded.

The construct makes this resource depend on the run's WaitCondition and points
the run's ``attr_*`` at it, so whatever reads them starts only after the wait,
and sees the run as it is then (Status COMPLETED, or RUNNING).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from omics_run import resource_types, run_outputs
from omics_run.attributes import run_attributes
from omics_run.batch_progress import batch_attributes
from omics_run.lifecycle import (
    RUN_ID,
    CloudFormationEvent,
    Outcome,
    ResourceFailure,
    property_failure_reason,
    resource_reason,
    service_failure_reason,
)

RESOURCE_TYPE = resource_types.RESULT


def read(event: CloudFormationEvent, client: Any, s3: Callable[[], Any] = lambda: None) -> Outcome:
    """Create and Update: the run's (or, with BatchId, the batch's) current attributes; its ID is the physical ID.

    With ``Outputs``, the run's declared outputs instead, read from S3 with the client ``s3()`` makes
    (see ``run_outputs``).
    """
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
    if "Outputs" in properties and not batch:
        return Outcome(resource_id, _outputs_of(event, found, properties["Outputs"], s3()))
    return Outcome(resource_id, batch_attributes(found) if batch else run_attributes(found))


def _outputs_of(event: CloudFormationEvent, run: Mapping[str, Any], outputs: Any, s3: Any) -> dict[str, str]:
    """The declared outputs of a COMPLETED run, as attributes; any missing one fails, naming it."""
    logical_id = event["LogicalResourceId"]
    try:
        declared = run_outputs.declared_outputs(outputs)
    except ValueError as error:
        raise ResourceFailure(property_failure_reason(logical_id, "Outputs", str(error))) from None
    if run.get("status") != "COMPLETED":
        raise ResourceFailure(
            resource_reason(
                logical_id, f"run {run.get('id')} is {run.get('status')}: outputs are read once it is COMPLETED"
            )
        )
    try:
        return run_outputs.output_values(declared, run, s3)
    except run_outputs.OutputProblem as problem:
        raise ResourceFailure(resource_reason(logical_id, f"run {run.get('id')}: {problem}")) from None
    except ClientError as error:
        raise ResourceFailure(service_failure_reason(event, error.operation_name, error)) from None


def forget(event: CloudFormationEvent) -> Outcome:
    """Delete: nothing to do; the run belongs to its Custom::OmicsRun."""
    return Outcome(event.get("PhysicalResourceId", ""))
