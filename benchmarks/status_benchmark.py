"""How long ``cdk-omics-run status`` takes on a stack with a 10,000-run batch, and which calls it makes.

The command runs as a user runs it (the console script, a fresh process), against the test suite's
stand-ins over loopback HTTP: the HealthOmics stand-in holds one batch of 10,000 runs submitted from
an S3 settings file (the 100-run inline limit does not apply), in mixed statuses, and one run with
250 tasks; the CloudFormation stand-in lists both resources. Each variant runs ``--repeat`` times;
the wall time of the process is reported (median, min–max), with the calls the stand-ins recorded.

    .venv/bin/python benchmarks/status_benchmark.py            # prints the table, writes status_results.json
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "lambda")]

from status_support import environment  # noqa: E402
from support.cloudformation_stand_in import CloudFormationStandIn  # noqa: E402
from support.omics_stand_in import OmicsStandIn  # noqa: E402

RUNS = 10_000
TASKS = 250
COMMAND = Path(sys.executable).with_name("cdk-omics-run")
VARIANTS = {
    "status": [],
    "status --json": ["--json"],
    "status --runs": ["--runs"],
}


def seed(omics: OmicsStandIn, cloudformation: CloudFormationStandIn) -> None:
    client = boto3.session.Session().client("omics")
    batch = client.start_run_batch(
        defaultRunSetting={
            "workflowId": "1234567",
            "roleArn": "arn:aws:iam::123456789012:role/r",
            "outputUri": "s3://o/",
        },
        batchRunSettings={"s3UriSettings": "s3://settings/cohort.json"},
    )
    run_ids = omics.submit_batch(batch["id"], [{"runSettingId": f"sample-{n:05d}"} for n in range(RUNS)])
    for n, run_id in enumerate(run_ids):
        omics.runs[run_id]["status"] = ("COMPLETED", "RUNNING", "PENDING", "FAILED")[n % 4]
    run = omics.add_run(status="RUNNING")
    for n in range(TASKS):
        omics.add_task(run["id"], f"shard-{n}", "COMPLETED" if n < 200 else "RUNNING")
    cloudformation.add_stack(
        "Genomics",
        [("AlignA1B2C3D4", run["id"], "Custom::OmicsRun"), ("CohortB1B2C3D4", batch["id"], "Custom::OmicsRunBatch")],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    omics, cloudformation = OmicsStandIn().start(), CloudFormationStandIn().start()
    home = Path(os.environ.get("TMPDIR", "/tmp"))
    env = {**os.environ, **environment(omics, cloudformation, home)}
    os.environ.update(environment(omics, cloudformation, home))
    seed(omics, cloudformation)
    results = {}
    for name, extra in VARIANTS.items():
        times, calls = [], collections.Counter()
        for _ in range(args.repeat):
            omics.reset_requests()
            cloudformation.calls.clear()
            began = time.perf_counter()
            done = subprocess.run([str(COMMAND), "status", "Genomics", *extra], env=env, capture_output=True, text=True)
            times.append(time.perf_counter() - began)
            assert done.returncode == 0, done.stderr
            calls = collections.Counter(r.operation for r in omics.requests)
            calls["ListStackResources"] = len(cloudformation.calls)
        results[name] = {
            "seconds": sorted(times),
            "median_seconds": statistics.median(times),
            "calls": dict(sorted(calls.items())),
            "output_lines": len(done.stdout.splitlines()),
        }
    # The interpreter's start and imports alone (jsii included, as the package's __init__ loads it).
    began = time.perf_counter()
    subprocess.run([str(COMMAND), "--version"], env=env, capture_output=True, check=True)
    startup = time.perf_counter() - began
    omics.stop()
    cloudformation.stop()
    record = {
        "runs_in_batch": RUNS,
        "tasks_in_run": TASKS,
        "repeat": args.repeat,
        "startup_seconds": startup,
        "variants": results,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
    }
    (ROOT / "benchmarks" / "status_results.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"| Command (batch of {RUNS:,} runs, run of {TASKS} tasks) | wall time, median (min–max) | calls |")
    print("|---|---|---|")
    for name, result in results.items():
        calls = ", ".join(f"{op} {n}" for op, n in result["calls"].items())
        low, high = result["seconds"][0], result["seconds"][-1]
        print(f"| `{name}` | {result['median_seconds']:.2f} s ({low:.2f}–{high:.2f}) | {calls} |")
    print(f"| `--version` (start-up alone) | {startup:.2f} s | none |")


if __name__ == "__main__":
    main()
