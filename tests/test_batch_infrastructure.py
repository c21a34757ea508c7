"""The OmicsRunBatch construct: what it puts in the template and the assembly, and what it refuses at synth time."""

from __future__ import annotations

import csv
import inspect
import json
import re
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template
from cfnlint.decode import cfn_yaml
from conftest import REPO_ROOT
from events import as_cloudformation_sends
from synth import cfn_lint, nag

from cdk_omics_run import (
    ArgumentError,
    BatchWaitFor,
    OmicsRunBatch,
    OmicsRunBatchArguments,
    OmicsRunBatchSheetArguments,
    RunSetting,
    SheetColumn,
    WorkflowType,
)
from omics_run.batch_request import start_run_batch_request

ROLE = "arn:aws:iam::123456789012:role/omics-run"
OUTPUT = "s3://bucket/cohort/"
REQUIRED: dict[str, Any] = {"workflow_id": "1234567", "role_arn": ROLE, "output_uri": OUTPUT}


def new_app(outdir: Path | None = None) -> cdk.App:
    # Bundling is skipped: these tests read the template and the settings asset, not the provider's code.
    return cdk.App(context={"aws:cdk:bundling-stacks": []}, outdir=None if outdir is None else str(outdir))


def samples(count: int) -> list[RunSetting]:
    return [
        RunSetting(f"S{i:06d}", parameters={"input_cram": f"s3://bucket/crams/S{i:06d}.cram", "lane": i})
        for i in range(count)
    ]


def batch_properties(stack: cdk.Stack) -> dict[str, Any]:
    [resource] = Template.from_stack(stack).find_resources("Custom::OmicsRunBatch").values()
    return resource["Properties"]


def settings_asset_content(outdir: Path, stack: cdk.Stack) -> list[dict[str, Any]]:
    manifest = json.loads((outdir / f"{stack.stack_name}.assets.json").read_text())
    [path] = [f["source"]["path"] for f in manifest["files"].values() if f["source"]["path"].startswith("asset.")]
    content: list[dict[str, Any]] = json.loads((outdir / path).read_text())
    return content


def test_up_to_100_runs_go_inline_with_documents_as_json_text() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    OmicsRunBatch(
        stack,
        "Cohort",
        **REQUIRED,
        parameters={"threads": 16},
        run_tags={"project": "p1"},
        batch_name="cohort",
        runs=[RunSetting("A", parameters={"threads": 32}, priority=5), {"run_setting_id": "B", "name": "b"}],
    )

    properties = batch_properties(stack)

    assert {k: v for k, v in properties.items() if k != "ServiceToken"} == {
        "WorkflowId": "1234567",
        "RoleArn": ROLE,
        "OutputUri": OUTPUT,
        "Parameters": '{"threads":16}',
        "RunTags": {"project": "p1"},
        "BatchName": "cohort",
        "InlineSettings": [
            {"RunSettingId": "A", "Priority": 5, "Parameters": '{"threads":32}'},
            {"RunSettingId": "B", "Name": "b"},
        ],
    }


def test_the_handler_maps_the_synthesized_properties_to_the_cli_input_json_request() -> None:
    # The construct's properties, as CloudFormation hands them over, become exactly the request of the file.
    stack = cdk.Stack(new_app(), "Stack")
    OmicsRunBatch.from_cli_input_json(stack, "Cohort", REPO_ROOT / "examples" / "cohort-batch.json")
    properties = as_cloudformation_sends({k: v for k, v in batch_properties(stack).items() if k != "ServiceToken"})

    request = start_run_batch_request(properties, request_id="token")

    assert request == {**json.loads((REPO_ROOT / "examples" / "cohort-batch.json").read_text()), "requestId": "token"}


def test_the_yaml_example_declares_the_batch_of_the_cli_input_json_file() -> None:
    example = REPO_ROOT / "examples" / "plain-cloudformation-batch.yaml"
    template = json.loads(json.dumps(cfn_yaml.loads(example.read_text())))
    properties = as_cloudformation_sends(template["Resources"]["Cohort"]["Properties"])
    properties.pop("ServiceToken")

    request = start_run_batch_request(properties, request_id="token")

    assert request == {**json.loads((REPO_ROOT / "examples" / "cohort-batch.json").read_text()), "requestId": "token"}
    assert cfn_lint(example) == (0, "")


def test_150_runs_become_an_s3_asset_holding_exactly_those_settings_that_the_run_role_reads(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Stack")
    role = iam.Role(stack, "RunRole", assumed_by=iam.ServicePrincipal("omics.amazonaws.com"))
    batch = OmicsRunBatch(stack, "Cohort", **{**REQUIRED, "role_arn": role}, runs=samples(150))
    app.synth()

    properties = batch_properties(stack)
    asset = batch.settings_asset
    assert asset is not None
    assert settings_asset_content(tmp_path, stack) == [setting.request() for setting in samples(150)]
    assert settings_asset_content(tmp_path, stack)[1] == {
        "runSettingId": "S000001",
        "parameters": {"input_cram": "s3://bucket/crams/S000001.cram", "lane": 1},  # typed, not strings
    }
    assert "InlineSettings" not in properties and properties["RunCount"] == 150
    assert stack.resolve(properties["S3UriSettings"]) == stack.resolve(asset.s3_object_url)
    [policy] = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": stack.get_logical_id(role.node.default_child)}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": "s3:GetObject",
            "Effect": "Allow",
            "Resource": stack.resolve(f"arn:{stack.partition}:s3:::{asset.s3_bucket_name}/{asset.s3_object_key}"),
        }
    ]


def test_a_role_given_by_arn_gets_a_warning_to_grant_the_settings_file() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    with pytest.warns(UserWarning, match="Stack/Cohort: role_arn is an ARN, so the run settings file cannot be"):
        OmicsRunBatch(stack, "Cohort", **REQUIRED, runs=samples(101))

    Annotations.from_stack(stack).has_warning(
        "/Stack/Cohort", Match.string_like_regexp("s3:GetObject the asset .*cdk-omics-run:grantRunSettings")
    )


def test_a_sample_sheet_of_1000_rows_becomes_1000_typed_settings(tmp_path: Path) -> None:
    sheet = tmp_path / "samples.csv"
    with sheet.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sample_id", "cram", "read_length", "priority"])
        for i in range(1000):
            writer.writerow([f"S{i:04d}", f"s3://bucket/crams/S{i:04d}.cram", "" if i == 7 else 100 + i % 3, i % 5])
    app = new_app(tmp_path / "out")
    stack = cdk.Stack(app, "Stack")

    OmicsRunBatch.from_sample_sheet(
        stack,
        "Cohort",
        sheet,
        run_setting_id="sample_id",
        parameters={"input_cram": "cram", "read_length": SheetColumn("read_length", int, empty_means_default=True)},
        run_priority="priority",
        run_name=lambda row: f"align-{row['sample_id']}",
        default_parameters={"reference": "s3://bucket/ref/GRCh38.fa"},
        workflow_id="1234567",
        output_uri=OUTPUT,
    )
    app.synth()

    settings = settings_asset_content(tmp_path / "out", stack)
    assert len(settings) == 1000
    assert settings[0] == {
        "runSettingId": "S0000",
        "name": "align-S0000",
        "priority": 0,
        "parameters": {"input_cram": "s3://bucket/crams/S0000.cram", "read_length": 100},
    }
    # An empty cell leaves the parameter to the batch's defaults, as its column says.
    assert settings[7]["parameters"] == {"input_cram": "s3://bucket/crams/S0007.cram"}
    assert json.loads(batch_properties(stack)["Parameters"]) == {"reference": "s3://bucket/ref/GRCh38.fa"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"runs": [RunSetting("A"), RunSetting("B"), RunSetting("A")]},
            "Stack/Cohort: argument runs[2].run_setting_id: got 'A' again (first at runs[0]); "
            "allowed: a unique ID per run",
        ),
        (
            {"runs": [RunSetting("A"), RunSetting("B", priority=-1)]},
            "Stack/Cohort: argument runs[1].priority: got -1; allowed: an integer from 0 to 100000",
        ),
        (
            {"runs": [{"run_setting_id": "A", "priorty": 3}]},
            "Stack/Cohort: runs[0]: unknown member priorty; allowed: run_setting_id, name, output_uri, priority, "
            "parameters, output_bucket_owner_id, run_tags, engine_settings",
        ),
        (
            {"runs": [RunSetting("A")], "workflow_type": WorkflowType.READY2RUN},
            "Stack/Cohort: argument workflow_type: got 'READY2RUN'; allowed: PRIVATE (HealthOmics user guide: "
            "batch runs are not supported with Ready2Run workflows)",
        ),
        (
            {"runs": [RunSetting("A")], "s3_uri_settings": "s3://bucket/settings.json"},
            "Stack/Cohort: arguments runs and s3_uri_settings: got both; allowed: exactly one",
        ),
        (
            {"s3_uri_settings": "https://bucket/settings.json"},
            "Stack/Cohort: argument s3_uri_settings: got 'https://bucket/settings.json'; allowed: an s3:// URI",
        ),
        ({"runs": []}, "Stack/Cohort: argument runs: got none; allowed: 1 to 100,000 runs"),
        (
            {"runs": [RunSetting("A")], "wait_for": "RUNNING"},
            "Stack/Cohort: argument wait_for: got 'RUNNING'; allowed: NONE, SUBMITTED, PROCESSED",
        ),
        (
            {"runs": [RunSetting("A")], "max_failed_runs": -1},
            "Stack/Cohort: argument max_failed_runs: got -1; allowed: an integer of 0 or more",
        ),
        (
            {"runs": [RunSetting("A")], "run_tags": {"cdk-omics-run:stack": "x"}},
            "Stack/Cohort: argument run_tags.cdk-omics-run:stack: reserved key",
        ),
    ],
)
def test_bad_arguments_are_refused_at_synth_naming_the_construct_and_the_argument(
    arguments: dict[str, Any], message: str
) -> None:
    stack = cdk.Stack(new_app(), "Stack")
    with pytest.raises(ArgumentError) as raised:
        OmicsRunBatch(stack, "Cohort", **{**REQUIRED, **arguments})
    assert str(raised.value).startswith(message)


def test_a_batch_refuses_statuses_of_runs_and_wait_settings_without_a_wait() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    batch = OmicsRunBatch(stack, "Cohort", **REQUIRED, runs=[RunSetting("A")])

    with pytest.raises(ArgumentError) as caught:
        batch.on_status_change("OnDone", statuses=["COMPLETED"])
    assert str(caught.value) == (
        "Stack/Cohort: argument statuses: got 'COMPLETED', which the events never carry, so the rule would never "
        "fire; allowed: CREATING, PENDING, SUBMITTING, INPROGRESS, STOPPING, CANCELLED, FAILED, PROCESSED, "
        "RUNS_DELETING, RUNS_DELETE_FAILED, RUNS_DELETED"
    )
    with pytest.raises(ArgumentError, match=r"^Stack/Late: argument wait_timeout: got it with no wait_for, so"):
        OmicsRunBatch(stack, "Late", **REQUIRED, runs=[RunSetting("A")], wait_timeout=cdk.Duration.hours(1))
    with pytest.raises(ArgumentError, match=r"^Stack/Int: argument wait_timeout: got 60 \(int\); allowed: a Duration"):
        OmicsRunBatch(stack, "Int", **REQUIRED, runs=[RunSetting("A")], wait_for="PROCESSED", wait_timeout=60)


def test_more_than_100000_runs_are_refused_before_any_is_checked() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    too_many = [RunSetting(str(i)) for i in range(100_001)]
    with pytest.raises(ArgumentError, match=r"argument runs: got 100,001; allowed: at most 100,000 runs per batch"):
        OmicsRunBatch(stack, "Cohort", **REQUIRED, runs=too_many)


def test_sample_sheet_mistakes_name_the_sheet_the_line_and_the_column(tmp_path: Path) -> None:
    sheet = tmp_path / "samples.csv"
    sheet.write_text("sample_id,read_length\nS1,100\nS2,long\n")
    stack = cdk.Stack(new_app(), "Stack")
    with pytest.raises(ArgumentError, match=r"Stack/Cohort: sample sheet .*samples.csv: no column sample; its columns"):
        OmicsRunBatch.from_sample_sheet(stack, "Cohort", sheet, run_setting_id="sample", **REQUIRED)
    with pytest.raises(
        ArgumentError, match=r"samples.csv line 3, column read_length: got 'long'; allowed: an integer$"
    ):
        OmicsRunBatch.from_sample_sheet(
            stack, "Cohort2", sheet, run_setting_id="sample_id", parameters={"n": ("read_length", int)}, **REQUIRED
        )
    with pytest.raises(ArgumentError, match=r"column read_length: got 'long'; allowed: text that Decimal\(\) accepts$"):
        OmicsRunBatch.from_sample_sheet(
            stack, "Cohort3", sheet, run_setting_id="sample_id", parameters={"n": ("read_length", Decimal)}, **REQUIRED
        )


def sheet_settings(stack: cdk.Stack, sheet: Path, **arguments: Any) -> list[dict[str, Any]]:
    """The inline settings of a batch built from ``sheet``, in StartRunBatch's wire form."""
    batch = OmicsRunBatch.from_sample_sheet(stack, "Cohort", sheet, run_setting_id="sample_id", **REQUIRED, **arguments)
    return [setting.request() for setting in batch.runs]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("samples.csv", "sample_id,cram_uri\nS1,s3://b/S1.cram\n"),
        ("samples.tsv", "sample_id\tcram_uri\nS1\ts3://b/S1.cram\n"),
        ("samples.txt", "sample_id\tcram_uri\nS1\ts3://b/S1.cram\n"),
        ("samples.csv", "sample_id;cram_uri\nS1;s3://b/S1,v2.cram\n"),
    ],
)
def test_a_sample_sheet_may_be_comma_tab_or_semicolon_separated(tmp_path: Path, name: str, text: str) -> None:
    sheet = tmp_path / name
    sheet.write_text(text)

    [setting] = sheet_settings(cdk.Stack(new_app(), "Stack"), sheet, parameters={"cram": "cram_uri"})

    assert setting["runSettingId"] == "S1"
    assert setting["parameters"]["cram"].startswith("s3://b/S1")


def test_a_delimiter_given_wins_and_a_header_mismatch_lists_the_columns_split_as_read(tmp_path: Path) -> None:
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample_id\tcram_uri\nS1\ts3://b/S1.cram\n")
    stack = cdk.Stack(new_app(), "Stack")

    with pytest.raises(ArgumentError) as raised:
        OmicsRunBatch.from_sample_sheet(stack, "Cohort", sheet, run_setting_id="sample", **REQUIRED)
    assert str(raised.value) == (
        f"Stack/Cohort: sample sheet {sheet}: no column sample; its columns (tab-separated): sample_id, cram_uri"
    )
    pipe = tmp_path / "samples.psv"
    pipe.write_text("sample_id|cram_uri\nS1|s3://b/S1.cram\n")
    [setting] = sheet_settings(stack, pipe, parameters={"cram": "cram_uri"}, delimiter="|")
    assert setting["parameters"] == {"cram": "s3://b/S1.cram"}


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            "S1,s3://b/S1.cram,100\nS2,s3://b/S2.cram\n",
            "line 3: got 2 cells for 3 columns (sample_id, cram_uri, read_length): no cell for read_length; "
            "allowed: one cell per column (comma-separated): write an empty cell as nothing between two commas, "
            "so that every column keeps its place",
        ),
        (
            "S1,s3://b/S1.cram,100,x\n",
            "line 2: got 4 cells for 3 columns (sample_id, cram_uri, read_length): 1 extra; allowed: one cell per "
            "column (comma-separated): quote a value that holds a comma, or give the extra column a header",
        ),
    ],
)
def test_a_row_with_too_few_or_too_many_cells_is_refused_naming_its_line(
    tmp_path: Path, rows: str, problem: str
) -> None:
    sheet = tmp_path / "samples.csv"
    sheet.write_text("sample_id,cram_uri,read_length\n" + rows)

    with pytest.raises(ArgumentError) as raised:
        sheet_settings(cdk.Stack(new_app(), "Stack"), sheet, parameters={"cram": "cram_uri"})
    assert str(raised.value) == f"Stack/Cohort: sample sheet {sheet} {problem}"


def test_an_empty_cell_is_refused_unless_its_column_says_empty_means_the_default(tmp_path: Path) -> None:
    sheet = tmp_path / "samples.csv"
    sheet.write_text("sample_id,cram_uri,read_length\nS1,s3://b/S1.cram,100\nS2,s3://b/S2.cram,\n\n")
    stack = cdk.Stack(new_app(), "Stack")

    with pytest.raises(ArgumentError) as raised:
        sheet_settings(stack, sheet, parameters={"cram": "cram_uri", "read_length": ("read_length", int)})
    assert str(raised.value) == (
        f"Stack/Cohort: sample sheet {sheet} line 3, column read_length: got an empty cell; allowed: a value, or, "
        "to leave it to the batch's defaults, SheetColumn('read_length', int, empty_means_default=True)"
    )
    with pytest.raises(ArgumentError, match=r"line 3, column read_length: got an empty cell"):
        sheet_settings(stack, sheet, run_priority="read_length")

    settings = sheet_settings(
        stack,
        sheet,
        parameters={"cram": "cram_uri", "read_length": SheetColumn("read_length", int, empty_means_default=True)},
    )
    assert [s["parameters"] for s in settings] == [
        {"cram": "s3://b/S1.cram", "read_length": 100},
        {"cram": "s3://b/S2.cram"},
    ]


def test_a_sheet_that_is_not_utf8_is_refused_naming_its_first_bad_line_and_the_fix(tmp_path: Path) -> None:
    sheet = tmp_path / "samples.csv"
    sheet.write_bytes("sample_id,site\nS1,Koln\nS2,Malm\u00f6\nS3,S\u00e3o Paulo\n".encode("cp1252"))
    stack = cdk.Stack(new_app(), "Stack")

    with pytest.raises(ArgumentError) as raised:
        sheet_settings(stack, sheet, parameters={"site": "site"})
    assert str(raised.value) == (
        f"Stack/Cohort: sample sheet {sheet}: line 3 is not UTF-8 text (bytes f6); allowed: save the sheet as "
        "UTF-8, or pass encoding= (such as encoding='cp1252' for Windows' Western text)"
    )
    settings = sheet_settings(stack, sheet, parameters={"site": "site"}, encoding="cp1252")
    assert [s["parameters"]["site"] for s in settings] == ["Koln", "Malm\u00f6", "S\u00e3o Paulo"]


def test_a_sample_sheet_takes_no_runs_of_its_own(tmp_path: Path) -> None:
    sheet = tmp_path / "samples.csv"
    sheet.write_text("sample_id\nS1\n")
    stack = cdk.Stack(new_app(), "Stack")

    for argument, value in (("runs", [RunSetting("A")]), ("s3_uri_settings", "s3://bucket/settings.json")):
        with pytest.raises(ArgumentError) as refused:
            OmicsRunBatch.from_sample_sheet(
                stack, "Cohort", sheet, run_setting_id="sample_id", **REQUIRED, **{argument: value}
            )
        assert str(refused.value) == (
            f"Stack/Cohort: argument {argument}: got a value; allowed: none, because from_sample_sheet takes the runs "
            "from the sheet (OmicsRunBatch(..., runs=...) takes your own)"
        )
    assert stack.node.try_find_child("Cohort") is None


def test_tags_of_reaches_the_batch_and_explicit_tags_win() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    OmicsRunBatch(stack, "Cohort", **REQUIRED, runs=[RunSetting("A")], tags={"team": "genomics"})
    cdk.Tags.of(stack).add("team", "platform")
    cdk.Tags.of(stack).add("cost-centre", "42")

    assert batch_properties(stack)["Tags"] == {"cost-centre": "42", "team": "genomics"}


def test_tags_that_tags_of_adds_to_the_batch_count_toward_its_limit() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    OmicsRunBatch(stack, "Cohort", **REQUIRED, runs=[RunSetting("A")], tags={f"t{i}": "x" for i in range(43)})
    cdk.Tags.of(stack).add("team", "platform")

    with pytest.raises(
        RuntimeError, match=r"\[Stack/Cohort\] argument tags, with those Tags.of\(...\) adds: got 44 tags"
    ):
        Template.from_stack(stack)


def test_the_provider_may_start_and_manage_batches_of_this_stack_only() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    OmicsRunBatch(stack, "Cohort", **REQUIRED, run_group_id="7654321", runs=[RunSetting("A")])
    [policy] = [
        p for k, p in Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").items() if "Provider" in k
    ]
    statements = {s.get("Sid"): s for s in stack.resolve(policy["Properties"]["PolicyDocument"]["Statement"])}

    def arn(resource: str) -> Any:
        return {
            "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":omics:", {"Ref": "AWS::Region"}, ":",
                              {"Ref": "AWS::AccountId"}, f":{resource}"]]
        }  # fmt: skip

    own_stack = {"StringEquals": {"aws:ResourceTag/cdk-omics-run:stack": {"Ref": "AWS::StackId"}}}
    requested = {"StringEquals": {"aws:RequestTag/cdk-omics-run:stack": {"Ref": "AWS::StackId"}}}
    assert statements["StartBatches"]["Action"] == "omics:StartRunBatch"
    assert statements["StartBatches"]["Resource"] == [
        arn("runBatch/*"), arn("run/*"), arn("workflow/1234567"), arn("runGroup/7654321")
    ]  # fmt: skip
    assert statements["StartBatches"]["Condition"] == requested
    # The batch's runs are StartRun calls of the provider too (dual authorization).
    assert statements["StartRuns"]["Resource"] == [arn("run/*"), arn("workflow/1234567"), arn("runGroup/7654321")]
    assert statements["TagNewBatches"] == {
        "Sid": "TagNewBatches", "Action": "omics:TagResource", "Effect": "Allow",
        "Resource": arn("runBatch/*"), "Condition": requested,
    }  # fmt: skip
    assert statements["ManageBatches"]["Action"] == [
        "omics:GetBatch", "omics:ListRunsInBatch", "omics:CancelRunBatch", "omics:DeleteRunBatch",
        "omics:DeleteBatch", "omics:TagResource", "omics:UntagResource",
    ]  # fmt: skip
    assert statements["ManageBatches"]["Resource"] == arn("runBatch/*")
    assert statements["ManageBatches"]["Condition"] == own_stack
    assert statements["DeleteBatchRuns"]["Resource"] == arn("run/*")
    assert statements["DeleteBatchRuns"]["Condition"] == own_stack
    assert "ListRuns" not in statements  # only a waiting batch lists its failed runs


def test_a_waiting_batch_gets_a_wait_condition_and_its_attributes_come_after_the_wait() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    batch = OmicsRunBatch(
        stack,
        "Cohort",
        **REQUIRED,
        runs=[RunSetting("A")],
        wait_for=BatchWaitFor.PROCESSED,
        wait_timeout=cdk.Duration.hours(6),
        max_failed_runs=3,
    )
    cdk.CfnOutput(stack, "Total", value=batch.attr_total_runs)
    template = Template.from_stack(stack)

    properties = batch_properties(stack)
    assert properties["WaitFor"] == "PROCESSED" and properties["MaxFailedRuns"] == 3
    assert properties["WaitTimeout"] == 21600
    assert batch.wait is not None
    [result] = template.find_resources("Custom::OmicsRunResult").values()
    assert result["Properties"]["BatchId"] == {"Ref": stack.get_logical_id(batch.resource.node.default_child)}
    assert stack.resolve(batch.attr_total_runs) == {
        "Fn::GetAtt": [stack.get_logical_id(batch.wait.result.node.default_child), "TotalRuns"]
    }
    template.resource_count_is("AWS::CloudFormation::WaitCondition", 1)


def test_the_generated_role_grants_folders_so_10000_runs_keep_its_policy_small() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    runs = [
        RunSetting(f"S{i}", parameters={"cram": f"s3://bucket/cohort/S{i}/reads.cram"}, output_uri=f"s3://out/S{i}/")
        for i in range(10_000)
    ]
    batch = OmicsRunBatch(stack, "Cohort", workflow_id="1234567", output_uri="s3://out/", runs=runs)
    assert batch.run_role is not None
    [policy] = [
        p for k, p in Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").items() if "RunRole" in k
    ]
    document = policy["Properties"]["PolicyDocument"]
    text = json.dumps(stack.resolve(document))

    assert len(text) < 6_144  # IAM's limit for a managed policy (whitespace excluded)
    assert ":s3:::bucket/cohort/*" in text and "S9999" not in text
    [reads] = [s for s in document["Statement"] if s.get("Sid") == "ReadDeclaredInputs"]
    assert stack.resolve(reads["Resource"])["Fn::Join"][1][2] == ":s3:::bucket/cohort/*"  # one folder for all


def test_a_stack_with_a_large_waiting_batch_passes_cdk_nag_and_cfn_lint(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Cohort")
    OmicsRunBatch(
        stack,
        "Cohort",
        workflow_id="1234567",
        output_uri=OUTPUT,
        runs=samples(150),
        wait_for=BatchWaitFor.SUBMITTED,
    )

    nag(app)

    assert cfn_lint(tmp_path / "Cohort.template.json") == (0, "")


def test_help_documents_every_argument_of_the_batch() -> None:
    documented = dict(re.findall(r"^:param (\w+): (.+)", OmicsRunBatch.__doc__ or "", re.MULTILINE))

    arguments = list(inspect.signature(OmicsRunBatch).parameters)
    assert arguments[:3] == ["scope", "id", "runs"]
    assert [name for name in arguments if not documented.get(name)] == []


def test_on_status_change_follows_the_batchs_runbatch_status_change_events() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    batch = OmicsRunBatch(stack, "Cohort", **REQUIRED, runs=[RunSetting("A")])

    batch.on_status_change("OnProcessed", statuses=["PROCESSED", "FAILED"])

    [rule] = Template.from_stack(stack).find_resources("AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.omics"],
        "detail-type": ["RunBatch Status Change"],
        "detail": {
            "batchId": [{"Fn::GetAtt": [stack.get_logical_id(batch.resource.node.default_child), "Id"]}],
            "status": ["PROCESSED", "FAILED"],
        },
    }


def test_a_deploy_time_value_in_a_settings_file_is_refused() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    runs = [*samples(100), RunSetting("late", parameters={"bucket": cdk.Aws.ACCOUNT_ID})]
    with pytest.raises(ArgumentError, match=r"Stack/Cohort: argument runs\[100\]: holds a value known only at deploy"):
        OmicsRunBatch(stack, "Cohort", **REQUIRED, runs=runs)


def test_the_settings_file_is_written_aside_and_removed_once_cdk_staged_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    app = new_app(tmp_path / "out")
    stack = cdk.Stack(app, "Stack")

    OmicsRunBatch(stack, "Cohort", workflow_id="1234567", output_uri=OUTPUT, runs=samples(101))
    app.synth()

    assert list(scratch.iterdir()) == []
    assert len(settings_asset_content(tmp_path / "out", stack)) == 101


def test_merged_run_tags_over_the_limit_are_refused_at_synth() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    runs = [RunSetting("A", run_tags={f"r{i}": "x" for i in range(20)})]
    with pytest.raises(ArgumentError, match=r"argument runs\[0\].run_tags: with run_tags, the run would have 50 tags"):
        OmicsRunBatch(stack, "Cohort", **REQUIRED, run_tags={f"d{i}": "x" for i in range(30)}, runs=runs)


def test_total_runs_of_your_own_settings_file_is_known_only_after_a_wait() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    batch = OmicsRunBatch(stack, "Cohort", **REQUIRED, s3_uri_settings="s3://bucket/settings.json")
    waiting = OmicsRunBatch(
        stack, "Waiting", **REQUIRED, s3_uri_settings="s3://bucket/settings.json", wait_for=BatchWaitFor.SUBMITTED
    )

    with pytest.raises(ArgumentError, match="attr_total_runs: unknown until HealthOmics reads the s3_uri_settings"):
        _ = batch.attr_total_runs
    assert waiting.attr_total_runs


def test_the_generated_role_keeps_a_root_object_and_collapses_read_sets_to_their_store() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    read_set = "omics://123456789012.storage.us-east-1.amazonaws.com/5555555/readSet/{}/source1"
    runs = [RunSetting(f"S{i}", parameters={"cram": f"s3://bucket/crams/S{i}.cram", "reads": read_set.format(9000 + i)})
            for i in range(30)]  # fmt: skip
    batch = OmicsRunBatch(
        stack, "Cohort", workflow_id="1234567", output_uri=OUTPUT, parameters={"ref": "s3://bucket/ref.fa"}, runs=runs
    )
    assert batch.run_role is not None
    [policy] = [
        p for k, p in Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy").items() if "RunRole" in k
    ]
    statements = {s.get("Sid"): s for s in stack.resolve(policy["Properties"]["PolicyDocument"]["Statement"])}

    reads = [part["Fn::Join"][1][2] for part in statements["ReadDeclaredInputs"]["Resource"]]
    assert reads == [":s3:::bucket/ref.fa", ":s3:::bucket/crams/*"]
    assert statements["ReadDeclaredReadSets"]["Resource"]["Fn::Join"][1][-1] == (
        ":omics:us-east-1:123456789012:sequenceStore/5555555/readSet/*"
    )


def test_the_cli_input_json_overrides_type_has_every_keyword_argument_with_its_type() -> None:
    init = inspect.signature(OmicsRunBatch.__init__).parameters
    annotations = {
        name: getattr(annotation, "__forward_arg__", annotation)
        for name, annotation in OmicsRunBatchArguments.__annotations__.items()
    }
    keyword_only = [name for name, p in init.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]

    assert annotations == {name: init[name].annotation for name in keyword_only}
    assert OmicsRunBatchArguments.__required_keys__ == frozenset()
    overrides = inspect.signature(OmicsRunBatch.from_cli_input_json).parameters["overrides"]
    assert overrides.annotation == "Unpack[OmicsRunBatchArguments]"


def test_the_sample_sheet_arguments_type_is_the_constructors_but_the_runs_and_their_parameters() -> None:
    init = inspect.signature(OmicsRunBatch.__init__).parameters
    keyword_only = {name for name, p in init.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}

    assert set(OmicsRunBatchSheetArguments.__annotations__) == keyword_only - {"runs", "s3_uri_settings", "parameters"}
    assert OmicsRunBatchSheetArguments.__required_keys__ == frozenset()
    batch_arguments = inspect.signature(OmicsRunBatch.from_sample_sheet).parameters["batch_arguments"]
    assert batch_arguments.annotation == "Unpack[OmicsRunBatchSheetArguments]"


def test_cli_input_json_names_every_unknown_key_and_override_at_once() -> None:
    stack = cdk.Stack(new_app(), "Stack")
    request = json.loads((REPO_ROOT / "examples" / "cohort-batch.json").read_text())
    request["defaultRunSetting"] = {**request["defaultRunSetting"], "prority": 3, "lgoLevel": "ALL"}

    with pytest.raises(ArgumentError) as unknown_keys:
        OmicsRunBatch.from_cli_input_json(stack, "Cohort", request)
    with pytest.raises(ArgumentError) as unknown_override:
        OmicsRunBatch.from_cli_input_json(stack, "Cohort2", REPO_ROOT / "examples" / "cohort-batch.json", batchname="x")  # type: ignore[call-arg]  # the misspelling under test

    assert str(unknown_keys.value).startswith("Stack/Cohort: unknown keys prority, lgoLevel in defaultRunSetting")
    assert str(unknown_keys.value).endswith("did you mean priority for prority, logLevel for lgoLevel?")
    assert str(unknown_override.value).startswith("Stack/Cohort2: unknown argument batchname of from_cli_input_json")
    assert str(unknown_override.value).endswith("did you mean batch_name?")
