"""Synthesizes the benchmark app in fresh processes and measures what comes out.

Each synth is ``CDK_OUTDIR=<dir> python benchmarks/stack_app.py ...`` in a
new interpreter (and so a new jsii/node process), as ``cdk synth`` runs an
app. The wall time of that process is what a user waits for; its CPU time
(with its node child) is the same work measured without other processes'
interference; the app also reports the seconds spent building constructs
and in ``app.synth()``.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
STACK_APP = BENCHMARKS_DIR / "stack_app.py"
STACK_NAME = "OmicsRunBenchmark"

# IAM's quota on the inline policies of one role, all together, whitespace not counted.
ROLE_INLINE_POLICY_QUOTA = 10_240
IAM_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")


@dataclass(frozen=True)
class SynthSample:
    """One synth of one variant with ``runs`` runs."""

    variant: str
    runs: int
    wall_seconds: float
    cpu_seconds: float
    construct_seconds: float
    synth_seconds: float


def synth(variant: str, runs: int, out_dir: Path) -> SynthSample:
    """Synthesizes the app once in a fresh process."""
    env = {**os.environ, "CDK_OUTDIR": str(out_dir), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    # Both variants import compiled bytecode, as after `pip install` (which compiles
    # aws-cdk-lib and this library alike) or any earlier run: a machine that sets
    # PYTHONDONTWRITEBYTECODE would make only this checkout's modules compile from
    # source on every synth. The benchmark's unmeasured first synths write the caches.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, str(STACK_APP), "--variant", variant, "--runs", str(runs)]
    # CPU time of the finished process tree (python and its jsii node process): far less
    # sensitive than wall time to other work on the machine. Synths run one at a time,
    # so the change in RUSAGE_CHILDREN is this synth's alone.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise RuntimeError(f"synth of {variant} with {runs} runs failed:\n{result.stderr[-3000:]}")
    # The app's report is its last line; bundling messages may come before it.
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return SynthSample(variant, runs, wall, cpu, report["construct_seconds"], report["synth_seconds"])


def template_path(out_dir: Path) -> Path:
    return out_dir / f"{STACK_NAME}.template.json"


def template_stats(out_dir: Path) -> dict[str, Any]:
    """Size and resource counts of the synthesized template."""
    path = template_path(out_dir)
    template = json.loads(path.read_text(encoding="utf-8"))
    resources = template.get("Resources", {})
    types = Counter(resource["Type"] for resource in resources.values())
    inline_by_role = _inline_policy_chars_by_role(resources)
    return {
        "template_bytes": path.stat().st_size,
        "template_bytes_minified": len(json.dumps(template, separators=(",", ":")).encode("utf-8")),
        "resources": len(resources),
        "lambda_functions": types.get("AWS::Lambda::Function", 0),
        "iam_policies": sum(types.get(t, 0) for t in IAM_POLICY_TYPES) + _inline_role_policies(resources),
        "iam_roles": types.get("AWS::IAM::Role", 0),
        "largest_role_inline_policy_chars": max(inline_by_role.values(), default=0),
        "resource_types": dict(sorted(types.items())),
    }


def _inline_role_policies(resources: dict[str, Any]) -> int:
    # Policies written inside an AWS::IAM::Role are policies too, though no resource of their own.
    return sum(
        len(resource.get("Properties", {}).get("Policies", []))
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Role"
    )


def _inline_policy_chars_by_role(resources: dict[str, Any]) -> dict[str, int]:
    """Characters of all inline policies attached to each role, whitespace removed.

    AWS::IAM::Policy becomes an inline policy of each role it names, and IAM
    caps a role's inline policies at 10,240 characters in total. Intrinsic
    functions are counted as written in the template, not as resolved, so the
    figure is close, not exact, for documents that hold them.
    """
    chars: Counter[str] = Counter()
    for logical_id, declared in resources.items():
        properties = declared.get("Properties", {})
        if declared["Type"] == "AWS::IAM::Policy":
            size = len(json.dumps(properties.get("PolicyDocument", {}), separators=(",", ":")))
            for role in properties.get("Roles", []):
                chars[json.dumps(role, sort_keys=True)] += size
        elif declared["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                chars[json.dumps({"Ref": logical_id}, sort_keys=True)] += len(
                    json.dumps(policy.get("PolicyDocument", {}), separators=(",", ":"))
                )
    return dict(chars)


def function_asset_dirs(out_dir: Path) -> list[Path]:
    """The folders of the stack's zipped file assets (its Lambda code)."""
    manifest = json.loads((out_dir / f"{STACK_NAME}.assets.json").read_text(encoding="utf-8"))
    return [
        out_dir / entry["source"]["path"]
        for entry in manifest.get("files", {}).values()
        if entry["source"].get("packaging") == "zip"
    ]


def asset_stats(asset_dir: Path) -> dict[str, Any]:
    """Files, bytes and zipped bytes of an asset folder, in total and per top-level entry.

    Zipped with Python's zipfile at deflate level 9, in memory; the CDK CLI
    zips with its own library, so its archive may differ by a few header bytes.
    """
    files = sorted(p for p in asset_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    by_entry: dict[str, dict[str, int]] = {}
    for path in files:
        entry = path.relative_to(asset_dir).parts[0]
        stats = by_entry.setdefault(entry, {"files": 0, "bytes": 0})
        stats["files"] += 1
        stats["bytes"] += path.stat().st_size
    for entry, stats in by_entry.items():
        stats["zipped_bytes"] = _zipped_size(
            asset_dir, [p for p in files if p.relative_to(asset_dir).parts[0] == entry]
        )
    return {
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "zipped_bytes": _zipped_size(asset_dir, files),
        "by_entry": dict(sorted(by_entry.items(), key=lambda item: item[1]["bytes"], reverse=True)),
    }


def _zipped_size(root: Path, files: list[Path]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.getbuffer().nbytes


def omics_run_resource(out_dir: Path) -> dict[str, Any]:
    """The first Custom::OmicsRun of the template: logical ID and properties as CloudFormation would send them."""
    template = json.loads(template_path(out_dir).read_text(encoding="utf-8"))
    for logical_id, declared in template["Resources"].items():
        if declared["Type"] == "Custom::OmicsRun":
            # CloudFormation resolves ServiceToken itself; cfn_event adds its own.
            properties = {k: v for k, v in declared["Properties"].items() if k != "ServiceToken"}
            return {"logical_id": logical_id, "properties": properties}
    raise LookupError(f"no Custom::OmicsRun in {template_path(out_dir)}")
