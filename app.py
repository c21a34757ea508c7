#!/usr/bin/env python3
"""Example app: one stack that starts one HealthOmics run.

The run comes from a StartRun request in the AWS CLI's --cli-input-json form,
named by the context key ``runRequest``:

    npx cdk synth -c runRequest=path/to/request.json
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from cdk_omics_run import OmicsRun

HERE = Path(__file__).resolve().parent
DEFAULT_RUN_REQUEST = HERE / "examples" / "cram-to-bam.json"

# What the CDK CLI adds to every app it runs.
CLI_DEFAULT_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
}


def cli_equivalent_context() -> dict[str, Any]:
    """cdk.json's context plus the CLI's defaults.

    `python app.py` then writes the same template as `cdk synth`: without it,
    the feature flags in cdk.json would apply only under the CLI. Context the
    CLI passes still takes precedence over these values.
    """
    configured = json.loads((HERE / "cdk.json").read_text(encoding="utf-8")).get("context", {})
    return {**configured, **CLI_DEFAULT_CONTEXT}


def build_app(app: cdk.App) -> cdk.Stack:
    """Adds the example stack to ``app``."""
    request = app.node.try_get_context("runRequest") or str(DEFAULT_RUN_REQUEST)
    stack = cdk.Stack(
        app, "OmicsRunExample", description="Starts one AWS HealthOmics workflow run (cdk-omics-run example)"
    )
    run = OmicsRun.from_cli_input_json(stack, "Run", request)
    cdk.CfnOutput(stack, "RunArn", value=run.attr_arn)
    cdk.CfnOutput(stack, "RunId", value=run.attr_id)
    cdk.CfnOutput(stack, "RunUuid", value=run.attr_uuid)
    cdk.CfnOutput(stack, "RunOutputUri", value=run.attr_run_output_uri)
    return stack


if __name__ == "__main__":
    example_app = cdk.App(context=cli_equivalent_context())
    build_app(example_app)
    example_app.synth()
