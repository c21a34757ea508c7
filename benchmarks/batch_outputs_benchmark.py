#!/usr/bin/env python3
"""A processed 10,000-run batch's outputs sheet, and the next cohort's settings built from it; run on demand.

    .venv/bin/python benchmarks/batch_outputs_benchmark.py              # 10,000 runs: a few minutes on 2 cores
    .venv/bin/python benchmarks/batch_outputs_benchmark.py --runs 1000

The handler runs in this process against the test suite's stand-ins over loopback HTTP: the
HealthOmics stand-in holds one batch submitted from an S3 settings file, whose runs are 90%
COMPLETED (each with its file and output summary in moto's S3, as HealthOmics writes them)
and 10% FAILED. One Create of ``Custom::OmicsRunBatchOutputs`` (one output name declared)
is replaced by its parts (one Create of ``Custom::OmicsRunBatchOutputsPart`` per
4,000 runs, each one invocation) and one Create of ``Custom::OmicsRunBatchOutputs`` joining them;
one Create of ``Custom::OmicsRunBatchSettings`` builds the next cohort's
settings file from it. Reported per resource: the invocation's wall time, the service calls
the stand-ins recorded, and an *estimated* Lambda cost in GB-s (wall time x the provider's
256 MB; Lambda bills the duration the same way, but a real invocation talks to real
services, whose latency this does not measure).

Prints a markdown table (progress on stderr). This is not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path[:0] = [str(REPO_ROOT / "tests"), str(REPO_ROOT / "lambda")]

FUNCTION_MEMORY_GB = 256 / 1024  # the provider's memory_size (provider.py)
FAILED_EVERY = 10  # one run in ten fails upstream
PAGES_PER_PART = 40  # as the construct declares its parts (cdk_omics_run.batch_outputs)


def seed(omics: Any, bucket: Any, runs: int) -> str:
    """A processed batch of ``runs`` runs under a folder of its own; its batch ID."""
    import boto3

    client = boto3.session.Session().client("omics")
    folder = uuid.uuid4().hex[:8]
    batch = client.start_run_batch(
        defaultRunSetting={
            "workflowId": "1234567",
            "roleArn": "arn:aws:iam::123456789012:role/r",
            "outputUri": f"s3://{bucket.bucket}/{folder}/align/",
        },
        batchRunSettings={"s3UriSettings": f"s3://{bucket.bucket}/{folder}/settings.json"},
    )
    run_ids = omics.submit_batch(batch["id"], [{"runSettingId": f"sample-{n:05d}"} for n in range(runs)])
    bucket._ensure_bucket()
    s3 = bucket._s3()

    def finish(numbered: tuple[int, str]) -> None:
        n, run_id = numbered
        if n % FAILED_EVERY == FAILED_EVERY - 1:
            omics.set_status(run_id, "FAILED")
        else:
            omics.complete_with_outputs(run_id, s3, {"merged_bam": f"merged_bam/sample-{n:05d}.bam"})

    # Seeding is not measured: its S3 writes go in parallel.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(finish, enumerate(run_ids)))
    return str(batch["id"])


def measure(runs: int) -> dict[str, Any]:
    from conftest import handler_environment
    from events import LambdaContext, invoke_handler
    from support.omics_stand_in import OmicsStandIn
    from support.response_bucket import ResponseBucket

    with tempfile.TemporaryDirectory() as workdir, OmicsStandIn() as omics, ResponseBucket(Path(workdir)) as bucket:
        os.environ.update(handler_environment(omics, bucket))
        handler = importlib.import_module("omics_run_handler")
        from omics_run.client import omics_client, s3_client

        for client in (omics_client, s3_client):
            client.cache_clear()
        batch_id = seed(omics, bucket, runs)
        omics.reset_requests()
        folder = f"s3://{bucket.bucket}/{uuid.uuid4().hex[:8]}/"
        print("  writing the sheet's parts", file=sys.stderr)
        common = {"BatchId": batch_id, "OutputNames": ["merged_bam"], "SheetFolder": folder + "align/cohort-outputs/"}
        parts, after = [], {}
        for index in range(-(-runs // (PAGES_PER_PART * 100))):
            part = invoke_handler(
                handler, bucket, "Create", {**common, "Part": index, "MaxPages": PAGES_PER_PART, **after},
                resource_type="Custom::OmicsRunBatchOutputsPart", logical_id=f"AlignSheetPart{index}",
                context=LambdaContext(300),
            )  # fmt: skip
            parts.append(part)
            after = {"After": part.response["Data"]["NextToken"]}
        sheet_calls = {op: len(omics.requests_for(op)) for op in ("ListRunsInBatch", "GetRun")}
        sheet = invoke_handler(
            handler, bucket, "Create",
            {**common, "Parts": [p.response["Data"]["PartUri"] for p in parts], "Remaining": after["After"]},
            resource_type="Custom::OmicsRunBatchOutputs", logical_id="AlignSheet", context=LambdaContext(300),
        )  # fmt: skip
        print("  writing the settings", file=sys.stderr)
        settings = invoke_handler(
            handler, bucket, "Create",
            {"SheetUri": sheet.response["Data"]["SheetUri"], "Parameters": {"input_bam": "merged_bam"},
             "SettingsFolder": folder + "call/cohort-run-settings/"},
            resource_type="Custom::OmicsRunBatchSettings", logical_id="CallRunSettings", context=LambdaContext(300),
        )  # fmt: skip
        return {
            "runs": runs,
            "part_seconds": [part.seconds for part in parts],
            "part_runs": [part.response["Data"]["Runs"] for part in parts],
            "sheet_seconds": sheet.seconds,
            "sheet_calls": sheet_calls,
            "sheet_answer": sheet.response["Data"],
            "settings_seconds": settings.seconds,
            "settings_answer": settings.response["Data"],
        }


def table(result: dict[str, Any]) -> str:
    rows = [
        (f"Custom::OmicsRunBatchOutputsPart #{index} ({runs} runs)", seconds,
         "ListRunsInBatch, GetRun, and per completed run 1 GetObject, 1 HeadObject")
        for index, (seconds, runs) in enumerate(zip(result["part_seconds"], result["part_runs"], strict=True))
    ]  # fmt: skip
    rows += [
        ("Custom::OmicsRunBatchOutputs (the parts joined)", result["sheet_seconds"], "GetObject per part, 1 PutObject"),
        ("Custom::OmicsRunBatchSettings (the next cohort's file)", result["settings_seconds"], "1 GetObject"),
    ]
    lines = [
        f"{result['runs']:,} runs ({result['sheet_answer']['CompletedRuns']} COMPLETED); "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores",
        "",
        "| Resource | Wall time (s) | Estimated Lambda GB-s (wall x 0.25 GB) | Service calls |",
        "|---|---:|---:|---|",
    ]
    lines += [
        f"| {name} | {seconds:.1f} | {seconds * FUNCTION_MEMORY_GB:.1f} | {calls} |" for name, seconds, calls in rows
    ]
    total = sum(seconds for _, seconds, _ in rows)
    calls = result["sheet_calls"]
    lines.append(
        f"| All invocations | {total:.1f} | {total * FUNCTION_MEMORY_GB:.1f} | "
        f"{calls['ListRunsInBatch']} ListRunsInBatch, {calls['GetRun']} GetRun |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--json", type=Path, help="write the raw results to this file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = measure(args.runs)
    print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))


if __name__ == "__main__":
    main()
