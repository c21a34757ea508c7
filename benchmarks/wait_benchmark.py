#!/usr/bin/env python3
"""What a wait costs: AWS calls and latency per waited run-hour, and Lambda time per wake; run on demand.

    .venv/bin/python benchmarks/wait_benchmark.py                   # about 6 minutes on 2 cores
    .venv/bin/python benchmarks/wait_benchmark.py --simulated-only  # the account simulation alone: about 3

The calls and the signal's latency are measured in the test suite's account
simulation (tests/support/account_simulation.py): the handler's real code over
HTTP against the stand-ins, on a simulated clock, HealthOmics' quotas
enforced; 1 run of 1, 2, 4 and 10 hours, and 1,000 runs of 1 to 4 hours in 5
stacks (2 % of events lost): one workflow and output location for all (no rule can tell
the stacks apart), one workflow with an output location per stack, and both per stack.
Every AWS call the providers make for the waits is counted (throttled attempts
included), divided by the hours the runs waited; the 180 calls (60 GetRun, 60
TagResource, 60 SendMessage) of the 60 s polls of earlier releases are the
comparison. Lambda time per wake, per event and in a burst of 1,000 events is
measured in real time against moto's SQS, with short polls. Prints markdown
tables and writes benchmarks/wait_results.json. Not a test: timings depend on
the machine, and loopback calls are faster than calls to AWS in a region.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path[:0] = [str(REPO_ROOT / "lambda"), str(REPO_ROOT / "tests"), str(BENCHMARKS_DIR)]

from stats import median, percentile  # noqa: E402 - needs the path above

DEFAULT_POLL_SECONDS = 60  # before events: every wake one GetRun, one TagResource, one SendMessage
CALLS_PER_HOUR_BEFORE = 3 * 3600 // DEFAULT_POLL_SECONDS
HANDLE_ID = "RunWaitHandle"
FUNCTION_MEMORY_GB = 256 / 1024
RESULTS_FILE = BENCHMARKS_DIR / "wait_results.json"


def handler_environment(omics: Any, bucket: Any, queue_url: str, cloudformation: Any = None) -> dict[str, str]:
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
        **({"AWS_ENDPOINT_URL_CLOUDFORMATION": cloudformation.endpoint_url} if cloudformation is not None else {}),
    }


@dataclass(frozen=True)
class Harness:
    """The stand-ins of one measurement, moto's SQS with a fresh wake queue, and the handler aimed at them."""

    omics: Any
    bucket: Any
    cloudformation: Any
    sqs: Any
    queue_url: str
    handler: Any


@contextlib.contextmanager
def wake_harness() -> Iterator[Harness]:
    import boto3
    from support.cloudformation_stand_in import CloudFormationStandIn
    from support.omics_stand_in import OmicsStandIn
    from support.response_bucket import ResponseBucket

    cloudformation = CloudFormationStandIn().start()
    try:
        with tempfile.TemporaryDirectory() as workdir, OmicsStandIn() as omics, ResponseBucket(Path(workdir)) as bucket:
            sqs = boto3.session.Session(
                region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
            ).client("sqs", endpoint_url=bucket.endpoint_url, verify=bucket.ca_file)
            queue_url = sqs.create_queue(QueueName=f"waits-{uuid.uuid4().hex[:8]}")["QueueUrl"]
            os.environ.update(handler_environment(omics, bucket, queue_url, cloudformation))
            handler = importlib.import_module("omics_run_handler")
            from omics_run.client import omics_client, sqs_client, wake_cloudformation_client, wake_omics_client

            for client in (omics_client, sqs_client, wake_omics_client, wake_cloudformation_client):
                client.cache_clear()  # each measurement has its own stand-ins
            yield Harness(omics, bucket, cloudformation, sqs, queue_url, handler)
    finally:
        cloudformation.stop()


def waiting_properties(handle_url: str, **wait: Any) -> dict[str, Any]:
    """A run that waits for COMPLETED (up to an hour) on the handle at ``handle_url``."""
    return {
        "WorkflowId": "1234567",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "OutputUri": "s3://b/o/",
        "WaitFor": "COMPLETED",
        "WaitTimeout": 3600,
        "WaitHandle": handle_url,
        **wait,
    }


def measure_waits(runs: int, wakes_before_completion: int, poll_seconds: int) -> dict[str, Any]:
    from events import invoke_handler
    from support.event_source_mapping import EventSourceMapping

    with wake_harness() as harness:
        omics, bucket, handler = harness.omics, harness.bucket, harness.handler
        mapping = EventSourceMapping(handler, harness.sqs, harness.queue_url)
        handles = {}
        for index in range(runs):
            key = f"handles/{uuid.uuid4()}"
            properties = waiting_properties(bucket.presigned_response_url(key), WaitPollInterval=poll_seconds)
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


def measure_events(repeats: int) -> dict[str, Any]:
    """One waiting run at a time: the signal's latency after its status change, with its event delivered.

    The safety net polls at the default cap, so only the event can end the wait within the measurement.
    """
    from events import STACK_ID, invoke_handler, run_status_change
    from support.event_source_mapping import EventSourceMapping

    with wake_harness() as harness:
        omics, bucket, cloudformation, handler = harness.omics, harness.bucket, harness.cloudformation, harness.handler
        sqs, queue_url = harness.sqs, harness.queue_url
        mapping = EventSourceMapping(handler, sqs, queue_url)
        latencies, calls = [], {"GetRun": 0, "UntagResource": 0, "TagResource": 0, "DescribeStackResource": 0}
        for index in range(repeats):
            key = f"handles/{uuid.uuid4()}"
            url = bucket.presigned_response_url(key)
            cloudformation.record(
                STACK_ID, HANDLE_ID, url, "AWS::CloudFormation::WaitConditionHandle", "CREATE_COMPLETE"
            )
            properties = waiting_properties(url, WaitHandleLogicalId=HANDLE_ID)
            answer = invoke_handler(handler, bucket, "Create", properties, logical_id=f"Run{index}")
            run_id = answer.response["PhysicalResourceId"]
            omics.reset_requests()
            cloudformation.calls.clear()
            omics.set_status(run_id, "COMPLETED")
            changed = time.monotonic()
            # EventBridge puts the event on the queue; HealthOmics' own delay before it is not simulated.
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(run_status_change(omics.runs[run_id])))
            while bucket.read_response(key) is None:
                if mapping.poll() == 0:
                    time.sleep(0.02)
                if time.monotonic() - changed > 30:
                    raise RuntimeError("the event's signal did not arrive within 30 s")
            latencies.append(time.monotonic() - changed)
            for op in ("GetRun", "UntagResource", "TagResource"):
                calls[op] += len(omics.requests_for(op))
            calls["DescribeStackResource"] += sum(
                1 for c in cloudformation.calls if c.get("Action") == "DescribeStackResource"
            )
        return {"latency_seconds": latencies, "calls_per_event": {op: n / repeats for op, n in calls.items()}}


def measure_burst(events: int, own: int) -> dict[str, Any]:
    """A burst of ``events`` status changes, ``own`` of them for this stack's waiting runs, the rest foreign.

    The mapping here is one poller (Lambda's runs two invocations at once): the drain time is that of one.
    """
    from events import STACK_ID, invoke_handler, run_status_change
    from support.event_source_mapping import EventSourceMapping

    with wake_harness() as harness:
        omics, bucket, cloudformation, handler = harness.omics, harness.bucket, harness.cloudformation, harness.handler
        sqs, queue_url = harness.sqs, harness.queue_url
        keys = []
        for index in range(own):
            key, handle_id = f"handles/{uuid.uuid4()}", f"Run{index}WaitHandle"
            url = bucket.presigned_response_url(key)
            cloudformation.record(
                STACK_ID, handle_id, url, "AWS::CloudFormation::WaitConditionHandle", "CREATE_COMPLETE"
            )
            properties = waiting_properties(url, WaitHandleLogicalId=handle_id)
            run_id = invoke_handler(handler, bucket, "Create", properties, logical_id=f"Run{index}").response[
                "PhysicalResourceId"
            ]
            omics.set_status(run_id, "COMPLETED")
            keys.append((run_id, key))
        other_stack = STACK_ID.replace("OmicsRunExample", "AnotherStack")
        foreign = [
            omics.add_run(status="COMPLETED", tags={"cdk-omics-run:stack": other_stack}) for _ in range(events - own)
        ]
        omics.enforce_stack_tag(STACK_ID)
        bodies = [run_status_change(omics.runs[run_id]) for run_id, _ in keys]
        bodies += [run_status_change(run) for run in foreign]
        for start in range(0, len(bodies), 10):
            entries = [{"Id": str(i), "MessageBody": json.dumps(b)} for i, b in enumerate(bodies[start : start + 10])]
            sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        omics.reset_requests()
        mapping = EventSourceMapping(handler, sqs, queue_url)
        started = time.monotonic()
        while sum(d.records for d in mapping.deliveries) < events:
            if mapping.poll() == 0:
                time.sleep(0.02)
        drained = time.monotonic() - started
        return {
            "events": events,
            "own": own,
            "drain_seconds_one_poller": drained,
            "invocations": len(mapping.deliveries),
            "failed_records": sum(d.failures for d in mapping.deliveries),
            "get_run_calls": len(omics.requests_for("GetRun")),
            "signalled": sum(1 for _, key in keys if bucket.read_response(key) is not None),
            "invocation_seconds_max": max(d.seconds for d in mapping.deliveries),
        }


def simulated_account(
    runs: int, stacks: int, hours: tuple[float, float], one_workflow: bool, one_output_location: bool = True
) -> dict[str, Any]:
    """The test suite's account simulation (simulated clock, quotas enforced): calls and latency per waited run-hour."""
    import pytest
    from support.account_simulation import SIMULATION_START, planned_runs, simulate_account

    plans = planned_runs(runs, stacks, seed=25, hours=hours, lost_events=0.02 if stacks > 1 else 0.0, failing=0.0,
                         waiting_for_running=0.0)  # fmt: skip
    started = time.monotonic()
    with wake_harness() as harness, pytest.MonkeyPatch.context() as patch:
        harness.omics.reset()
        simulation = simulate_account(harness.handler, patch, harness.omics, harness.cloudformation, harness.bucket,
                                      plans, stacks=stacks, one_workflow=one_workflow,
                                      one_output_location=one_output_location)  # fmt: skip
        outcomes = list(simulation.outcomes.values())
        waited_hours = sum(outcome.waited_hours for outcome in outcomes)
        calls = simulation.calls()
        delivered = [o.latency for o in outcomes if not o.plan.lose_deciding_event]
        missed = [o.latency for o in outcomes if o.plan.lose_deciding_event]
        return {
            "runs": runs, "stacks": stacks, "hours": hours, "one_workflow": one_workflow,
            "one_output_location": one_output_location,
            "waited_hours": waited_hours,
            "calls_per_run_hour": {op: n / waited_hours for op, n in sorted(calls.items())},
            "throttled": len(harness.omics.throttled),
            "failed_waits": sum(1 for o in outcomes if not o.signals or o.signals[0][1]["Status"] != "SUCCESS"),
            "latency_event": delivered, "latency_missed_event": missed,
            "simulated_seconds": simulation.clock.now() - SIMULATION_START,
            "real_seconds": time.monotonic() - started,
        }  # fmt: skip


def print_simulated(results: list[dict[str, Any]]) -> None:
    def label(result: dict[str, Any]) -> str:
        low, high = result["hours"]
        length = f"{low:g} h" if low == high else f"{low:g}–{high:g} h"
        if result["stacks"] == 1:
            return f"1 run of {length} (mean of {result['runs']})"
        workflows = "one workflow" if result["one_workflow"] else "a workflow per stack"
        locations = "one output location" if result["one_output_location"] else "an output location per stack"
        return f"{result['runs']:,} runs of {length} in {result['stacks']} stacks, {workflows}, {locations}"

    operations = sorted({op for result in results for op in result["calls_per_run_hour"]})
    print("| AWS calls per waited run-hour (simulated account) | " + " | ".join(operations) + " | **All** |")
    print("|---|" + "---:|" * (len(operations) + 1))
    for result in results:
        per_hour = result["calls_per_run_hour"]
        cells = [f"{per_hour.get(op, 0.0):.2f}" for op in operations]
        print(f"| {label(result)} | " + " | ".join(cells) + f" | **{sum(per_hour.values()):.1f}** |")
    print()
    print("| Simulated account | event delivered: median, p90, max (s) | event lost: max (s) | throttled | "
          "failed waits | real time (s) |")  # fmt: skip
    print("|---|---|---|---:|---:|---:|")
    for result in results:
        delivered = sorted(result["latency_event"])
        missed = result["latency_missed_event"]
        print(f"| {label(result)} | {median(delivered):.1f}, {percentile(delivered, 0.9):.1f}, {max(delivered):.1f} | "
              f"{max(missed):.0f} ({len(missed)} lost) | {result['throttled']} | {result['failed_waits']} | "
              f"{result['real_seconds']:.0f} |" if missed else
              f"| {label(result)} | {median(delivered):.1f}, {percentile(delivered, 0.9):.1f}, {max(delivered):.1f} | "
              f"none lost | {result['throttled']} | {result['failed_waits']} | {result['real_seconds']:.0f} |")  # fmt: skip


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
    # A single run's figure depends on where the jitter puts its few wakes: 20 runs alone in their
    # stack (none reads another's events) give the mean of one.
    simulated = [simulated_account(20, 1, (hours, hours), one_workflow=True) for hours in (1.0, 2.0, 4.0, 10.0)]
    simulated += [
        simulated_account(1000, 5, (1.0, 4.0), one_workflow=True),
        simulated_account(1000, 5, (1.0, 4.0), one_workflow=True, one_output_location=False),
        simulated_account(1000, 5, (1.0, 4.0), one_workflow=False, one_output_location=False),
    ]
    print_simulated(simulated)
    print()
    if "--simulated-only" in sys.argv:
        RESULTS_FILE.write_text(json.dumps({"simulated_account": simulated}, indent=1))
        return
    # One-second polls for one run; ten-second polls for a hundred, so that this single-threaded
    # mapping (Lambda's runs up to two invocations at once) keeps up.
    one = measure_waits(runs=1, wakes_before_completion=10, poll_seconds=1)
    hundred = measure_waits(runs=100, wakes_before_completion=3, poll_seconds=10)
    events = measure_events(repeats=10)
    burst = measure_burst(events=1000, own=5)
    template = template_bytes_per_waiting_run()
    results = {"simulated_account": simulated, "one_run": one, "hundred_runs": hundred, "events": events, "burst": burst, "template": template,
               "calls_per_run_hour_before": CALLS_PER_HOUR_BEFORE}  # fmt: skip
    RESULTS_FILE.write_text(json.dumps(results, indent=1))

    print("| Measured | 1 run waiting | 100 runs waiting |")
    print("|---|---|---|")
    for label, scale in (("median", 0.5), ("p95", 0.95)):
        cells = []
        for result in (one, hundred):
            per_wake = (
                percentile(result["seconds_per_wake"], scale) if label == "p95" else median(result["seconds_per_wake"])
            )
            cells.append(f"{per_wake * 1000:.1f} ms/wake ({per_wake * FUNCTION_MEMORY_GB * 1000:.1f} mGB-s)")
        print(f"| Lambda time per wake, {label} | {' | '.join(cells)} |")
    for op in ("GetRun", "TagResource"):
        print(f"| {op} per wake | {one['calls_per_wake'][op]:.2f} | {hundred['calls_per_wake'][op]:.2f} |")
    print(
        f"| Wakes per invocation (max) | {one['records_per_invocation_max']} | {hundred['records_per_invocation_max']} |"
    )
    print(f"| Messages left after the signals | {one['messages_left']} | {hundred['messages_left']} |")
    print()
    latency = events["latency_seconds"]
    print(
        f"Signal after the status change, event delivered (1 run, {len(latency)} repeats): median "
        f"{median(latency):.2f} s, max {max(latency):.2f} s (goal under 5 s); calls per event: "
        + ", ".join(f"{op} {n:.1f}" for op, n in events["calls_per_event"].items())
    )
    print(
        f"A burst of {burst['events']} events ({burst['own']} for this stack's waits): {burst['invocations']} invocations "
        f"of at most {burst['invocation_seconds_max']:.2f} s, {burst['get_run_calls']} GetRun, "
        f"{burst['failed_records']} failed records, {burst['signalled']} of {burst['own']} waits signalled; drained in "
        f"{burst['drain_seconds_one_poller']:.1f} s by one poller (Lambda runs two invocations at once)"
    )
    print(
        f"Signal after the status change, polls alone: median {median(one['signal_delay_seconds']):.2f} s, "
        f"max {max(one['signal_delay_seconds']):.2f} s with 1 s polls (1 run); "
        f"median {median(hundred['signal_delay_seconds']):.2f} s, max {max(hundred['signal_delay_seconds']):.2f} s "
        "with 10 s polls (100 runs): about half the interval, which a missed event waits for"
    )
    print(
        f"Template bytes: {template['per_waiting_run']} per waiting run, {template['per_plain_run']} per plain run, "
        f"{template['provider_wait_resources']} once per stack for the queue, dead-letter queue, mapping and rule"
    )


if __name__ == "__main__":
    main()
