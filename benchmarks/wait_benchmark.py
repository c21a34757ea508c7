#!/usr/bin/env python3
"""What a wait costs: Lambda time, API calls and latency per waited run-hour; run on demand.

    .venv/bin/python benchmarks/wait_benchmark.py          # about a minute on 2 cores

The handler runs against the local stand-ins the tests use (the HealthOmics
stand-in, moto's server for SQS and the WaitCondition handle), with the event
source mapping played as in the tests, and short polls. Per-wake costs
are measured, then scaled to the default 60 s poll interval. Prints markdown
tables and writes benchmarks/wait_results.json. Not a test: timings depend on
the machine, and loopback calls are faster than calls to AWS in a region.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path[:0] = [str(REPO_ROOT / "lambda"), str(REPO_ROOT / "tests"), str(BENCHMARKS_DIR)]

from stats import median, percentile  # noqa: E402 - needs the path above

DEFAULT_POLL_SECONDS = 60
FUNCTION_MEMORY_GB = 256 / 1024
RESULTS_FILE = BENCHMARKS_DIR / "wait_results.json"


def handler_environment(omics: Any, bucket: Any, queue_url: str) -> dict[str, str]:
    return {
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_ENDPOINT_URL_OMICS": omics.endpoint_url,
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "AWS_ENDPOINT_URL_SQS": bucket.endpoint_url,
        "AWS_CA_BUNDLE": bucket.ca_file,
        "SSL_CERT_FILE": bucket.ca_file,
        "OMICS_RUN_WAIT_QUEUE_URL": queue_url,
    }


def measure_waits(runs: int, wakes_before_completion: int, poll_seconds: int) -> dict[str, Any]:
    import boto3
    from events import invoke_handler
    from support.event_source_mapping import EventSourceMapping
    from support.omics_stand_in import OmicsStandIn
    from support.response_bucket import ResponseBucket

    with tempfile.TemporaryDirectory() as workdir, OmicsStandIn() as omics, ResponseBucket(Path(workdir)) as bucket:
        sqs = boto3.session.Session(
            region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        ).client("sqs", endpoint_url=bucket.endpoint_url, verify=bucket.ca_file)
        queue_url = sqs.create_queue(QueueName=f"waits-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        os.environ.update(handler_environment(omics, bucket, queue_url))
        handler = importlib.import_module("omics_run_handler")
        from omics_run.client import omics_client, sqs_client, wake_omics_client

        for client in (omics_client, sqs_client, wake_omics_client):
            client.cache_clear()  # each measurement has its own stand-ins
        mapping = EventSourceMapping(handler, sqs, queue_url)
        handles = {}
        for index in range(runs):
            key = f"handles/{uuid.uuid4()}"
            properties = {
                "WorkflowId": "1234567",
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "OutputUri": "s3://b/o/",
                "WaitFor": "COMPLETED",
                "WaitTimeout": 3600,
                "WaitPollInterval": poll_seconds,
                "WaitHandle": bucket.presigned_response_url(key),
            }
            answer = invoke_handler(handler, bucket, "Create", properties, logical_id=f"Run{index}")
            handles[answer.response["PhysicalResourceId"]] = key
        for run_id in handles:
            omics.set_status(run_id, "RUNNING")
        omics.reset_requests()
        mapping.run_until(lambda: sum(d.records for d in mapping.deliveries) >= runs * wakes_before_completion, 120)
        polling = list(mapping.deliveries)
        calls = {op: len(omics.requests_for(op)) for op in ("GetRun", "TagResource", "UntagResource", "CancelRun")}
        wakes = sum(d.records for d in polling)
        completed_at = time.monotonic()
        for run_id in handles:
            omics.set_status(run_id, "COMPLETED")
        delays = []
        pending = dict(handles)
        while pending:
            mapping.poll()
            for run_id, key in list(pending.items()):
                if bucket.read_response(key) is not None:
                    delays.append(time.monotonic() - completed_at)
                    del pending[run_id]
            if time.monotonic() - completed_at > 60:
                raise RuntimeError("signals did not arrive within 60 s")
        mapping.drain(quiet_seconds=2)
        return {
            "runs": runs,
            "wakes": wakes,
            "invocations": len(polling),
            "records_per_invocation_max": max(d.records for d in polling),
            "seconds_per_invocation": [d.seconds for d in polling],
            "seconds_per_wake": [d.seconds / d.records for d in polling],
            "calls_per_wake": {op: count / wakes for op, count in calls.items()},
            "signal_delay_seconds": delays,
            "messages_left": mapping.messages_in_queue(),
        }


def template_bytes_per_waiting_run() -> dict[str, int]:
    import aws_cdk as cdk

    from cdk_omics_run import OmicsRun, WaitFor

    def size(waiting: int, plain: int) -> int:
        app = cdk.App(context={"aws:cdk:bundling-stacks": []})
        stack = cdk.Stack(app, "Stack")
        for index in range(waiting + plain):
            OmicsRun(
                stack,
                f"Run{index}",
                workflow_id="1234567",
                role_arn="arn:aws:iam::123456789012:role/r",
                output_uri="s3://b/o/",
                wait_for=WaitFor.COMPLETED if index < waiting else None,
            )
        template = app.synth().get_stack_by_name("Stack").template
        return len(json.dumps(template, separators=(",", ":")))

    return {
        "per_waiting_run": size(11, 0) - size(10, 0),
        "per_plain_run": size(0, 11) - size(0, 10),
        "provider_wait_resources": size(1, 0) - size(0, 1) - (size(11, 0) - size(10, 0) - (size(0, 11) - size(0, 10))),
    }


def main() -> None:
    pinned_node = REPO_ROOT / "node_modules" / ".bin"
    os.environ["PATH"] = f"{pinned_node}{os.pathsep}{os.environ['PATH']}"  # the Node.js LTS package.json pins
    # One-second polls for one run; ten-second polls for a hundred, so that this single-threaded
    # mapping (Lambda's runs up to two invocations at once) keeps up, as it does at 60 s.
    one = measure_waits(runs=1, wakes_before_completion=10, poll_seconds=1)
    hundred = measure_waits(runs=100, wakes_before_completion=3, poll_seconds=10)
    template = template_bytes_per_waiting_run()
    wakes_per_hour = 3600 / DEFAULT_POLL_SECONDS
    results = {"one_run": one, "hundred_runs": hundred, "template": template, "poll_seconds": DEFAULT_POLL_SECONDS}
    RESULTS_FILE.write_text(json.dumps(results, indent=1))

    print("| Per waited run-hour, at the default 60 s poll | 1 run waiting | 100 runs waiting |")
    print("|---|---|---|")
    for label, scale in (("median", 0.5), ("p95", 0.95)):
        cells = []
        for result in (one, hundred):
            per_wake = (
                percentile(result["seconds_per_wake"], scale) if label == "p95" else median(result["seconds_per_wake"])
            )
            cells.append(f"{wakes_per_hour * per_wake * FUNCTION_MEMORY_GB:.3f} GB-s ({per_wake * 1000:.1f} ms/wake)")
        print(f"| Lambda time, {label} | {' | '.join(cells)} |")
    for op in ("GetRun", "TagResource"):
        print(
            f"| {op} calls | {wakes_per_hour * one['calls_per_wake'][op]:.0f} | "
            f"{wakes_per_hour * hundred['calls_per_wake'][op]:.0f} |"
        )
    print(f"| SQS SendMessage | {wakes_per_hour:.0f} | {wakes_per_hour:.0f} |")
    print(
        f"| Wakes per invocation (max) | {one['records_per_invocation_max']} | {hundred['records_per_invocation_max']} |"
    )
    print("| Invocations held between wakes | 0 | 0 |")
    print(f"| Messages left after the signals | {one['messages_left']} | {hundred['messages_left']} |")
    print("| Peak concurrent invocations | 1 | at most 2 (the mapping's MaximumConcurrency) |")
    print()
    print(
        f"Signal after the status change: median {median(one['signal_delay_seconds']):.2f} s, "
        f"max {max(one['signal_delay_seconds']):.2f} s with 1 s polls (1 run); "
        f"median {median(hundred['signal_delay_seconds']):.2f} s, max {max(hundred['signal_delay_seconds']):.2f} s "
        "with 10 s polls (100 runs)"
    )
    print(
        f"Template bytes: {template['per_waiting_run']} per waiting run, {template['per_plain_run']} per plain run, "
        f"{template['provider_wait_resources']} once per stack for the queue, dead-letter queue and mapping"
    )


if __name__ == "__main__":
    main()
