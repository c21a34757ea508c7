"""cdk-nag acknowledgements for the wildcards the construct cannot avoid, each with its reason.

They go through CDK's own ``Validations`` API, so they cost nothing when
cdk-nag is not installed, and a reviewer sees every one in the template
metadata. Each names one wildcard resource, never a whole rule.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge_wildcard(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledges AwsSolutions-IAM5 for one wildcard ``resource``, written as cdk-nag prints it.

    Example::

        acknowledge_wildcard(policy, "arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:run/*",
                             "run IDs are assigned by HealthOmics at deploy time")
    """
    Validations.of(scope).acknowledge(
        Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", reason=reason)
    )
