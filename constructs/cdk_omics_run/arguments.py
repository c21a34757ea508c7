"""Construct arguments -> Custom::OmicsRun properties, checked at synth time.

The rules come from the handler's ``start_run_shape`` module, which reads
botocore's service model: synth time and deploy time apply the same checks.
"""
from __future__ import annotations

import difflib
from functools import lru_cache
import json
import re
from enum import Enum
from pathlib import Path
from typing import Any, Mapping

from aws_cdk import Stack
from aws_cdk import aws_omics as omics
from constructs import Construct

from cdk_omics_run.tokens import is_token
from cdk_omics_run.enums import DeletePolicy, WaitFor
from cdk_omics_run.handler_source import start_run_shape, tag_rules

FILE_PREFIX = "file://"
MAX_SERVICE_TIMEOUT_SECONDS = 3600


def argument_name_of(wire_name: str) -> str:
    """`workflowId` -> `workflow_id`: the construct's spelling of a StartRun member."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", wire_name).lower()


@lru_cache(maxsize=1)
def members_by_argument() -> dict[str, Any]:
    """StartRun members the construct accepts, keyed by snake_case argument name."""
    return {argument_name_of(m.wire_name): m for m in start_run_shape().start_run_members().values()}


class ArgumentError(ValueError):
    """A construct argument that StartRun would reject."""


def resource_properties(scope: Construct, arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The resource properties for the given arguments, after checking every literal value.

    ``arguments`` maps snake_case argument names to values; None means unset.
    Tokens are passed through unchecked: their values are known only at deploy time.
    """
    members = members_by_argument()
    properties: dict[str, Any] = {}
    for argument, given in arguments.items():
        if given is None:
            continue
        member = members.get(argument)
        if member is None:
            raise ArgumentError(_unknown_argument_message(scope, argument, members))
        value = _plain_value(scope, argument, given)
        if member.shape.metadata.get("document"):
            properties[member.property_name] = _document_property(scope, argument, member, value)
            continue
        _check(scope, argument, member, value)
        if argument == "tags":
            _check_declared_tags(scope, value)
        properties[member.property_name] = value
    return properties


def _check_declared_tags(scope: Construct, tags: Any) -> None:
    if is_token(tags):
        return
    problem = tag_rules().declared_tags_problem({k: v for k, v in tags.items() if not is_token(k)})
    if problem is not None:
        where, text = problem
        raise ArgumentError(f"{scope.node.path}: argument {where.replace('Tags', 'tags', 1)}: {text}")


def resource_settings(
    scope: Construct, *, rerun_token: str | None, delete_policy: Any, wait_for: Any, wait_timeout: Any
) -> dict[str, Any]:
    """The properties that configure the resource, not the run: RerunToken, DeletePolicy, WaitFor."""
    settings: dict[str, Any] = {}
    if rerun_token is not None:
        if not is_token(rerun_token) and not (isinstance(rerun_token, str) and len(rerun_token) <= 256):
            raise ArgumentError(
                f"{scope.node.path}: argument rerun_token: got {rerun_token!r}; allowed: a string of at most 256 characters"
            )
        settings["RerunToken"] = rerun_token
    if delete_policy is not None:
        settings["DeletePolicy"] = _enum_setting(scope, "delete_policy", delete_policy, DeletePolicy)
    if wait_for is not None:
        settings["WaitFor"] = _enum_setting(scope, "wait_for", wait_for, WaitFor)
    if wait_timeout is not None and not is_token(wait_timeout.to_seconds()):
        seconds = wait_timeout.to_seconds()
        if not 1 <= seconds <= MAX_SERVICE_TIMEOUT_SECONDS:
            raise ArgumentError(
                f"{scope.node.path}: argument wait_timeout: got {seconds} s; "
                f"allowed: 1 to {MAX_SERVICE_TIMEOUT_SECONDS} s (CloudFormation's custom-resource limit)"
            )
    return settings


def _enum_setting(scope: Construct, argument: str, value: Any, allowed: type[Enum]) -> Any:
    plain = _plain_value(scope, argument, value)
    values = [member.value for member in allowed]
    if not is_token(plain) and plain not in values:
        raise ArgumentError(f"{scope.node.path}: argument {argument}: got {plain!r}; allowed: {', '.join(values)}")
    return plain


def _plain_value(scope: Construct, argument: str, value: Any) -> Any:
    """Resolves enums, roles and the aws_omics L1s to the ID or name StartRun wants."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(getattr(value, "role_arn", None), str):
        # Any iam.IRole, including imported ones (jsii interfaces are not
        # runtime-checkable protocols).
        return value.role_arn
    if isinstance(value, (omics.CfnWorkflow, omics.CfnRunGroup, omics.CfnRunCache)):
        return value.attr_id
    if isinstance(value, omics.CfnWorkflowVersion):
        # Named by its version name, which carries no dependency: add it.
        scope.node.add_dependency(value)
        return value.version_name
    if isinstance(value, omics.CfnConfiguration):
        # The configuration is referred to by name, which carries no
        # dependency: add it, so the configuration exists before the run.
        scope.node.add_dependency(value)
        return value.name
    return value


def _check(scope: Construct, argument: str, member: Any, value: Any) -> None:
    if is_token(value):
        return
    if isinstance(value, Mapping):
        value = {k: v for k, v in value.items() if not (is_token(k) or is_token(v))}
    try:
        start_run_shape().coerce_member(member, value)
    except start_run_shape().PropertyError as error:
        where = error.property_name.replace(member.property_name, argument, 1)
        raise ArgumentError(f"{scope.node.path}: argument {where}: {error.problem}") from None


def _document_property(scope: Construct, argument: str, member: Any, value: Any) -> Any:
    """Documents are emitted as a JSON string, so workflow parameters keep their types exactly."""
    if isinstance(value, str) and not is_token(value):
        if value.startswith(FILE_PREFIX):
            value = _load_json_file(scope, argument, value[len(FILE_PREFIX) :])
        else:
            _check(scope, argument, member, value)
            return value
    if is_token(value):
        return value
    _check(scope, argument, member, value)
    if _contains_token(value):
        # Tokens inside need CloudFormation functions to join the JSON text;
        # CDK's renderer drops null values, so it is used only when needed.
        return Stack.of(scope).to_json_string(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _contains_token(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_contains_token(k) or _contains_token(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_contains_token(item) for item in value)
    return is_token(value)


def _load_json_file(scope: Construct, argument: str, path_text: str) -> Any:
    # Relative to the working directory, as the AWS CLI reads file:// values.
    path = Path(path_text).expanduser()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ArgumentError(
            f"{scope.node.path}: argument {argument}: cannot read {path} ({error.strerror}); "
            "allowed: file:// followed by the path of a JSON file"
        ) from None
    except json.JSONDecodeError as error:
        raise ArgumentError(
            f"{scope.node.path}: argument {argument}: {path} is not valid JSON "
            f"({error.msg} at line {error.lineno}); allowed: a JSON object"
        ) from None


def _unknown_argument_message(scope: Construct, argument: str, members: Mapping[str, Any]) -> str:
    suggestion = difflib.get_close_matches(argument, list(members), n=1)
    hint = f"did you mean {suggestion[0]}?" if suggestion else f"allowed: {', '.join(sorted(members))}"
    return f"{scope.node.path}: unknown argument {argument}; {hint}"
