#!/usr/bin/env python3
"""Example app: one stack that starts one HealthOmics run.

The run comes from a StartRun request in the AWS CLI's --cli-input-json form,
named by the context key ``runRequest``:

    npx cdk synth -c runRequest=path/to/request.json
"""
from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk

from cdk_omics_run import OmicsRun

DEFAULT_RUN_REQUEST = Path(__file__).resolve().parent / "examples" / "cram-to-bam.json"


def build_app(app: cdk.App) -> cdk.Stack:
    """Adds the example stack to ``app``."""
    request = app.node.try_get_context("runRequest") or str(DEFAULT_RUN_REQUEST)
    stack = cdk.Stack(app, "OmicsRunExample", description="Starts one AWS HealthOmics workflow run (cdk-omics-run example)")
    run = OmicsRun.from_cli_input_json(stack, "Run", request)
    cdk.CfnOutput(stack, "RunArn", value=run.attr_arn)
    cdk.CfnOutput(stack, "RunId", value=run.attr_id)
    cdk.CfnOutput(stack, "RunUuid", value=run.attr_uuid)
    cdk.CfnOutput(stack, "RunOutputUri", value=run.attr_run_output_uri)
    return stack


if __name__ == "__main__":
    example_app = cdk.App()
    build_app(example_app)
    example_app.synth()
