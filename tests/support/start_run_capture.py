"""Runs the bundled handler and captures its HealthOmics requests just before they are sent.

Usage: python start_run_capture.py ASSET_DIR CAPTURE_FILE < event.json

Like ``bundled_handler.py``, only the asset folder is put ahead on the path,
so the handler, its ``omics_run`` package and crhelper come from the asset
while boto3 and botocore come from whatever the environment provides (a test
puts an old botocore first on PYTHONPATH).

Every request of the handler's omics client is caught by a botocore
``before-send`` handler, after botocore has validated and serialized it: what
is recorded is exactly what would go on the wire. A StartRun is answered with
a synthetic successful response, so the handler completes and crhelper PUTs
its real answer to the event's ResponseURL. Catching the request rather than
sending it matters with old botocore releases, which ignore
``AWS_DISABLE_HOST_PREFIX_INJECTION`` and would send to a "workflows-" host
that a loopback stand-in cannot be.

CAPTURE_FILE receives JSON: the botocore version and file that were loaded,
and the captured requests (operation, method, URL, parsed JSON body).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RUN_ID = "7654321"
RUN_ARN = f"arn:aws:omics:us-east-1:123456789012:run/{RUN_ID}"
RUN_UUID = "a1b2c3d4-0000-4000-8000-000000000001"


class _Body:
    """The raw stream botocore's AWSResponse reads a body from."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Any:
        yield self._content


class StartRunCapture:
    """A before-send handler: records each request and answers it without any network."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def __call__(self, request: Any, event_name: str, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        operation = event_name.rsplit(".", 1)[-1]
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode("utf-8")
        parsed = json.loads(body) if body else None
        self.requests.append({"operation": operation, "method": request.method, "url": request.url, "body": parsed})
        if operation != "StartRun":
            # Only StartRun is expected; anything else fails loudly instead of being faked.
            error = {"message": f"start_run_capture answers StartRun only, not {operation}"}
            return AWSResponse(
                request.url, 400, {"x-amzn-errortype": "ValidationException"}, _Body(json.dumps(error).encode())
            )
        run = {
            "arn": RUN_ARN,
            "id": RUN_ID,
            "uuid": RUN_UUID,
            "status": "PENDING",
            "runOutputUri": parsed["outputUri"].rstrip("/") + "/" + RUN_ID,
            "tags": parsed.get("tags", {}),
        }
        headers = {"content-type": "application/json", "x-amzn-requestid": "start-run-capture"}
        return AWSResponse(request.url, 201, headers, _Body(json.dumps(run).encode("utf-8")))


def main() -> None:
    asset_dir = Path(sys.argv[1]).resolve()
    capture_file = Path(sys.argv[2])
    sys.path.insert(0, str(asset_dir))
    sys.path.append(str(Path(__file__).resolve().parents[1]))  # tests/, for LambdaContext only
    import botocore
    import crhelper
    import omics_run_handler
    from events import LambdaContext

    from omics_run.client import omics_client

    for module in (crhelper, omics_run_handler):
        if not Path(module.__file__).resolve().is_relative_to(asset_dir):
            raise SystemExit(f"{module.__name__} was not loaded from the asset: {module.__file__}")
    capture = StartRunCapture()
    # The handler reuses this very client (it is cached), so every omics call passes the capture.
    omics_client().meta.events.register("before-send.omics", capture)
    try:
        omics_run_handler.handler(json.load(sys.stdin), LambdaContext())
    finally:
        capture_file.write_text(
            json.dumps(
                {
                    "botocore_version": botocore.__version__,
                    "botocore_file": botocore.__file__,
                    "requests": capture.requests,
                }
            ),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
