#!/usr/bin/env python3
"""What a 50-file workflow folder adds to synth: OmicsWorkflow.from_directory, run on demand.

    .venv/bin/python benchmarks/workflow_benchmark.py            # 5 synths per case: about 1 minute on 2 cores
    .venv/bin/python benchmarks/workflow_benchmark.py --repeats 3

Each synth is a fresh process (its own interpreter and jsii node process, as ``cdk synth``
runs an app) into a new assembly folder. Two apps: a stack with one OmicsRun by workflow ID
(the baseline), and the same with the run's workflow from a folder of 50 files: ``main.wdl``
importing 24 task files (each a task with a runtime image), and 25 scripts. The time is measured
inside the app, from constructing the ``App`` to the end of ``app.synth()``; the provider's own
asset is not bundled in either (``aws:cdk:bundling-stacks``), so the difference is what the
folder costs: reading and hashing it, parsing its WDL with miniwdl, checking its images, and
staging it as an asset.

Prints a markdown table (progress on stderr). This is not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FILES = 50
TASKS = 24

APP = """
import json, sys, time
started = time.perf_counter()
import aws_cdk as cdk
from cdk_omics_run import OmicsRun, OmicsWorkflow
app = cdk.App(context={"aws:cdk:bundling-stacks": []})
began = time.perf_counter()
stack = cdk.Stack(app, "Bench")
folder = sys.argv[1]
parameters = {"sample_name": "NA12878"}
if folder == "-":
    OmicsRun(stack, "Run", workflow_id="1234567", role_arn="arn:aws:iam::123456789012:role/r",
             output_uri="s3://bucket/out/", parameters=parameters)
else:
    workflow = OmicsWorkflow.from_directory(stack, "Workflow", folder)
    OmicsRun(stack, "Run", workflow=workflow, role_arn="arn:aws:iam::123456789012:role/r",
             output_uri="s3://bucket/out/", parameters=parameters)
app.synth()
print(json.dumps({"synth": time.perf_counter() - began, "process": time.perf_counter() - started}))
"""


def write_folder(root: Path) -> Path:
    """A workflow of FILES files: main.wdl, TASKS imported task files, and scripts."""
    folder = root / "workflow"
    (folder / "tasks").mkdir(parents=True)
    (folder / "scripts").mkdir()
    imports = "\n".join(f'import "tasks/task{i}.wdl" as t{i}' for i in range(TASKS))
    calls = "\n".join(f"    call t{i}.Step{i} {{ input: name = sample_name }}" for i in range(TASKS))
    (folder / "main.wdl").write_text(
        f"version 1.0\n{imports}\nworkflow Bench {{\n    input {{ String sample_name }}\n{calls}\n}}\n"
    )
    for i in range(TASKS):
        (folder / "tasks" / f"task{i}.wdl").write_text(
            f"version 1.0\ntask Step{i} {{\n    input {{ String name }}\n"
            f"    command <<< python3 /scripts/step{i}.py ~{{name}} >>>\n"
            f'    runtime {{ docker: "123456789012.dkr.ecr.us-east-1.amazonaws.com/step{i}:1.0" }}\n'
            f"    output {{ String out = read_string(stdout()) }}\n}}\n"
        )
    for i in range(FILES - 1 - TASKS):
        (folder / "scripts" / f"step{i}.py").write_text(f"print('step {i}')\n" * 50)
    assert sum(1 for p in folder.rglob("*") if p.is_file()) == FILES
    return folder


def synth(app: Path, folder: str, workdir: Path) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(dir=workdir))
    env = {**os.environ, "CDK_OUTDIR": str(out), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run(
        [sys.executable, str(app), folder], env=env, capture_output=True, text=True, check=True, timeout=300
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        app = workdir / "app.py"
        app.write_text(APP)
        folder = write_folder(workdir)
        results: dict[str, list[float]] = {"baseline": [], "folder": []}
        for repeat in range(options.repeats):
            for case, argument in (("baseline", "-"), ("folder", str(folder))):
                seconds = synth(app, argument, workdir)["synth"]
                results[case].append(seconds)
                print(f"{case} #{repeat + 1}: {seconds:.2f} s", file=sys.stderr)
    baseline, with_folder = (statistics.median(results[c]) for c in ("baseline", "folder"))
    print(f"| case ({options.repeats} synths each) | median s | min s | max s |")
    print("|---|---|---|---|")
    for case, label in (("baseline", "one OmicsRun by workflow ID"), ("folder", f"+ a {FILES}-file WDL folder")):
        values = results[case]
        print(f"| {label} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")
    print(f"| **added by the folder (median)** | **{with_folder - baseline:+.2f}** | | |")


if __name__ == "__main__":
    main()
