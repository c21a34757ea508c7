"""The handler's cold import, omics client included, against a bare boto3 and its omics client.

Every sample is a fresh interpreter. What is reported is the time from just
before the first import to just after the client exists, taken inside that
process with ``time.perf_counter`` (interpreter start-up is the same for both
sides and is left out); the wall time of the whole process is kept too. One
extra run of each side under ``python -X importtime`` splits its time into
imports, by package, and code run outside imports (creating clients).

The asset is run the way Lambda runs it: from its own folder, first on the
path, with ``AWS_DATA_PATH`` at its service models, and without ``.pyc``
files (Lambda's /var/task is read-only and the asset ships none, so the
handler's modules and crhelper are compiled on every cold start).
"""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stats import median, ratio

HANDLER_IMPORT = "import omics_run_handler; from omics_run.client import omics_client; omics_client()"
BOTO3_CLIENT = "import boto3; boto3.client('omics')"
BOTO3_ONLY = "import boto3"

# What the handler's cold import is held against: the target.
TARGET_RATIO = 1.30


@dataclass(frozen=True)
class Probe:
    """One way of starting cold: the statement to time and where it runs."""

    name: str
    statement: str
    uses_asset: bool
    note: str
    extra_env: dict[str, str] = field(default_factory=dict)
    precompiled: bool = False


PROBES = (
    Probe("import boto3", BOTO3_ONLY, False, "reference"),
    Probe("import boto3; boto3.client('omics')", BOTO3_CLIENT, False, "baseline of the target"),
    Probe("handler + omics client", HANDLER_IMPORT, True, "the target: the asset as Lambda loads it"),
    Probe(
        "handler + omics client, crhelper's 3 clients skipped",
        HANDLER_IMPORT,
        True,
        "diagnostic: AWS_SAM_LOCAL=true makes crhelper skip its lambda/events/logs clients",
        extra_env={"AWS_SAM_LOCAL": "true"},
    ),
    Probe(
        "handler + omics client, asset precompiled (.pyc)",
        HANDLER_IMPORT,
        True,
        "diagnostic: the asset's modules compiled beforehand",
        precompiled=True,
    ),
)

# Imports the interpreter makes before any statement runs (site, encodings ...).
STARTUP = Probe("interpreter start-up", "pass", False, "subtracted from the -X importtime breakdowns")


def probe_environment(asset: Path | None) -> dict[str, str]:
    """Lambda's SDK-relevant environment: region and credentials in variables, nothing else.

    Dummy credentials matter: creating a client resolves credentials, and
    without them botocore would try the container and instance metadata
    endpoints, which is not what a Lambda cold start does.
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "benchmark",
        "AWS_SECRET_ACCESS_KEY": "benchmark",
        "AWS_SESSION_TOKEN": "benchmark",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    if asset is not None:
        env["PYTHONPATH"] = str(asset)
        env["AWS_DATA_PATH"] = str(asset / "service_models")
    return env


def timed_program(probe: Probe, asset: Path | None) -> str:
    """The ``-c`` program: times the statement, then checks where the handler came from."""
    lines = [
        "import time as _time",
        "_started = _time.perf_counter()",
        probe.statement,
        "_seconds = _time.perf_counter() - _started",
        "import json as _json, sys as _sys",
        "_loaded = {}",
    ]
    if probe.uses_asset:
        lines += [
            "import crhelper as _crhelper",
            "_loaded = {'omics_run_handler': omics_run_handler.__file__, 'crhelper': _crhelper.__file__}",
        ]
    lines.append("_sys.stdout.write(_json.dumps({'seconds': _seconds, 'loaded': _loaded}))")
    return "\n".join(lines)


def run_probe(probe: Probe, asset: Path | None, workdir: Path, *, importtime: bool = False) -> dict[str, Any]:
    """One fresh interpreter: the in-process seconds, the process wall seconds, and -X importtime's report."""
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", timed_program(probe, asset)]
    env = {**probe_environment(asset if probe.uses_asset else None), **probe.extra_env}
    # Lambda's working directory is the asset folder (/var/task); boto3 alone runs in an empty one.
    cwd = asset if probe.uses_asset and asset is not None else workdir
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"probe {probe.name!r} failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout)
    if probe.uses_asset and asset is not None:
        for module, path in report["loaded"].items():
            if not Path(path).resolve().is_relative_to(asset.resolve()):
                raise RuntimeError(f"probe {probe.name!r}: {module} was not loaded from the asset but from {path}")
    return {"seconds": report["seconds"], "wall_seconds": wall, "importtime": result.stderr if importtime else ""}


def import_self_ms_by_package(importtime_report: str) -> dict[str, float]:
    """Milliseconds of import work per top-level package, from a ``-X importtime`` report.

    A line reads ``import time: <self us> | <cumulative us> | <module>``. Self
    times add up without double counting, so grouping them by the module's
    first dotted component says which package the import time is spent in,
    however deep it was imported from.
    """
    totals: dict[str, float] = {}
    for line in importtime_report.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(parts[0]) / 1000
    return totals


def import_breakdown(probe: Probe, asset: Path | None, workdir: Path, startup: dict[str, float]) -> dict[str, Any]:
    """One ``-X importtime`` run: import time per package (start-up imports removed) and the rest.

    What is not import time is work done by code: creating clients, which
    loads service models and endpoint rules and resolves credentials.
    """
    sample = run_probe(probe, asset, workdir, importtime=True)
    by_package = import_self_ms_by_package(sample["importtime"])
    for package, ms in startup.items():
        by_package[package] = by_package.get(package, 0.0) - ms
    imports_ms = sum(by_package.values())
    largest = sorted(((p, ms) for p, ms in by_package.items() if ms >= 1.0), key=lambda item: item[1], reverse=True)
    return {
        "total_ms": sample["seconds"] * 1000,
        "imports_ms": imports_ms,
        "not_imports_ms": sample["seconds"] * 1000 - imports_ms,
        "imports_by_package_ms": dict(largest),
    }


def prepare_assets(asset: Path, workdir: Path) -> tuple[Path, Path]:
    """Two copies of the asset: as shipped (no .pyc), and precompiled by this interpreter."""
    plain = workdir / "asset"
    compiled = workdir / "asset-precompiled"
    for target in (plain, compiled):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(asset, target, ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(str(compiled), quiet=1)
    return plain, compiled


def measure_cold_import(asset: Path, workdir: Path, repetitions: int) -> dict[str, Any]:
    """Medians of ``repetitions`` fresh processes per probe, interleaved so drift hits all alike."""
    plain, compiled = prepare_assets(asset, workdir)
    empty = workdir / "empty"
    empty.mkdir(exist_ok=True)
    samples: dict[str, list[dict[str, Any]]] = {probe.name: [] for probe in PROBES}
    for probe in PROBES:  # one unmeasured run each: the OS file cache is warm for every probe alike
        run_probe(probe, compiled if probe.precompiled else plain, empty)
    for _ in range(repetitions):
        for probe in PROBES:
            samples[probe.name].append(run_probe(probe, compiled if probe.precompiled else plain, empty))

    results: dict[str, Any] = {"repetitions": repetitions, "probes": {}}
    for probe in PROBES:
        seconds = [sample["seconds"] for sample in samples[probe.name]]
        walls = [sample["wall_seconds"] for sample in samples[probe.name]]
        results["probes"][probe.name] = {
            "statement": probe.statement,
            "note": probe.note,
            "median_ms": median(seconds) * 1000,
            "min_ms": min(seconds) * 1000,
            "median_process_wall_ms": median(walls) * 1000,
        }
    handler = results["probes"]["handler + omics client"]["median_ms"]
    baseline = results["probes"]["import boto3; boto3.client('omics')"]["median_ms"]
    results["handler_to_baseline_ratio"] = ratio(handler, baseline)
    results["target_ratio"] = TARGET_RATIO
    results["target_met"] = results["handler_to_baseline_ratio"] <= TARGET_RATIO
    # -X importtime slows imports down: these figures explain the medians above, they do not replace them.
    startup = import_self_ms_by_package(run_probe(STARTUP, None, empty, importtime=True)["importtime"])
    results["importtime_breakdown"] = {
        PROBES[2].name: import_breakdown(PROBES[2], plain, empty, startup),
        PROBES[1].name: import_breakdown(PROBES[1], None, empty, startup),
    }
    return results
