"""Upgrading a stack whose run waits, started by the release that brought WaitCondition waits.

Baseline: 71ef854 (until the project has release tags). Its handler answered the Create and sent
the first delayed wake-up; after ``cdk deploy`` with the current library, the current handler
receives the wakes the baseline sent (same queue, same event source mapping), and the Update and
Delete events CloudFormation sends.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import handler_environment
from events import STACK_ID, Handle, Stack, run_status_change
from support.cloudformation_stand_in import CloudFormationStandIn
from support.earlier_release import (
    EarlierRelease,
    baselines,
    custom_resource,
    deployed,
    upgrade_fixtures,
    wait_handles,
)
from support.event_source_mapping import EventSourceMapping
from support.lambda_stand_in import LambdaStandIn
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket

# Also the latest release tag, once the project has one.
BASELINES = baselines("71ef854")
RESOURCE_TYPE = "Custom::OmicsRun"
DECLARED = (
    "OmicsRun(stack, 'CramToBam', workflow_id='1234567', role_arn='arn:aws:iam::123456789012:role/omics-run', "
    "output_uri='s3://omics-artifacts/out/', tags={'team': 'genomics'}, wait_for=WaitFor.COMPLETED, "
    "wait_poll_interval=cdk.Duration.seconds(1))"
)


# The baseline's library and handler, and the stack's template with it and with the current library.
release, templates = upgrade_fixtures(BASELINES, DECLARED)


@pytest.fixture
def waiting_run(
    release: EarlierRelease,
    templates: tuple[dict[str, Any], dict[str, Any]],
    stack: Stack,
    omics: OmicsStandIn,
    response_bucket: ResponseBucket,
    lambda_service: LambdaStandIn,
    wake_queue: str,
) -> tuple[str, dict[str, Any], Handle]:
    """A waiting run created by the baseline's handler, its first wake sent; then the current policy.

    The stack is left as CloudFormation knows it; returns the logical ID, the new template's
    properties and the WaitCondition's handle.
    """
    old, new = templates
    [handle_id] = wait_handles(old, new)  # the same WaitCondition in both: the upgrade keeps it
    handle = Handle(response_bucket)
    references = {handle_id: handle.url}
    logical_id, old_properties = custom_resource(old, RESOURCE_TYPE)
    environment = handler_environment(omics, response_bucket, lambda_service, wake_queue=wake_queue)
    answer = release.create(
        deployed(old_properties, references), logical_id=logical_id, resource_type=RESOURCE_TYPE,
        bucket=response_bucket, environment=environment,
    )  # fmt: skip
    omics.enforce_stack_tag(STACK_ID)  # the current provider's policy
    omics.reset_requests()
    stack.properties, stack.physical_id = deployed(old_properties, references), answer["PhysicalResourceId"]
    return logical_id, deployed(custom_resource(new, RESOURCE_TYPE)[1], references), handle


def test_the_wait_the_baseline_started_is_signalled_by_the_current_handler(
    stack: Stack,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    waiting_run: tuple[str, dict[str, Any], Handle],
) -> None:
    logical_id, new_properties, handle = waiting_run
    run_id = stack.physical_id

    omics.set_status(run_id, "COMPLETED")
    event_source_mapping.run_until(lambda: handle.signal is not None)

    signal = handle.signal
    assert signal is not None
    assert (signal["Status"], signal["UniqueId"]) == ("SUCCESS", run_id)
    assert json.loads(signal["Data"])["Status"] == "COMPLETED"
    # Then the deploy's Update, and a tags-only one, keep the run: no duplicate, no new wait.
    stack.update(new_properties, logical_id=logical_id)
    stack.update({**new_properties, "Tags": {"team": "genomics", "cost-centre": "42"}}, logical_id=logical_id)
    assert omics.start_run_bodies() == [] and stack.physical_id == run_id
    event_source_mapping.drain()
    assert event_source_mapping.messages_in_queue() == 0


def test_a_delete_while_the_run_waits_cancels_it_and_ends_the_wait(
    stack: Stack,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    waiting_run: tuple[str, dict[str, Any], Handle],
) -> None:
    logical_id, new_properties, handle = waiting_run
    run_id = stack.physical_id

    response = stack.delete(properties=new_properties, logical_id=logical_id)
    event_source_mapping.drain()

    assert response["Status"] == "SUCCESS"
    assert omics.runs[run_id]["status"] == "CANCELLED"  # the default delete policy, CANCEL
    assert "cdk-omics-run:wait" not in omics.runs[run_id]["tags"]
    assert handle.signal is None and event_source_mapping.messages_in_queue() == 0


def test_the_baseline_s_wait_moves_its_token_once_then_wakes_without_tagging(
    stack: Stack,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    waiting_run: tuple[str, dict[str, Any], Handle],
) -> None:
    _, _, handle = waiting_run
    run_id = stack.physical_id
    baseline_token = omics.runs[run_id]["tags"]["cdk-omics-run:wait"]

    omics.set_status(run_id, "RUNNING")
    event_source_mapping.run_until(lambda: len(event_source_mapping.deliveries) >= 4)

    # The baseline's message knows nothing of when its token moved: the first wake moves it
    # (a bare token, as the baseline wrote it), and no later wake writes a tag.
    [moved] = omics.requests_for("TagResource")
    assert moved.body["tags"]["cdk-omics-run:wait"] != baseline_token
    assert omics.runs[run_id]["tags"]["cdk-omics-run:wait"] == moved.body["tags"]["cdk-omics-run:wait"]
    omics.set_status(run_id, "COMPLETED")
    event_source_mapping.run_until(lambda: handle.signal is not None)
    assert handle.signal is not None and handle.signal["Status"] == "SUCCESS"
    assert "cdk-omics-run:wait" not in omics.runs[run_id]["tags"]


def test_an_event_for_the_baseline_s_wait_is_left_to_its_polling_which_ends_it(
    stack: Stack,
    omics: OmicsStandIn,
    event_source_mapping: EventSourceMapping,
    waiting_run: tuple[str, dict[str, Any], Handle],
    sqs: Any,
    wake_queue: str,
    cloudformation: CloudFormationStandIn,
) -> None:
    _, _, handle = waiting_run
    run_id = stack.physical_id
    omics.set_status(run_id, "COMPLETED")

    # The baseline's tag is the token alone: it does not say where an event would signal.
    sqs.send_message(QueueUrl=wake_queue, MessageBody=json.dumps(run_status_change(omics.runs[run_id])))
    event_source_mapping.run_until(lambda: handle.signal is not None)

    assert handle.signal is not None and handle.signal["Status"] == "SUCCESS"
    assert all(d.failures == 0 for d in event_source_mapping.deliveries)
    assert [c for c in cloudformation.calls if c.get("Action") == "DescribeStackResource"] == []
    event_source_mapping.drain()
    assert event_source_mapping.messages_in_queue() == 0
