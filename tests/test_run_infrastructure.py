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
from constructs import Construct
from documentation_pages import page_text

import cdk_omics_run
from cdk_omics_run import ArgumentError, LogLevel, OmicsRun, OmicsRunProvider, StorageType, WorkflowType

ROLE = "arn:aws:iam::123456789012:role/omics-run"
OUTPUT = "s3://bucket/out/"
REQUIRED: dict[str, Any] = {"workflow_id": "1234567", "role_arn": ROLE, "output_uri": OUTPUT}
REPO_ROOT = Path(__file__).resolve().parents[1]


# Arguments that configure the resource rather than the run.
RESOURCE_SETTINGS = {"rerun_token", "delete_policy", "wait_for", "wait_timeout", "wait_poll_interval"}
# An argument that stands for two members (workflow_id and workflow_version_name): docs/workflows.md.
WORKFLOW_ARGUMENT = {"workflow"}


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
        "ServiceToken": {
            "Fn::GetAtt": [stack.get_logical_id(OmicsRunProvider.of(stack).function.node.default_child), "Arn"]
        },
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

    assert keyword_arguments() == expected | RESOURCE_SETTINGS | WORKFLOW_ARGUMENT


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


def test_many_runs_share_one_provider_function_role_and_policy() -> None:
    stack = new_stack()
    for index in range(5):
        OmicsRun(stack, f"Run{index}", **{**REQUIRED, "role_arn": ROLE if index % 2 else ROLE + "-b"})

    template = Template.from_stack(stack)
    template.resource_count_is("Custom::OmicsRun", 5)
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.resource_count_is("AWS::IAM::Role", 1)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    template.resource_count_is("AWS::IAM::Policy", 0)
    [policy] = template.find_resources("AWS::IAM::ManagedPolicy").values()
    [pass_role] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Action"] == "iam:PassRole"]
    assert pass_role == {
        "Action": "iam:PassRole",
        "Effect": "Allow",
        "Resource": [ROLE + "-b", ROLE],
        "Condition": {"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}},
        "Sid": "PassRunRoles",
    }


def test_runs_in_nested_constructs_share_their_stacks_provider_and_each_stack_has_its_own() -> None:
    stack = new_stack()
    other = cdk.Stack(stack.node.root, "Other")
    group = Construct(stack, "Group")
    run = OmicsRun(stack, "Run", **REQUIRED)
    OmicsRun(group, "Nested", **REQUIRED)
    OmicsRun(other, "Run", **REQUIRED)

    # OmicsRunProvider.of remembers its answer per scope: asked again, and from a nested scope,
    # it still names the one provider of the scope's stack, and never another stack's.
    assert OmicsRunProvider.of(group) is OmicsRunProvider.of(stack) is OmicsRunProvider.of(run)
    assert OmicsRunProvider.of(other) is not OmicsRunProvider.of(stack)
    assert OmicsRunProvider.of(other).node.scope is other
    for each in (stack, other):
        template = Template.from_stack(each)
        template.resource_count_is("AWS::Lambda::Function", 1)
        function = each.get_logical_id(OmicsRunProvider.of(each).function.node.default_child)
        tokens = [r["Properties"]["ServiceToken"] for r in template.find_resources("Custom::OmicsRun").values()]
        assert tokens == [{"Fn::GetAtt": [function, "Arn"]}] * (2 if each is stack else 1)


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
        stack,
        "Configuration",
        name="vpc-config",
        run_configurations={
            "vpcConfig": {"securityGroupIds": ["sg-0123456789abcdef0"], "subnetIds": ["subnet-0123456789abcdef0"]}
        },
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
    with pytest.warns(UserWarning):
        OmicsRun(stack, "Run", **REQUIRED, storage_type=StorageType.DYNAMIC, storage_capacity=100)

    Annotations.from_stack(stack).has_warning(
        "/Stack/Run",
        Match.string_like_regexp("storage_capacity is ignored with DYNAMIC storage"),
    )


INVALID_ARGUMENTS = [
    ({"log_level": "VERBOSE"}, "Stack/Run: argument log_level: got 'VERBOSE'; allowed: OFF, FATAL, ERROR, ALL"),
    ({"priority": -1}, "Stack/Run: argument priority: got -1; allowed: an integer from 0 to 100000"),
    ({"workflow_id": "wf-1"}, "Stack/Run: argument workflow_id: got 'wf-1'; allowed: a string matching [0-9]+"),
    ({"name": ""}, "Stack/Run: argument name: got a string of 0 characters; allowed: 1 to 128 characters"),
    ({"tags": {"team": "x" * 257}}, "Stack/Run: argument tags.team: got a string of 257 characters; allowed: 0 to 256 characters"),
    ({"parameters": "{oops"}, "Stack/Run: argument parameters: got '{oops', which is not JSON (Expecting property name enclosed in double quotes at character 1); allowed: a JSON object, a dict, or file://path/to/file.json"),
    ({"run_id": "7654321"}, "Stack/Run: arguments workflow_id and run_id: got both; allowed: exactly one (a workflow to run, or a run to repeat)"),
    ({"workflow_id": None}, "Stack/Run: arguments workflow_id and run_id: got neither; allowed: exactly one (a workflow to run, or a run to repeat)"),
    ({"delete_policy": "PURGE"}, "Stack/Run: argument delete_policy: got 'PURGE'; allowed: LEAVE, CANCEL, CANCEL_AND_DELETE"),
    ({"wait_for": "DONE"}, "Stack/Run: argument wait_for: got 'DONE'; allowed: NONE, RUNNING, COMPLETED"),
    ({"wait_timeout": cdk.Duration.hours(13), "wait_for": "COMPLETED"}, "Stack/Run: argument wait_timeout: got 46800 s; allowed: 60 to 43200 s (12 hours, a CloudFormation WaitCondition's limit); for longer runs wait for RUNNING and chain the next step with run.on_status_change(...)"),
    ({"wait_poll_interval": cdk.Duration.minutes(16), "wait_for": "RUNNING"}, "Stack/Run: argument wait_poll_interval: got 960 s; allowed: 1 to 900 s (SQS's longest message delay)"),
    ({"tags": {"cdk-omics-run:owner": "me"}}, "Stack/Run: argument tags.cdk-omics-run:owner: reserved key; allowed: any key not starting with cdk-omics-run: or aws:"),
    ({"tags": {"aws:team": "x"}}, "Stack/Run: argument tags.aws:team: reserved key; allowed: any key not starting with cdk-omics-run: or aws:"),
    ({"tags": {f"t{i}": "x" for i in range(44)}}, "Stack/Run: argument tags: got 44 tags; allowed: at most 43 (HealthOmics allows 50 per run, 7 are kept for the provider's own)"),
    ({"tags": {"k" * 129: "x"}}, "Stack/Run: argument tags key: got a string of 129 characters; allowed: 1 to 128 characters"),
    ({"parameters": {"sample": "NA12878"}, "parameters_uri": "s3://bucket/parameters.json"}, "Stack/Run: arguments parameters and parameters_uri: got both; allowed: one of them (StartRun's model: specify either parameters or parametersUri, not both): keep parameters for values in the template, or parameters_uri for a JSON file in S3"),
    ({"wait_timeout": cdk.Duration.hours(2)}, "Stack/Run: argument wait_timeout: got it with no wait_for, so nothing waits; allowed only with a wait: add wait_for (such as wait_for=\"COMPLETED\"), or leave wait_timeout out"),
    ({"wait_timeout": cdk.Duration.hours(2), "wait_poll_interval": cdk.Duration.minutes(1), "wait_for": "NONE"}, "Stack/Run: argument wait_timeout: got it with wait_for=NONE, so nothing waits; allowed only with a wait: add wait_for (such as wait_for=\"COMPLETED\"), or leave wait_timeout and wait_poll_interval out"),
    ({"wait_timeout": 3600, "wait_for": "COMPLETED"}, "Stack/Run: argument wait_timeout: got 3600 (int); allowed: a Duration, such as Duration.seconds(3600) or Duration.hours(2)"),
    ({"wait_poll_interval": "5m", "wait_for": "COMPLETED"}, "Stack/Run: argument wait_poll_interval: got '5m' (str); allowed: a Duration, such as Duration.hours(2)"),
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


@pytest.mark.parametrize(
    ("statuses", "problem"),
    [
        (["SUCCEEDED"], "got 'SUCCEEDED', which the events never carry, so the rule would never fire; allowed: "
         "PENDING, STARTING, RUNNING, STOPPING, COMPLETED, DELETED, CANCELLED, FAILED"),
        (["COMPLETED", "PROCESSED"], "got 'PROCESSED', which the events never carry"),
        ("COMPLETED", "got 'COMPLETED', a string; allowed: a list of statuses, such as ['COMPLETED']"),
    ],
)  # fmt: skip
def test_on_status_change_takes_only_the_statuses_of_the_models_run_status(statuses: Any, problem: str) -> None:
    run = OmicsRun(new_stack(), "Run", **REQUIRED)

    with pytest.raises(ArgumentError) as caught:
        run.on_status_change("OnDone", statuses=statuses)

    assert str(caught.value).startswith(f"Stack/Run: argument statuses: {problem}")
    assert botocore.session.get_session().get_service_model("omics").shape_for("RunStatus").enum == [
        "PENDING", "STARTING", "RUNNING", "STOPPING", "COMPLETED", "DELETED", "CANCELLED", "FAILED",
    ]  # fmt: skip


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
    # The skeleton's storage type is DYNAMIC with a capacity: the construct warns that it is ignored.
    with pytest.warns(UserWarning, match="storage_capacity is ignored with DYNAMIC storage"):
        OmicsRun.from_cli_input_json(stack, "Run", filled)

    properties = run_properties(stack)
    assert set(properties) == {"ServiceToken"} | {k[0].upper() + k[1:] for k, v in filled.items() if v is not None} - {
        "RequestId"
    }


def test_from_cli_input_json_rejects_unknown_keys_and_applies_overrides() -> None:
    with pytest.raises(ArgumentError) as caught:
        OmicsRun.from_cli_input_json(
            new_stack(), "Run", {"workflowId": "1", "roleArn": ROLE, "outputUri": OUTPUT, "priorty": 1}
        )
    assert str(caught.value).startswith(
        "Stack/Run: unknown key priorty in the StartRun request; allowed: cacheBehavior, "
    )

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


def test_the_options_table_lists_every_argument() -> None:
    rows = set(re.findall(r"^\| `([a-z_]+)` \| `([A-Za-z]+)` \|", page_text("runs.md"), flags=re.MULTILINE))

    assert {argument for argument, _ in rows} == keyword_arguments() - WORKFLOW_ARGUMENT
    assert all(prop == "".join(p.capitalize() for p in arg.split("_")) for arg, prop in rows)


DOCUMENT_ALLOWED = "allowed: a JSON object, a dict, or file://path/to/file.json"

# Values come from Python code, so errors quote them as Python writes them: True, 'text', None.
PYTHON_SPELLED_ERRORS = [
    ({"priority": True}, "Stack/Run: argument priority: got True; allowed: an integer from 0 to 100000"),
    ({"priority": "high"}, "Stack/Run: argument priority: got 'high'; allowed: an integer from 0 to 100000"),
    ({"requester_pays_enabled": "yes"}, "Stack/Run: argument requester_pays_enabled: got 'yes'; allowed: True or False"),
    ({"storage_type": "BIG"}, "Stack/Run: argument storage_type: got 'BIG'; allowed: STATIC, DYNAMIC"),
    ({"log_level": "VERBOSE-" * 10}, "Stack/Run: argument log_level: got 'VERBOSE-VERBOSE-VERBOSE-VERBOSE-VERBOS…; allowed: OFF, FATAL, ERROR, ALL"),
    ({"tags": {"team": None}}, "Stack/Run: argument tags.team: got None; allowed: a string"),
    ({"tags": {True: "x"}}, "Stack/Run: argument tags key: got True; allowed: a string"),
    ({"tags": ["team"]}, "Stack/Run: argument tags: got ['team']; allowed: an object of string keys and values"),
    ({"parameters": "workflow-inputs.json"}, f"Stack/Run: argument parameters: got 'workflow-inputs.json', which is not JSON; {DOCUMENT_ALLOWED} (did you mean file://workflow-inputs.json?)"),
    ({"engine_settings": "config/engine"}, f"Stack/Run: argument engine_settings: got 'config/engine', which is not JSON; {DOCUMENT_ALLOWED} (did you mean file://config/engine?)"),
    ({"parameters": "s3://bucket/inputs.json"}, f"Stack/Run: argument parameters: got 's3://bucket/inputs.json', which is not JSON; {DOCUMENT_ALLOWED} (did you mean parameters_uri='s3://bucket/inputs.json'?)"),
    ({"engine_settings": "s3://bucket/engine.json"}, f"Stack/Run: argument engine_settings: got 's3://bucket/engine.json', which is not JSON; {DOCUMENT_ALLOWED}"),
    ({"parameters": "NA12878"}, f"Stack/Run: argument parameters: got 'NA12878', which is not JSON; {DOCUMENT_ALLOWED}"),
    ({"parameters": '{"threads": 4,}'}, f"Stack/Run: argument parameters: got '{{\"threads\": 4,}}', which is not JSON (Expecting property name enclosed in double quotes at character 14); {DOCUMENT_ALLOWED}"),
    ({"parameters": "[1, 2]"}, f"Stack/Run: argument parameters: got '[1, 2]', which is JSON but not an object; {DOCUMENT_ALLOWED}"),
    ({"parameters": ["NA12878"]}, f"Stack/Run: argument parameters: got ['NA12878']; {DOCUMENT_ALLOWED}"),
    ({"parameters": Path("workflow-inputs.json")}, f"Stack/Run: argument parameters: got {Path('workflow-inputs.json')!r}; {DOCUMENT_ALLOWED} (did you mean file://workflow-inputs.json?)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "message"),
    PYTHON_SPELLED_ERRORS,
    ids=[f"{next(iter(b))}-{i}" for i, (b, _) in enumerate(PYTHON_SPELLED_ERRORS)],
)
def test_synth_time_errors_quote_the_value_as_python_writes_it_and_suggest_the_likely_fix(
    bad: dict[str, Any], message: str
) -> None:
    with pytest.raises(ArgumentError) as caught:
        OmicsRun(new_stack(), "Run", **{**REQUIRED, **bad})

    assert str(caught.value) == message


def test_the_handler_keeps_json_spelling_for_cloudformation_properties() -> None:
    from cdk_omics_run.handler_source import start_run_shape

    shape = start_run_shape()
    with pytest.raises(shape.PropertyError) as caught:
        shape.coerce_member(shape.start_run_members()["Priority"], True)

    assert caught.value.problem == "got true; allowed: an integer from 0 to 100000"


@pytest.mark.parametrize(("content", "kind"), [("[1, 2]", "an array"), ('"x"', "a string"), ("null", "null")])
def test_a_parameters_file_that_holds_no_object_says_what_it_holds(tmp_path: Path, content: str, kind: str) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text(content)

    with pytest.raises(ArgumentError) as caught:
        OmicsRun(new_stack(), "Run", **REQUIRED, parameters=f"file://{inputs}")

    assert (
        str(caught.value)
        == f"Stack/Run: argument parameters: {inputs} holds {kind}, not an object; allowed: a JSON object"
    )


def test_a_json_object_string_is_still_emitted_as_given() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED, parameters='{"threads": 4, "gvcf": true}')

    assert run_properties(stack)["Parameters"] == '{"threads": 4, "gvcf": true}'


def test_wait_for_must_be_known_at_synth_time() -> None:
    stack = new_stack()
    choice = cdk.CfnParameter(stack, "WaitFor", default="NONE").value_as_string

    with pytest.raises(ArgumentError) as caught:
        OmicsRun(stack, "Run", **REQUIRED, wait_for=choice)

    assert str(caught.value) == (
        "Stack/Run: argument wait_for: got a value known only at deploy time; allowed: a literal WaitFor (NONE, RUNNING, COMPLETED)"
    )


def test_a_literal_output_uri_must_be_an_s3_uri_even_with_a_role() -> None:
    for bad in ("my-bucket/out/", "https://my-bucket.s3.amazonaws.com/out/"):
        with pytest.raises(ArgumentError) as caught:
            OmicsRun(new_stack(), "Run", **{**REQUIRED, "output_uri": bad})

        assert str(caught.value) == (
            f"Stack/Run: argument output_uri: got {bad!r}; allowed: an s3:// URI, such as 's3://my-bucket/outputs/'"
        )


def test_the_dynamic_storage_warning_reaches_python_app_py_users_too() -> None:
    with pytest.warns(UserWarning, match=r"Stack/Run: storage_capacity is ignored with DYNAMIC storage"):
        OmicsRun(new_stack(), "Run", **REQUIRED, storage_type=StorageType.DYNAMIC, storage_capacity=1200)
