#!/usr/bin/env python3
"""A two-step cohort pipeline as infrastructure: align each sample, then call each sample's BAM.

The alignment cohort is one batch; the stack waits until every run ended (PROCESSED, up to 12
hours; here 10), allowing a few failed samples. The provider then writes the cohort's outputs
sheet (a CSV: one row per run, with each completed run's ``merged_bam``, read from its output
summary and checked to exist) and, from it, the variant-calling cohort's settings file: one run
per sample whose alignment COMPLETED, on that sample's BAM. The samples whose alignment failed
are skipped, and the stack's ``SkippedSamples`` output says how many.

    node_modules/.bin/cdk synth --app ".venv/bin/python examples/cohort_pipeline.py"
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_omics_run import BatchWaitFor, OmicsRunBatch, RunSetting

BUCKET = "omics-artifacts-01d6xmpl4e72dd32"
SAMPLES = ("NA12878", "NA12891", "NA12892")


def build_cohort_pipeline(app: cdk.App) -> cdk.Stack:
    """Adds the cohort pipeline stack to ``app``."""
    stack = cdk.Stack(app, "OmicsCohortPipeline", description="Two chained AWS HealthOmics cohorts (cdk-omics-run)")
    align = OmicsRunBatch(
        stack,
        "Align",
        workflow_id="1234567",
        output_uri=f"s3://{BUCKET}/cohort/align/",
        parameters={"reference": f"s3://{BUCKET}/ref/GRCh38.fa"},
        runs=[
            RunSetting(sample, parameters={"input_cram": f"s3://{BUCKET}/crams/{sample}.cram"}) for sample in SAMPLES
        ],
        wait_for=BatchWaitFor.PROCESSED,
        wait_timeout=cdk.Duration.hours(10),
        max_failed_runs=1,
    )
    call = OmicsRunBatch.from_outputs(
        stack,
        "CallVariants",
        align,
        parameters={"input_bam": "merged_bam"},  # each run's input_bam: its sample's merged_bam
        default_parameters={"reference": f"s3://{BUCKET}/ref/GRCh38.fa", "emit_gvcf": True},
        workflow_id="7654321",
        output_uri=f"s3://{BUCKET}/cohort/variants/",
    )
    cdk.CfnOutput(stack, "AlignedBams", value=align.outputs_sheet)
    cdk.CfnOutput(stack, "SkippedSamples", value=call.attr_skipped_runs)
    cdk.CfnOutput(stack, "VariantCallingBatchId", value=call.attr_id)
    return stack


if __name__ == "__main__":
    cohort_app = cdk.App()
    build_cohort_pipeline(cohort_app)
    cohort_app.synth()
