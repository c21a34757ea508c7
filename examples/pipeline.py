#!/usr/bin/env python3
"""A two-step genomics pipeline as infrastructure: run B reads the file run A produced.

Run A (alignment) may take hours: the stack waits for it to be COMPLETED
through a CloudFormation WaitCondition (up to 12 hours; here 6). Run B
(variant calling) then starts on A's merged BAM, named in A's output summary
and checked to exist once A completes. If A fails, or did not produce the
BAM, the deploy fails saying so and B never starts. When B is done, an
EventBridge rule on its status changes starts whatever comes next, however
long B takes.

    node_modules/.bin/cdk synth --app ".venv/bin/python examples/pipeline.py"
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_omics_run import DeletePolicy, OmicsRun, WaitFor

ROLE_ARN = "arn:aws:iam::123456789012:role/omics-service-role-serviceRole-W8O1XMPL7QZ"
OUTPUT = "s3://omics-artifacts-01d6xmpl4e72dd32/pipeline"


def build_pipeline(app: cdk.App) -> cdk.Stack:
    """Adds the pipeline stack to ``app``."""
    stack = cdk.Stack(app, "OmicsPipeline", description="Two chained AWS HealthOmics runs (cdk-omics-run example)")
    align = OmicsRun(
        stack,
        "Align",
        workflow_id="1234567",
        role_arn=ROLE_ARN,
        name="align-NA12878",
        output_uri=f"{OUTPUT}/align/",
        parameters={"sample_name": "NA12878", "input_cram": "s3://omics-artifacts-01d6xmpl4e72dd32/NA12878.cram"},
        wait_for=WaitFor.COMPLETED,
        wait_timeout=cdk.Duration.hours(6),
        # Keep the finished alignment when the stack goes: its outputs feed later runs.
        delete_policy=DeletePolicy.LEAVE,
    )
    call = OmicsRun(
        stack,
        "CallVariants",
        workflow_id="7654321",
        role_arn=ROLE_ARN,
        name="call-NA12878",
        output_uri=f"{OUTPUT}/variants/",
        parameters={"sample_name": "NA12878", "input_bam": align.output("merged_bam"), "emit_gvcf": True},
    )
    # Beyond what a stack can wait for: react to B's completion, whenever it comes.
    call.on_status_change("OnVariantsCalled", statuses=["COMPLETED", "FAILED"])
    cdk.CfnOutput(stack, "AlignedReads", value=align.output("merged_bam"))
    cdk.CfnOutput(stack, "VariantCallingRunId", value=call.attr_id)
    return stack


if __name__ == "__main__":
    pipeline_app = cdk.App()
    build_pipeline(pipeline_app)
    pipeline_app.synth()
