"""A trap for Lambda and EventBridge calls, which the provider must never make.

Waits travel by SQS, so no Invoke of itself, no crhelper polling rule and no
Lambda permission should ever reach this server: the tests point
``AWS_ENDPOINT_URL_LAMBDA`` and ``AWS_ENDPOINT_URL_EVENTS`` here and assert
that ``invocations`` and ``unexpected`` stay empty.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support.loopback import LoopbackService

INVOKE_PATH_PREFIX = "/2015-03-31/functions/"


@dataclass(frozen=True)
class Invocation:
    """One asynchronous Invoke: the function and the event it was given."""

    function: str
    invocation_type: str
    payload: dict[str, Any]
    payload_bytes: int


class LambdaStandIn(LoopbackService):
    """Records Invoke calls on a loopback port; everything else lands in ``unexpected``."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []
        self.unexpected: list[str] = []
        self._lock = threading.Lock()

    def start(self) -> LambdaStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.path.startswith(INVOKE_PATH_PREFIX) and self.path.endswith("/invocations"):
                    function = self.path[len(INVOKE_PATH_PREFIX) : -len("/invocations")]
                    with stand_in._lock:
                        stand_in.invocations.append(
                            Invocation(
                                function=function,
                                invocation_type=self.headers.get("x-amz-invocation-type", "RequestResponse"),
                                payload=json.loads(body),
                                payload_bytes=len(body),
                            )
                        )
                    self.send_response(202)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                self._unexpected()

            def do_GET(self) -> None:
                self._unexpected()

            def do_DELETE(self) -> None:
                self._unexpected()

            def _unexpected(self) -> None:
                with stand_in._lock:
                    stand_in.unexpected.append(f"{self.command} {self.path} {self.headers.get('x-amz-target', '')}")
                payload = b'{"message": "not served by the stand-in"}'
                self.send_response(400)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        return self

    def take_invocations(self) -> list[Invocation]:
        """The invocations recorded so far, which are then forgotten (Lambda has delivered them)."""
        with self._lock:
            taken, self.invocations = self.invocations, []
        return taken

    def reset(self) -> None:
        with self._lock:
            self.invocations.clear()
            self.unexpected.clear()
