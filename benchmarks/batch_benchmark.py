#!/usr/bin/env python3
"""Cohorts: one OmicsRunBatch against one OmicsRun per sample, from 10 to 100,000 runs; run on demand.

    .venv/bin/python benchmarks/batch_benchmark.py                   # full: about 3 minutes on 2 cores
    .venv/bin/python benchmarks/batch_benchmark.py --quick           # 1 synth per case, 10 and 1,000 runs: 1 minute
    .venv/bin/python benchmarks/batch_benchmark.py --json benchmarks/batch_results.json

Every case synthesizes ``batch_stack_app.py`` in a fresh process (its own
interpreter and jsii node process, as ``cdk synth`` runs an app) into a new
temporary assembly folder, with a new ``TMPDIR`` (where the settings file is
written before CDK stages it). Per case: the median wall time of
that process (min–max), its CPU time (with its node child), the seconds from
constructing the ``App`` to the end of ``app.synth()`` measured inside it;
template bytes; resources; bytes of the settings asset (``asset.<hash>.json``,
not the provider's Lambda asset); bytes of the generated run roles'
``PolicyDocument`` (compact JSON, summed over every ``RunRolePolicy``
``AWS::IAM::ManagedPolicy``); and whether the template fits in one stack
(at most 500 resources and 1,000,000 bytes).

One ``OmicsRun`` per sample is synthesized at 10 and 100 runs only; larger
cohorts are extrapolated linearly from those two (each run adds its own
resource, role and policy), and shown as not fitting.

Prints a markdown table (progress on stderr). This is not a test: timings
depend on the machine, so nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path.insert(0, str(BENCHMARKS_DIR))

from batch_stack_app import STACK_NAME, write_sample_sheet  # noqa: E402 - needs the path above
from benchmark import environment  # noqa: E402
from stats import median  # noqa: E402

BATCH_STACK_APP = BENCHMARKS_DIR / "batch_stack_app.py"
FULL_SIZES = (10, 100, 1_000, 100_000)
QUICK_SIZES = (10, 1_000)
# One OmicsRun per sample is synthesized at these sizes only: both fit in a stack, and two
# points give the per-run slope that the larger cohorts are extrapolated with.
PER_SAMPLE_SIZES = (10, 100)
MAX_RESOURCES = 500  # CloudFormation's resources per stack
MAX_TEMPLATE_BYTES = 1_000_000  # CloudFormation's template body, uploaded to S3
RUN_ROLE_POLICY = "RunRolePolicy"
APPROACH_LABELS = {
    "batch-runs": "OmicsRunBatch, `runs=`",
    "batch-sheet": "OmicsRunBatch, sample sheet",
    "per-sample": "one OmicsRun per sample",
}


@dataclass(frozen=True)
class Case:
    approach: str
    runs: int

    @property
    def key(self) -> str:
        return f"{self.approach}-{self.runs}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="synths per case; the median wall time is reported")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 synth per case, 10 and 1,000 runs")
    parser.add_argument("--json", type=Path, help="write the raw results to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.quick:
        args.repeats = 1
    args.sizes = QUICK_SIZES if args.quick else FULL_SIZES
    return args


def cases(sizes: tuple[int, ...]) -> list[Case]:
    """``runs=`` at every size; the sample sheet at the largest; one OmicsRun per sample where it is synthesized."""
    selected = [Case("batch-runs", runs) for runs in sizes]
    selected.append(Case("batch-sheet", max(sizes)))
    selected += [Case("per-sample", runs) for runs in PER_SAMPLE_SIZES]
    return selected


def synth_once(case: Case, out_dir: Path, sheet: Path | None) -> dict[str, float]:
    """One synth of ``case`` in a fresh process: its wall and CPU time and the app's own timings."""
    tmp_dir = out_dir.with_name(out_dir.name + "-tmp")
    tmp_dir.mkdir()
    env = {
        **os.environ,
        "CDK_OUTDIR": str(out_dir),
        "TMPDIR": str(tmp_dir),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    command = [sys.executable, str(BATCH_STACK_APP), "--approach", case.approach, "--runs", str(case.runs)]
    if sheet is not None:
        command += ["--sheet", str(sheet)]
    # Synths run one at a time, so the change in RUSAGE_CHILDREN is this one's (python and node).
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(tmp_dir, ignore_errors=True)
    if completed.returncode != 0:
        raise RuntimeError(f"synth of {case.key} failed:\n{completed.stderr[-3000:]}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])  # bundling messages may come first
    return {
        "wall_seconds": wall,
        "cpu_seconds": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        **report,
    }


def assembly_stats(out_dir: Path) -> dict[str, Any]:
    """What the synthesized stack holds: template, resources, settings asset and run-role policies."""
    template_file = out_dir / f"{STACK_NAME}.template.json"
    template = json.loads(template_file.read_text(encoding="utf-8"))
    resources = template.get("Resources", {})
    policies = [
        len(json.dumps(declared["Properties"]["PolicyDocument"], separators=(",", ":")).encode("utf-8"))
        for logical_id, declared in resources.items()
        if declared["Type"] == "AWS::IAM::ManagedPolicy" and RUN_ROLE_POLICY in logical_id
    ]
    manifest = json.loads((out_dir / f"{STACK_NAME}.assets.json").read_text(encoding="utf-8"))
    # File assets named asset.<hash>.json: the run settings. The template is a file asset too; the
    # provider's Lambda code is a zipped folder.
    settings_files = [
        out_dir / entry["source"]["path"]
        for entry in manifest.get("files", {}).values()
        if entry["source"].get("packaging", "file") == "file" and entry["source"]["path"].startswith("asset.")
    ]
    template_bytes = template_file.stat().st_size
    return {
        "template_bytes": template_bytes,
        "resources": len(resources),
        "settings_asset_bytes": sum(path.stat().st_size for path in settings_files),
        "settings_asset_hashes": sorted(path.name for path in settings_files),
        "run_role_policies": len(policies),
        "run_role_policy_bytes": sum(policies),
        "fits_one_stack": len(resources) <= MAX_RESOURCES and template_bytes <= MAX_TEMPLATE_BYTES,
        "normalized_template": _normalized(template),
    }


def _normalized(template: dict[str, Any]) -> str:
    """The template with asset hashes and the run count masked: equal when only the cohort's data differs."""
    text = json.dumps(template, sort_keys=True)
    text = re.sub(r"[0-9a-f]{64}", "<hash>", text)
    return re.sub(r'"RunCount": \d+', '"RunCount": <n>', text)


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, dict[str, Any]]:
    """Every case ``args.repeats`` times, interleaved so that drift on the machine hits all cases alike."""
    selected = cases(args.sizes)
    sheets: dict[int, Path] = {}
    for case in selected:
        if case.approach == "batch-sheet" and case.runs not in sheets:
            sheets[case.runs] = workdir / f"samples-{case.runs}.csv"
            write_sample_sheet(sheets[case.runs], case.runs)  # not timed
    # Unmeasured: warms the OS file cache and node's compile cache.
    synth_once(Case("batch-runs", 10), workdir / "warmup", None)
    samples: dict[str, list[dict[str, float]]] = {case.key: [] for case in selected}
    stats: dict[str, dict[str, Any]] = {}
    for repeat in range(args.repeats):
        # Alternate the order, so that no case always runs first on a cooler machine.
        order = selected if repeat % 2 == 0 else list(reversed(selected))
        for case in order:
            out_dir = workdir / f"{case.key}-{repeat}"
            sample = synth_once(case, out_dir, sheets.get(case.runs) if case.approach == "batch-sheet" else None)
            samples[case.key].append(sample)
            current = assembly_stats(out_dir)
            previous = stats.setdefault(case.key, current)
            if previous["template_bytes"] != current["template_bytes"]:
                raise RuntimeError(f"{case.key} synthesized two different templates")
            shutil.rmtree(out_dir, ignore_errors=True)
            print(
                f"  {case.key:>18}  {sample['wall_seconds']:6.2f} s wall  {sample['in_process_seconds']:6.2f} s in-process",
                file=sys.stderr,
                flush=True,
            )
    results: dict[str, dict[str, Any]] = {}
    for case in selected:
        runs = samples[case.key]
        walls = [sample["wall_seconds"] for sample in runs]
        results[case.key] = {
            "approach": case.approach,
            "runs": case.runs,
            "measured": True,
            "repeats": len(runs),
            "wall_seconds": median(walls),
            "wall_seconds_min": min(walls),
            "wall_seconds_max": max(walls),
            **{
                name: median([sample[name] for sample in runs])
                for name in (
                    "cpu_seconds",
                    "import_seconds",
                    "construct_seconds",
                    "synth_seconds",
                    "in_process_seconds",
                )
            },
            "samples": runs,
            **stats[case.key],
        }
    return results


def extrapolate_per_sample(results: dict[str, dict[str, Any]], sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    """One OmicsRun per sample at the sizes not synthesized, from the line through the two that were."""
    low, high = (results[f"per-sample-{runs}"] for runs in PER_SAMPLE_SIZES)
    span = high["runs"] - low["runs"]

    def line(metric: str) -> tuple[float, float]:
        slope = (high[metric] - low[metric]) / span
        return low[metric] - slope * low["runs"], slope

    rows = []
    for runs in sizes:
        if runs in PER_SAMPLE_SIZES:
            continue
        row: dict[str, Any] = {"approach": "per-sample", "runs": runs, "measured": False}
        for metric in ("template_bytes", "resources", "run_role_policies", "run_role_policy_bytes"):
            base, slope = line(metric)
            row[metric] = round(base + slope * runs)
        row["settings_asset_bytes"] = 0
        row["fits_one_stack"] = row["resources"] <= MAX_RESOURCES and row["template_bytes"] <= MAX_TEMPLATE_BYTES
        rows.append(row)
    return rows


def per_sample_limit(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The most samples one OmicsRun each fits in a stack, from the same line."""
    low, high = (results[f"per-sample-{runs}"] for runs in PER_SAMPLE_SIZES)
    span = high["runs"] - low["runs"]
    limits = {}
    for metric, cap in (("resources", MAX_RESOURCES), ("template_bytes", MAX_TEMPLATE_BYTES)):
        slope = (high[metric] - low[metric]) / span
        base = low[metric] - slope * low["runs"]
        limits[metric] = {"fixed": base, "per_run": slope, "max_runs": int((cap - base) // slope)}
    return {**limits, "max_runs": min(limit["max_runs"] for limit in limits.values())}


def goal_checks(results: dict[str, dict[str, Any]], sizes: tuple[int, ...]) -> dict[str, Any]:
    """The issue's goal: template and resources constant from 100 runs upwards; 100,000 under a minute."""
    batch = [results[f"batch-runs-{runs}"] for runs in sizes]
    from_100 = [row for row in batch if row["runs"] >= 100]
    above_inline = [row for row in batch if row["runs"] > 100]
    largest = max(sizes)
    sheet = results[f"batch-sheet-{largest}"]
    return {
        "batch_resources_by_runs": {row["runs"]: row["resources"] for row in batch},
        "batch_resources_constant": len({row["resources"] for row in batch}) == 1,
        "batch_template_bytes_from_100": {row["runs"]: row["template_bytes"] for row in from_100},
        "batch_template_same_shape_above_100": len({row["normalized_template"] for row in above_inline}) <= 1,
        "batch_policy_bytes_by_runs": {row["runs"]: row["run_role_policy_bytes"] for row in batch},
        "sheet_same_settings_asset_as_runs": sheet["settings_asset_hashes"]
        == results[f"batch-runs-{largest}"]["settings_asset_hashes"],
        "largest_sheet_wall_seconds": sheet["wall_seconds"],
        "largest_sheet_under_a_minute": sheet["wall_seconds_max"] < 60,
    }


def markdown(results: dict[str, dict[str, Any]], extrapolated: list[dict[str, Any]], limit: dict[str, Any]) -> str:
    rows = sorted(
        [*results.values(), *extrapolated],
        key=lambda row: (row["runs"], list(APPROACH_LABELS).index(row["approach"])),
    )
    lines = [
        "| Runs | Approach | Wall (s), median (min–max) | In-process (s) | Template bytes | Resources | Settings asset bytes | Run-role policy bytes | Fits one stack |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        label = APPROACH_LABELS[row["approach"]]
        if not row["measured"]:
            lines.append(
                f"| {row['runs']:,} | {label} | not synthesized | | ~{row['template_bytes']:,} | ~{row['resources']:,} | "
                f"0 | ~{row['run_role_policy_bytes']:,} ({row['run_role_policies']:,} policies) | "
                f"**no**: ~{row['resources']:,} resources, ~{row['template_bytes'] / 1e6:,.1f} MB (extrapolated; "
                f"at most {limit['max_runs']} runs fit) |"
            )
            continue
        policies = f" ({row['run_role_policies']:,} policies)" if row["run_role_policies"] != 1 else ""
        lines.append(
            f"| {row['runs']:,} | {label} | {row['wall_seconds']:.2f} ({row['wall_seconds_min']:.2f}–{row['wall_seconds_max']:.2f}) | "
            f"{row['in_process_seconds']:.2f} | {row['template_bytes']:,} | {row['resources']:,} | "
            f"{row['settings_asset_bytes']:,} | {row['run_role_policy_bytes']:,}{policies} | "
            f"{'yes' if row['fits_one_stack'] else '**no**'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    record: dict[str, Any] = {
        "command": "benchmarks/batch_benchmark.py" + (" --quick" if args.quick else f" --repeats {args.repeats}"),
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": {**environment(), "nproc": _nproc()},
        "settings": {"sizes": list(args.sizes), "repeats": args.repeats, "per_sample_sizes": list(PER_SAMPLE_SIZES)},
    }
    with tempfile.TemporaryDirectory(prefix="omics-run-batch-benchmark-") as temporary:
        results = measure(args, Path(temporary))
    extrapolated = extrapolate_per_sample(results, args.sizes)
    limit = per_sample_limit(results)
    goals = goal_checks(results, args.sizes)
    record["environment"]["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    record["elapsed_seconds"] = time.perf_counter() - started
    for row in results.values():
        row.pop("normalized_template")
    record.update({"cases": list(results.values()), "per_sample_extrapolated": extrapolated, "per_sample_limit": limit})
    record["goals"] = goals
    print(markdown(results, extrapolated, limit))
    print()
    print(f"Goal checks: {json.dumps(goals)}")
    print(f"\nelapsed {record['elapsed_seconds']:.0f} s", file=sys.stderr)
    if args.json is not None:
        args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)


def _nproc() -> str:
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, timeout=30).stdout.strip()
    except OSError:
        return str(os.cpu_count())


if __name__ == "__main__":
    main()
