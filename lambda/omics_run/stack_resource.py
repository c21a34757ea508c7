"""What CloudFormation says about a run's resource: whether the stack has let go of the run.

A wake that finds its run gone must tell a run the stack deleted (the
resource's Delete under CANCEL_AND_DELETE) from one deleted outside the stack.
HealthOmics forgets both alike, so CloudFormation's own record decides.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

logger = logging.getLogger(__name__)


def stack_let_go(cloudformation: Any, stack_id: str, logical_resource_id: str, run_id: str) -> bool:
    """Whether the resource that started ``run_id`` no longer holds it: deleted, replaced, or removed.

    DescribeStackResource answers for a stack deleted up to 90 days before,
    when asked by its unique stack ID (CloudFormation API Reference,
    DescribeStackResource), which is what the provider knows. A resource whose
    status is DELETE_*, or whose physical ID is now another run (an Update
    replaced it), has let go. A logical ID the stack no longer has (an Update
    removed it) is a ValidationError; that error is not documented per cause,
    so any ValidationError counts as let go. Without the stack ID (a wait
    begun by an earlier release, whose messages do not carry it) nothing is
    known, and the answer is False: the wait then fails as it always did.
    Other errors propagate, so the wake is retried.
    """
    if not stack_id:
        return False
    try:
        answer = cloudformation.describe_stack_resource(StackName=stack_id, LogicalResourceId=logical_resource_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ValidationError":
            logger.info("%s is no longer a resource of the stack", logical_resource_id)
            return True
        raise
    detail = answer["StackResourceDetail"]
    return str(detail.get("ResourceStatus", "")).startswith("DELETE_") or detail.get("PhysicalResourceId") != run_id
