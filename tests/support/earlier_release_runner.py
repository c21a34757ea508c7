"""Runs an earlier release's construct and handler, in a process of its own (see ``earlier_release``).

Usage: ``python earlier_release_runner.py CHECKOUT < job.json``. The job may ask to synthesize a
stack that the ``declare`` snippet fills with the release's constructs (the template goes to
``template_path``) and to play ``events`` through the release's handler with ``environment`` set.
What it loaded goes to stdout as JSON, so the caller can check which release ran.

Both the old and the current modules are named ``cdk_omics_run``, ``omics_run`` and
``omics_run_handler``: the checkout's folders come first on the path, before the installed
(editable) current library, and nothing of the test suite's is on it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

checkout = Path(sys.argv[1])
# Replace this script's own folder (tests/support) with the release's lambda/ and constructs/.
sys.path[0:1] = [str(checkout / "lambda"), str(checkout / "constructs")]


class LambdaContext:
    """The parts of Lambda's context object that crhelper reads (as tests/events.py has them)."""

    function_name = "OmicsRunProvider"
    aws_request_id = "lambda-request"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:OmicsRunProvider"
    log_group_name = "/aws/lambda/OmicsRunProvider"
    log_stream_name = "stream"

    def __init__(self, timeout_seconds: float = 300.0) -> None:
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def synthesize(declare: str, template_path: str) -> str:
    import aws_cdk as cdk

    import cdk_omics_run

    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Stack")
    exports = {name: getattr(cdk_omics_run, name) for name in getattr(cdk_omics_run, "__all__", vars(cdk_omics_run))}
    exec(declare, {**exports, "cdk": cdk, "stack": stack})  # the test's own declaration
    Path(template_path).write_text(json.dumps(app.synth().get_stack_by_name("Stack").template))
    return str(cdk_omics_run.__file__)


def invoke(events: list[dict[str, Any]], environment: dict[str, str]) -> str:
    os.environ.update(environment)
    import omics_run_handler

    for event in events:
        omics_run_handler.handler(event, LambdaContext())
    return str(omics_run_handler.__file__)


def main() -> None:
    job = json.load(sys.stdin)
    loaded = {}
    if job.get("declare"):
        loaded["cdk_omics_run"] = synthesize(job["declare"], job["template_path"])
    if job.get("events"):
        loaded["omics_run_handler"] = invoke(job["events"], job["environment"])
    print(json.dumps(loaded))


if __name__ == "__main__":
    main()
