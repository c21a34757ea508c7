"""A local HTTP stand-in for CloudFormation's ListStackResources, GetTemplate and DescribeStackResource.

Written from their API reference. moto's CloudFormation cannot create ``Custom::`` resources
without a container runtime, so the ``status`` command's tests describe deployed stacks here, and
``events.Stack`` keeps its resource's record here as CloudFormation would (``record``), for the
waits that ask whether the stack deleted a run::

    cloudformation = CloudFormationStandIn().start()
    stack_id = cloudformation.add_stack("Genomics", [("AlignRun1A2B3C4D", "1234567", "Custom::OmicsRun")])
    # boto3 / botocore reach it through AWS_ENDPOINT_URL_CLOUDFORMATION=cloudformation.endpoint_url

It speaks the AWS Query protocol as botocore's ``cloudformation`` model declares it: a form-encoded
``POST /`` with ``Action`` and ``Version``, answered with XML (``ListStackResourcesResult``), errors
as ``ErrorResponse``. Resources are paged 100 at a time with an opaque ``NextToken``. FIDELITY.md,
"CloudFormation: ListStackResources", cites each behaviour. Only the standard library is used.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from support.loopback import LoopbackService, QuietHandler, StandInServer

__all__ = ["PAGE_SIZE", "CloudFormationStandIn", "StackResource"]

_NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
# How many summaries one ListStackResources page holds: the reference does not say; the stand-in's choice.
PAGE_SIZE = 100


@dataclass(frozen=True)
class StackResource:
    """One StackResourceSummary: what ListStackResources says of a resource."""

    logical_id: str
    physical_id: str | None
    resource_type: str
    status: str = "CREATE_COMPLETE"
    last_updated: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class _Handler(QuietHandler):
    def do_POST(self) -> None:
        form = {k: v[-1] for k, v in parse_qs(self.body().decode("utf-8")).items()}
        status, body = self.server.stand_in._answer(form)
        self.reply(status, body.encode("utf-8"), "text/xml")


class CloudFormationStandIn(LoopbackService):
    """Deployed stacks (``stacks``: stack ID -> resources) and the ListStackResources calls made (``calls``)."""

    def __init__(self, account: str = "123456789012", region: str = "us-east-1") -> None:
        self.account = account
        self.region = region
        self.stacks: dict[str, list[StackResource]] = {}
        self.templates: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self.calls: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def start(self) -> CloudFormationStandIn:
        """Serve on a free loopback port in a daemon thread."""
        self._serve(StandInServer(self, _Handler))
        return self

    def reset(self) -> None:
        with self._lock:
            self.stacks.clear()
            self.templates.clear()
            self._names.clear()
            self.calls.clear()

    def add_stack(
        self,
        name: str,
        resources: list[StackResource | tuple[str, str | None, str]],
        template: dict[str, Any] | str | None = None,
    ) -> str:
        """Deploys a stack of these resources (``(logical ID, physical ID, type)`` or full summaries); its stack ID.

        ``template``: what GetTemplate answers (a dict is sent as JSON, a string as written); by default
        a template of the resources' types without properties.
        """
        stack_id = f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{name}/{uuid.uuid4()}"
        summaries = [r if isinstance(r, StackResource) else StackResource(*r) for r in resources]
        if template is None:
            template = {"Resources": {r.logical_id: {"Type": r.resource_type} for r in summaries}}
        with self._lock:
            self.stacks[stack_id] = summaries
            self.templates[stack_id] = template if isinstance(template, str) else json.dumps(template)
            self._names[name] = stack_id
        return stack_id

    def record(self, stack_id: str, logical_id: str, physical_id: str, resource_type: str, status: str) -> None:
        """CloudFormation's record of one resource after a request: added to its stack, or replaced."""
        with self._lock:
            resources = self.stacks.setdefault(stack_id, [])
            self._names.setdefault(stack_id.split("/")[1], stack_id)
            resources[:] = [r for r in resources if r.logical_id != logical_id]
            resources.append(StackResource(logical_id, physical_id, resource_type, status))

    def _answer(self, form: dict[str, str]) -> tuple[int, str]:
        with self._lock:
            self.calls.append(form)
            action = form.get("Action")
            if action not in ("ListStackResources", "GetTemplate", "DescribeStackResource"):
                return _error(
                    400,
                    "InvalidAction",
                    f"The stand-in serves ListStackResources, GetTemplate and DescribeStackResource, not {action}",
                )
            name = form.get("StackName", "")
            stack_id = self._names.get(name, name)
            resources = self.stacks.get(stack_id)
            if resources is None:
                # The service's answer for an unknown stack name or ID.
                return _error(400, "ValidationError", f"Stack with id {name} does not exist")
            if action == "DescribeStackResource":
                return _describe_stack_resource(stack_id, resources, form.get("LogicalResourceId", ""))
            if action == "GetTemplate":
                return 200, (
                    f'<GetTemplateResponse xmlns="{_NAMESPACE}"><GetTemplateResult>'
                    f"<TemplateBody>{escape(self.templates[stack_id])}</TemplateBody>"
                    "<StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>"
                    f"</GetTemplateResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
                    "</GetTemplateResponse>"
                )
            start = int(form.get("NextToken", "0") or 0)
            page = resources[start : start + PAGE_SIZE]
            members = "".join(_summary(resource) for resource in page)
            token = f"<NextToken>{start + PAGE_SIZE}</NextToken>" if start + PAGE_SIZE < len(resources) else ""
        return 200, (
            f'<ListStackResourcesResponse xmlns="{_NAMESPACE}"><ListStackResourcesResult>'
            f"<StackResourceSummaries>{members}</StackResourceSummaries>{token}</ListStackResourcesResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></ListStackResourcesResponse>"
        )


def _describe_stack_resource(stack_id: str, resources: list[StackResource], logical_id: str) -> tuple[int, str]:
    found = [r for r in resources if r.logical_id == logical_id]
    if not found:
        return _error(400, "ValidationError", f"Resource {logical_id} does not exist for stack {stack_id}")
    resource = found[0]
    physical = (
        ""
        if resource.physical_id is None
        else f"<PhysicalResourceId>{escape(resource.physical_id)}</PhysicalResourceId>"
    )
    updated = resource.last_updated.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return 200, (
        f'<DescribeStackResourceResponse xmlns="{_NAMESPACE}"><DescribeStackResourceResult><StackResourceDetail>'
        f"<StackId>{escape(stack_id)}</StackId><StackName>{escape(stack_id.split('/')[1])}</StackName>"
        f"<LogicalResourceId>{escape(logical_id)}</LogicalResourceId>{physical}"
        f"<ResourceType>{escape(resource.resource_type)}</ResourceType>"
        f"<LastUpdatedTimestamp>{updated}</LastUpdatedTimestamp>"
        f"<ResourceStatus>{escape(resource.status)}</ResourceStatus>"
        "</StackResourceDetail></DescribeStackResourceResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></DescribeStackResourceResponse>"
    )


def _summary(resource: StackResource) -> str:
    physical = (
        ""
        if resource.physical_id is None
        else f"<PhysicalResourceId>{escape(resource.physical_id)}</PhysicalResourceId>"
    )
    updated = resource.last_updated.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f"<member><LogicalResourceId>{escape(resource.logical_id)}</LogicalResourceId>{physical}"
        f"<ResourceType>{escape(resource.resource_type)}</ResourceType>"
        f"<LastUpdatedTimestamp>{updated}</LastUpdatedTimestamp>"
        f"<ResourceStatus>{escape(resource.status)}</ResourceStatus></member>"
    )


def _error(status: int, code: str, message: str) -> tuple[int, str]:
    return status, (
        f'<ErrorResponse xmlns="{_NAMESPACE}"><Error><Type>Sender</Type><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
