"""Telling deploy-time values (CDK tokens) from literals, cheaply.

``Token.is_unresolved`` is a call into the jsii kernel (Node.js); a stack of
hundreds of runs made tens of thousands of them, most on plain literals.
Plain Python values are decided here, and only other objects ask jsii.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Token

# How CDK encodes string and list tokens inside Python strings.
_STRING_TOKEN_MARKERS = ("${Token[", "#{Token[")


def is_token(value: Any) -> bool:
    """Whether ``value`` is, or contains at its top level, a value known only at deploy time.

    >>> is_token("s3://bucket/out/"), is_token(4), is_token(None)
    (False, False, False)
    """
    if value is None or isinstance(value, (bool, int)):
        return False
    if isinstance(value, str):
        return any(marker in value for marker in _STRING_TOKEN_MARKERS)
    if isinstance(value, (dict, list, tuple)):
        return False
    if not isinstance(value, float) and not is_jsii_object(value):
        # A date, a set, a Decimal...: no token, and jsii cannot even be asked (it fails naming no argument).
        return False
    # Floats may encode number tokens; jsii objects may be IResolvable.
    return bool(Token.is_unresolved(value))


def is_jsii_object(value: Any) -> bool:
    """Whether jsii can carry ``value``: an object jsii made (``Lazy.any(...)``), of a jsii class, or
    implementing a jsii interface."""
    kind = type(value)
    return (
        hasattr(value, "__jsii_ref__")
        or getattr(kind, "__jsii_type__", None) is not None
        or getattr(kind, "__jsii_ifaces__", None) is not None
    )


def contains_token(value: Any) -> bool:
    """Whether ``value`` holds a deploy-time value anywhere: in a dict's keys or values, or a list's items."""
    if isinstance(value, dict):
        return any(contains_token(k) or contains_token(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_token(item) for item in value)
    return is_token(value)
