#!/usr/bin/env python3
"""A workflow kept as code: the folder examples/workflows/cram-to-bam becomes a HealthOmics
workflow, and a run of its current version.

Each deploy zips the folder as a CDK asset. The first creates the workflow; a
later one with any file changed adds a version to the same workflow ID and
runs the sample again on it; an unchanged folder changes nothing.

    node_modules/.bin/cdk synth --app ".venv/bin/python examples/workflow_from_folder.py"
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk

from cdk_omics_run import OmicsRun, OmicsWorkflow

ROLE_ARN = "arn:aws:iam::123456789012:role/omics-service-role-serviceRole-W8O1XMPL7QZ"
DATA = "s3://omics-artifacts-01d6xmpl4e72dd32"
WORKFLOW_FOLDER = Path(__file__).resolve().parent / "workflows" / "cram-to-bam"


def build_workflow_stack(app: cdk.App) -> cdk.Stack:
    """Adds the stack: the workflow from its folder, and one run of it."""
    stack = cdk.Stack(
        app,
        "OmicsWorkflowFromFolder",
        description="An AWS HealthOmics workflow from a folder, and a run of it (cdk-omics-run example)",
    )
    workflow = OmicsWorkflow.from_directory(stack, "CramToBam", WORKFLOW_FOLDER, retain_versions=5)
    run = OmicsRun(
        stack,
        "NA12878",
        workflow=workflow,
        role_arn=ROLE_ARN,
        output_uri=f"{DATA}/cram-to-bam/",
        parameters={
            "input_cram": f"{DATA}/NA12878.cram",
            "reference_fasta": f"{DATA}/Homo_sapiens_assembly38.fasta",
            "sample_name": "NA12878",
        },
    )
    cdk.CfnOutput(stack, "WorkflowId", value=workflow.workflow_id)
    cdk.CfnOutput(stack, "WorkflowVersion", value=workflow.latest_version_name or "")
    cdk.CfnOutput(stack, "RunId", value=run.attr_id)
    return stack


if __name__ == "__main__":
    workflow_app = cdk.App()
    build_workflow_stack(workflow_app)
    workflow_app.synth()
