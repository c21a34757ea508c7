"""Custom::OmicsRun properties -> a StartRun request. A pure function of its inputs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omics_run.start_run_shape import (
    PropertyError,
    coerce_member,
    exclusive_member_pairs,
    quote,
    start_run_members,
    unknown_name_problem,
)
from omics_run.tag_rules import declared_tags_problem

# Properties that configure the resource rather than the run; none is sent to StartRun.
SERVICE_PROPERTIES = frozenset({"ServiceToken", "ServiceTimeout"})
DELETE_POLICIES = ("LEAVE", "CANCEL", "CANCEL_AND_DELETE")
DEFAULT_DELETE_POLICY = "CANCEL"
RERUN_TOKEN_LIMIT = 256
WAIT_TARGETS = ("NONE", "RUNNING", "COMPLETED")
WAIT_PROPERTIES = frozenset({"WaitFor", "WaitHandle", "WaitHandleLogicalId", "WaitTimeout", "WaitPollInterval"})
CONTROL_PROPERTIES = SERVICE_PROPERTIES | WAIT_PROPERTIES | {"RerunToken", "DeletePolicy"}
# AWS::CloudFormation::WaitCondition's Timeout is at most 43,200 s; SQS delays a message 0 to 900 s.
WAIT_TIMEOUT_RANGE = (1, 43_200)
WAIT_POLL_INTERVAL_RANGE = (1, 900)
# The safety net's cap behind status-change events (see waiting.py).
DEFAULT_WAIT_POLL_INTERVAL = 900
# A logical ID is alphanumeric, at most 255 characters (CloudFormation User Guide, template
# anatomy, Resources: "The logical ID must be alphanumeric (A-Za-z0-9) and unique within the template").
LOGICAL_ID = re.compile(r"[A-Za-z0-9]{1,255}")

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
            allowed = "allowed: the StartRun members in PascalCase, such as WorkflowId, RoleArn, OutputUri"
            raise PropertyError(name, unknown_name_problem("property", name, members, allowed))
        request[member.wire_name] = coerce_member(member, value)
    for member in members.values():
        if member.required and member.wire_name not in request:
            raise PropertyError(member.property_name, "missing; it is required by StartRun")
    for first, second in exclusive_member_pairs(members):
        if first.wire_name in request and second.wire_name in request:
            raise PropertyError(
                f"{first.property_name}, {second.property_name}",
                f"got both; allowed: one of them (StartRun's model: specify either {first.wire_name} or "
                f"{second.wire_name}, not both)",
            )
    tags_problem = declared_tags_problem(request.get("tags", {}))
    if tags_problem is not None:
        raise PropertyError(*tags_problem)
    request["requestId"] = request_id
    return request


# A re-run names its source by runId alone. AWS's own rerun tool
# (awslabs/aws-healthomics-tools, omics/cli/rerun) sends either workflowId or
# runId, never both; what the service does with both is undocumented. Shared
# workflows are never re-run by run ID, so workflowOwnerId never goes with it.
NOT_WITH_RUN_ID = ("workflowId", "workflowOwnerId")


def rerun_request(request: Mapping[str, Any], *, source_run_id: str) -> dict[str, Any]:
    """The StartRun request that re-runs ``source_run_id`` with the declared members.

    HealthOmics copies every member the request leaves out from the source run
    (StartRun API reference: runId is "the ID of a run to duplicate").
    ``workflowType`` stays when declared: a Ready2Run re-run needs it
    (aws-healthomics-tools issue #39, fixed in PR #41).

    >>> rerun_request({"workflowId": "1", "workflowType": "READY2RUN", "roleArn": "r"}, source_run_id="9")
    {'workflowType': 'READY2RUN', 'roleArn': 'r', 'runId': '9'}
    """
    return {**{k: v for k, v in request.items() if k not in NOT_WITH_RUN_ID}, "runId": source_run_id}


@dataclass(frozen=True)
class ResourceSettings:
    """How the resource treats its run, beyond what StartRun takes."""

    delete_policy: str = DEFAULT_DELETE_POLICY
    rerun_token: str | None = None
    wait_for: str = "NONE"
    wait_handle: str | None = None
    wait_timeout: int = WAIT_TIMEOUT_RANGE[1]
    wait_poll_interval: int = DEFAULT_WAIT_POLL_INTERVAL
    # The handle's logical ID, by which a status-change event finds its URL (DescribeStackResource).
    wait_handle_logical_id: str = ""


def resource_settings(
    properties: Mapping[str, Any],
    wait_targets: Sequence[str] = WAIT_TARGETS,
    default_poll_interval: int = DEFAULT_WAIT_POLL_INTERVAL,
) -> ResourceSettings:
    """Reads ``DeletePolicy``, ``RerunToken`` and the ``Wait*`` settings; raises PropertyError for bad values.

    ``wait_targets``: what ``WaitFor`` may name (a batch waits for other states than a run);
    ``default_poll_interval``: the polling cap when ``WaitPollInterval`` is absent.
    """
    policy, token = delete_policy_and_rerun_token(properties)
    wait_for = properties.get("WaitFor", "NONE")
    if wait_for not in wait_targets:
        raise PropertyError("WaitFor", f"got {quote(wait_for)}; allowed: {', '.join(wait_targets)}")
    return ResourceSettings(
        delete_policy=policy,
        rerun_token=token,
        wait_for=wait_for,
        wait_handle=_wait_handle_setting(properties, wait_for),
        wait_timeout=integer_setting(properties, "WaitTimeout", WAIT_TIMEOUT_RANGE, WAIT_TIMEOUT_RANGE[1]),
        wait_poll_interval=integer_setting(
            properties, "WaitPollInterval", WAIT_POLL_INTERVAL_RANGE, default_poll_interval
        ),
        wait_handle_logical_id=_logical_id_setting(properties, "WaitHandleLogicalId"),
    )


def _logical_id_setting(properties: Mapping[str, Any], name: str) -> str:
    """An optional logical ID property: alphanumeric, at most 255 characters."""
    value = properties.get(name, "")
    if not isinstance(value, str) or (value and not LOGICAL_ID.fullmatch(value)):
        raise PropertyError(name, f"got {quote(value)}; allowed: a logical ID (A-Za-z0-9, at most 255 characters)")
    return value


def delete_policy_and_rerun_token(properties: Mapping[str, Any]) -> tuple[str, str | None]:
    """``DeletePolicy`` (CANCEL by default) and ``RerunToken``; raises PropertyError for bad values."""
    policy = properties.get("DeletePolicy", DEFAULT_DELETE_POLICY)
    if policy not in DELETE_POLICIES:
        raise PropertyError("DeletePolicy", f"got {quote(policy)}; allowed: {', '.join(DELETE_POLICIES)}")
    token = properties.get("RerunToken")
    if token is not None and (not isinstance(token, str) or len(token) > RERUN_TOKEN_LIMIT):
        raise PropertyError(
            "RerunToken", f"got {quote(token)}; allowed: a string of at most {RERUN_TOKEN_LIMIT} characters"
        )
    return policy, token


def _wait_handle_setting(properties: Mapping[str, Any], wait_for: str) -> str | None:
    """The WaitCondition handle URL a wait signals; required with any WaitFor but NONE."""
    handle = properties.get("WaitHandle")
    if wait_for != "NONE" and not (isinstance(handle, str) and handle.startswith("https://")):
        # Never quote it: a handle URL is a presigned credential.
        raise PropertyError(
            "WaitHandle",
            "missing or not an https:// URL; required with WaitFor: "
            "the Ref of an AWS::CloudFormation::WaitConditionHandle",
        )
    return handle if wait_for != "NONE" else None


def integer_setting(
    properties: Mapping[str, Any], name: str, bounds: tuple[int, int], default: int, unit: str = "seconds"
) -> int:
    """An integer control property (CloudFormation sends it as text), within ``bounds``."""
    value = properties.get(name)
    if value is None:
        return default
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not bounds[0] <= int(text) <= bounds[1]:
        raise PropertyError(name, f"got {quote(value)}; allowed: an integer from {bounds[0]} to {bounds[1]} ({unit})")
    return int(text)


def derive_request_id(stack_id: str, logical_resource_id: str, cloudformation_request_id: str) -> str:
    """The StartRun idempotency token for one CloudFormation request.

    Redeliveries and Lambda's async retries carry the same three values, so
    they reach StartRun with the same token and start no second run.
    """
    seed = "\n".join((stack_id, logical_resource_id, cloudformation_request_id))
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:REQUEST_ID_LENGTH]
