"""The run attributes a Custom::OmicsRun returns to Fn::GetAtt."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

# Attribute name -> member of the StartRun/GetRun output. The names are the
# ones CloudFormation's own AWS::Omics::Run resource returns.
RUN_ATTRIBUTES: dict[str, str] = {
    "Arn": "arn",
    "Id": "id",
    "Uuid": "uuid",
    "RunOutputUri": "runOutputUri",
    "Status": "status",
    # Present once the run has stopped, e.g. after waiting for COMPLETED.
    "StopTime": "stopTime",
}


def run_attributes(run: Mapping[str, Any]) -> dict[str, str]:
    """The attributes of a run, as the flat strings CloudFormation accepts in ``Data``.

    Members the response lacks are left out rather than sent empty, so a
    Fn::GetAtt on them fails loudly instead of resolving to nothing.
    """
    return {
        attribute: attribute_value(run[member])
        for attribute, member in RUN_ATTRIBUTES.items()
        if run.get(member) is not None
    }


def attribute_value(value: Any) -> str:
    """A member's value as the flat string CloudFormation accepts in ``Data``."""
    # crhelper serialises Data with json.dumps, which fails on datetimes and
    # turns the whole response into FAILED.
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return str(value)
