"""A corpus of malformed property sets: each fails the Create naming the property, with no API call.

The corpus is ``tests/data/bad-properties.json``: per case, the properties
that override a valid set (null removes one) and the exact Reason expected.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from events import MINIMAL_PROPERTIES, invoke_handler
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

CORPUS = json.loads((Path(__file__).parent / "data" / "bad-properties.json").read_text(encoding="utf-8"))
VALID = {**MINIMAL_PROPERTIES, "RoleArn": "arn:aws:iam::123456789012:role/omics-service-role",
         "OutputUri": "s3://omics-artifacts/workflow-output/"}  # fmt: skip


def test_the_corpus_has_at_least_thirty_distinct_cases() -> None:
    assert len(CORPUS) >= 30
    assert len({case["case"] for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[c["case"] for c in CORPUS])
def test_bad_input_fails_within_a_second_naming_the_property_and_starts_nothing(
    handler_module: ModuleType, response_bucket: ResponseBucket, omics: OmicsStandIn, case: dict[str, Any]
) -> None:
    properties = {k: v for k, v in {**VALID, **case["properties"]}.items() if v is not None}

    invocation = invoke_handler(handler_module, response_bucket, "Create", properties, expected_status="FAILED")

    assert invocation.response["Reason"] == case["reason"]
    assert len(invocation.response["Reason"]) <= 256
    assert omics.requests == []
    # The handler's own decision (the answer's PUT to the stand-in bucket is the test machine's network).
    assert invocation.seconds_to_answer < 1.0
