"""Acknowledgements for the findings the construct cannot avoid, each with its reason.

cdk-nag's go through CDK's own ``Validations`` API, so they cost nothing when
cdk-nag is not installed, and a reviewer sees every one in the template
metadata; checkov's are the ``checkov`` metadata of one resource. Each names
one rule on one resource (for IAM5, one wildcard resource), never a whole rule.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

CHECKOV_METADATA = "checkov"


def acknowledge_wildcard(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledges AwsSolutions-IAM5 for one wildcard ``resource``, written as cdk-nag prints it.

    Example::

        acknowledge_wildcard(policy, "arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:run/*",
                             "run IDs are assigned by HealthOmics at deploy time")
    """
    Validations.of(scope).acknowledge(
        Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", reason=reason)
    )


def acknowledge_checkov(resource: CfnResource, check_id: str, reason: str) -> None:
    """Skips one checkov check (``CKV_AWS_116``) on one resource, with the reason checkov reports.

    checkov reads the skip from the resource's ``Metadata`` (``checkov: skip: [{id, comment}]``)
    and counts the check as skipped, naming the comment; other resources stay checked.

    Example::

        acknowledge_checkov(function_resource, "CKV_AWS_116", "runs once per deployment; CloudFormation retries it")
    """
    metadata: dict[str, Any] = resource.get_metadata(CHECKOV_METADATA) or {}
    skips = [*metadata.get("skip", []), {"id": check_id, "comment": reason}]
    resource.add_metadata(CHECKOV_METADATA, {**metadata, "skip": skips})
