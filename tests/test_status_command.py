"""``cdk-omics-run status STACK``: a deployed stack's runs and batches, read over real HTTP from the stand-ins.

The stack's resources come from the CloudFormation stand-in (ListStackResources), the runs, tasks
and batches from the HealthOmics stand-in. Without a terminal the command prints tab-separated
lines, asserted here whole.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
import pytest
from status_support import STACK, StatusCommand, at, row
from support.cloudformation_stand_in import CloudFormationStandIn, StackResource
from support.omics_stand_in import OmicsStandIn

HEADER = row("STACK", "RESOURCE", "KIND", "ID", "STATUS", "ELAPSED", "WAIT", "PROGRESS")
RUN = "Custom::OmicsRun"
BATCH = "Custom::OmicsRunBatch"
WAIT = "AWS::CloudFormation::WaitCondition"
ROLE_ARN = "arn:aws:iam::123456789012:role/omics-run"


@pytest.fixture
def status(
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> StatusCommand:
    return StatusCommand(omics, cloudformation, monkeypatch, capsys, tmp_path)


def waiting_run(omics: OmicsStandIn) -> str:
    """A run mid-flight: two tasks done, one running."""
    run = omics.add_run(status="RUNNING", name="align-NA12878", creationTime=at(0), startTime=at(1))
    omics.add_task(run["id"], "BwaMem", "COMPLETED", creation_time=at(2), start_time=at(3), stop_time=at(20))
    omics.add_task(run["id"], "SortSam", "COMPLETED", creation_time=at(20), start_time=at(21), stop_time=at(30))
    omics.add_task(run["id"], "MarkDuplicates", "RUNNING", creation_time=at(30), start_time=at(31))
    return str(run["id"])


def failed_run(omics: OmicsStandIn) -> str:
    """A run whose second task failed, with the log streams GetRun names."""
    run = omics.add_run(
        status="FAILED",
        failureReason="Task CallVariants failed: exit code 137",
        creationTime=at(0),
        startTime=at(1),
        stopTime=at(46),
    )
    run["logLocation"] = {"runLogStream": f"run/{run['id']}", "engineLogStream": f"run/{run['id']}/engine"}
    omics.add_task(run["id"], "BwaMem", "COMPLETED", creation_time=at(2), start_time=at(3), stop_time=at(20))
    omics.add_task(
        run["id"],
        "CallVariants",
        "FAILED",
        creation_time=at(20),
        start_time=at(21),
        stop_time=at(45),
        status_message="OutOfMemoryError: Container killed due to memory usage",
    )
    return str(run["id"])


def test_a_waiting_run_shows_its_tasks_of_those_seen_and_says_the_total_is_unknown(status: StatusCommand) -> None:
    run_id = waiting_run(status.omics)
    condition = "AlignWait5E6F7A8BConditionC0FFEE12"
    status.cloudformation.add_stack(
        STACK,
        [("AlignA1B2C3D4", run_id, RUN), StackResource(condition, None, WAIT, "CREATE_IN_PROGRESS")],
        template={
            "Resources": {
                "AlignA1B2C3D4": {"Type": RUN, "Properties": {"WaitFor": "COMPLETED", "WaitTimeout": 21600}},
                condition: {"Type": WAIT, "DependsOn": ["AlignA1B2C3D4"]},
            }
        },
    )

    outcome = status(STACK)

    assert (outcome.code, outcome.err) == (0, "")
    header, line = outcome.lines
    assert header == HEADER
    cells = line.split("\t")
    assert cells[:5] + cells[6:] == [
        STACK,
        "AlignA1B2C3D4",
        "run",
        run_id,
        "RUNNING",
        "waiting for COMPLETED",
        "2 done, 1 running, 0 failed of 3 tasks seen (total unknown until the run ends)",
    ]
    assert re.fullmatch(r"\d+:\d\d:\d\d", cells[5]), cells[5]
    # What the wait waits for is in the template: one GetTemplate for the stack.
    assert [call["Action"] for call in status.cloudformation.calls] == ["ListStackResources", "GetTemplate"]


def test_a_failed_run_shows_its_reason_its_failed_task_and_where_its_logs_are(status: StatusCommand) -> None:
    run_id = failed_run(status.omics)
    status.cloudformation.add_stack(STACK, [("CallA1B2C3D4", run_id, RUN)])
    [_, failed_task] = status.omics.run_tasks[run_id]

    outcome = status(STACK)

    assert outcome.code == 0
    assert outcome.lines == [
        HEADER,
        row(STACK, "CallA1B2C3D4", "run", run_id, "FAILED", "0:45:00", "-", "1 done, 1 failed of 2 tasks"),
        "",
        f"run {run_id} (CallA1B2C3D4) FAILED: Task CallVariants failed: exit code 137",
        f"  task {failed_task['taskId']} CallVariants FAILED: OutOfMemoryError: Container killed due to memory usage",
        f"  logs: CloudWatch Logs group /aws/omics/WorkflowLog, streams run/{run_id}, run/{run_id}/task/{failed_task['taskId']}",
    ]


def test_a_failed_run_details_at_most_ten_failed_tasks_and_counts_them_all(status: StatusCommand) -> None:
    run = status.omics.add_run(status="FAILED", failureReason="12 shards failed", startTime=at(0), stopTime=at(30))
    for n in range(12):
        status.omics.add_task(
            run["id"], f"shard-{n}", "FAILED", start_time=at(1), stop_time=at(2), status_message=f"exit {n}"
        )
    status.cloudformation.add_stack(STACK, [("ShardA1B2C3D4", run["id"], RUN)])

    outcome = status(STACK)

    assert outcome.lines[1].endswith("\t0 done, 12 failed of 12 tasks")
    assert [line.split(": ")[-1] for line in outcome.lines if line.startswith("  task ")] == [
        f"exit {n}" for n in range(10)
    ]
    assert len(status.omics.requests_for("GetRunTask")) == 10


def test_a_batch_shows_its_run_summary_against_total_runs_and_its_runs_only_when_asked(status: StatusCommand) -> None:
    omics = status.omics
    batch_id = _start_batch(runs=4)["id"]
    run_ids = omics.submit_batch(batch_id)
    omics.set_status(run_ids[0], "COMPLETED")
    omics.set_status(run_ids[1], "FAILED")
    omics.set_status(run_ids[2], "RUNNING")
    status.cloudformation.add_stack(STACK, [("CohortB1B2C3D4", batch_id, BATCH)])

    plain = status(STACK)
    with_runs = status(STACK, "--runs")

    assert plain.lines[1].split("\t")[:5] == [STACK, "CohortB1B2C3D4", "batch", batch_id, "INPROGRESS"]
    assert plain.lines[1].endswith("\t2/4 runs ended (1 completed, 1 failed, 1 running)")
    assert len(plain.lines) == 2
    assert with_runs.lines[2:] == [
        row(STACK, f"CohortB1B2C3D4/sample-{n}", "batch-run", run_ids[n], "SUCCESS", "-", "-", "-") for n in range(4)
    ]


def test_a_10000_run_batch_is_read_with_one_get_batch(status: StatusCommand) -> None:
    """Its runSummary carries the progress: no run is read one by one (timed in benchmarks/status_benchmark.py)."""
    batch_id = boto3.client("omics").start_run_batch(
        defaultRunSetting={"workflowId": "1234567", "roleArn": ROLE_ARN, "outputUri": "s3://results/"},
        batchRunSettings={"s3UriSettings": "s3://settings/cohort.json"},
    )["id"]
    run_ids = status.omics.submit_batch(batch_id, [{"runSettingId": f"sample-{n:05d}"} for n in range(10_000)])
    for n, run_id in enumerate(run_ids):
        status.omics.runs[run_id]["status"] = ("COMPLETED", "RUNNING", "PENDING", "FAILED")[n % 4]
    status.cloudformation.add_stack(STACK, [("CohortB1B2C3D4", batch_id, BATCH)])
    status.omics.reset_requests()

    outcome = status(STACK)

    assert outcome.lines[1].endswith("\t5000/10000 runs ended (2500 completed, 2500 failed, 2500 running)")
    assert [request.operation for request in status.omics.requests] == ["GetBatch"]


def test_runs_of_nested_stacks_are_listed_through_every_page_of_list_stack_resources(status: StatusCommand) -> None:
    run_id = waiting_run(status.omics)
    status.omics.set_status(run_id, "COMPLETED")
    nested_id = status.cloudformation.add_stack("Genomics-Cohort-1A2B", [("InnerRunA1B2C3D4", run_id, RUN)])
    # 250 other resources: three pages of 100.
    others = [(f"Bucket{n:04d}", f"bucket-{n}", "AWS::S3::Bucket") for n in range(250)]
    status.cloudformation.add_stack(STACK, [*others, ("CohortA1B2C3D4", nested_id, "AWS::CloudFormation::Stack")])

    outcome = status(STACK, "--json")

    [found] = json.loads(outcome.out)["resources"]
    assert (found["stack"], found["logicalId"], found["id"], found["status"]) == (
        f"{STACK}/CohortA1B2C3D4",
        "InnerRunA1B2C3D4",
        run_id,
        "COMPLETED",
    )
    assert [(call["StackName"], call.get("NextToken")) for call in status.cloudformation.calls] == [
        (STACK, None),
        (STACK, "100"),
        (STACK, "200"),
        (nested_id, None),
    ]


def test_json_gives_the_task_total_only_once_the_run_ended(status: StatusCommand) -> None:
    running, ended = waiting_run(status.omics), failed_run(status.omics)
    status.cloudformation.add_stack(STACK, [("AlignA1B2C3D4", running, RUN), ("CallA1B2C3D4", ended, RUN)])

    document = json.loads(status(STACK, "--json").out)

    tasks = [resource["tasks"] for resource in document["resources"]]
    assert tasks == [
        {"done": 2, "running": 1, "failed": 0, "seen": 3, "total": None},
        {"done": 1, "running": 0, "failed": 1, "seen": 2, "total": 2},
    ]
    assert document["finished"] is False
    assert document["resources"][1]["failedTasks"][0]["statusMessage"] == (
        "OutOfMemoryError: Container killed due to memory usage"
    )


# Errors: one line on stderr naming the fix, exit status 1, no traceback.


def test_no_credentials(status: StatusCommand) -> None:
    status.cloudformation.add_stack(STACK, [("AlignA1B2C3D4", "1234567", RUN)])

    outcome = status.without("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")(STACK)

    assert (outcome.code, outcome.out) == (1, "")
    assert outcome.err == (
        "cdk-omics-run status: no AWS credentials found: run `aws configure` or `aws sso login`, or set AWS_PROFILE\n"
    )


def test_no_region(status: StatusCommand) -> None:
    outcome = status.without("AWS_DEFAULT_REGION", "AWS_REGION")(STACK)

    assert (outcome.code, outcome.out) == (1, "")
    assert outcome.err == "cdk-omics-run status: no AWS region: pass --region, or set AWS_DEFAULT_REGION\n"


def test_no_such_stack(status: StatusCommand) -> None:
    outcome = status("Genomcis")

    assert (outcome.code, outcome.out) == (1, "")
    assert outcome.err == (
        "cdk-omics-run status: no stack named Genomcis in us-east-1: check the name, and the region (--region or AWS_DEFAULT_REGION)\n"
    )


def test_a_stack_without_runs(status: StatusCommand) -> None:
    status.cloudformation.add_stack(STACK, [("Bucket83908E77", "genomics-bucket", "AWS::S3::Bucket")])

    outcome = status(STACK)

    assert (outcome.code, outcome.out) == (1, "")
    assert outcome.err == (
        "cdk-omics-run status: stack Genomics has no Custom::OmicsRun or Custom::OmicsRunBatch resources "
        "(nested stacks included): name the stack that holds your OmicsRun or OmicsRunBatch constructs\n"
    )


def test_access_denied_names_the_missing_permission(status: StatusCommand) -> None:
    run_id = waiting_run(status.omics)
    status.cloudformation.add_stack(STACK, [("AlignA1B2C3D4", run_id, RUN)])
    status.omics.enforce_stack_tag("another-stack", operations=["ListRunTasks"])

    outcome = status(STACK)

    assert (outcome.code, outcome.out) == (1, "")
    assert outcome.err == (
        f"cdk-omics-run status: access denied: omics:ListRunTasks on run {run_id} (Genomics/AlignA1B2C3D4); "
        "allow omics:ListRunTasks to the identity you run this command as\n"
    )


def test_a_run_deleted_since(status: StatusCommand) -> None:
    status.cloudformation.add_stack(STACK, [("AlignA1B2C3D4", "1234567", RUN)])

    outcome = status(STACK)

    assert (outcome.code, outcome.out) == (1, "")
    assert outcome.err == (
        "cdk-omics-run status: run 1234567 (Genomics/AlignA1B2C3D4) no longer exists: it was deleted since the "
        "stack started it; update the stack to start it again, or remove it from the stack\n"
    )


def _start_batch(runs: int) -> dict:
    """StartRunBatch as the provider calls it, with inline settings sample-0, sample-1 ..."""
    return boto3.client("omics").start_run_batch(
        defaultRunSetting={"workflowId": "1234567", "roleArn": ROLE_ARN, "outputUri": "s3://results/"},
        batchRunSettings={"inlineSettings": [{"runSettingId": f"sample-{n}"} for n in range(runs)]},
    )
