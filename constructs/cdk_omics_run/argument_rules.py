"""Rules across arguments: combinations that mean nothing, refused at synth rather than dropped.

Each rule is one the user would otherwise learn only at deploy time, or never:
two members the model says not to send together, wait settings without a
wait, a timeout given as a number of seconds, and statuses an event never has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from constructs import Construct

from cdk_omics_run.arguments import ArgumentError, argument_name_of
from cdk_omics_run.handler_source import service_model, start_run_shape
from cdk_omics_run.tokens import is_token

# The settings that configure a wait: meaningless without one.
WAIT_SETTINGS = ("wait_timeout", "wait_poll_interval")


def exclusive_pairs(members: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The pairs of arguments the service model says to give one of, never both, in model order.

    >>> from cdk_omics_run.arguments import members_by_argument
    >>> exclusive_pairs(members_by_argument())
    [('parameters', 'parameters_uri')]
    """
    pairs = start_run_shape().exclusive_member_pairs(members)
    return [(argument_name_of(first.wire_name), argument_name_of(second.wire_name)) for first, second in pairs]


def check_exclusive_arguments(scope: Construct, arguments: Mapping[str, Any], members: Mapping[str, Any]) -> None:
    """Raises ArgumentError when two arguments the model calls "either ... not both" are both given."""
    for first, second in exclusive_pairs(members):
        if arguments.get(first) is not None and arguments.get(second) is not None:
            raise ArgumentError(
                f"{scope.node.path}: arguments {first} and {second}: got both; allowed: one of them "
                f"(StartRun's model: specify either {members[first].wire_name} or {members[second].wire_name}, "
                f"not both): keep {first} for values in the template, or {second} for a JSON file in S3"
            )


def check_wait_arguments(scope: Construct, *, wait_for: Any, no_wait: str, **settings: Any) -> None:
    """Raises ArgumentError for a wait setting that is not a ``Duration``, or given with no wait to apply to.

    ``no_wait``: the value of ``wait_for`` that means no wait (``NONE``);
    ``settings``: ``wait_timeout`` and ``wait_poll_interval``, as given.
    """
    for name in WAIT_SETTINGS:
        value = settings.get(name)
        if value is not None and not isinstance(value, Duration):
            raise ArgumentError(f"{scope.node.path}: argument {name}: {_not_a_duration(value)}")
    given = [name for name in WAIT_SETTINGS if settings.get(name) is not None]
    if given and getattr(wait_for, "value", wait_for) in (None, no_wait):
        got = "no wait_for" if wait_for is None else f"wait_for={no_wait}"
        raise ArgumentError(
            f"{scope.node.path}: argument {given[0]}: got it with {got}, so nothing waits; allowed only with "
            f'a wait: add wait_for (such as wait_for="COMPLETED"), or leave {" and ".join(given)} out'
        )


def wait_settings_of(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The wait settings among a construct's arguments, by name."""
    return {name: arguments.get(name) for name in WAIT_SETTINGS}


def _not_a_duration(value: Any) -> str:
    got = f"got {value!r} ({type(value).__name__})"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{got}; allowed: a Duration, such as Duration.seconds({value!r}) or Duration.hours(2)"
    return f"{got}; allowed: a Duration, such as Duration.hours(2)"


def check_statuses(scope: Construct, statuses: Sequence[str] | None, *, operation: str) -> None:
    """Raises ArgumentError for a status that ``operation``'s ``status`` never takes (the model's enum).

    ``operation``: ``GetRun`` for a run's statuses, ``GetBatch`` for a batch's.
    """
    if statuses is None:
        return
    allowed = service_model().output_shape(operation).members["status"].enum
    if isinstance(statuses, str):
        raise ArgumentError(
            f"{scope.node.path}: argument statuses: got {statuses!r}, a string; allowed: a list of statuses, "
            f"such as [{statuses!r}]"
        )
    unknown = [status for status in statuses if status not in allowed and not is_token(status)]
    if unknown:
        raise ArgumentError(
            f"{scope.node.path}: argument statuses: got {', '.join(map(repr, unknown))}, which the events never "
            f"carry, so the rule would never fire; allowed: {', '.join(allowed)}"
        )
