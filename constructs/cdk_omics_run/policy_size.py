"""How many characters an IAM policy will hold once CloudFormation has resolved it.

IAM counts a policy's characters without whitespace (IAM and AWS STS quotas:
a customer-managed policy holds at most 6,144). A synthesized policy still
holds intrinsics (``{"Ref": "AWS::Region"}``, ``{"Fn::GetAtt": [...]}``),
whose deployed text is longer or shorter than as written, so each is counted
at the longest text it can become: a pseudo parameter at its longest value in
any partition, anything else as an ARN of up to ``UNKNOWN_VALUE_LENGTH``.
Overestimating costs at most one more policy; underestimating fails a deploy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# IAM and AWS STS quotas: "Customer managed policy size: 6,144 characters" (whitespace not counted).
MANAGED_POLICY_CHARACTERS = 6_144

# The longest value of each pseudo parameter: aws-us-gov; ap-southeast-5 (regions are at most 14
# characters today); 12 digits; amazonaws.com.cn is 16, and the ISO partitions' suffixes are shorter.
PSEUDO_PARAMETER_LENGTHS: Mapping[str, int] = {
    "AWS::Partition": 10,
    "AWS::Region": 14,
    "AWS::AccountId": 12,
    "AWS::URLSuffix": 16,
}
# Any other value (an attribute, a parameter, an import): a role ARN with a 64-character
# generated name in aws-us-gov is 102 characters; log group and queue ARNs are alike.
UNKNOWN_VALUE_LENGTH = 128


def estimated_characters(resolved: Any) -> int:
    """The characters of ``resolved`` (a policy document as ``Stack.resolve`` returns it) once deployed."""
    return len(json.dumps(_deployed(resolved), separators=(",", ":")))


def _deployed(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref":
                return "x" * PSEUDO_PARAMETER_LENGTHS.get(argument, UNKNOWN_VALUE_LENGTH)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(_as_text(part) for part in parts)
            if key.startswith("Fn::"):
                return "x" * UNKNOWN_VALUE_LENGTH
        return {key: _deployed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deployed(item) for item in value]
    return value


def _as_text(part: Any) -> str:
    deployed = _deployed(part)
    return deployed if isinstance(deployed, str) else "x" * UNKNOWN_VALUE_LENGTH
