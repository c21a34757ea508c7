"""The runs and batches of a deployed stack, nested stacks included, from ListStackResources.

ListStackResources pages (``NextToken``) through every resource of a stack, where
DescribeStackResources stops at 100 (CloudFormation API reference, DescribeStackResources: "only
the first 100 resources will be returned"). A nested stack is a resource of type
``AWS::CloudFormation::Stack`` whose physical ID is its stack ID (CloudFormation user guide,
"Nested stacks"); its own runs are listed under ``Parent/NestedLogicalId``.

Example::

    for resource in stack_resources(cloudformation, "Genomics"):
        print(resource.stack, resource.logical_id, resource.kind, resource.physical_id)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from cdk_omics_run.status.errors import StatusError, error_code, explain

RUN_TYPE = "Custom::OmicsRun"
BATCH_TYPE = "Custom::OmicsRunBatch"
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
WAIT_CONDITION_TYPE = "AWS::CloudFormation::WaitCondition"
# CDK's logical IDs end with an 8-character hash of the construct path (aws-cdk-lib, "Logical IDs").
_CDK_HASH = re.compile(r"[0-9A-F]{8}$")


@dataclass(frozen=True)
class TrackedResource:
    """A ``Custom::OmicsRun`` or ``Custom::OmicsRunBatch`` of a stack.

    ``physical_id`` is the run or batch ID (None while CloudFormation has not created it yet).
    ``wait`` is the status of the WaitCondition that waits for the run (None when it does not wait), and
    ``wait_for`` what it waits for (the resource's ``WaitFor`` property: RUNNING, COMPLETED ...), when
    the template says.
    """

    stack: str
    logical_id: str
    kind: Literal["run", "batch"]
    physical_id: str | None
    resource_status: str
    wait: str | None
    wait_for: str | None = None


def stack_resources(cloudformation: Any, stack_name: str) -> list[TrackedResource]:
    """Every run and batch of ``stack_name`` and of its nested stacks, in the order CloudFormation lists them."""
    return list(_tracked(cloudformation, stack_name, stack_name))


def _tracked(cloudformation: Any, stack_id: str, label: str) -> Iterator[TrackedResource]:
    summaries = list(_summaries(cloudformation, stack_id, label))
    waits = [s for s in summaries if s["ResourceType"] == WAIT_CONDITION_TYPE]
    # What each wait waits for is in the template only: read it once, and only for a stack with waits.
    wait_targets = _wait_targets(cloudformation, stack_id) if waits else {}
    for summary in summaries:
        kind = {RUN_TYPE: "run", BATCH_TYPE: "batch"}.get(summary["ResourceType"])
        if kind is not None:
            wait = _wait_of(summary["LogicalResourceId"], waits)
            yield TrackedResource(
                stack=label,
                logical_id=summary["LogicalResourceId"],
                kind=kind,  # type: ignore[arg-type]  # one of the two literals, by the mapping above
                physical_id=summary.get("PhysicalResourceId") or None,
                resource_status=summary["ResourceStatus"],
                wait=wait,
                wait_for=wait_targets.get(summary["LogicalResourceId"]) if wait else None,
            )
        elif summary["ResourceType"] == NESTED_STACK_TYPE and summary.get("PhysicalResourceId"):
            yield from _tracked(
                cloudformation, summary["PhysicalResourceId"], f"{label}/{summary['LogicalResourceId']}"
            )


def _summaries(cloudformation: Any, stack_id: str, label: str) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        request = {"StackName": stack_id} | ({"NextToken": token} if token else {})
        try:
            page = cloudformation.list_stack_resources(**request)
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message", "")
            if error_code(error) == "ValidationError" and "does not exist" in message:
                region = cloudformation.meta.region_name
                fix = "check the name, and the region (--region or AWS_DEFAULT_REGION)"
                raise StatusError(f"no stack named {label} in {region}: {fix}") from error
            raise StatusError(explain(error, "cloudformation:ListStackResources", f"stack {label}")) from error
        yield from page.get("StackResourceSummaries", [])
        token = page.get("NextToken")
        if not token:
            return


def _wait_targets(cloudformation: Any, stack_id: str) -> dict[str, str]:
    """Logical ID -> ``WaitFor`` of each run and batch in the stack's template (GetTemplate).

    botocore hands a JSON template over parsed; a YAML one (hand-written) stays text and is not read.
    Without ``cloudformation:GetTemplate`` the targets are simply unknown: the waits' states still show.
    """
    try:
        body = cloudformation.get_template(StackName=stack_id).get("TemplateBody")
    except ClientError:
        return {}
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return {}
    resources = body.get("Resources", {}) if isinstance(body, dict) else {}
    return {
        logical_id: str(resource["Properties"]["WaitFor"])
        for logical_id, resource in resources.items()
        if isinstance(resource, dict)
        and resource.get("Type") in (RUN_TYPE, BATCH_TYPE)
        and isinstance(resource.get("Properties"), dict)
        and isinstance(resource["Properties"].get("WaitFor"), str)
    }


def _wait_of(run_logical_id: str, waits: list[dict[str, Any]]) -> str | None:
    """The status of the run's WaitCondition: CDK names it ``<run path>Wait<digest>Condition<hash>``.

    A run's logical ID is its construct path and a hash; its wait condition's path starts with
    the same construct path, then ``Wait``.
    """
    prefix = _CDK_HASH.sub("", run_logical_id) + "Wait"
    found = [w for w in waits if w["LogicalResourceId"].startswith(prefix) and "Condition" in w["LogicalResourceId"]]
    return found[-1]["ResourceStatus"] if found else None
