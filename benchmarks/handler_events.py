#!/usr/bin/env python3
"""Per-event handler time, warm, against the local HealthOmics stand-in.

benchmark.py runs this in a process of its own, so that nothing else is
loaded and the handler is warm after the first event, as in a reused
Lambda execution environment:

    python benchmarks/handler_events.py --asset ASSET_DIR --run RUN_JSON --events 1000 --out OUT_JSON

``ASSET_DIR`` is the synthesized provider asset; ``RUN_JSON`` holds the
logical ID and properties of a ``Custom::OmicsRun`` from the synthesized
template. Every event is a Create with its own RequestId, played through
``omics_run_handler.handler`` exactly as Lambda calls it: crhelper answers on
a real presigned HTTPS URL (moto) and StartRun goes over HTTP to the
stand-in. The test suite's stand-ins, event builder and handler environment
are reused (``tests/`` is put on the path) so the benchmark exercises the
same setup the tests trust.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = REPO_ROOT / "tests"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stats import percentile  # noqa: E402 - needs the path above


class ApiCallRecorder:
    """Counts and times every AWS API call made through boto3's default session.

    Registered on the default session before the handler creates its clients,
    so every client the handler makes (crhelper's, the omics client, any
    other) inherits it: a call to any service is seen, not only to HealthOmics.
    """

    def __init__(self, events: Any) -> None:
        self.calls: list[tuple[str, float]] = []
        events.register("before-call", self._before)
        events.register("after-call", self._after)
        events.register("after-call-error", self._after)

    def _before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        context["benchmark_started"] = time.perf_counter()

    def _after(self, context: dict[str, Any], event_name: str, **_: Any) -> None:
        # event_name is e.g. "after-call.omics.StartRun".
        operation = event_name.split(".", 1)[1]
        self.calls.append((operation, time.perf_counter() - context.pop("benchmark_started", time.perf_counter())))

    def take(self) -> list[tuple[str, float]]:
        calls, self.calls = self.calls, []
        return calls


class ResponsePutTimer:
    """Times crhelper's answer to CloudFormation: the response body and its PUT to the ResponseURL.

    That PUT goes over HTTPS to moto, which runs in another process on the
    same cores and stands in for CloudFormation's S3, so it is reported apart
    from the handler's own work. crhelper sends every answer through
    ``CfnResource._send``; the wrapper times it and changes nothing else.
    """

    def __init__(self) -> None:
        self.seconds: list[float] = []
        from crhelper.resource_helper import CfnResource

        original = CfnResource._send

        def timed(helper: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(helper, *args, **kwargs)
            finally:
                self.seconds.append(time.perf_counter() - started)

        CfnResource._send = timed

    def take(self) -> float:
        total, self.seconds = sum(self.seconds), []
        return total


def summary(seconds: list[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean, in milliseconds."""
    return {
        "p50_ms": percentile(seconds, 0.50) * 1000,
        "p90_ms": percentile(seconds, 0.90) * 1000,
        "p99_ms": percentile(seconds, 0.99) * 1000,
        "max_ms": max(seconds) * 1000,
        "mean_ms": sum(seconds) / len(seconds) * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asset", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    asset = args.asset.resolve()
    # Lambda's /var/task is read-only: the asset's modules are never cached as .pyc there.
    sys.dont_write_bytecode = True
    sys.path[:0] = [str(asset), str(TESTS_DIR)]

    from conftest import REGION, handler_environment
    from events import LambdaContext, cfn_event
    from support.omics_stand_in import OmicsStandIn
    from support.response_bucket import ResponseBucket

    run = json.loads(args.run.read_text(encoding="utf-8"))
    with (
        tempfile.TemporaryDirectory(prefix="omics-run-bench-") as workdir,
        OmicsStandIn(region=REGION) as omics,
        ResponseBucket(Path(workdir)) as bucket,
    ):
        os.environ.update(handler_environment(omics, bucket))
        os.environ["AWS_DATA_PATH"] = str(asset / "service_models")
        os.environ.pop("AWS_PROFILE", None)
        # Lambda's runtime has a root log handler; crhelper logs at INFO through it.
        # Formatting is kept (it is part of the handler's cost), the output is dropped.
        logging.basicConfig(stream=open(os.devnull, "w"), force=True)  # noqa: SIM115 - lives as long as the process

        import boto3

        boto3.setup_default_session()
        recorder = ApiCallRecorder(boto3.DEFAULT_SESSION.events)

        import omics_run_handler

        if not Path(omics_run_handler.__file__).resolve().is_relative_to(asset):
            raise SystemExit(f"the handler was not loaded from the asset: {omics_run_handler.__file__}")
        recorder.take()  # nothing is called at import, but keep the count per event exact
        put_timer = ResponsePutTimer()

        total = args.warmup + args.events
        keys = [f"benchmark/{uuid.uuid4()}" for _ in range(total)]
        # Presigning is the test harness's work, not the handler's: done before the clock starts.
        events = [
            cfn_event(
                "Create",
                run["properties"],
                response_url=bucket.presigned_response_url(key),
                logical_id=run["logical_id"],
                request_id=str(uuid.uuid4()),
            )
            for key in keys
        ]

        handler_seconds: list[float] = []
        api_seconds: list[float] = []
        put_seconds: list[float] = []
        own_seconds: list[float] = []
        calls_per_event: list[int] = []
        operations: Counter[str] = Counter()
        for index, event in enumerate(events):
            if index == args.warmup:
                omics.reset_requests()
            started = time.perf_counter()
            omics_run_handler.handler(event, LambdaContext())
            elapsed = time.perf_counter() - started
            calls = recorder.take()
            put = put_timer.take()
            if index < args.warmup:
                continue
            api = sum(seconds for _, seconds in calls)
            handler_seconds.append(elapsed)
            api_seconds.append(api)
            put_seconds.append(put)
            own_seconds.append(elapsed - api - put)
            calls_per_event.append(len(calls))
            operations.update(operation for operation, _ in calls)

        statuses = Counter((bucket.read_response(key) or {}).get("Status", "missing") for key in keys[args.warmup :])
        start_runs = omics.requests_for("StartRun")
        received = Counter(request.operation for request in omics.requests)

    result = {
        "events": args.events,
        "warmup_events": args.warmup,
        "handler": summary(handler_seconds),
        "api_call_time": summary(api_seconds),
        "response_put_time": summary(put_seconds),
        "handler_own_time": summary(own_seconds),
        "api_calls_per_create": {
            "min": min(calls_per_event),
            "max": max(calls_per_event),
            "mean": sum(calls_per_event) / len(calls_per_event),
        },
        "api_calls_by_operation": dict(operations),
        "stand_in_requests_by_operation": dict(received),
        "distinct_start_run_request_ids": len({(r.body or {}).get("requestId") for r in start_runs}),
        "responses_by_status": dict(statuses),
    }
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
