"""A whole cold Create, in a fresh process: import, client, the first StartRun; ours, the floor and the peer.

Lambda bills, and CloudFormation waits for, a cold start's init as well as
its first invocation, so what a cold Create costs in total is import, client
creation and the first call. Every sample is a fresh process, against the
test suite's HealthOmics stand-in (``tests/support/omics_stand_in.py``) over
loopback HTTP, started by the benchmark process:

- **handler, whole Create**: ``import omics_run_handler`` and
  ``omics_run_handler.handler(event, context)`` with a Create of the
  synthesized ``Custom::OmicsRun``: StartRun to the stand-in, then crhelper's
  answer, a real PUT to a presigned HTTPS URL on moto
  (``tests/support/response_bucket.py``);
- **handler's modules + client + StartRun**: the handler's import and its own
  omics client (``omics_run.client.omics_client``), then one ``start_run``:
  the steps of the two probes below, through the handler's modules;
- **the Python floor**: ``import boto3; boto3.client("omics").start_run(...)``;
- **the peer**: AwsCustomResource's handler is Node.js with the SDK v3 omics
  client: a fresh ``node`` process that runs ``require("@aws-sdk/client-omics")``,
  ``new OmicsClient({...})`` and sends one ``StartRunCommand``.

Each is timed inside its process from just before the first import (or
``require``) to just after the call returns (``time.perf_counter`` in Python,
``performance.now`` in Node.js), and the whole process's wall time is kept
too. Probes run interleaved, one unmeasured sample each first. The handler
runs from a copy of the asset without ``.pyc`` files, as in Lambda; boto3 and
the Node.js SDK run from the installed packages, which are compiled (Lambda's
runtimes ship theirs so).

All processes have the environment of ``tests/conftest.py::handler_environment``
(region, dummy credentials, ``AWS_ENDPOINT_URL_OMICS`` at the stand-in), which
both SDKs read. The stand-in serves on 127.0.0.1, so StartRun's ``workflows-``
host prefix is turned off in both SDKs: ``AWS_DISABLE_HOST_PREFIX_INJECTION``
for botocore, ``disableHostPrefix: true`` for the SDK v3 client (which reads
no variable for it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stats import median, ratio

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
TESTS_DIR = REPO_ROOT / "tests"
NODE_SDK = "@aws-sdk/client-omics"

# What the probes' ratios are taken against.
FLOOR = "python floor: import boto3; boto3.client('omics').start_run(...)"
PEER = "peer: node, require('@aws-sdk/client-omics'); new OmicsClient(); send(StartRunCommand)"
HANDLER_CALL = "handler's modules + omics_client() + start_run(...)"
HANDLER_CREATE = "handler, whole Create: import + handler(event) incl. answer PUT"

# A minimal Lambda context: what crhelper reads. tests/events.py has the same one, but importing it
# would load the stand-ins (and boto3) before the clock starts.
_CONTEXT = """
class _Context:
    function_name = "OmicsRunProvider"
    aws_request_id = "lambda-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:OmicsRunProvider"
    log_group_name = "/aws/lambda/OmicsRunProvider"
    log_stream_name = "stream"
    def get_remaining_time_in_millis(self):
        return 300000
"""


@dataclass(frozen=True)
class Probe:
    """One way of making a cold Create: the program and how it is run."""

    name: str
    language: str  # "python" or "node"
    statement: str
    uses_asset: bool
    setup: str = ""  # Python run before the clock starts


def python_program(statement: str, setup: str = "") -> str:
    """A ``-c`` program that times ``statement`` and prints the seconds as JSON."""
    return "\n".join(
        [
            setup,
            "import time as _time",
            "_started = _time.perf_counter()",
            statement,
            "_seconds = _time.perf_counter() - _started",
            "import json as _json, sys as _sys",
            "_sys.stdout.write(_json.dumps({'seconds': _seconds}))",
        ]
    )


def node_program(request: dict[str, Any]) -> str:
    """A ``node -e`` program: the SDK v3 client's require, creation and one StartRun, timed."""
    return f"""
const started = performance.now();
const {{ OmicsClient, StartRunCommand }} = require("{NODE_SDK}");
const client = new OmicsClient({{ disableHostPrefix: true }});
client.send(new StartRunCommand({json.dumps(request)})).then((answer) => {{
  const seconds = (performance.now() - started) / 1000;
  if (!answer.id) throw new Error("StartRun answered without an id");
  process.stdout.write(JSON.stringify({{ seconds }}));
}});
"""


def probes(request: dict[str, Any], event_file: Path) -> tuple[Probe, ...]:
    """The four probes, ``request`` being the StartRun request (CLI form: lower camel case)."""
    boto_request = repr(request)
    return (
        Probe(FLOOR, "python", f"import boto3; boto3.client('omics').start_run(**{boto_request})", False),
        Probe(
            HANDLER_CALL,
            "python",
            f"import omics_run_handler; from omics_run.client import omics_client; "
            f"omics_client().start_run(**{boto_request})",
            True,
        ),
        Probe(
            HANDLER_CREATE,
            "python",
            "import omics_run_handler; omics_run_handler.handler(_event, _Context())",
            True,
            # The event is read, and the context defined, before the clock starts.
            setup=f"import json; _event = json.loads(open({str(event_file)!r}).read())\n{_CONTEXT}",
        ),
        Probe(PEER, "node", node_program(request), False),
    )


def run_probe(probe: Probe, env: dict[str, str], asset: Path, empty: Path) -> dict[str, float]:
    """One fresh process: the in-process seconds and the process's wall seconds."""
    if probe.language == "node":
        command = ["node", "-e", probe.statement]
        # require() finds the SDK in the project's node_modules (package.json's devDependencies).
        cwd = REPO_ROOT
    else:
        command = [sys.executable, "-c", python_program(probe.statement, probe.setup)]
        cwd = asset if probe.uses_asset else empty
    probe_env = dict(env)
    if probe.uses_asset:
        probe_env["PYTHONPATH"] = str(asset)
        probe_env["AWS_DATA_PATH"] = str(asset / "service_models")
    started = time.perf_counter()
    result = subprocess.run(command, env=probe_env, cwd=cwd, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"probe {probe.name!r} failed:\n{result.stderr[-3000:]}")
    return {"seconds": json.loads(result.stdout)["seconds"], "wall_seconds": wall}


def node_sdk_version() -> str | None:
    """The installed @aws-sdk/client-omics version, or None when it is not installed."""
    package = REPO_ROOT / "node_modules" / "@aws-sdk" / "client-omics" / "package.json"
    if not package.exists():
        return None
    return str(json.loads(package.read_text(encoding="utf-8"))["version"])


def measure_cold_create(
    asset: Path, run: dict[str, Any], request: dict[str, Any], workdir: Path, repetitions: int
) -> dict[str, Any]:
    """Medians of ``repetitions`` fresh processes per probe, interleaved, after one unmeasured each.

    ``run``: the logical ID and properties of a synthesized ``Custom::OmicsRun``;
    ``request``: the same run's StartRun request, for the probes that call StartRun themselves.
    """
    # The test suite's stand-ins, event builder and handler environment, as handler_events.py uses them.
    if str(TESTS_DIR) not in sys.path:
        sys.path.append(str(TESTS_DIR))
    from conftest import REGION, handler_environment
    from events import cfn_event
    from support.omics_stand_in import OmicsStandIn
    from support.response_bucket import ResponseBucket

    plain = workdir / "asset"
    shutil.rmtree(plain, ignore_errors=True)
    shutil.copytree(asset, plain, ignore=shutil.ignore_patterns("__pycache__"))
    empty = workdir / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    node_version = node_sdk_version()
    samples: dict[str, list[dict[str, float]]] = {}
    answer_keys: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="omics-run-cold-create-") as bucket_dir,
        OmicsStandIn(region=REGION) as omics,
        ResponseBucket(Path(bucket_dir)) as bucket,
    ):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            **handler_environment(omics, bucket),
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            # Lambda's /var/task is read-only: the asset's modules compile on every cold start.
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        event_file = workdir / "event.json"
        chosen = [p for p in probes(request, event_file) if p.language == "python" or node_version]
        order = [p for _ in range(repetitions + 1) for p in chosen]
        for index, probe in enumerate(order):
            if probe.name == HANDLER_CREATE:
                # A new presigned URL and RequestId for every Create; made before the process starts.
                answer_keys.append(f"cold-create/{uuid.uuid4()}")
                event = cfn_event(
                    "Create",
                    run["properties"],
                    response_url=bucket.presigned_response_url(answer_keys[-1]),
                    logical_id=run["logical_id"],
                    request_id=str(uuid.uuid4()),
                )
                event_file.write_text(json.dumps(event), encoding="utf-8")
            sample = run_probe(probe, env, plain, empty)
            if index >= len(chosen):  # the first round is unmeasured
                samples.setdefault(probe.name, []).append(sample)
        start_runs = Counter(recorded.operation for recorded in omics.requests)
        # Every Create must have answered SUCCESS, or its time measured a failure.
        answers = Counter(str((bucket.read_response(key) or {}).get("Status")) for key in answer_keys)
    if set(answers) != {"SUCCESS"}:
        raise RuntimeError(f"cold Creates answered {dict(answers)}, not SUCCESS only")
    # Every probe, in both languages, must have reached the stand-in exactly once.
    if start_runs != Counter({"StartRun": len(order)}):
        raise RuntimeError(f"the stand-in received {dict(start_runs)}, not {len(order)} StartRun")

    results: dict[str, Any] = {
        "repetitions": repetitions,
        "node_sdk": NODE_SDK,
        "node_sdk_version": node_version,
        "stand_in_requests_by_operation": dict(start_runs),
        "answers": dict(answers),
        "probes": {},
    }
    for name, taken in samples.items():
        seconds = [sample["seconds"] for sample in taken]
        walls = [sample["wall_seconds"] for sample in taken]
        results["probes"][name] = {
            "median_ms": median(seconds) * 1000,
            "min_ms": min(seconds) * 1000,
            "max_ms": max(seconds) * 1000,
            "median_process_wall_ms": median(walls) * 1000,
        }
    handler = results["probes"][HANDLER_CALL]
    results["handler_to_floor_ratio"] = ratio(handler["median_ms"], results["probes"][FLOOR]["median_ms"])
    results["handler_to_floor_process_ratio"] = ratio(
        handler["median_process_wall_ms"], results["probes"][FLOOR]["median_process_wall_ms"]
    )
    peer = results["probes"].get(PEER)
    results["handler_to_peer_ratio"] = ratio(handler["median_ms"], peer["median_ms"]) if peer else None
    results["handler_to_peer_process_ratio"] = (
        ratio(handler["median_process_wall_ms"], peer["median_process_wall_ms"]) if peer else None
    )
    return results
