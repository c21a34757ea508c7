#!/usr/bin/env python3
"""The CDK app the benchmark synthesizes: N HealthOmics runs in one stack, built one of two ways.

    CDK_OUTDIR=out python benchmarks/stack_app.py --variant omics-run --runs 50
    CDK_OUTDIR=out python benchmarks/stack_app.py --variant aws-custom-resource --runs 50

``omics-run`` uses this library's ``OmicsRun``; ``aws-custom-resource`` is what a
user would write with CDK's built-in ``AwsCustomResource`` to make the same
StartRun call. Both start the same runs with the same members, so the
templates differ only by how the call is made.

The app prints one JSON line on stdout: the seconds spent building the
constructs and the seconds spent in ``app.synth()``, so that the benchmark
can tell them apart from interpreter and jsii start-up.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

VARIANTS = ("omics-run", "aws-custom-resource")
STACK_NAME = "OmicsRunBenchmark"

# The request of examples/cram-to-bam.json (the AWS CLI reference's example),
# copied here so that edits to the examples never change what is measured.
ROLE_ARN = "arn:aws:iam::123456789012:role/omics-service-role-serviceRole-W8O1XMPL7QZ"
BASE_REQUEST: dict[str, Any] = {
    "workflowId": "1234567",
    "roleArn": ROLE_ARN,
    "outputUri": "s3://omics-artifacts-01d6xmpl4e72dd32/workflow-output/",
    "runGroupId": "1234567",
    "priority": 1,
    "storageCapacity": 10,
    "logLevel": "ALL",
    "parameters": {
        "input_cram": "s3://omics-artifacts-01d6xmpl4e72dd32/NA12878.cram",
        "ref_dict": "s3://omics-artifacts-01d6xmpl4e72dd32/Homo_sapiens_assembly38.dict",
        "ref_fasta": "s3://omics-artifacts-01d6xmpl4e72dd32/Homo_sapiens_assembly38.fasta",
        "ref_fasta_index": "omics-artifacts-01d6xmpl4e72dd32/Homo_sapiens_assembly38.fasta.fai",
    },
}

# What the CDK CLI adds to every app it runs; with cdk.json's context this makes
# `python stack_app.py` produce what `cdk synth` would (path metadata and the
# CDKMetadata resource count towards template bytes for both variants alike).
CLI_DEFAULT_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
}


def run_request(index: int) -> dict[str, Any]:
    """The StartRun request of run ``index``: one sample per run, as a batch of samples would be."""
    sample = f"NA{12878 + index}"
    return {
        **BASE_REQUEST,
        "name": f"cram-to-bam-{sample}",
        "parameters": {"sample_name": sample, **BASE_REQUEST["parameters"]},
    }


def project_context() -> dict[str, Any]:
    """cdk.json's context (the project's feature flags) plus the CLI's defaults."""
    configured = json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {})
    return {**configured, **CLI_DEFAULT_CONTEXT}


def add_omics_runs(stack: Any, runs: int) -> None:
    """N ``OmicsRun`` constructs, straight from the CLI-form requests."""
    from cdk_omics_run import OmicsRun

    for index in range(runs):
        OmicsRun.from_cli_input_json(stack, f"Run{index}", run_request(index))


def add_aws_custom_resources(stack: Any, runs: int) -> None:
    """N ``AwsCustomResource`` constructs making the same StartRun call, as a user would write them.

    ``from_sdk_calls`` grants ``omics:StartRun``; StartRun also needs
    ``iam:PassRole`` on the run role, which ``from_sdk_calls`` cannot know, so
    it is added to the (shared) provider role through ``grant_principal``.
    """
    from aws_cdk import aws_iam as iam
    from aws_cdk import custom_resources as cr

    for index in range(runs):
        resource = cr.AwsCustomResource(
            stack,
            f"Run{index}",
            on_create=cr.AwsSdkCall(
                service="Omics",
                action="startRun",
                parameters=run_request(index),
                physical_resource_id=cr.PhysicalResourceId.from_response("id"),
            ),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE),
        )
        resource.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[ROLE_ARN],
                conditions={"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}},
            )
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--runs", type=int, required=True)
    args = parser.parse_args(argv)

    import aws_cdk as cdk

    started = time.perf_counter()
    app = cdk.App(context=project_context())
    stack = cdk.Stack(app, STACK_NAME)
    if args.variant == "omics-run":
        add_omics_runs(stack, args.runs)
    else:
        add_aws_custom_resources(stack, args.runs)
    built = time.perf_counter()
    app.synth()
    finished = time.perf_counter()
    json.dump({"construct_seconds": built - started, "synth_seconds": finished - built}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
