"""The grant that lets a provider adopt the runs an earlier release started without the stack tag.

Releases before the tag-scoped policy tagged runs ``cdk-omics-run:owner`` (a
digest of the stack and logical ID) but not ``cdk-omics-run:stack``. The
provider's policy allows run actions only on runs tagged with its stack, so
without this grant IAM would hide such a run: a tags-only Update would start a
duplicate, and Delete would leave it running. The handler adopts such a run
once (it checks the owner digest, then adds the stack tag) and then handles it
as any other.

IAM cannot compare the owner digest (CloudFormation has no hash function), so
"owner tag present, stack tag absent" matches the old runs of every stack in
the account and region. The grant is therefore as narrow as the Service
Authorization Reference allows: GetRun (``aws:ResourceTag``) to read such a
run, and TagResource (``aws:ResourceTag``, ``aws:RequestTag``,
``aws:TagKeys``) only to add this stack's tag and nothing else. Cancel, delete
and untag stay with the stack-tagged runs. The IAM User Guide's ``Null``
operator tests a key's absence; ``ForAllValues`` on the multivalued
``aws:TagKeys`` holds for an empty set too, so the ``StringEquals`` on the
request tag also requires that one is sent.

Example::

    for statement in adoption_statements(run_arn, {"StringEquals": {"aws:RequestTag/cdk-omics-run:stack": stack_id}}):
        role.add_to_policy(statement)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import aws_iam as iam

STACK_TAG = "cdk-omics-run:stack"
OWNER_TAG = "cdk-omics-run:owner"
# A run of an earlier release: it carries an owner digest, but no stack.
UNADOPTED_RUN = {f"aws:ResourceTag/{STACK_TAG}": "true", f"aws:ResourceTag/{OWNER_TAG}": "false"}


def adoption_statements(run_arn: str, requested_stack: Mapping[str, Any]) -> list[iam.PolicyStatement]:
    """Reading runs that have an owner tag but no stack tag, and tagging them with this stack only.

    ``requested_stack``: the provider's condition on ``aws:RequestTag/cdk-omics-run:stack`` (this
    stack's ID; or, for the standalone provider, the tag's presence).
    """
    [(operator, tests)] = requested_stack.items()
    return [
        iam.PolicyStatement(
            sid="ReadRunsToAdopt",
            actions=["omics:GetRun"],
            resources=[run_arn],
            conditions={"Null": dict(UNADOPTED_RUN)},
        ),
        iam.PolicyStatement(
            sid="AdoptRuns",
            actions=["omics:TagResource"],
            resources=[run_arn],
            conditions={
                # Null on the resource's tags; for the standalone provider also on the request's tag.
                "Null": {**UNADOPTED_RUN, **(tests if operator == "Null" else {})},
                **({operator: dict(tests)} if operator != "Null" else {}),
                "ForAllValues:StringEquals": {"aws:TagKeys": [STACK_TAG]},
            },
        ),
    ]
