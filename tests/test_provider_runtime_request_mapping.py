"""Properties -> StartRun request: the pure mapping, driven by botocore's service model."""

from __future__ import annotations

import botocore.session
import pytest

from omics_run.request_mapping import CONTROL_PROPERTIES, derive_request_id, start_run_request
from omics_run.start_run_shape import PropertyError, start_run_members

REQUIRED = {"RoleArn": "arn:aws:iam::123456789012:role/run", "OutputUri": "s3://bucket/out/"}


def test_every_start_run_member_but_the_derived_request_id_is_a_property() -> None:
    model = botocore.session.get_session().get_service_model("omics")
    wire_names = set(model.operation_model("StartRun").input_shape.members)

    assert {m.wire_name for m in start_run_members().values()} == wire_names - {"requestId"}
    assert {m.property_name for m in start_run_members().values()} >= {
        "WorkflowId", "WorkflowType", "RunId", "RoleArn", "Name", "CacheId", "CacheBehavior", "RunGroupId",
        "Priority", "Parameters", "StorageCapacity", "OutputUri", "LogLevel", "Tags", "RetentionMode",
        "StorageType", "WorkflowOwnerId", "WorkflowVersionName", "NetworkingMode", "ScratchStorageMode",
        "ConfigurationName", "EngineSettings",
    }  # fmt: skip


def test_properties_map_to_camel_case_members_with_the_request_id_added() -> None:
    request = start_run_request({**REQUIRED, "WorkflowId": "1234567", "LogLevel": "ALL"}, request_id="token")

    assert request == {
        "roleArn": REQUIRED["RoleArn"],
        "outputUri": REQUIRED["OutputUri"],
        "workflowId": "1234567",
        "logLevel": "ALL",
        "requestId": "token",
    }


def test_control_properties_are_not_sent_to_start_run() -> None:
    properties = {**REQUIRED, **{name: "x" for name in CONTROL_PROPERTIES}}

    assert set(start_run_request(properties, request_id="t")) == {"roleArn", "outputUri", "requestId"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7), (" 7 ", 7), (7, 7), ("0", 0), ("100000", 100000)],
)
def test_integers_arrive_as_strings_and_are_restored(value: object, expected: int) -> None:
    assert start_run_request({**REQUIRED, "Priority": value}, request_id="t")["priority"] == expected


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("False", False), (True, True)])
def test_booleans_arrive_as_strings_and_are_restored(value: object, expected: bool) -> None:
    request = start_run_request({**REQUIRED, "RequesterPaysEnabled": value}, request_id="t")

    assert request["requesterPaysEnabled"] is expected


def test_unicode_names_match_the_models_unicode_category_pattern() -> None:
    request = start_run_request({**REQUIRED, "Name": "Échantillon 1 – NA12878"}, request_id="t")

    assert request["name"] == "Échantillon 1 – NA12878"


def test_a_long_rejected_value_is_quoted_only_in_part() -> None:
    with pytest.raises(PropertyError) as caught:
        start_run_request({**REQUIRED, "WorkflowId": "x" * 500}, request_id="t")

    assert str(caught.value) == "WorkflowId: got a string of 500 characters; allowed: 1 to 18 characters"
    with pytest.raises(PropertyError) as caught:
        start_run_request({**REQUIRED, "LogLevel": "V" * 500}, request_id="t")
    assert len(str(caught.value)) < 120


def test_tag_keys_and_values_are_checked_against_their_own_limits() -> None:
    with pytest.raises(PropertyError) as caught:
        start_run_request({**REQUIRED, "Tags": {"team": "g" * 257}}, request_id="t")

    assert str(caught.value) == "Tags.team: got a string of 257 characters; allowed: 0 to 256 characters"


def test_the_request_id_is_deterministic_and_fits_start_runs_limit() -> None:
    first = derive_request_id("stack", "Logical", "request-1")

    assert first == derive_request_id("stack", "Logical", "request-1")
    assert first != derive_request_id("stack", "Logical", "request-2")
    assert first != derive_request_id("stack", "Other", "request-1")
    assert len(first) <= 128
