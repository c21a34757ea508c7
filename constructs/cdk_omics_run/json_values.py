"""Values JSON (and so jsii and CloudFormation) can carry, and the fix for those it cannot.

jsii fails on a ``date`` or a ``set`` with an ``AttributeError`` that names no
argument, and a NaN stops its Node.js process; the construct refuses them first.
"""

from __future__ import annotations

import datetime
import decimal
import math
import os
from collections.abc import Mapping
from typing import Any

from cdk_omics_run.tokens import is_jsii_object

JSON_ALLOWED = "allowed: JSON values (text, numbers, True/False, None, lists, dicts)"


def json_value_problem(value: Any, where: str) -> tuple[str, str] | None:
    """(where, problem) for the first value JSON cannot carry in ``value``, however nested; None when all can.

    >>> json_value_problem({"when": [1, {"a", "b"}]}, "parameters")[0]
    'parameters.when[1]'
    """
    if value is None or isinstance(value, (bool, int, str)) or is_jsii_object(value):
        return None
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return where, (
            f"got {value!r}; allowed: a finite number (JSON has no NaN or infinity: use None, or the text 'NaN')"
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            # json.dumps writes numbers, booleans and None as text keys; the model's checks speak of those.
            if not (key is None or isinstance(key, (str, int, float))):
                return (
                    where,
                    f"has the key {key!r}; allowed: text keys (JSON's object keys are strings: use str({key!r}))",
                )
            problem = json_value_problem(item, f"{where}.{key}")
            if problem is not None:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = json_value_problem(item, f"{where}[{index}]")
            if problem is not None:
                return problem
        return None
    return where, f"got {shown(value)}; {JSON_ALLOWED}{fix_for(value)}"


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def fix_for(value: Any) -> str:
    """``; use ...``: what JSON can carry instead of ``value``, for the types people reach for."""
    if isinstance(value, (datetime.date, datetime.time)):
        return "; use value.isoformat()"
    if isinstance(value, (set, frozenset)):
        return "; use sorted(value) or list(value)"
    if isinstance(value, (bytes, bytearray)):
        return "; use value.decode()"
    if isinstance(value, decimal.Decimal):
        return "; use float(value), or str(value) to keep every digit"
    if isinstance(value, os.PathLike):
        return "; use str(value) for its text, or an s3_assets.Asset to upload the file"
    return ""


__all__ = ["JSON_ALLOWED", "fix_for", "json_value_problem", "shown"]
