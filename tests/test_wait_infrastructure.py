"""The wait as CloudFormation sees it: a WaitCondition per waiting run, a result read after it, one queue per stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from synth import cfn_lint

from cdk_omics_run import OmicsRun, OmicsRunProvider, WaitFor

ROLE = "arn:aws:iam::123456789012:role/omics-run"
REQUIRED: dict[str, Any] = {"workflow_id": "1234567", "role_arn": ROLE, "output_uri": "s3://results-bucket/runs/"}


def new_stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Stack")


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def synthesized(stack: cdk.Stack) -> dict[str, Any]:
    return Template.from_stack(stack).to_json()


def wait_ids(arguments: dict[str, Any], types: tuple[str, ...] = ("AWS::CloudFormation::Wait",)) -> set[str]:
    stack = new_stack()
    OmicsRun(stack, "Run", **{**REQUIRED, "wait_for": WaitFor.COMPLETED, **arguments})
    template = synthesized(stack)
    return {k for k, r in template["Resources"].items() if r["Type"].startswith(types)}


def test_a_waiting_run_gets_a_wait_condition_of_twelve_hours_by_default_and_its_handle_as_a_property() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Short", **REQUIRED, wait_for=WaitFor.RUNNING, wait_timeout=cdk.Duration.hours(2),
             wait_poll_interval=cdk.Duration.minutes(5))  # fmt: skip
    template = synthesized(stack)

    conditions = of_type(template, "AWS::CloudFormation::WaitCondition")
    assert sorted(c["Properties"]["Timeout"] for c in conditions.values()) == ["43200", "7200"]
    assert all(c["Properties"]["Count"] == 1 for c in conditions.values())
    runs = of_type(template, "Custom::OmicsRun")
    handles = of_type(template, "AWS::CloudFormation::WaitConditionHandle")
    assert sorted(r["Properties"]["WaitHandle"]["Ref"] for r in runs.values()) == sorted(handles)
    [short] = [r["Properties"] for k, r in runs.items() if k.startswith("Short")]
    assert (short["WaitFor"], short["WaitTimeout"], short["WaitPollInterval"]) == ("RUNNING", 7200, 300)
    assert all("ServiceTimeout" not in r["Properties"] for r in runs.values())


def test_whatever_reads_a_waiting_runs_attributes_depends_on_its_wait_condition() -> None:
    stack = new_stack()
    first = OmicsRun(stack, "First", **REQUIRED, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Second", **REQUIRED, parameters={"input": first.attr_run_output_uri})
    cdk.CfnOutput(stack, "Status", value=first.attr_status)
    template = synthesized(stack)

    [(first_id, _)] = [(k, r) for k, r in of_type(template, "Custom::OmicsRun").items() if k.startswith("First")]
    [(condition_id, condition)] = of_type(template, "AWS::CloudFormation::WaitCondition").items()
    [(result_id, result)] = of_type(template, "Custom::OmicsRunResult").items()
    [second] = [r for k, r in of_type(template, "Custom::OmicsRun").items() if k.startswith("Second")]
    assert condition["DependsOn"] == [first_id]
    assert result["DependsOn"] == [condition_id]
    assert result["Properties"]["RunId"] == {"Ref": first_id}
    assert {"Fn::GetAtt": [result_id, "RunOutputUri"]} in second["Properties"]["Parameters"]["Fn::Join"][1]
    assert template["Outputs"]["Status"]["Value"] == {"Fn::GetAtt": [result_id, "Status"]}


def test_add_dependency_on_a_waiting_run_waits_for_its_condition_too() -> None:
    stack = new_stack()
    first = OmicsRun(stack, "First", **REQUIRED, wait_for=WaitFor.COMPLETED)
    second = OmicsRun(stack, "Second", **REQUIRED)
    second.node.add_dependency(first)
    template = synthesized(stack)

    [second_run] = [r for k, r in of_type(template, "Custom::OmicsRun").items() if k.startswith("Second")]
    [condition_id] = of_type(template, "AWS::CloudFormation::WaitCondition")
    assert condition_id in second_run["DependsOn"]


def test_a_run_defining_change_brings_a_new_wait_and_a_tags_only_change_keeps_it() -> None:
    original = wait_ids({})

    assert wait_ids({"parameters": {"sample": "B"}}).isdisjoint(original)
    assert wait_ids({"wait_timeout": cdk.Duration.hours(3)}).isdisjoint(original)
    assert wait_ids({"tags": {"team": "genomics"}}) == original
    assert wait_ids({"delete_policy": "LEAVE"}) == original
    assert wait_ids({}) == original  # stable from one synth to the next
    # The result is updated, not replaced: what reads it (another stack too) keeps its name.
    result = ("Custom::OmicsRunResult",)
    assert wait_ids({"parameters": {"sample": "B"}}, result) == wait_ids({}, result) == {"RunResult53316160"}


@pytest.mark.parametrize("count", [1, 50])
def test_the_provider_adds_one_queue_one_dead_letter_queue_and_one_mapping_however_many_runs_wait(count: int) -> None:
    stack = new_stack()
    for index in range(count):
        OmicsRun(stack, f"Run{index}", **REQUIRED, wait_for=WaitFor.COMPLETED)
    template = synthesized(stack)

    # The wake-up queue and its dead-letter queue, beside the function's own dead-letter queue.
    assert len(of_type(template, "AWS::SQS::Queue")) == 3
    assert len(of_type(template, "AWS::Lambda::EventSourceMapping")) == 1
    assert len(of_type(template, "AWS::IAM::ManagedPolicy")) == 1
    assert of_type(template, "AWS::IAM::Policy") == {}
    assert len(of_type(template, "AWS::CloudFormation::WaitCondition")) == count


def test_the_queue_is_encrypted_tls_only_with_a_dead_letter_queue_and_feeds_the_function_in_small_batches() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED, wait_for=WaitFor.COMPLETED)
    template = synthesized(stack)
    provider = OmicsRunProvider.of(stack)
    queue_id = stack.get_logical_id(provider.wait_queue.node.default_child)  # type: ignore[union-attr]

    queues = of_type(template, "AWS::SQS::Queue")
    assert all(q["Properties"]["SqsManagedSseEnabled"] is True for q in queues.values())
    assert queues[queue_id]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    assert queues[queue_id]["Properties"]["VisibilityTimeout"] == 1800
    for policy in of_type(template, "AWS::SQS::QueuePolicy").values():
        statement = policy["Properties"]["PolicyDocument"]["Statement"][0]
        assert (statement["Effect"], statement["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    [mapping] = of_type(template, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["BatchSize"] == 10
    assert mapping["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    [function] = of_type(template, "AWS::Lambda::Function").values()
    assert function["Properties"]["Environment"]["Variables"]["OMICS_RUN_WAIT_QUEUE_URL"] == {"Ref": queue_id}
    assert function["Properties"]["Timeout"] == 300
    [policy] = of_type(template, "AWS::IAM::ManagedPolicy").values()
    send = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "ScheduleWakeUps"]
    assert send == [{"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
                     "Sid": "ScheduleWakeUps"}]  # fmt: skip
    assert not [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "lambda:InvokeFunction" in json.dumps(s)
    ]


def test_one_rule_delivers_the_runs_status_changes_that_can_end_a_wait_to_the_queue_and_only_it_may_send() -> None:
    stack = new_stack()
    OmicsRun(stack, "First", **REQUIRED, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Second", **REQUIRED, wait_for=WaitFor.RUNNING)
    template = synthesized(stack)
    provider = OmicsRunProvider.of(stack)
    queue_id = stack.get_logical_id(provider.wait_queue.node.default_child)  # type: ignore[union-attr]
    rule_id = stack.get_logical_id(provider.run_status_changes.node.default_child)  # type: ignore[union-attr]

    [(found_id, rule)] = of_type(template, "AWS::Events::Rule").items()
    assert found_id == rule_id
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.omics"], "detail-type": ["Run Status Change"], "account": [{"Ref": "AWS::AccountId"}],
        "detail": {
            "status": ["RUNNING", "COMPLETED", "FAILED", "CANCELLED", "DELETED"], "workflowId": ["1234567"],
            "runOutputUri": [{"prefix": "s3://results-bucket/runs"}],
        },
    }  # fmt: skip
    assert rule["Properties"]["Targets"] == [{"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}, "Id": "Target0"}]
    [queue_policy] = [
        p
        for p in of_type(template, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    allowed = [s for s in queue_policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allowed == [{
        "Action": "sqs:SendMessage", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Resource": {"Fn::GetAtt": [queue_id, "Arn"]}, "Sid": "RunStatusChanges",
        "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}},
    }]  # fmt: skip
    # The handle's logical ID reaches the run resource: an event finds the handle's URL by it.
    for run in of_type(template, "Custom::OmicsRun").values():
        handle_ref = run["Properties"]["WaitHandle"]["Ref"]
        assert run["Properties"]["WaitHandleLogicalId"] == handle_ref


def event_detail(template: dict[str, Any]) -> Any:
    [rule] = of_type(template, "AWS::Events::Rule").values()
    return rule["Properties"]["EventPattern"]["detail"]


def test_the_rule_leaves_out_running_unless_a_run_waits_for_it_and_names_the_waiting_runs_workflows() -> None:
    stack = new_stack()
    OmicsRun(stack, "Align", **REQUIRED, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Call", **{**REQUIRED, "workflow_id": "7654321"}, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Again", **REQUIRED, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "NotWaiting", **{**REQUIRED, "workflow_id": "5555555"})

    # RUNNING is the most frequent event and ends none of these waits; other workflows end none either.
    assert event_detail(synthesized(stack)) == {
        "status": ["COMPLETED", "FAILED", "CANCELLED", "DELETED"], "workflowId": ["1234567", "7654321"],
        # Outputs go in a folder named by the run's ID, or straight under the URI, which may drop its "/".
        "runOutputUri": [{"prefix": "s3://results-bucket/runs"}],
    }  # fmt: skip


def test_the_rule_names_no_output_location_when_a_waiting_runs_location_is_known_only_at_deploy_time() -> None:
    stack = new_stack()
    bucket = cdk.aws_s3.Bucket(stack, "Results")
    OmicsRun(stack, "Align", **REQUIRED, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Call", **{**REQUIRED, "output_uri": bucket.s3_url_for_object("calls/")},
             wait_for=WaitFor.COMPLETED)  # fmt: skip

    assert "runOutputUri" not in event_detail(synthesized(stack))


def test_a_waiting_run_whose_workflow_is_not_known_opens_the_rule_to_every_workflow() -> None:
    stack = new_stack()
    OmicsRun(stack, "Align", **REQUIRED, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Again", run_id="1111111", role_arn=ROLE, output_uri="s3://results-bucket/runs/",
             wait_for=WaitFor.COMPLETED)  # fmt: skip

    assert event_detail(synthesized(stack)) == {
        "status": ["COMPLETED", "FAILED", "CANCELLED", "DELETED"],
        "runOutputUri": [{"prefix": "s3://results-bucket/runs"}],
    }


def test_a_stack_whose_runs_do_not_wait_has_no_wait_queue() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED)
    template = synthesized(stack)

    # Only the function's dead-letter queue, for CloudFormation requests that failed every attempt.
    dead_letters = OmicsRunProvider.of(stack).dead_letter_queue
    assert dead_letters is not None
    assert list(of_type(template, "AWS::SQS::Queue")) == [stack.get_logical_id(dead_letters.node.default_child)]  # type: ignore[arg-type]
    assert of_type(template, "AWS::Lambda::EventSourceMapping") == {}
    assert of_type(template, "AWS::Events::Rule") == {}


def test_on_status_change_matches_this_runs_events_and_never_waits_for_them() -> None:
    stack = new_stack()
    run = OmicsRun(stack, "Run", **REQUIRED, wait_for=WaitFor.RUNNING)
    run.on_status_change("Done", statuses=["COMPLETED"])
    template = synthesized(stack)

    [run_id] = of_type(template, "Custom::OmicsRun")
    [rule] = [
        r
        for r in of_type(template, "AWS::Events::Rule").values()
        if "runId" in r["Properties"]["EventPattern"]["detail"]
    ]
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.omics"], "detail-type": ["Run Status Change"],
        "detail": {"runId": [{"Fn::GetAtt": [run_id, "Id"]}], "status": ["COMPLETED"]},
    }  # fmt: skip


def test_a_stack_of_waiting_runs_passes_cfn_lint(tmp_path: Path) -> None:
    stack = new_stack()
    first = OmicsRun(stack, "First", **REQUIRED, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Second", **REQUIRED, parameters={"input": first.attr_run_output_uri}, wait_for=WaitFor.RUNNING)
    path = tmp_path / "waits.template.json"
    path.write_text(json.dumps(synthesized(stack)))

    assert cfn_lint(path) == (0, "")


def test_another_stack_reads_a_waiting_runs_attribute_by_a_name_that_survives_a_new_run() -> None:
    def synthesize(sample: str) -> tuple[dict[str, Any], dict[str, Any]]:
        app = cdk.App(context={"aws:cdk:bundling-stacks": []})
        upstream, downstream = cdk.Stack(app, "Upstream"), cdk.Stack(app, "Downstream")
        run = OmicsRun(upstream, "Align", **REQUIRED, parameters={"sample": sample}, wait_for=WaitFor.COMPLETED)
        cdk.CfnOutput(downstream, "AlignedReads", value=run.attr_run_output_uri)
        assembly = app.synth()
        return assembly.get_stack_by_name("Upstream").template, assembly.get_stack_by_name("Downstream").template

    before_up, before_down = synthesize("NA12878")
    after_up, after_down = synthesize("NA12891")  # a new run, with a new wait

    read = before_down["Outputs"]["AlignedReads"]["Value"]["Fn::GetStackOutput"]
    assert after_down["Outputs"]["AlignedReads"]["Value"]["Fn::GetStackOutput"] == read
    assert read["StackName"] == "Upstream"
    for upstream in (before_up, after_up):
        # A plain output, not an Export: CloudFormation would refuse to change an imported export's value.
        output = upstream["Outputs"][read["OutputName"]]
        assert output == {"Value": {"Fn::GetAtt": ["AlignResultDD0B3EC5", "RunOutputUri"]}}
        assert not any("Export" in o for o in upstream["Outputs"].values())
    # It resolves to the new run's value: the result is read after the new run's own WaitCondition.
    conditions = [
        [k for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudFormation::WaitCondition"]
        for template in (before_up, after_up)
    ]
    assert conditions[0] != conditions[1]
    for template, [condition] in zip((before_up, after_up), conditions, strict=True):
        result = template["Resources"]["AlignResultDD0B3EC5"]
        assert condition in result["DependsOn"]
        assert result["Properties"]["RunId"] == {"Ref": "AlignBA698C47"}


def test_a_provider_of_more_than_twenty_waiting_workflows_matches_every_workflow() -> None:
    from cdk_omics_run.run_event_pattern import MAX_FILTERED_WORKFLOWS, run_event_detail

    many = [str(1_000_000 + index) for index in range(MAX_FILTERED_WORKFLOWS + 1)]
    assert "workflowId" not in run_event_detail({"COMPLETED"}, many)
    assert run_event_detail({"COMPLETED"}, many[:-1] + many[:3])["workflowId"] == many[:-1]  # each once
