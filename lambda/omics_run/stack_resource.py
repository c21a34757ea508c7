"""What CloudFormation says about a run's resource: whether the stack has let go of the run.

A wake that finds its run gone must tell a run the stack deleted (the
resource's Delete under CANCEL_AND_DELETE) from one deleted outside the stack.
HealthOmics forgets both alike, so CloudFormation's own record decides.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)


def resource_detail(cloudformation: Any, stack_id: str, logical_resource_id: str) -> Mapping[str, Any] | None:
    """DescribeStackResource's ``StackResourceDetail``, or None for a logical ID the stack does not have.

    That answer is a ValidationError (CloudFormation API Reference); the error is not
    documented per cause, so any ValidationError means "not there". Other errors propagate.
    """
    try:
        answer = cloudformation.describe_stack_resource(StackName=stack_id, LogicalResourceId=logical_resource_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ValidationError":
            return None
        raise
    detail: Mapping[str, Any] = answer["StackResourceDetail"]
    return detail


def is_deleted(detail: Mapping[str, Any]) -> bool:
    """A DELETE_* status: the stack deleted it (a deleted stack's resources stay described, DELETE_COMPLETE)."""
    return str(detail.get("ResourceStatus", "")).startswith("DELETE_")


def stack_let_go(cloudformation: Any, stack_id: str, logical_resource_id: str, run_id: str) -> bool:
    """Whether the resource that started ``run_id`` no longer holds it: deleted, replaced, or removed.

    DescribeStackResource answers for a stack deleted up to 90 days before,
    when asked by its unique stack ID (CloudFormation API Reference,
    DescribeStackResource), which is what the provider knows. A resource whose
    status is DELETE_*, or whose physical ID is now another run (an Update
    replaced it), has let go, and so has a logical ID the stack no longer has
    (an Update removed it). Without the stack ID (a wait
    begun by an earlier release, whose messages do not carry it) nothing is
    known, and the answer is False: the wait then fails as it always did.
    Other errors propagate, so the wake is retried.
    """
    if not stack_id:
        return False
    detail = resource_detail(cloudformation, stack_id, logical_resource_id)
    if detail is None:
        logger.info("%s is no longer a resource of the stack", logical_resource_id)
        return True
    return is_deleted(detail) or detail.get("PhysicalResourceId") != run_id
