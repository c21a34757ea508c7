"""A stack holding only the Custom::OmicsRun provider, for templates written without CDK.

Deployed once per account and region, it exports the provider's ServiceToken;
hand-written templates import it with ``Fn::ImportValue``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, CfnParameter, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_omics_run.acknowledgements import acknowledge_wildcard
from cdk_omics_run.documentation import show_init_signature
from cdk_omics_run.provider import PROVIDER_ID, OmicsRunProvider

DEFAULT_EXPORT_NAME = "OmicsRunServiceToken"
RUN_ROLE_ARNS_PARAMETER = "RunRoleArns"
SERVICE_TOKEN_OUTPUT = "ServiceToken"


class OmicsRunProviderStack(Stack):
    """The provider function, its role and log group, and an export of its ServiceToken.

    ``export_name``: the name hand-written templates import (one per account and region).
    ``run_role_arns``: the roles runs may use. When omitted, the template takes
    them as the CommaDelimitedList parameter ``RunRoleArns`` at deploy time
    (wildcards allowed, for example ``arn:aws:iam::123456789012:role/omics-*``).
    Other keyword arguments are passed on to ``Stack``.

    Example::

        app = cdk.App()
        OmicsRunProviderStack(app, "OmicsRunProvider")  # RunRoleArns is asked at deploy time

        # In a template that is not written with CDK:
        #   ServiceToken: !ImportValue OmicsRunServiceToken
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        export_name: str = DEFAULT_EXPORT_NAME,
        run_role_arns: Sequence[str] | None = None,
        **stack_props: Any,
    ) -> None:
        stack_props.setdefault(
            "description",
            f"Custom::OmicsRun provider (cdk-omics-run): starts AWS HealthOmics runs; "
            f"exports its ServiceToken as {export_name}",
        )
        super().__init__(scope, id, **stack_props)
        # Its runs are tagged with their own stacks: IAM requires the tag, not this stack's ID.
        self.provider = OmicsRunProvider(self, PROVIDER_ID, serves_other_stacks=True)
        self.run_role_arns: CfnParameter | None = None

        if run_role_arns is not None:
            for role_arn in run_role_arns:
                self.provider.allow_pass_role(role_arn)
        else:
            # No run declares its role in this stack: the roles are a deploy-time choice.
            self.run_role_arns = CfnParameter(
                self,
                RUN_ROLE_ARNS_PARAMETER,
                type="CommaDelimitedList",
                description="ARNs of the IAM roles that HealthOmics runs may use (the RoleArn of each "
                "Custom::OmicsRun), comma-separated; wildcards allowed, e.g. arn:aws:iam::123456789012:role/omics-*",
            )
            self.provider.role.add_to_policy(
                iam.PolicyStatement(
                    # Not "PassRunRoles": allow_pass_role owns that Sid, and Sids must be unique.
                    sid="PassDeclaredRunRoles",
                    actions=["iam:PassRole"],
                    resources=self.run_role_arns.value_as_list,
                    conditions={"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}},
                )
            )

        # The runs live in other templates: their workflows and run groups are
        # known only when those deploy, so StartRun is allowed on any of them.
        self.provider.role.add_to_policy(
            iam.PolicyStatement(
                sid="StartRunsOfAnyTemplate",
                actions=["omics:StartRun"],
                resources=[
                    # Shared and Ready2Run workflows belong to other accounts; workflow/* also
                    # covers their versions (workflow/${Id}/version/${VersionName}).
                    f"arn:{self.partition}:omics:{self.region}:*:workflow/*",
                    f"arn:{self.partition}:omics:{self.region}:{self.account}:runGroup/*",
                    f"arn:{self.partition}:omics:{self.region}:{self.account}:runCache/*",
                    f"arn:{self.partition}:omics:{self.region}:{self.account}:configuration/*",
                ],
                conditions={"Null": {"aws:RequestTag/cdk-omics-run:stack": "false"}},
            )
        )
        policy = self.provider.policy
        acknowledge_wildcard(
            policy,
            "arn:<AWS::Partition>:omics:<AWS::Region>:*:workflow/*",
            "the provider serves templates written without CDK, whose workflows (own, shared or Ready2Run) "
            "are named only when they deploy",
        )
        acknowledge_wildcard(
            policy,
            "arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:runGroup/*",
            "the provider serves templates written without CDK, whose run groups are named only when they deploy",
        )
        acknowledge_wildcard(
            policy,
            "arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:runCache/*",
            "the provider serves templates written without CDK, whose run caches are named only when they deploy",
        )
        acknowledge_wildcard(
            policy,
            "arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:configuration/*",
            "the provider serves templates written without CDK, whose configurations are named only when they deploy",
        )

        # Custom::OmicsRunBatch: StartRunBatch names the same workflows, run groups and caches (its own
        # runs are allowed by the statement above), then the provider manages the batches it started.
        self.provider.allow_start_run_batch(
            f"arn:{self.partition}:omics:{self.region}:*:workflow/*",
            f"arn:{self.partition}:omics:{self.region}:{self.account}:runGroup/*",
            f"arn:{self.partition}:omics:{self.region}:{self.account}:runCache/*",
        )

        # Hand-written templates may ask to wait (WaitFor with a WaitHandle): the wake-up queue, and
        # ListRuns, with which a batch's wait names its failed runs.
        self.provider.enable_waiting()
        # And their runs' status-change events end those waits, for runs given WaitHandleLogicalId.
        self.provider.enable_run_status_events()
        self.provider.allow_list_runs()

        self.service_token_output = CfnOutput(
            self,
            SERVICE_TOKEN_OUTPUT,
            value=self.provider.service_token,
            export_name=export_name,
            description="ServiceToken of Custom::OmicsRun resources (the provider function's ARN)",
        )


__all__ = ["DEFAULT_EXPORT_NAME", "OmicsRunProviderStack"]


# jsii's metaclass hides __init__'s arguments from help() and inspect.signature().
show_init_signature(OmicsRunProviderStack)
