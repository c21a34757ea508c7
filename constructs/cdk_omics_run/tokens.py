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
    # Floats may encode number tokens; jsii objects may be IResolvable.
    return bool(Token.is_unresolved(value))


def contains_token(value: Any) -> bool:
    """Whether ``value`` holds a deploy-time value anywhere: in a dict's keys or values, or a list's items."""
    if isinstance(value, dict):
        return any(contains_token(k) or contains_token(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_token(item) for item in value)
    return is_token(value)
