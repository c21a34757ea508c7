"""Custom::OmicsRun properties -> a StartRun request. A pure function of its inputs."""
from __future__ import annotations

import difflib
import hashlib
from typing import Any, Mapping

from omics_run.start_run_shape import PropertyError, coerce_member, start_run_members

# Properties CloudFormation or the provider itself adds to every resource;
# they configure the resource and are never sent to StartRun.
CONTROL_PROPERTIES = frozenset({"ServiceToken", "ServiceTimeout"})

# StartRun's idempotency token may be at most 128 characters.
REQUEST_ID_LENGTH = 64


def start_run_request(properties: Mapping[str, Any], *, request_id: str) -> dict[str, Any]:
    """Maps a resource's properties to the keyword arguments of ``omics.start_run``.

    Every problem is found before any API call: an unknown property, a wrong
    type, a value outside an enum, range or pattern, or a missing required
    member raises PropertyError naming the property.

    >>> start_run_request({"RoleArn": "arn:aws:iam::1:role/r", "OutputUri": "s3://b/o/",
    ...                    "Priority": "1"}, request_id="x")["priority"]
    1
    """
    members = start_run_members()
    request: dict[str, Any] = {}
    for name, value in properties.items():
        if name in CONTROL_PROPERTIES:
            continue
        member = members.get(name)
        if member is None:
            raise PropertyError(name, _unknown_property_problem(name, members))
        request[member.wire_name] = coerce_member(member, value)
    for member in members.values():
        if member.required and member.wire_name not in request:
            raise PropertyError(member.property_name, "missing; it is required by StartRun")
    request["requestId"] = request_id
    return request


def derive_request_id(stack_id: str, logical_resource_id: str, cloudformation_request_id: str) -> str:
    """The StartRun idempotency token for one CloudFormation request.

    Redeliveries and Lambda's async retries carry the same three values, so
    they reach StartRun with the same token and start no second run.
    """
    seed = "\n".join((stack_id, logical_resource_id, cloudformation_request_id))
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:REQUEST_ID_LENGTH]


def _unknown_property_problem(name: str, members: Mapping[str, Any]) -> str:
    suggestion = difflib.get_close_matches(name, list(members), n=1)
    if suggestion:
        return f"unknown property; did you mean {suggestion[0]}?"
    return "unknown property; allowed: the StartRun members in PascalCase, such as WorkflowId, RoleArn, OutputUri"
