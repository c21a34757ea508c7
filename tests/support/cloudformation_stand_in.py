"""A local stand-in for CloudFormation's DescribeStackResource (moto cannot hold ``Custom::`` resources).

It answers from records the tests keep the way CloudFormation keeps them:
``events.Stack`` records its resource on Create (CREATE_COMPLETE) and on
Delete (DELETE_COMPLETE), and a test may change a record by hand. Served over
real HTTP in the query protocol the SDK speaks (form-encoded POST, XML
answers), so the handler's boto3 client is exercised as deployed. Each
behaviour cites its document in FIDELITY.md.
"""

from __future__ import annotations

import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

XML_NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


@dataclass(frozen=True)
class StackResourceRecord:
    physical_resource_id: str
    resource_type: str
    status: str


class CloudFormationStandIn:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.resources: dict[tuple[str, str], StackResourceRecord] = {}
        self.requests: list[dict[str, str]] = []
        # Error code and HTTP status for every request while set, e.g. ("AccessDenied", 403).
        self.failing: tuple[str, int] | None = None

    def record(self, stack_id: str, logical_id: str, physical_id: str, resource_type: str, status: str) -> None:
        with self._lock:
            self.resources[(stack_id, logical_id)] = StackResourceRecord(physical_id, resource_type, status)

    def forget(self, stack_id: str, logical_id: str) -> None:
        """The resource left the stack's template (an Update removed it): CloudFormation no longer describes it."""
        with self._lock:
            self.resources.pop((stack_id, logical_id), None)

    def reset(self) -> None:
        with self._lock:
            self.resources.clear()
            self.requests.clear()
            self.failing = None

    def start(self) -> CloudFormationStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                form = {key: values[0] for key, values in urllib.parse.parse_qs(body).items()}
                status, answer = stand_in._answer(form)
                payload = answer.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None, "the CloudFormation stand-in is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _answer(self, form: dict[str, str]) -> tuple[int, str]:
        with self._lock:
            self.requests.append(form)
            if self.failing is not None:
                code, status = self.failing
                return status, _error(code, f"injected {code}")
            if form.get("Action") != "DescribeStackResource":
                return 400, _error("InvalidAction", f"{form.get('Action')} is not served by this stand-in")
            stack_id, logical_id = form.get("StackName", ""), form.get("LogicalResourceId", "")
            if not any(stack == stack_id for stack, _ in self.resources):
                return 400, _error("ValidationError", f"Stack with id {stack_id} does not exist")
            record = self.resources.get((stack_id, logical_id))
            if record is None:
                return 400, _error("ValidationError", f"Resource {logical_id} does not exist for stack {stack_id}")
        return 200, _describe_stack_resource_response(stack_id, logical_id, record)


def _describe_stack_resource_response(stack_id: str, logical_id: str, record: StackResourceRecord) -> str:
    stack_name = stack_id.split("/")[1] if stack_id.count("/") >= 2 else stack_id
    return (
        f'<DescribeStackResourceResponse xmlns="{XML_NAMESPACE}"><DescribeStackResourceResult>'
        "<StackResourceDetail>"
        f"<StackId>{escape(stack_id)}</StackId><StackName>{escape(stack_name)}</StackName>"
        f"<LogicalResourceId>{escape(logical_id)}</LogicalResourceId>"
        f"<PhysicalResourceId>{escape(record.physical_resource_id)}</PhysicalResourceId>"
        f"<ResourceType>{escape(record.resource_type)}</ResourceType>"
        "<LastUpdatedTimestamp>2026-01-01T00:00:00Z</LastUpdatedTimestamp>"
        f"<ResourceStatus>{escape(record.status)}</ResourceStatus>"
        "</StackResourceDetail></DescribeStackResourceResult>"
        "<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata>"
        "</DescribeStackResourceResponse>"
    )


def _error(code: str, message: str) -> str:
    return (
        f'<ErrorResponse xmlns="{XML_NAMESPACE}"><Error><Type>Sender</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    )
