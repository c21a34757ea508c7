#!/usr/bin/env python3
"""A waiting HealthOmics run in a stack that cdk-nag's HIPAA Security and NIST 800-53 R5 packs pass.

The provider is configured before the run: its log group, environment
variables and queues are encrypted with a customer-managed KMS key (rotation
on), and its function runs in private isolated subnets (no NAT, no internet
route) that reach HealthOmics, SQS and S3 through VPC endpoints. The VPC logs
its traffic to a log group encrypted with the same key, and its default
security group is closed. The run role is generated from the run's declared
inputs; the buckets themselves, and their encryption, are yours.

    node_modules/.bin/cdk synth --app ".venv/bin/python examples/compliant.py"
"""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from cdk_omics_run import OmicsRun, OmicsRunProvider, WaitFor
from cdk_omics_run.acknowledgements import acknowledge_checkov

BUCKET = "omics-artifacts-01d6xmpl4e72dd32"

# aws-cdk-lib's own function behind restrict_default_security_group: CloudFormation invokes it when the
# VPC deploys, to revoke the default security group's rules. aws-cdk-lib has no setting for its network,
# dead-letter queue or concurrency; cdk-nag does not inspect it (no CfnFunction), checkov does.
RESTRICT_DEFAULT_SG_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"
RESTRICT_DEFAULT_SG_CHECKS = {
    "CKV_AWS_115": "aws-cdk-lib's handler that closes the VPC's default security group runs once per deployment "
    "of the VPC; aws-cdk-lib has no concurrency setting for it",
    "CKV_AWS_116": "aws-cdk-lib's handler that closes the VPC's default security group is invoked by CloudFormation, "
    "which reports its failure in the deployment; aws-cdk-lib has no dead-letter queue setting for it",
    "CKV_AWS_117": "aws-cdk-lib's handler that closes the VPC's default security group calls the EC2 API while the "
    "VPC deploys, before it has endpoints; aws-cdk-lib has no VPC setting for it",
}


def build_compliant(app: cdk.App) -> cdk.Stack:
    """Adds the compliant stack to ``app``."""
    stack = cdk.Stack(
        app, "OmicsCompliant", description="A waiting AWS HealthOmics run, encrypted and in a VPC (cdk-omics-run)"
    )
    key = kms.Key(
        stack, "Key", enable_key_rotation=True, description="Encrypts the Custom::OmicsRun provider's logs and queues"
    )
    isolated = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
        ],
        restrict_default_security_group=True,
    )
    handler = cast(cdk.CfnResource, stack.node.find_child(RESTRICT_DEFAULT_SG_PROVIDER).node.find_child("Handler"))
    for check_id, reason in RESTRICT_DEFAULT_SG_CHECKS.items():
        acknowledge_checkov(handler, check_id, reason)
    _log_traffic(stack, vpc, key)

    # Before the first run: the provider every run of the stack shares, with its VPC endpoints.
    # Reserved concurrency needs an account quota of at least 110 (Lambda keeps 100 unreserved).
    OmicsRunProvider.configure(
        stack,
        encryption_key=key,
        vpc=vpc,
        vpc_subnets=isolated,
        create_vpc_endpoints=True,
        reserved_concurrent_executions=10,
    )
    align = OmicsRun(
        stack,
        "Align",
        workflow_id="1234567",
        name="align-NA12878",
        output_uri=f"s3://{BUCKET}/compliant/align/",
        parameters={"sample_name": "NA12878", "input_cram": f"s3://{BUCKET}/NA12878.cram"},
        wait_for=WaitFor.COMPLETED,
        wait_timeout=cdk.Duration.hours(6),
    )
    cdk.CfnOutput(stack, "AlignedReads", value=align.attr_run_output_uri)
    return stack


def _log_traffic(stack: cdk.Stack, vpc: ec2.Vpc, key: kms.IKey) -> None:
    """VPC flow logs to a log group encrypted with ``key``, written by a role with a customer-managed policy."""
    # The key policy statement OmicsRunProvider.configure adds lets CloudWatch Logs use the key for this group too.
    group = logs.LogGroup(stack, "FlowLogs", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR)
    role = iam.Role(stack, "FlowLogRole", assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"))
    policy = iam.ManagedPolicy(
        stack,
        "FlowLogPolicy",
        roles=[role],
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[group.log_group_arn],
            )
        ],
    )
    flow_log = ec2.FlowLog(
        stack,
        "FlowLog",
        resource_type=ec2.FlowLogResourceType.from_vpc(vpc),
        # The policy above holds the role's permissions: CDK's grants would add an inline one.
        destination=ec2.FlowLogDestination.to_cloud_watch_logs(group, role.without_policy_updates()),
    )
    flow_log.node.add_dependency(policy)


if __name__ == "__main__":
    compliant_app = cdk.App()
    build_compliant(compliant_app)
    compliant_app.synth()
