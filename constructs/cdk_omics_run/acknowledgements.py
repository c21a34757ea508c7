"""Acknowledgements for the findings the construct cannot avoid, each with its reason.

cdk-nag's go through CDK's own ``Validations`` API, so they cost nothing when
cdk-nag is not installed, and a reviewer sees every one in the template
metadata; checkov's are the ``checkov`` metadata of one resource. Each names
one rule on one resource (for IAM5, one wildcard resource), never a whole rule.
"""

from __future__ import annotations

import json
from typing import Any

import jsii
from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct, IValidation

from cdk_omics_run.tokens import is_token

CHECKOV_METADATA = "checkov"


def acknowledge_wildcard(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledges AwsSolutions-IAM5 for one wildcard ``resource``, written as cdk-nag prints it.

    A ``resource`` holding a token (a bucket made in the app: ``arn:<AWS::Partition>:s3:::`` + its
    name + ``/align/*``) is written out once references are final, at synthesis, when a bucket of
    another stack has become an ``Fn::ImportValue``.

    Example::

        acknowledge_wildcard(policy, "arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:run/*",
                             "run IDs are assigned by HealthOmics at deploy time")
    """
    if is_token(resource):
        scope.node.add_validation(_AcknowledgeAtSynthesis(scope, resource, reason))
        return
    for written in _as_rendered(scope, resource):
        Validations.of(scope).acknowledge(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{written}]", reason=reason)
        )


def _as_rendered(scope: IConstruct, resource: str) -> list[str]:
    """``resource`` as written, and as a stack with an explicit environment renders it.

    ``Stack.region`` and ``Stack.account`` are literals when the stack names its
    environment, so the policy shows ``us-east-1`` where cdk-nag would otherwise print
    ``<AWS::Region>``; an acknowledgement that names no finding is harmless.
    """
    stack = Stack.of(scope)
    rendered = resource
    if not is_token(stack.region):
        rendered = rendered.replace("<AWS::Region>", stack.region)
    if not is_token(stack.account):
        rendered = rendered.replace("<AWS::AccountId>", stack.account)
    return [resource] if rendered == resource else [resource, rendered]


@jsii.implements(IValidation)
class _AcknowledgeAtSynthesis:
    """Acknowledges a token-bearing wildcard as cdk-nag will print it, once CDK has resolved references.

    CDK validates the tree after it resolves cross-stack references and before validation
    plugins such as cdk-nag run, so the text written here is the text cdk-nag compares.
    """

    def __init__(self, scope: IConstruct, resource: str, reason: str) -> None:
        self._scope = scope
        self._resource = resource
        self._reason = reason

    def validate(self) -> list[str]:
        flat = flattened_reference(Stack.of(self._scope).resolve(self._resource))
        Validations.of(self._scope).acknowledge(
            Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{flat}]", reason=self._reason)
        )
        return []


def flattened_reference(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag flattens it for its findings.

    ``Fn::Join`` joins, ``Ref`` is ``<LogicalId>``, ``Fn::GetAtt`` is ``<LogicalId.Attribute>``,
    ``Fn::ImportValue`` is its export's name, and ``${X}`` in text is ``<X>``.

    >>> flattened_reference({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "B"}, "/a/*"]]})
    'arn:<AWS::Partition>:s3:::<B>/a/*'
    """
    if isinstance(value, str):
        return value.replace("${", "<").replace("}", ">")
    if isinstance(value, dict):
        if "Fn::Join" in value:
            delimiter, items = value["Fn::Join"]
            return str(delimiter).join(flattened_reference(item) for item in items)
        if "Fn::Sub" in value:
            return flattened_reference(value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            resource, attribute = value["Fn::GetAtt"]
            return f"<{flattened_reference(resource)}.{flattened_reference(attribute)}>"
        if "Fn::ImportValue" in value:
            return flattened_reference(value["Fn::ImportValue"])
        if "Ref" in value:
            return f"<{flattened_reference(value['Ref'])}>"
    return json.dumps(value, separators=(",", ":"))


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
