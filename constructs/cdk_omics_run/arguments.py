"""Construct arguments -> Custom::OmicsRun properties, checked at synth time.

The rules come from the handler's ``start_run_shape`` module, which reads
botocore's service model: synth time and deploy time apply the same checks.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_omics as omics
from constructs import Construct

from cdk_omics_run.enums import DeletePolicy, WaitFor
from cdk_omics_run.handler_source import start_run_shape, tag_rules
from cdk_omics_run.json_values import json_value_problem
from cdk_omics_run.tokens import contains_token, is_token

FILE_PREFIX = "file://"
# What a document argument (parameters, engine_settings) may be, as synth-time errors say.
DOCUMENT_ALLOWED = f"a JSON object, a dict, or {FILE_PREFIX}path/to/file.json"
# A URI's scheme ("s3:", "https:"): text that starts with one is no local path.
_URI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")
# AWS::CloudFormation::WaitCondition's Timeout: at most 43,200 s (12 hours), per its CloudFormation reference.
MAX_WAIT_TIMEOUT_SECONDS = 43_200
# How the provider joins an Array[File] output's URIs into one attribute (the handler's run_outputs.LIST_DELIMITER).
LIST_OUTPUT_DELIMITER = ","
# SQS DelaySeconds: 0 to 900 (SendMessage API reference); a poll waits one delayed message.
MAX_POLL_INTERVAL_SECONDS = 900


def argument_name_of(wire_name: str) -> str:
    """`workflowId` -> `workflow_id`: the construct's spelling of a StartRun member."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", wire_name).lower()


@lru_cache(maxsize=1)
def members_by_argument() -> dict[str, Any]:
    """StartRun members the construct accepts, keyed by snake_case argument name."""
    return {argument_name_of(m.wire_name): m for m in start_run_shape().start_run_members().values()}


class ArgumentError(ValueError):
    """A construct argument that StartRun would reject."""


@lru_cache(maxsize=1)
def default_run_setting_members_by_argument() -> dict[str, Any]:
    """StartRunBatch's defaultRunSetting members, and its batchName and tags, keyed by snake_case argument name."""
    shape = start_run_shape()
    members = [*shape.default_run_setting_members().values(), *shape.batch_members().values()]
    return {argument_name_of(m.wire_name): m for m in members}


@lru_cache(maxsize=1)
def inline_setting_members_by_argument() -> dict[str, Any]:
    """The members of one run of a batch (an InlineSetting), keyed by snake_case argument name."""
    return {argument_name_of(m.wire_name): m for m in start_run_shape().inline_setting_members().values()}


def resource_properties(
    scope: Construct, arguments: Mapping[str, Any], members: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The resource properties for the given arguments, after checking every literal value.

    ``arguments`` maps snake_case argument names to values; None means unset.
    ``members``: the request members they are checked against (StartRun's by default).
    Tokens are passed through unchecked: their values are known only at deploy time.
    """
    members = members_by_argument() if members is None else members
    properties: dict[str, Any] = {}
    for argument, given in arguments.items():
        if given is None:
            continue
        member = members.get(argument)
        if member is None:
            raise ArgumentError(_unknown_argument_message(scope, argument, members))
        value = _plain_value(scope, argument, given)
        # A document given as a path or text is read, and its errors say so, below.
        problem = None if isinstance(value, os.PathLike) else json_value_problem(value, argument)
        if problem is not None:
            # Refused before jsii sees it: jsii's own error names no argument.
            raise ArgumentError(f"{scope.node.path}: argument {problem[0]}: {problem[1]}")
        if argument == "role_arn":
            check_role_arn(scope, value)
        if member.shape.metadata.get("document"):
            properties[member.property_name] = _document_property(scope, argument, member, value)
            continue
        _check(scope, argument, member, value)
        if argument in ("tags", "run_tags"):
            _check_declared_tags(scope, value, argument)
        properties[member.property_name] = value
    return properties


# An IAM role's ARN (IAM User Guide, "IAM identifiers": arn:partition:iam::account:role/path/name; a path
# is / or /text/, a name 1 to 64 of letters, digits and +=,.@_-), in any partition (aws, aws-cn, aws-us-gov...).
_ROLE_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:iam::\d{12}:role/(?:[\x21-\x7e]+/)?[\w+=,.@-]{1,64}")
_ROLE_ARN_ALLOWED = (
    "allowed: an IAM role ARN, arn:<partition>:iam::<12-digit account>:role/[<path>/]<name> "
    "(such as 'arn:aws:iam::123456789012:role/service-role/omics-run'), or an iam.IRole"
)


def check_role_arn(scope: Construct, value: Any) -> None:
    """Refuses a literal ``role_arn`` that is not an IAM role's ARN, naming what it names instead."""
    if not isinstance(value, str) or is_token(value) or _ROLE_ARN.fullmatch(value):
        return
    if value != value.strip():
        got = f"got {value!r}, with white space around it"
    elif re.fullmatch(r"arn:[^:]+:iam::\d{12}:(user|group|policy|instance-profile)/.+", value):
        got = f"got {value!r}, which names an IAM {value.split(':')[5].split('/')[0].replace('-', ' ')}"
    else:
        got = f"got {value!r}"
    raise ArgumentError(f"{scope.node.path}: argument role_arn: {got}; {_ROLE_ARN_ALLOWED}")


def _check_declared_tags(scope: Construct, tags: Any, argument: str = "tags") -> None:
    if is_token(tags):
        return
    problem = tag_rules().declared_tags_problem({k: v for k, v in tags.items() if not is_token(k)})
    if problem is not None:
        where, text = problem
        raise ArgumentError(f"{scope.node.path}: argument {where.replace('Tags', argument, 1)}: {text}")


def resource_settings(
    scope: Construct,
    *,
    rerun_token: str | None,
    delete_policy: Any,
    wait_for: Any,
    wait_timeout: Any,
    wait_poll_interval: Any = None,
    wait_targets: type[Enum] = WaitFor,
) -> dict[str, Any]:
    """The properties that configure the resource, not the run: RerunToken, DeletePolicy, WaitFor.

    ``wait_timeout`` and ``wait_poll_interval`` are checked here; the construct places them.
    """
    settings: dict[str, Any] = {}
    if rerun_token is not None:
        if not is_token(rerun_token) and not (isinstance(rerun_token, str) and len(rerun_token) <= 256):
            raise ArgumentError(
                f"{scope.node.path}: argument rerun_token: got {rerun_token!r}; "
                "allowed: a string of at most 256 characters"
            )
        settings["RerunToken"] = rerun_token
    if delete_policy is not None:
        settings["DeletePolicy"] = _enum_setting(scope, "delete_policy", delete_policy, DeletePolicy)
    if wait_for is not None:
        settings["WaitFor"] = _enum_setting(scope, "wait_for", wait_for, wait_targets)
        if is_token(settings["WaitFor"]):
            # It decides at synth time whether the run gets a WaitCondition.
            raise ArgumentError(
                f"{scope.node.path}: argument wait_for: got a value known only at deploy time; allowed: a literal "
                f"{wait_targets.__name__} ({', '.join(member.value for member in wait_targets)})"
            )
    if wait_timeout is not None and not is_token(wait_timeout.to_seconds()):
        seconds = wait_timeout.to_seconds()
        if not 60 <= seconds <= MAX_WAIT_TIMEOUT_SECONDS:
            raise ArgumentError(
                f"{scope.node.path}: argument wait_timeout: got {seconds} s; allowed: 60 to "
                f"{MAX_WAIT_TIMEOUT_SECONDS} s (12 hours, a CloudFormation WaitCondition's limit); "
                "for longer runs wait for RUNNING and chain the next step with run.on_status_change(...)"
            )
    if wait_poll_interval is not None and not is_token(wait_poll_interval.to_seconds()):
        seconds = wait_poll_interval.to_seconds()
        if not 1 <= seconds <= MAX_POLL_INTERVAL_SECONDS:
            raise ArgumentError(
                f"{scope.node.path}: argument wait_poll_interval: got {seconds} s; "
                f"allowed: 1 to {MAX_POLL_INTERVAL_SECONDS} s (SQS's longest message delay)"
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


def check_member(scope: Construct, argument: str, member: Any, value: Any) -> None:
    """Raises ArgumentError, naming the construct path and ``argument``, for a literal value its member refuses."""
    _check(scope, argument, member, value)


def _check(scope: Construct, argument: str, member: Any, value: Any) -> None:
    if is_token(value):
        return
    if isinstance(value, Mapping):
        value = {k: v for k, v in value.items() if not (is_token(k) or is_token(v))}
    try:
        start_run_shape().coerce_member(member, value)
    except start_run_shape().PropertyError as error:
        where = error.property_name.replace(member.property_name, argument, 1)
        problem = _in_python_spelling(error, member, value)
        raise ArgumentError(f"{scope.node.path}: argument {where}: {problem}") from None


# How the handler spells a boolean member's allowed values, and how Python does.
_BOOLEANS_IN_JSON = "allowed: true or false"
_BOOLEANS_IN_PYTHON = "allowed: True or False"


def _in_python_spelling(error: Any, member: Any, value: Any) -> str:
    """The handler's problem text, with the rejected value quoted as Python writes it.

    The handler quotes values in JSON (``"VERBOSE"``, ``true``, ``null``), as a
    template's author writes them; at synth time they come from Python code,
    so they are shown as ``'VERBOSE'``, ``True``, ``None``.
    """
    problem = error.problem
    if problem.endswith(_BOOLEANS_IN_JSON):
        problem = problem.removesuffix(_BOOLEANS_IN_JSON) + _BOOLEANS_IN_PYTHON
    for candidate in _rejected_value_candidates(error.property_name[len(member.property_name) :], value):
        try:
            in_json = f"got {start_run_shape().quote(candidate)}"
        except (TypeError, ValueError):
            continue
        if problem == in_json or problem.startswith(in_json + ";"):
            return f"got {_python_quote(candidate)}{problem[len(in_json) :]}"
    return problem


def _rejected_value_candidates(where: str, value: Any) -> list[Any]:
    """The values the handler's error may be about, from where in the argument it says it is.

    ``""`` is the value itself, ``".team"`` a map's value and ``" key"`` one of its keys.
    """
    if where == "":
        return [value]
    if isinstance(value, Mapping):
        if where == " key":
            return list(value)
        if where.startswith(".") and where[1:] in value:
            return [value[where[1:]]]
    return []


def _python_quote(value: Any) -> str:
    """``repr(value)``, shortened as the handler shortens the values it quotes."""
    text = repr(value)
    limit = start_run_shape().QUOTED_VALUE_LIMIT
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _document_property(scope: Construct, argument: str, member: Any, value: Any) -> Any:
    """Documents are emitted as a JSON string, so workflow parameters keep their types exactly."""
    if isinstance(value, os.PathLike):
        got = f"got {_python_quote(value)}"
        raise ArgumentError(_not_a_document(scope, argument, got, os.fsdecode(value), path=True))
    if isinstance(value, str) and not is_token(value):
        if value.startswith(FILE_PREFIX):
            value = _load_json_file(scope, argument, value[len(FILE_PREFIX) :])
        else:
            _check_json_text(scope, argument, value)
            _check(scope, argument, member, value)
            return value
    if is_token(value):
        return value
    if not isinstance(value, Mapping):
        raise ArgumentError(_not_a_document(scope, argument, f"got {_python_quote(value)}"))
    _check(scope, argument, member, value)
    if contains_token(value):
        # Tokens inside need CloudFormation functions to join the JSON text;
        # CDK's renderer drops null values, so it is used only when needed.
        from cdk_omics_run.data_locations import json_with_list_outputs  # imports this module

        with_lists = json_with_list_outputs(value, LIST_OUTPUT_DELIMITER)
        return with_lists if with_lists is not None else Stack.of(scope).to_json_string(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _check_json_text(scope: Construct, argument: str, text: str) -> None:
    """A document given as text must be a JSON object: says what the text is, and what was likely meant."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        got = f"got {_python_quote(text)}, which is not JSON"
        if text.lstrip().startswith(("{", "[")):
            # Meant as JSON: where it breaks helps; for anything else it is noise.
            got += f" ({error.msg} at character {error.pos})"
        raise ArgumentError(_not_a_document(scope, argument, got, text)) from None
    if not isinstance(document, Mapping):
        got = f"got {_python_quote(text)}, which is JSON but not an object"
        raise ArgumentError(_not_a_document(scope, argument, got))


def _not_a_document(scope: Construct, argument: str, got: str, text: str | None = None, *, path: bool = False) -> str:
    """The error for a document argument: what it got, what is allowed and, when ``text`` looks like one, the fix."""
    message = f"{scope.node.path}: argument {argument}: {got}; allowed: {DOCUMENT_ALLOWED}"
    hint = None if text is None else _document_hint(argument, text.strip(), path=path)
    return f"{message} ({hint})" if hint else message


def _document_hint(argument: str, text: str, *, path: bool) -> str | None:
    """``file://`` for what looks like a local path; for an S3 URI of parameters, ``parameters_uri``."""
    uri_argument = f"{argument}_uri"
    if text.lower().startswith("s3://") and uri_argument in members_by_argument():
        return f"did you mean {uri_argument}={text!r}?"
    looks_like_a_path = text.lower().endswith(".json") or "/" in text or "\\" in text
    if path or (looks_like_a_path and not _URI_SCHEME.match(text)):
        return f"did you mean {FILE_PREFIX}{text}?"
    return None


def _load_json_file(scope: Construct, argument: str, path_text: str) -> Any:
    # Relative to the working directory, as the AWS CLI reads file:// values.
    path = Path(path_text).expanduser()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
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
    if not isinstance(document, Mapping):
        raise ArgumentError(
            f"{scope.node.path}: argument {argument}: {path} holds {_json_kind(document)}, not an object; "
            "allowed: a JSON object"
        )
    return document


def _json_kind(document: Any) -> str:
    """What a JSON value is, in JSON's terms: ``an array``, ``a string``..."""
    if document is None:
        return "null"
    if isinstance(document, bool):
        return "a boolean"
    if isinstance(document, (int, float)):
        return "a number"
    return "a string" if isinstance(document, str) else "an array"


def _unknown_argument_message(scope: Construct, argument: str, members: Mapping[str, Any]) -> str:
    suggestion = difflib.get_close_matches(argument, list(members), n=1)
    hint = f"did you mean {suggestion[0]}?" if suggestion else f"allowed: {', '.join(sorted(members))}"
    return f"{scope.node.path}: unknown argument {argument}; {hint}"
