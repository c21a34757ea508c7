"""The StartRun and StartRunBatch request shapes, read from botocore's service model.

botocore's model is the one source of truth for member names, types, enums,
ranges and patterns. A member that a newer botocore adds works without any
hand-written mapping code. This module and ``service_model`` need nothing
but the standard library and botocore's model files, so the construct
library loads them at synth time too, without botocore's import cost.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from .service_model import Shape, input_shape

# Members the handler fills in itself rather than taking from the template.
DERIVED_MEMBERS = frozenset({"requestId"})

# How much of a rejected value an error message quotes: enough to recognise it,
# short enough that workflow parameters are never echoed in full and the
# Reason stays far below CloudFormation's 256-character display limit.
QUOTED_VALUE_LIMIT = 40


class PropertyError(ValueError):
    """A property value that StartRun would reject, with the rule it breaks."""

    def __init__(self, property_name: str, problem: str) -> None:
        super().__init__(f"{property_name}: {problem}")
        self.property_name = property_name
        self.problem = problem


@dataclass(frozen=True)
class Member:
    """One StartRun request member, as a CloudFormation property."""

    property_name: str
    wire_name: str
    shape: Shape
    required: bool


# How the model documents members that exclude each other: "Specify either <code>parameters</code>
# or <code>parametersUri</code>, not both." (StartRun's parameters and parametersUri).
_EITHER_NOT_BOTH = re.compile(r"either <code>(\w+)</code> or <code>(\w+)</code>, not both")


def exclusive_member_pairs(members: Mapping[str, Member]) -> list[tuple[Member, Member]]:
    """The pairs of members the service model says to send one of, never both, in model order."""
    by_wire_name = {member.wire_name: member for member in members.values()}
    pairs: list[tuple[Member, Member]] = []
    for member in members.values():
        for first, second in _EITHER_NOT_BOTH.findall(member.shape.documentation):
            if first in by_wire_name and second in by_wire_name:
                pair = (by_wire_name[first], by_wire_name[second])
                if pair not in pairs:
                    pairs.append(pair)
    return pairs


def property_name_of(wire_name: str) -> str:
    """`workflowId` -> `WorkflowId`: the CloudFormation spelling of a member."""
    return wire_name[:1].upper() + wire_name[1:]


def structure_members(shape: Shape, *, leave_out: frozenset[str] = frozenset()) -> dict[str, Member]:
    """The members of a structure shape, keyed by property name."""
    if shape.type_name != "structure":
        raise TypeError(f"the model's shape {shape.name} is not a structure")
    required = set(shape.required_members)
    return {
        property_name_of(wire_name): Member(
            property_name=property_name_of(wire_name),
            wire_name=wire_name,
            shape=member_shape,
            required=wire_name in required,
        )
        for wire_name, member_shape in shape.members.items()
        if wire_name not in leave_out
    }


@cache
def input_shape_of(operation_name: str) -> Shape:
    """An omics operation's input shape.

    The model is found as botocore finds it, ``AWS_DATA_PATH`` first, so a
    service model shipped beside the handler takes precedence over the one
    in the Lambda runtime.
    """
    shape = input_shape(operation_name)
    if shape.type_name != "structure":
        raise RuntimeError(f"botocore's omics model has no {operation_name} input shape")
    return shape


@lru_cache(maxsize=1)
def start_run_members() -> dict[str, Member]:
    """The StartRun members a template may set, keyed by property name."""
    return structure_members(input_shape_of("StartRun"), leave_out=DERIVED_MEMBERS)


@lru_cache(maxsize=1)
def default_run_setting_members() -> dict[str, Member]:
    """StartRunBatch's ``defaultRunSetting`` members (what every run of a batch shares), keyed by property name."""
    return structure_members(input_shape_of("StartRunBatch").members["defaultRunSetting"])


@lru_cache(maxsize=1)
def batch_members() -> dict[str, Member]:
    """StartRunBatch's own members besides the run settings (``batchName``, ``tags``), keyed by property name."""
    return structure_members(
        input_shape_of("StartRunBatch"), leave_out=DERIVED_MEMBERS | {"defaultRunSetting", "batchRunSettings"}
    )


@lru_cache(maxsize=1)
def batch_run_settings_members() -> dict[str, Member]:
    """StartRunBatch's ``batchRunSettings`` union (``inlineSettings`` or ``s3UriSettings``), keyed by property name."""
    return structure_members(input_shape_of("StartRunBatch").members["batchRunSettings"])


@lru_cache(maxsize=1)
def inline_setting_members() -> dict[str, Member]:
    """The members of one per-run setting of a batch (an ``InlineSetting``), keyed by property name."""
    inline = batch_run_settings_members()["InlineSettings"].shape
    if inline.type_name != "list":
        raise RuntimeError("botocore's omics model: inlineSettings is not a list")
    return structure_members(inline.member)


def unknown_name_problem(what: str, name: str, known: Iterable[str], allowed: str) -> str:
    """What a PropertyError says of a name that is not ``known``: the closest known name, else what is allowed.

    >>> unknown_name_problem("property", "WorkflowID", ["WorkflowId"], "allowed: the StartRun members")
    'unknown property; did you mean WorkflowId?'
    """
    suggestion = difflib.get_close_matches(name, list(known), n=1)
    return f"unknown {what}; " + (f"did you mean {suggestion[0]}?" if suggestion else allowed)


def quote(value: Any) -> str:
    """A short, recognisable rendering of a rejected value."""
    text = json.dumps(value) if not isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > QUOTED_VALUE_LIMIT:
        return text[: QUOTED_VALUE_LIMIT - 1] + "…"
    return text


def coerce_member(member: Member, value: Any) -> Any:
    """Checks one property value against its member's shape and returns it as StartRun wants it.

    CloudFormation hands a custom resource every scalar as a string, so
    integers and booleans arrive as text and are turned back into their types.
    Raises PropertyError naming the property, the value and what is allowed.
    """
    return _coerce(member.property_name, member.shape, value)


def _coerce(path: str, shape: Shape, value: Any) -> Any:
    coerce = _COERCERS.get(shape.type_name)
    if shape.metadata.get("document"):
        coerce = _coerce_document
    if coerce is None:
        # A type this version knows no rule for: the service validates it.
        return value
    return coerce(path, shape, value)


def _coerce_string(path: str, shape: Shape, value: Any) -> str:
    if not isinstance(value, str):
        raise PropertyError(path, f"got {quote(value)}; allowed: a string")
    enum = shape.enum
    if enum:
        if value not in enum:
            raise PropertyError(path, f"got {quote(value)}; allowed: {', '.join(enum)}")
        return value
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        raise PropertyError(
            path, f"got a string of {len(value)} characters; allowed: {_bounds_text(low, high)} characters"
        )
    pattern = shape.metadata.get("pattern")
    if pattern and not _pattern_matcher(pattern)(value):
        raise PropertyError(path, f"got {quote(value)}; allowed: a string matching {pattern}")
    return value


def _coerce_integer(path: str, shape: Shape, value: Any) -> int:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    allowed = f"an integer from {_bounds_text(low, high, ' to ')}"
    number = _as_integer(value)
    if number is None:
        raise PropertyError(path, f"got {quote(value)}; allowed: {allowed}")
    if (low is not None and number < low) or (high is not None and number > high):
        raise PropertyError(path, f"got {number}; allowed: {allowed}")
    return number


def _as_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
        return int(value.strip())
    return None


def _coerce_boolean(path: str, shape: Shape, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise PropertyError(path, f"got {quote(value)}; allowed: true or false")


def _coerce_map(path: str, shape: Shape, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise PropertyError(path, f"got {quote(value)}; allowed: an object of string keys and values")
    coerced: dict[str, Any] = {}
    for key, item in value.items():
        coerced[_coerce(f"{path} key", shape.key, key)] = _coerce(f"{path}.{key}", shape.value, item)
    return coerced


def _coerce_document(path: str, shape: Shape, value: Any) -> dict[str, Any]:
    allowed = "a JSON object, as a string or an object"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            problem = f"got invalid JSON ({error.msg} at character {error.pos}); allowed: {allowed}"
            raise PropertyError(path, problem) from None
    if not isinstance(value, Mapping):
        raise PropertyError(path, f"got {quote(value)}; allowed: {allowed}")
    return dict(value)


def _coerce_list(path: str, shape: Shape, value: Any) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise PropertyError(path, f"got {quote(value)}; allowed: a list")
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        raise PropertyError(path, f"got {len(value)} items; allowed: {_bounds_text(low, high)} items")
    return [_coerce(f"{path}[{index}]", shape.member, item) for index, item in enumerate(value)]


def _coerce_structure(path: str, shape: Shape, value: Any) -> dict[str, Any]:
    """A structure, written with its members' property names (``RunSettingId``), sent with their wire names."""
    if not isinstance(value, Mapping):
        raise PropertyError(path, f"got {quote(value)}; allowed: an object")
    members = structure_members(shape)
    coerced: dict[str, Any] = {}
    for name, item in value.items():
        member = members.get(name)
        if member is None:
            problem = unknown_name_problem("member", str(name), members, f"allowed: {', '.join(members)}")
            raise PropertyError(f"{path}.{name}", problem)
        coerced[member.wire_name] = _coerce(f"{path}.{name}", member.shape, item)
    for member in members.values():
        if member.required and member.wire_name not in coerced:
            raise PropertyError(f"{path}.{member.property_name}", "missing; it is required")
    return coerced


_COERCERS: dict[str, Callable[[str, Shape, Any], Any]] = {
    "list": _coerce_list,
    "structure": _coerce_structure,
    "string": _coerce_string,
    "integer": _coerce_integer,
    "long": _coerce_integer,
    "boolean": _coerce_boolean,
    "map": _coerce_map,
}


def _bounds_text(low: int | None, high: int | None, joiner: str = " to ") -> str:
    if low is not None and high is not None:
        return f"{low}{joiner}{high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return "any"


# The service models write Unicode categories the Java way (\p{L}); Python's
# re has no \p, so such character classes are checked with unicodedata.
_CATEGORY_CLASS = re.compile(r"\[((?:\\p\{[A-Z]\}|\\[tnr]|\|)+)\]([+*])")


@cache
def _pattern_matcher(pattern: str) -> Callable[[str], bool]:
    category_class = _CATEGORY_CLASS.fullmatch(pattern)
    if category_class:
        categories = set(re.findall(r"\\p\{([A-Z])\}", category_class.group(1)))
        extra = {
            "\t" if c == "t" else "\n" if c == "n" else "\r" for c in re.findall(r"\\([tnr])", category_class.group(1))
        }
        at_least_one = category_class.group(2) == "+"

        def matches_categories(text: str) -> bool:
            if at_least_one and not text:
                return False
            return all(ch in extra or unicodedata.category(ch)[0] in categories for ch in text)

        return matches_categories
    try:
        compiled = re.compile(pattern)
    except re.error:
        # A pattern Python cannot read is left to the service to enforce.
        return lambda text: True
    return lambda text: compiled.fullmatch(text) is not None
