"""``status --cost``: what a run (or a batch) cost once it ended, estimated as run_analyzer does, priced from the
Price List API (a stand-in here) or from the dated table shipped with the package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from status_support import STACK, StatusCommand, at
from support.cloudformation_stand_in import CloudFormationStandIn
from support.omics_stand_in import OmicsStandIn
from support.price_list_stand_in import PriceListStandIn
from support.response_bucket import ResponseBucket

from cdk_omics_run.status.cost import billed_seconds, static_storage_gib

REPO_ROOT = Path(__file__).resolve().parents[1]
RUN = "Custom::OmicsRun"
# Prices the stand-in answers (USD per instance-hour, per GiB-hour); not AWS's, except where the table has them.
PRICES = {
    ("omics.c.large", "us-east-1"): "0.1148",
    ("omics.m.xlarge", "us-east-1"): "0.3000",
    ("Run Storage", "us-east-1"): "0.0001918",
    ("Dynamic Run Storage", "us-east-1"): "0.0004",
}


@pytest.fixture(scope="module")
def price_list_service() -> Iterator[PriceListStandIn]:
    stand_in = PriceListStandIn(PRICES).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def price_list(price_list_service: PriceListStandIn) -> PriceListStandIn:
    price_list_service.deny = False
    price_list_service.calls.clear()
    return price_list_service


@pytest.fixture
def status(
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    price_list: PriceListStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> StatusCommand:
    monkeypatch.setenv("AWS_ENDPOINT_URL_PRICING", price_list.endpoint_url)
    return StatusCommand(omics, cloudformation, monkeypatch, capsys, tmp_path)


def completed_run(omics: OmicsStandIn, **fields: object) -> str:
    """A 3-hour run: a 30-second task on omics.c.large (billed 60 s) and a 2-hour task on omics.m.xlarge."""
    run = omics.add_run(status="COMPLETED", creationTime=at(0), startTime=at(0), stopTime=at(180), **fields)
    omics.add_task(run["id"], "Index", "COMPLETED", start_time=at(1), stop_time=at(1.5), instance_type="omics.c.large")
    omics.add_task(run["id"], "Align", "COMPLETED", start_time=at(2), stop_time=at(122), instance_type="omics.m.xlarge")
    return str(run["id"])


def test_billing_rules_a_60_second_minimum_per_task_and_static_storage_in_steps() -> None:
    assert [billed_seconds({"startTime": at(0), "stopTime": at(m)}) for m in (0.25, 1, 2)] == [60.0, 60.0, 120.0]
    assert billed_seconds({"startTime": at(0)}) == 0.0  # never stopped: nothing billed yet
    assert [static_storage_gib(c) for c in (None, 100, 1200, 1201, 2400, 2401, 5000)] == [
        1200, 1200, 1200, 2400, 2400, 4800, 7200,
    ]  # fmt: skip


def test_a_completed_run_is_priced_per_task_and_for_its_static_storage_from_the_price_list_api(
    status: StatusCommand, price_list: PriceListStandIn
) -> None:
    run_id = completed_run(status.omics, storageCapacity=1000)
    status.cloudformation.add_stack(STACK, [("AlignA1B2C3D4", run_id, RUN)])

    outcome = status(STACK, "--cost", "--region", "eu-west-1")

    # Tasks: 0.1148 × 60 s + 0.30 × 2 h = 0.6019; storage: 0.0001918 × 1,200 GiB × 3 h = 0.6905.
    assert (outcome.code, outcome.err) == (0, "")
    assert outcome.lines[-1] == (
        f"cost of run {run_id} (AlignA1B2C3D4): USD 1.29 (tasks 0.60, run storage 0.69 for STATIC, 1200 GiB); "
        "prices: AWS Price List API (AmazonOmics)"
    )
    # The Price List API's own endpoint (us-east-1), whatever the stack's region; one look-up per resource type.
    assert all("/us-east-1/pricing/aws4_request" in call.authorization for call in price_list.calls)
    assert [call.body["Filters"] for call in price_list.calls] == [
        [
            {"Type": "TERM_MATCH", "Field": "resourceType", "Value": resource_type},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
        ]
        for resource_type in ("omics.c.large", "omics.m.xlarge", "Run Storage")
    ]
    assert {call.body["ServiceCode"] for call in price_list.calls} == {"AmazonOmics"}


def test_without_pricing_get_products_the_shipped_dated_table_is_used_and_said(
    status: StatusCommand, price_list: PriceListStandIn
) -> None:
    price_list.deny = True
    run_id = completed_run(status.omics)
    status.cloudformation.add_stack(STACK, [("AlignA1B2C3D4", run_id, RUN)])
    [_, align] = status.omics.run_tasks[run_id]

    outcome = status(STACK, "--cost")

    table = json.loads((REPO_ROOT / "constructs/cdk_omics_run/status/price_table.json").read_text())
    assert outcome.lines[-2:] == [
        f"cost of run {run_id} (AlignA1B2C3D4): USD 0.69 (tasks 0.00, run storage 0.69 for STATIC, 1200 GiB); "
        f"prices: price table shipped with cdk-omics-run, dated {table['asOf']} (pricing:GetProducts is not allowed)",
        f"  not priced: task {align['taskId']} (omics.m.xlarge)",
    ]


def test_dynamic_storage_is_priced_for_the_average_size_the_run_manifest_measured(
    status: StatusCommand, response_bucket: ResponseBucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", response_bucket.endpoint_url)
    monkeypatch.setenv("AWS_CA_BUNDLE", response_bucket.ca_file)
    run_id = completed_run(status.omics, storageType="DYNAMIC")
    logs = boto3.session.Session().client("logs")  # a new session: it reads the endpoint set above
    status.omics.write_manifest(run_id, logs, storage_average_gib=250.0)
    status.cloudformation.add_stack(STACK, [("AlignA1B2C3D4", run_id, RUN)])

    document = json.loads(status(STACK, "--cost", "--json").out)

    # Storage: 0.0004 × 250 GiB × 3 h = 0.30.
    assert document["resources"][0]["cost"] == {
        "usd": pytest.approx(0.601913 + 0.3),
        "tasksUsd": pytest.approx(0.601913),
        "storageUsd": pytest.approx(0.3),
        "storage": "DYNAMIC, 250 GiB on average",
        "unpriced": [],
        "priceSource": "AWS Price List API (AmazonOmics)",
    }


def test_a_running_run_has_no_cost_yet(status: StatusCommand) -> None:
    run = status.omics.add_run(status="RUNNING", startTime=at(0))
    status.cloudformation.add_stack(STACK, [("AlignA1B2C3D4", run["id"], RUN)])

    document = json.loads(status(STACK, "--cost", "--json").out)

    assert "cost" not in document["resources"][0]


def test_a_batch_that_ended_costs_the_sum_of_its_runs(status: StatusCommand) -> None:
    omics = status.omics
    batch = boto3.client("omics").start_run_batch(
        defaultRunSetting={
            "workflowId": "1234567",
            "roleArn": "arn:aws:iam::123456789012:role/r",
            "outputUri": "s3://o/",
        },
        batchRunSettings={"inlineSettings": [{"runSettingId": f"sample-{n}"} for n in range(3)]},
    )
    for run_id in omics.submit_batch(batch["id"]):
        omics.add_task(run_id, "Align", "COMPLETED", start_time=at(0), stop_time=at(60), instance_type="omics.m.xlarge")
        omics.runs[run_id].update(startTime="2026-12-01T08:00:00.000Z", stopTime="2026-12-01T09:00:00.000Z")
        omics.set_status(run_id, "COMPLETED")
    status.cloudformation.add_stack(STACK, [("CohortB1B2C3D4", batch["id"], "Custom::OmicsRunBatch")])

    outcome = status(STACK, "--cost")

    # Each run: 0.30 × 1 h + 0.0001918 × 1,200 GiB × 1 h = 0.5302; three of them.
    assert outcome.lines[-1] == (
        f"cost of batch {batch['id']} (CohortB1B2C3D4): USD 1.59 over its 3 runs that ended; "
        "prices: AWS Price List API (AmazonOmics)"
    )


def test_the_provider_reads_no_logs_and_no_prices() -> None:
    handler_sources = [path.read_text() for path in (REPO_ROOT / "lambda").rglob("*.py")]
    for client in ('"pricing"', '"logs"', "get_log_events", "get_products"):
        assert not any(client in source for source in handler_sources), client
