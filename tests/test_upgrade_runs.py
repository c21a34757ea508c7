"""Upgrading a stack whose runs the release before the stack tag started.

Baseline: e7a9f11, the last commit before 7784aac added the ``cdk-omics-run:stack`` tag and
the tag-scoped IAM policy (until the project has release tags). Its runs carry an owner tag and
no stack tag. After ``cdk deploy`` with the current library, the provider's policy allows run
actions only on runs tagged with the stack (``enforce_stack_tag``, with its adoption grant), and
CloudFormation sends the current handler the Update and Delete events played here.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import handler_environment
from events import STACK_ID, Stack
from support.earlier_release import EarlierRelease, baselines, custom_resource, deployed, upgrade_fixtures
from support.lambda_stand_in import LambdaStandIn
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

BEFORE_STACK_TAG = "e7a9f11"
# Also the latest release tag, once the project has one.
BASELINES = baselines(BEFORE_STACK_TAG)
RESOURCE_TYPE = "Custom::OmicsRun"
DECLARED = (
    "OmicsRun(stack, 'CramToBam', workflow_id='1234567', role_arn='arn:aws:iam::123456789012:role/omics-run', "
    "output_uri='s3://omics-artifacts/out/', parameters={'sample': 'A', 'threads': 4}, tags={'team': 'genomics'}, "
    "delete_policy=DeletePolicy.CANCEL_AND_DELETE)"
)


# The baseline's library and handler, and the stack's template with it and with the current library.
release, templates = upgrade_fixtures(BASELINES, DECLARED)


@pytest.fixture
def deployed_run(
    release: EarlierRelease,
    templates: tuple[dict[str, Any], dict[str, Any]],
    omics: OmicsStandIn,
    response_bucket: ResponseBucket,
    lambda_service: LambdaStandIn,
    wake_queue: str,
) -> tuple[str, dict[str, Any], dict[str, Any], str]:
    """The baseline's run, created by the baseline's handler; then the current policy takes effect.

    Returns the logical ID, the old and the new properties, and the run ID.
    """
    old, new = templates
    logical_id, old_properties = custom_resource(old, RESOURCE_TYPE)
    environment = handler_environment(omics, response_bucket, lambda_service, wake_queue=wake_queue)
    run_id = release.create(
        deployed(old_properties, {}), logical_id=logical_id, resource_type=RESOURCE_TYPE, bucket=response_bucket,
        environment=environment,
    )["PhysicalResourceId"]  # fmt: skip
    if release.commit == BEFORE_STACK_TAG:  # the case the migration is for
        assert set(omics.runs[run_id]["tags"]) == {"team", "cdk-omics-run:fingerprint", "cdk-omics-run:owner"}
    omics.enforce_stack_tag(STACK_ID)  # the current provider's policy
    omics.reset_requests()
    return logical_id, deployed(old_properties, {}), deployed(custom_resource(new, RESOURCE_TYPE)[1], {}), run_id


def upgraded(stack: Stack, deployed_run: tuple[str, dict[str, Any], dict[str, Any], str]) -> tuple[str, dict[str, Any]]:
    """The stack as CloudFormation knows it after the baseline's deploy: its properties and physical ID."""
    logical_id, old_properties, new_properties, run_id = deployed_run
    stack.properties, stack.physical_id = old_properties, run_id
    return logical_id, new_properties


def test_the_run_resource_keeps_its_logical_id_so_cloudformation_updates_it_rather_than_replacing_it(
    templates: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    old, new = templates

    assert custom_resource(old, RESOURCE_TYPE)[0] == custom_resource(new, RESOURCE_TYPE)[0]


def test_the_upgrade_and_a_tags_only_update_start_no_run_and_adopt_the_old_one(
    stack: Stack, omics: OmicsStandIn, deployed_run: tuple[str, dict[str, Any], dict[str, Any], str]
) -> None:
    logical_id, new_properties = upgraded(stack, deployed_run)
    run_id = stack.physical_id

    stack.update(new_properties, logical_id=logical_id)  # the template's own changes, if any
    stack.update({**new_properties, "Tags": {"team": "genomics", "cost-centre": "42"}}, logical_id=logical_id)

    assert omics.start_run_bodies() == []  # no duplicate
    assert stack.physical_id == run_id
    tags = omics.runs[run_id]["tags"]
    assert (tags["cdk-omics-run:stack"], tags["cost-centre"]) == (STACK_ID, "42")


def test_a_delete_after_the_upgrade_applies_the_delete_policy(
    stack: Stack, omics: OmicsStandIn, deployed_run: tuple[str, dict[str, Any], dict[str, Any], str]
) -> None:
    logical_id, new_properties = upgraded(stack, deployed_run)
    run_id = stack.physical_id

    response = stack.delete(properties=new_properties, logical_id=logical_id)

    assert response["Status"] == "SUCCESS"
    assert run_id not in omics.runs  # CANCEL_AND_DELETE: cancelled, then its record deleted
    acted = [r.operation for r in omics.requests if r.operation in ("CancelRun", "DeleteRun")]
    assert acted == ["CancelRun", "DeleteRun"]


def test_a_re_run_after_the_upgrade_leaves_no_orphan_once_cleanup_deletes_the_old_run(
    stack: Stack, omics: OmicsStandIn, deployed_run: tuple[str, dict[str, Any], dict[str, Any], str]
) -> None:
    logical_id, new_properties = upgraded(stack, deployed_run)
    old_run = stack.physical_id

    stack.update({**new_properties, "Parameters": '{"sample": "B", "threads": 4}'}, logical_id=logical_id)
    stack.delete(physical_id=old_run, logical_id=logical_id)  # CloudFormation's cleanup of the replaced run

    [rerun] = omics.start_run_bodies()
    assert rerun["runId"] == old_run and stack.physical_id != old_run
    assert old_run not in omics.runs  # not left running
    assert omics.runs[stack.physical_id]["status"] == "PENDING"


def test_without_the_adoption_grant_iam_hides_the_old_run_and_a_tags_only_update_would_duplicate_it(
    stack: Stack, omics: OmicsStandIn, deployed_run: tuple[str, dict[str, Any], dict[str, Any], str]
) -> None:
    # What the grant prevents: the tag-scoped policy alone denies GetRun on the old run.
    logical_id, new_properties = upgraded(stack, deployed_run)
    if "cdk-omics-run:stack" in omics.runs[stack.physical_id]["tags"]:
        pytest.skip("this baseline's runs carry their stack tag already: nothing for IAM to hide")
    omics.enforce_stack_tag(STACK_ID, adoption=False)

    stack.update({**new_properties, "Tags": {"team": "genomics", "cost-centre": "42"}}, logical_id=logical_id)

    assert [r.operation for r in omics.requests] == ["GetRun", "StartRun"]  # GetRun denied: "not of this stack"
    assert stack.physical_id != deployed_run[3]
    assert "cdk-omics-run:stack" not in omics.runs[deployed_run[3]]["tags"]
