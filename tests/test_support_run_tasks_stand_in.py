"""Self-tests for the run task part of the HealthOmics stand-in (ListRunTasks, GetRunTask), over real HTTP with
botocore, and for the CloudFormation stand-in's ListStackResources."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support.cloudformation_stand_in import PAGE_SIZE, CloudFormationStandIn, StackResource
from support.omics_run_tasks import GET_RUN_TASK_OUTPUT_MEMBERS, TASK_LIST_ITEM_MEMBERS, TASK_OPERATIONS, TASK_STATUSES
from support.omics_stand_in import ERROR_STATUS, OPERATIONS, OmicsStandIn
from support.raw_http import aim_boto3_at, service_error

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def client(omics: OmicsStandIn, monkeypatch: pytest.MonkeyPatch) -> Any:
    aim_boto3_at(omics, monkeypatch)
    return botocore.session.get_session().create_client("omics", region_name="us-east-1", config=NO_RETRIES)


@pytest.fixture(scope="module")
def cloudformation_server() -> Iterator[CloudFormationStandIn]:
    stand_in = CloudFormationStandIn().start()
    yield stand_in
    stand_in.stop()


def test_task_routes_members_and_limits_match_botocore_omics_model() -> None:
    model = botocore.session.get_session().get_service_model("omics")
    assert {name: model.operation_model(name).http["requestUri"] for name in TASK_OPERATIONS} == {
        "ListRunTasks": "/run/{id}/task",
        "GetRunTask": "/run/{id}/task/{taskId}",
    }
    assert {model.operation_model(name).http["method"] for name in TASK_OPERATIONS} == {"GET"}
    assert TASK_OPERATIONS <= OPERATIONS
    for name in TASK_OPERATIONS:
        for shape in model.operation_model(name).error_shapes:
            assert ERROR_STATUS[shape.name] == shape.metadata["error"]["httpStatusCode"], (name, shape.name)
    assert set(model.shape_for("TaskListItem").members) == TASK_LIST_ITEM_MEMBERS
    assert set(model.operation_model("GetRunTask").output_shape.members) == GET_RUN_TASK_OUTPUT_MEMBERS
    assert set(model.shape_for("TaskStatus").enum) == TASK_STATUSES
    page_size = model.operation_model("ListRunTasks").input_shape.members["maxResults"]
    assert (page_size.metadata["min"], page_size.metadata["max"]) == (1, 100)


def test_list_run_tasks_pages_in_creation_order_and_filters_by_status(omics: OmicsStandIn, client: Any) -> None:
    run = omics.add_run(status="RUNNING")
    tasks = [omics.add_task(run["id"], f"shard-{n}", "COMPLETED" if n < 3 else "RUNNING") for n in range(5)]

    first = client.list_run_tasks(id=run["id"], maxResults=2)
    rest = client.list_run_tasks(id=run["id"], maxResults=100, startingToken=first["nextToken"])
    running = client.list_run_tasks(id=run["id"], status="RUNNING")

    assert [t["taskId"] for t in first["items"] + rest["items"]] == [t["taskId"] for t in tasks]
    assert "nextToken" not in rest
    assert set(first["items"][0]) == {
        "taskId",
        "name",
        "status",
        "cpus",
        "memory",
        "gpus",
        "instanceType",
        "cacheHit",
        "creationTime",
        "startTime",
        "stopTime",
        "uuid",
    }
    assert [t["name"] for t in running["items"]] == ["shard-3", "shard-4"]
    with pytest.raises(ClientError) as excinfo:
        client.list_run_tasks(id=run["id"], status="COMPLETED", startingToken=first["nextToken"])
    assert "Invalid startingToken" in service_error(excinfo, "ValidationException", 400)


def test_get_run_task_answers_the_status_message_and_log_stream(omics: OmicsStandIn, client: Any) -> None:
    run = omics.add_run(status="FAILED")
    task = omics.add_task(run["id"], "CallVariants", "RUNNING", start_time=T0)
    omics.set_task_status(run["id"], task["taskId"], "FAILED", status_message="exit code 137")

    found = client.get_run_task(id=run["id"], taskId=task["taskId"])

    assert (found["status"], found["statusMessage"], found["logStream"]) == (
        "FAILED",
        "exit code 137",
        f"run/{run['id']}/task/{task['taskId']}",
    )
    assert found["startTime"] == T0 and found["stopTime"] >= T0


def test_tasks_of_a_missing_run_or_a_missing_task_are_404(omics: OmicsStandIn, client: Any) -> None:
    run = omics.add_run(status="RUNNING")
    with pytest.raises(ClientError) as excinfo:
        client.list_run_tasks(id="999")
    assert service_error(excinfo, "ResourceNotFoundException", 404) == "Run 999 not found"
    with pytest.raises(ClientError) as excinfo:
        client.get_run_task(id=run["id"], taskId="42")
    assert service_error(excinfo, "ResourceNotFoundException", 404) == f"Task 42 of run {run['id']} not found"


def test_task_operations_are_denied_like_the_run_when_the_stack_tag_is_enforced(
    omics: OmicsStandIn, client: Any
) -> None:
    run = omics.add_run(status="RUNNING")
    omics.enforce_stack_tag("arn:stack/other", operations=["ListRunTasks", "GetRunTask"])
    with pytest.raises(ClientError) as excinfo:
        client.list_run_tasks(id=run["id"])
    assert "not authorized to perform: omics:ListRunTasks" in service_error(excinfo, "AccessDeniedException", 403)


def test_fail_next_works_for_the_task_operations(omics: OmicsStandIn, client: Any) -> None:
    run = omics.add_run(status="RUNNING")
    task = omics.add_task(run["id"], "BwaMem")
    omics.fail_next("ListRunTasks", "ThrottlingException")
    omics.fail_next("GetRunTask", "AccessDeniedException", message="nope")
    with pytest.raises(ClientError) as excinfo:
        client.list_run_tasks(id=run["id"])
    service_error(excinfo, "ThrottlingException", 429)
    with pytest.raises(ClientError) as excinfo:
        client.get_run_task(id=run["id"], taskId=task["taskId"])
    assert service_error(excinfo, "AccessDeniedException", 403) == "nope"
    assert [t["taskId"] for t in client.list_run_tasks(id=run["id"])["items"]] == [task["taskId"]]


def test_reset_forgets_the_tasks(omics: OmicsStandIn) -> None:
    run = omics.add_run(status="RUNNING")
    omics.add_task(run["id"], "BwaMem")
    omics.reset()
    assert omics.run_tasks == {}


def test_list_stack_resources_pages_and_refuses_an_unknown_stack(
    cloudformation_server: CloudFormationStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloudformation_server.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", cloudformation_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    stack_id = cloudformation_server.add_stack(
        "Genomics",
        [StackResource(f"Run{n:03d}", str(n), "Custom::OmicsRun", "CREATE_COMPLETE", T0) for n in range(150)],
    )
    client = botocore.session.get_session().create_client("cloudformation", region_name="us-east-1", config=NO_RETRIES)

    pages = list(client.get_paginator("list_stack_resources").paginate(StackName=stack_id))

    assert [len(page["StackResourceSummaries"]) for page in pages] == [PAGE_SIZE, 50]
    assert pages[0]["StackResourceSummaries"][0] == {
        "LogicalResourceId": "Run000",
        "PhysicalResourceId": "0",
        "ResourceType": "Custom::OmicsRun",
        "LastUpdatedTimestamp": T0,
        "ResourceStatus": "CREATE_COMPLETE",
    }
    with pytest.raises(ClientError) as excinfo:
        client.list_stack_resources(StackName="Nope")
    assert (excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]) == (
        "ValidationError",
        "Stack with id Nope does not exist",
    )
