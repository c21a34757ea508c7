"""Upgrading a stack whose cohort the release that brought Custom::OmicsRunBatch started.

Baseline: 7067ed4 (until the project has release tags). Its handler started the batch; after
``cdk deploy`` with the current library, the current handler receives the Update and Delete
events CloudFormation sends, under the current provider's policy.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from conftest import handler_environment
from events import STACK_ID, Stack
from support.earlier_release import EarlierRelease, baselines, custom_resource, deployed, upgrade_fixtures
from support.lambda_stand_in import LambdaStandIn
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

from omics_run import batch_lifecycle

# Also the latest release tag, once the project has one.
BASELINES = baselines("7067ed4")
RESOURCE_TYPE = "Custom::OmicsRunBatch"
DECLARED = (
    "OmicsRunBatch(stack, 'Cohort', workflow_id='1234567', role_arn='arn:aws:iam::123456789012:role/omics-run', "
    "output_uri='s3://omics-artifacts/out/', tags={'team': 'genomics'}, delete_policy=DeletePolicy.CANCEL_AND_DELETE, "
    "runs=[RunSetting('NA12878', parameters={'sample': 'NA12878'}), RunSetting('NA12891', parameters={'sample': 'NA12891'})])"
)


# The baseline's library and handler, and the stack's template with it and with the current library.
release, templates = upgrade_fixtures(BASELINES, DECLARED)


@pytest.fixture
def cohort(
    release: EarlierRelease,
    templates: tuple[dict[str, Any], dict[str, Any]],
    handler_module: ModuleType,
    omics: OmicsStandIn,
    response_bucket: ResponseBucket,
    lambda_service: LambdaStandIn,
    wake_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Stack, str, dict[str, Any]]:
    """The baseline's batch, started by its handler and submitted; then the current policy.

    Returns the stack as CloudFormation knows it, the logical ID, and the new template's properties.
    """
    monkeypatch.setattr(batch_lifecycle, "SETTLE_POLL_SECONDS", 0.05)
    old, new = templates
    logical_id, old_properties = custom_resource(old, RESOURCE_TYPE)
    environment = handler_environment(omics, response_bucket, lambda_service, wake_queue=wake_queue)
    answer = release.create(
        deployed(old_properties, {}), logical_id=logical_id, resource_type=RESOURCE_TYPE, bucket=response_bucket,
        environment=environment,
    )  # fmt: skip
    omics.submit_batch(answer["PhysicalResourceId"])  # the service submits the batch's runs
    omics.enforce_stack_tag(STACK_ID)  # the current provider's policy
    omics.reset_requests()
    stack = Stack(handler_module, response_bucket, resource_type=RESOURCE_TYPE)
    stack.properties, stack.physical_id = deployed(old_properties, {}), answer["PhysicalResourceId"]
    return stack, logical_id, deployed(custom_resource(new, RESOURCE_TYPE)[1], {})


def test_the_batch_resource_keeps_its_logical_id(templates: tuple[dict[str, Any], dict[str, Any]]) -> None:
    old, new = templates

    assert custom_resource(old, RESOURCE_TYPE)[0] == custom_resource(new, RESOURCE_TYPE)[0]


def test_the_upgrade_and_a_tags_only_update_start_no_batch(
    cohort: tuple[Stack, str, dict[str, Any]], omics: OmicsStandIn
) -> None:
    stack, logical_id, new_properties = cohort
    batch_id = stack.physical_id

    stack.update(new_properties, logical_id=logical_id)  # the template's own changes, if any
    stack.update({**new_properties, "Tags": {"team": "genomics", "cost-centre": "42"}}, logical_id=logical_id)

    assert "StartRunBatch" not in [r.operation for r in omics.requests]  # no duplicate cohort
    assert stack.physical_id == batch_id and len(omics.batches) == 1
    assert omics.batches[batch_id]["tags"]["cost-centre"] == "42"


def test_a_delete_after_the_upgrade_applies_the_delete_policy_to_the_batch_and_its_runs(
    cohort: tuple[Stack, str, dict[str, Any]], omics: OmicsStandIn
) -> None:
    stack, logical_id, new_properties = cohort
    batch_id = stack.physical_id

    response = stack.delete(properties=new_properties, logical_id=logical_id)

    assert response["Status"] == "SUCCESS"
    assert batch_id not in omics.batches  # CANCEL_AND_DELETE: cancelled, its runs deleted, then the batch
    assert [r for r in omics.runs.values() if r.get("batchId") == batch_id] == []
    acted = [r.operation for r in omics.requests if r.operation not in ("GetBatch", "TagResource")]
    assert acted == ["CancelRunBatch", "DeleteRunBatch", "DeleteBatch"]
