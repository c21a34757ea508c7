"""The OmicsRun construct: what it puts in the template, and what it refuses at synth time."""
from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_omics as omics
from aws_cdk.assertions import Annotations, Match, Template

import cdk_omics_run
from cdk_omics_run import ArgumentError, LogLevel, OmicsRun, OmicsRunProvider, StorageType, WorkflowType

ROLE = "arn:aws:iam::123456789012:role/omics-run"
OUTPUT = "s3://bucket/out/"
REQUIRED: dict[str, Any] = {"workflow_id": "1234567", "role_arn": ROLE, "output_uri": OUTPUT}
REPO_ROOT = Path(__file__).resolve().parents[1]


# Arguments that configure the resource rather than the run.
RESOURCE_SETTINGS = {"rerun_token", "delete_policy", "wait_for", "wait_timeout"}


def keyword_arguments() -> set[str]:
    return {
        name
        for name, parameter in inspect.signature(OmicsRun.__init__).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }


def new_stack() -> cdk.Stack:
    # Bundling is skipped here; test_example_app bundles the real asset.
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    return cdk.Stack(app, "Stack")


def run_properties(stack: cdk.Stack) -> dict[str, Any]:
    [resource] = Template.from_stack(stack).find_resources("Custom::OmicsRun").values()
    return resource["Properties"]


def test_arguments_become_pascal_case_properties_exactly() -> None:
    stack = new_stack()
    OmicsRun(
        stack,
        "Run",
        **REQUIRED,
        workflow_type=WorkflowType.PRIVATE,
        name="cram-to-bam",
        priority=1,
        storage_capacity=10,
        log_level=LogLevel.ALL,
        tags={"team": "genomics"},
        requester_pays_enabled=True,
        parameters={"threads": 4, "gvcf": True, "intervals": ["chr1"], "extra": None},
    )

    properties = run_properties(stack)
    assert properties == {
        "ServiceToken": {"Fn::GetAtt": [stack.get_logical_id(OmicsRunProvider.of(stack).function.node.default_child), "Arn"]},
        "WorkflowId": "1234567",
        "RoleArn": ROLE,
        "OutputUri": OUTPUT,
        "WorkflowType": "PRIVATE",
        "Name": "cram-to-bam",
        "Priority": 1,
        "StorageCapacity": 10,
        "LogLevel": "ALL",
        "Tags": {"team": "genomics"},
        "RequesterPaysEnabled": True,
        "Parameters": '{"threads":4,"gvcf":true,"intervals":["chr1"],"extra":null}',
    }


def test_every_start_run_member_has_a_keyword_argument() -> None:
    model = botocore.session.get_session().get_service_model("omics")
    wire_names = set(model.operation_model("StartRun").input_shape.members) - {"requestId"}
    expected = {re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower() for name in wire_names}

    assert keyword_arguments() == expected | RESOURCE_SETTINGS


@pytest.mark.parametrize(
    ("enum", "member"),
    [
        (cdk_omics_run.WorkflowType, "workflowType"),
        (cdk_omics_run.CacheBehavior, "cacheBehavior"),
        (cdk_omics_run.LogLevel, "logLevel"),
        (cdk_omics_run.RetentionMode, "retentionMode"),
        (cdk_omics_run.StorageType, "storageType"),
        (cdk_omics_run.NetworkingMode, "networkingMode"),
        (cdk_omics_run.ScratchStorageMode, "scratchStorageMode"),
        (cdk_omics_run.OutputUriPrefixMode, "outputUriPrefixMode"),
    ],
)
def test_python_enums_match_the_service_model(enum: Any, member: str) -> None:
    shape = botocore.session.get_session().get_service_model("omics").operation_model("StartRun").input_shape
    assert [e.value for e in enum] == list(shape.members[member].enum)


def test_the_setting_enums_match_what_the_handler_accepts() -> None:
    from omics_run.request_mapping import DELETE_POLICIES, WAIT_TARGETS

    assert [p.value for p in cdk_omics_run.DeletePolicy] == list(DELETE_POLICIES)
    assert [w.value for w in cdk_omics_run.WaitFor] == list(WAIT_TARGETS)


def test_rerun_token_and_delete_policy_become_resource_properties() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED, rerun_token="2026-11-25", delete_policy=cdk_omics_run.DeletePolicy.LEAVE)

    properties = run_properties(stack)
    assert (properties["RerunToken"], properties["DeletePolicy"]) == ("2026-11-25", "LEAVE")


def test_waiting_sets_the_service_timeout_and_lets_the_provider_invoke_itself() -> None:
    stack = new_stack()
    OmicsRun(stack, "Waits", **REQUIRED, wait_for=cdk_omics_run.WaitFor.COMPLETED)
    OmicsRun(stack, "Short", **REQUIRED, wait_for=cdk_omics_run.WaitFor.RUNNING, wait_timeout=cdk.Duration.minutes(20))

    template = Template.from_stack(stack)
    runs = template.find_resources("Custom::OmicsRun")
    assert sorted(r["Properties"]["ServiceTimeout"] for r in runs.values()) == ["1200", "3600"]
    assert sorted(r["Properties"]["WaitFor"] for r in runs.values()) == ["COMPLETED", "RUNNING"]
    [(policy_id, policy)] = [
        (k, r) for k, r in template.find_resources("AWS::IAM::Policy").items() if "SelfInvoke" in k
    ]
    function_id = stack.get_logical_id(OmicsRunProvider.of(stack).function.node.default_child)
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Fn::GetAtt": [function_id, "Arn"]},
         "Sid": "ContinueWaits"}
    ]  # fmt: skip
    assert all(policy_id in r["DependsOn"] for r in runs.values())


def test_runs_that_do_not_wait_get_no_self_invoke_permission() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED)

    template = Template.from_stack(stack)
    assert "ServiceTimeout" not in run_properties(stack)
    template.resource_count_is("AWS::IAM::Policy", 1)


def test_many_runs_share_one_provider_function_role_and_policy() -> None:
    stack = new_stack()
    for index in range(5):
        OmicsRun(stack, f"Run{index}", **{**REQUIRED, "role_arn": ROLE if index % 2 else ROLE + "-b"})

    template = Template.from_stack(stack)
    template.resource_count_is("Custom::OmicsRun", 5)
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.resource_count_is("AWS::IAM::Role", 1)
    template.resource_count_is("AWS::IAM::Policy", 1)
    [policy] = template.find_resources("AWS::IAM::Policy").values()
    [pass_role] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "iam:PassRole"]
    assert pass_role == {
        "Action": "iam:PassRole",
        "Effect": "Allow",
        "Resource": [ROLE + "-b", ROLE],
        "Condition": {"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}},
        "Sid": "PassRunRoles",
    }


def test_the_provider_runs_the_newest_python_runtime_on_arm64_with_its_own_log_group() -> None:
    newest = max(
        (r for r in dir(lambda_.Runtime) if re.fullmatch(r"PYTHON_3_\d+", r)), key=lambda r: int(r.split("_")[2])
    )
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED)

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": getattr(lambda_.Runtime, newest).name,
            "Architectures": ["arm64"],
            "Handler": "omics_run_handler.handler",
            "LoggingConfig": {"LogGroup": {"Ref": Match.string_like_regexp("OmicsRunProviderLogGroup")}},
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 365})
    template.has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})


def test_tokens_are_passed_through_unchecked() -> None:
    stack = new_stack()
    workflow = cdk.CfnParameter(stack, "Workflow")
    priority = cdk.CfnParameter(stack, "Priority", type="Number")
    level = cdk.CfnParameter(stack, "Level")
    OmicsRun(
        stack,
        "Run",
        workflow_id=workflow.value_as_string,
        role_arn=ROLE,
        output_uri=OUTPUT,
        priority=priority.value_as_number,
        log_level=level.value_as_string,
        tags={"owner": workflow.value_as_string},
    )

    properties = run_properties(stack)
    assert properties["WorkflowId"] == {"Ref": "Workflow"}
    assert properties["Priority"] == {"Ref": "Priority"}
    assert properties["LogLevel"] == {"Ref": "Level"}
    assert properties["Tags"] == {"owner": {"Ref": "Workflow"}}


def test_aws_omics_l1s_and_roles_are_accepted_where_an_id_name_or_arn_is_expected() -> None:
    stack = new_stack()
    workflow = omics.CfnWorkflow(stack, "Workflow", name="wf", definition_uri="s3://workflow-bucket/wf.zip")
    group = omics.CfnRunGroup(stack, "Group")
    cache = omics.CfnRunCache(stack, "Cache", cache_s3_location="s3://run-cache-bucket/cache/")
    configuration = omics.CfnConfiguration(
        stack, "Configuration", name="vpc-config", run_configurations={"vpcConfig": {"securityGroupIds": ["sg-0123456789abcdef0"], "subnetIds": ["subnet-0123456789abcdef0"]}}
    )
    role = iam.Role(stack, "RunRole", assumed_by=iam.ServicePrincipal("omics.amazonaws.com"))
    OmicsRun(
        stack,
        "Run",
        workflow_id=workflow,
        run_group_id=group,
        cache_id=cache,
        configuration_name=configuration,
        role_arn=role,
        output_uri=OUTPUT,
    )

    [resource] = Template.from_stack(stack).find_resources("Custom::OmicsRun").values()
    properties = resource["Properties"]
    assert properties["WorkflowId"] == {"Fn::GetAtt": ["Workflow", "Id"]}
    assert properties["RunGroupId"] == {"Fn::GetAtt": ["Group", "Id"]}
    assert properties["CacheId"] == {"Fn::GetAtt": ["Cache", "Id"]}
    assert properties["ConfigurationName"] == "vpc-config"
    assert "Configuration" in resource["DependsOn"]
    assert properties["RoleArn"] == {"Fn::GetAtt": [stack.get_logical_id(role.node.default_child), "Arn"]}


def test_parameters_can_come_from_a_file_as_with_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "inputs.json").write_text(json.dumps({"sample": "NA12878", "threads": 8}))
    monkeypatch.chdir(tmp_path)
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED, parameters="file://inputs.json")

    assert run_properties(stack)["Parameters"] == '{"sample":"NA12878","threads":8}'


def test_attributes_are_get_att_references() -> None:
    stack = new_stack()
    run = OmicsRun(stack, "Run", **REQUIRED)
    for name, attribute in {
        "Arn": run.attr_arn,
        "Id": run.attr_id,
        "Uuid": run.attr_uuid,
        "RunOutputUri": run.attr_run_output_uri,
        "Status": run.attr_status,
    }.items():
        cdk.CfnOutput(stack, f"Out{name}", value=attribute)

    outputs = Template.from_stack(stack).find_outputs("*")
    logical_id = stack.get_logical_id(run.resource.node.default_child)
    assert {k: v["Value"] for k, v in outputs.items()} == {
        f"Out{name}": {"Fn::GetAtt": [logical_id, name]} for name in ("Arn", "Id", "Uuid", "RunOutputUri", "Status")
    }


def test_storage_capacity_with_dynamic_storage_warns_that_it_is_ignored() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED, storage_type=StorageType.DYNAMIC, storage_capacity=100)

    Annotations.from_stack(stack).has_warning(
        "/Stack/Run",
        Match.string_like_regexp("storage_capacity is ignored with DYNAMIC storage"),
    )


INVALID_ARGUMENTS = [
    ({"log_level": "VERBOSE"}, 'Stack/Run: argument log_level: got "VERBOSE"; allowed: OFF, FATAL, ERROR, ALL'),
    ({"priority": -1}, "Stack/Run: argument priority: got -1; allowed: an integer from 0 to 100000"),
    ({"workflow_id": "wf-1"}, 'Stack/Run: argument workflow_id: got "wf-1"; allowed: a string matching [0-9]+'),
    ({"name": ""}, "Stack/Run: argument name: got a string of 0 characters; allowed: 1 to 128 characters"),
    ({"tags": {"team": "x" * 257}}, "Stack/Run: argument tags.team: got a string of 257 characters; allowed: 0 to 256 characters"),
    ({"parameters": "{oops"}, "Stack/Run: argument parameters: got invalid JSON (Expecting property name enclosed in double quotes at character 1); allowed: a JSON object, as a string or an object"),
    ({"run_id": "7654321"}, "Stack/Run: arguments workflow_id and run_id: got both; allowed: exactly one (a workflow to run, or a run to repeat)"),
    ({"workflow_id": None}, "Stack/Run: arguments workflow_id and run_id: got neither; allowed: exactly one (a workflow to run, or a run to repeat)"),
    ({"delete_policy": "PURGE"}, "Stack/Run: argument delete_policy: got 'PURGE'; allowed: LEAVE, CANCEL, CANCEL_AND_DELETE"),
    ({"wait_for": "DONE"}, "Stack/Run: argument wait_for: got 'DONE'; allowed: NONE, RUNNING, COMPLETED"),
    ({"wait_timeout": cdk.Duration.hours(2)}, "Stack/Run: argument wait_timeout: got 7200 s; allowed: 1 to 3600 s (CloudFormation's custom-resource limit)"),
    ({"tags": {"cdk-omics-run:owner": "me"}}, "Stack/Run: argument tags.cdk-omics-run:owner: reserved key; allowed: any key not starting with cdk-omics-run: or aws:"),
    ({"tags": {"aws:team": "x"}}, "Stack/Run: argument tags.aws:team: reserved key; allowed: any key not starting with cdk-omics-run: or aws:"),
    ({"tags": {f"t{i}": "x" for i in range(44)}}, "Stack/Run: argument tags: got 44 tags; allowed: at most 43 (HealthOmics allows 50 per run, 7 are kept for the provider's own)"),
    ({"tags": {"k" * 129: "x"}}, "Stack/Run: argument tags key: got a string of 129 characters; allowed: 1 to 128 characters"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "message"), INVALID_ARGUMENTS, ids=[f"{next(iter(b))}-{i}" for i, (b, _) in enumerate(INVALID_ARGUMENTS)]
)
def test_invalid_arguments_fail_synth_naming_the_path_the_argument_and_what_is_allowed(
    bad: dict[str, Any], message: str
) -> None:
    with pytest.raises(ArgumentError) as caught:
        OmicsRun(new_stack(), "Run", **{**REQUIRED, **bad})

    assert str(caught.value) == message


def test_a_missing_parameters_file_is_reported_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"

    with pytest.raises(ArgumentError) as caught:
        OmicsRun(new_stack(), "Run", **REQUIRED, parameters=f"file://{missing}")

    assert str(caught.value) == (
        f"Stack/Run: argument parameters: cannot read {missing} (No such file or directory); "
        "allowed: file:// followed by the path of a JSON file"
    )


def test_from_cli_input_json_recognizes_every_key_of_the_clis_skeleton() -> None:
    skeleton = json.loads((REPO_ROOT / "tests" / "data" / "start-run-skeleton.json").read_text())
    filled = {
        **skeleton,
        "workflowId": "1234567",
        "roleArn": ROLE,
        "outputUri": OUTPUT,
        "runId": None,
        "name": "skeleton",
        "cacheId": "1234567",
        "runGroupId": "1234567",
        "requestId": "ignored",
        "workflowOwnerId": "123456789012",
        "workflowVersionName": "v1",
        "configurationName": "config",
        "tags": {"KeyName": "value"},
    }
    stack = new_stack()
    OmicsRun.from_cli_input_json(stack, "Run", filled)

    properties = run_properties(stack)
    assert set(properties) == {"ServiceToken"} | {k[0].upper() + k[1:] for k, v in filled.items() if v is not None} - {
        "RequestId"
    }


def test_from_cli_input_json_rejects_unknown_keys_and_applies_overrides() -> None:
    with pytest.raises(ArgumentError) as caught:
        OmicsRun.from_cli_input_json(new_stack(), "Run", {"workflowId": "1", "roleArn": ROLE, "outputUri": OUTPUT, "priorty": 1})
    assert str(caught.value).startswith("Stack/Run: unknown key priorty in the StartRun request; allowed: cacheBehavior, ")

    stack = new_stack()
    OmicsRun.from_cli_input_json(stack, "Run", REPO_ROOT / "examples" / "cram-to-bam.json", name="override", priority=5)
    properties = run_properties(stack)
    assert (properties["Name"], properties["Priority"]) == ("override", 5)


def test_the_constructs_folder_has_no_init_file_so_the_pypi_constructs_package_stays_visible() -> None:
    import constructs

    assert not (REPO_ROOT / "constructs" / "__init__.py").exists()
    assert not (REPO_ROOT / "lambda" / "__init__.py").exists()
    assert Path(constructs.__file__).parent.parent != REPO_ROOT
    assert (Path(cdk_omics_run.__file__).parent / "py.typed").is_file()


def test_the_readme_options_table_lists_every_argument() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    rows = set(re.findall(r"^\| `([a-z_]+)` \| `([A-Za-z]+)` \|", readme, flags=re.MULTILINE))

    assert {argument for argument, _ in rows} == keyword_arguments()
    renamed = {"wait_timeout": "ServiceTimeout"}
    assert all(prop == renamed.get(arg, "".join(p.capitalize() for p in arg.split("_"))) for arg, prop in rows)
