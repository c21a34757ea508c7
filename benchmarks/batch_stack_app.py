#!/usr/bin/env python3
"""The CDK app batch_benchmark.py synthesizes: a cohort of N samples in one stack, built one of three ways.

    CDK_OUTDIR=out python benchmarks/batch_stack_app.py --approach batch-runs --runs 1000
    CDK_OUTDIR=out python benchmarks/batch_stack_app.py --approach batch-sheet --runs 1000 --sheet samples.csv
    CDK_OUTDIR=out python benchmarks/batch_stack_app.py --approach per-sample --runs 100

``batch-runs``: one ``OmicsRunBatch`` given ``runs=[RunSetting(...), ...]``.
``batch-sheet``: one ``OmicsRunBatch.from_sample_sheet`` reading a CSV written
by :func:`write_sample_sheet` (not timed: it is written before the app runs).
``per-sample``: one ``OmicsRun`` per sample. Every approach starts the same
workflow with the same output URI, each sample with its own ``input_cram``
and the shared ``reference`` parameter (the sheet's batch through
``default_parameters``). No ``role_arn``, so run roles are generated.

The app prints one JSON line on stdout: seconds spent importing the library,
building the constructs and in ``app.synth()``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

BENCHMARKS_DIR = Path(__file__).resolve().parent
# The library's source, whether or not the development install's .pth file is there.
sys.path.insert(0, str(BENCHMARKS_DIR.parent / "constructs"))

from stack_app import project_context  # noqa: E402 - the same context as the other benchmark app

APPROACHES = ("batch-runs", "batch-sheet", "per-sample")
STACK_NAME = "OmicsRunBatchBenchmark"
WORKFLOW_ID = "1234567"
OUTPUT_URI = "s3://my-bucket/cohort/"
REFERENCE = "s3://my-bucket/ref/GRCh38.fa"


def sample_id(index: int) -> str:
    return f"S{index:06d}"


def cram_uri(index: int) -> str:
    return f"s3://my-bucket/crams/{sample_id(index)}.cram"


def write_sample_sheet(path: Path, runs: int) -> None:
    """The CSV sample sheet of ``runs`` samples: a header, then ``sample_id,cram_uri`` per sample."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sample_id", "cram_uri"])
        writer.writerows([sample_id(index), cram_uri(index)] for index in range(runs))


def add_batch_from_runs(stack: Any, runs: int) -> None:
    from cdk_omics_run import OmicsRunBatch, RunSetting

    OmicsRunBatch(
        stack,
        "Cohort",
        workflow_id=WORKFLOW_ID,
        output_uri=OUTPUT_URI,
        parameters={"reference": REFERENCE},
        runs=[RunSetting(sample_id(index), parameters={"input_cram": cram_uri(index)}) for index in range(runs)],
    )


def add_batch_from_sheet(stack: Any, sheet: Path) -> None:
    from cdk_omics_run import OmicsRunBatch

    OmicsRunBatch.from_sample_sheet(
        stack,
        "Cohort",
        sheet,
        run_setting_id="sample_id",
        parameters={"input_cram": "cram_uri"},
        default_parameters={"reference": REFERENCE},
        workflow_id=WORKFLOW_ID,
        output_uri=OUTPUT_URI,
    )


def add_runs_per_sample(stack: Any, runs: int) -> None:
    from cdk_omics_run import OmicsRun

    for index in range(runs):
        OmicsRun(
            stack,
            f"S{index}",
            workflow_id=WORKFLOW_ID,
            output_uri=OUTPUT_URI,
            parameters={"reference": REFERENCE, "input_cram": cram_uri(index)},
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approach", choices=APPROACHES, required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--sheet", type=Path, help="the CSV sample sheet (batch-sheet only)")
    args = parser.parse_args(argv)
    if args.approach == "batch-sheet" and args.sheet is None:
        parser.error("--approach batch-sheet needs --sheet")

    imported = time.perf_counter()
    import aws_cdk as cdk

    import cdk_omics_run  # noqa: F401 - imported here so that its import is not counted as building

    started = time.perf_counter()
    app = cdk.App(context=project_context())
    stack = cdk.Stack(app, STACK_NAME)
    if args.approach == "batch-runs":
        add_batch_from_runs(stack, args.runs)
    elif args.approach == "batch-sheet":
        add_batch_from_sheet(stack, args.sheet)
    else:
        add_runs_per_sample(stack, args.runs)
    built = time.perf_counter()
    app.synth()
    finished = time.perf_counter()
    report = {
        "import_seconds": started - imported,
        "construct_seconds": built - started,
        "synth_seconds": finished - built,
        "in_process_seconds": finished - started,
    }
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
