"""The run preview: `python -m cdk_omics_run.preview` on synthesized apps, output compared exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml
from conftest import REPO_ROOT, handler_environment
from events import without_bookkeeping
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from synth import synth_app
from test_example_app import cli_start_run_body

EXAMPLE_PREVIEW = """\
[
  {
    "stack": "OmicsRunExample",
    "logicalId": "RunC4A32B5F",
    "path": "OmicsRunExample/Run/Resource/Default",
    "startRun": {
      "workflowId": "1234567",
      "roleArn": "arn:aws:iam::123456789012:role/omics-service-role-serviceRole-W8O1XMPL7QZ",
      "name": "cram-to-bam",
      "runGroupId": "1234567",
      "priority": 1,
      "parameters": {
        "sample_name": "NA12878",
        "input_cram": "s3://omics-artifacts-01d6xmpl4e72dd32/NA12878.cram",
        "ref_dict": "s3://omics-artifacts-01d6xmpl4e72dd32/Homo_sapiens_assembly38.dict",
        "ref_fasta": "s3://omics-artifacts-01d6xmpl4e72dd32/Homo_sapiens_assembly38.fasta",
        "ref_fasta_index": "omics-artifacts-01d6xmpl4e72dd32/Homo_sapiens_assembly38.fasta.fai"
      },
      "storageCapacity": 10,
      "outputUri": "s3://omics-artifacts-01d6xmpl4e72dd32/workflow-output/",
      "logLevel": "ALL"
    }
  }
]
"""

# Deploy-time values of every kind, in a stack inside a Stage (a nested cloud assembly).
TOKENS_APP = """
import aws_cdk as cdk
from aws_cdk import aws_omics as omics, aws_s3 as s3
from cdk_omics_run import DeletePolicy, OmicsRun

app = cdk.App(context={"aws:cdk:enable-path-metadata": True})
stack = cdk.Stack(cdk.Stage(app, "Prod"), "Genomics")
role = cdk.CfnParameter(stack, "RunRole")
priority = cdk.CfnParameter(stack, "Priority", type="Number")
workflow = omics.CfnWorkflow(stack, "Workflow", definition_uri="s3://definitions/wf.zip", engine="NEXTFLOW")
bucket = s3.Bucket(stack, "Output")
OmicsRun(stack, "Nightly", workflow_id=workflow, role_arn=role.value_as_string,
         output_uri=f"s3://{bucket.bucket_name}/out/", priority=priority.value_as_number,
         name=cdk.Fn.sub("nightly-${AWS::Region}-${!date}"),
         parameters={"input": cdk.Fn.import_value("InputUri"), "threads": 4, "gvcf": True},
         tags={"stack": cdk.Aws.STACK_NAME}, requester_pays_enabled=True,
         rerun_token="2", delete_policy=DeletePolicy.LEAVE)
app.synth()
"""

TOKENS_PREVIEW = """\
[
  {
    "stack": "Prod-Genomics",
    "logicalId": "NightlyC44EE0A7",
    "path": "Prod/Genomics/Nightly/Resource/Default",
    "startRun": {
      "workflowId": "<Fn::GetAtt Workflow.Id>",
      "roleArn": "<Ref RunRole>",
      "name": "nightly-<Ref AWS::Region>-${date}",
      "priority": "<Ref Priority>",
      "parameters": {
        "input": "<Fn::ImportValue InputUri>",
        "threads": 4,
        "gvcf": true
      },
      "outputUri": "s3://<Ref OutputAB65CDDE>/out/",
      "tags": {
        "stack": "<Ref AWS::StackName>"
      },
      "requesterPaysEnabled": true
    },
    "resourceSettings": {
      "DeletePolicy": "LEAVE",
      "RerunToken": "2"
    }
  }
]
"""


# Runs that share a construct ID and a logical ID across stacks, and one nested in a construct.
MANY_RUNS_APP = """
import aws_cdk as cdk
from constructs import Construct
from cdk_omics_run import OmicsRun

REQUIRED = {"workflow_id": "1234567", "role_arn": "arn:aws:iam::123456789012:role/omics-run",
            "output_uri": "s3://bucket/out/"}
app = cdk.App(context={"aws:cdk:enable-path-metadata": True, "aws:cdk:bundling-stacks": []})
for name in ("First", "Second"):
    stack = cdk.Stack(app, name)
    OmicsRun(stack, "Run", **REQUIRED, name=name.lower())
OmicsRun(Construct(stack, "Pipeline"), "Align", **REQUIRED, name="align")
app.synth()
"""


# A plain `python app.py` (no path metadata), with a run in a nested stack and one in the parent.
NESTED_APP = """
import aws_cdk as cdk
from cdk_omics_run import OmicsRun

REQUIRED = {"workflow_id": "1234567", "role_arn": "arn:aws:iam::123456789012:role/omics-run",
            "output_uri": "s3://bucket/out/"}
app = cdk.App(context={"aws:cdk:bundling-stacks": []})
parent = cdk.Stack(app, "Parent")
OmicsRun(parent, "Index", **REQUIRED, name="index")
OmicsRun(cdk.NestedStack(parent, "Genomics"), "Align", **REQUIRED, name="align")
app.synth()
"""


def preview(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cdk_omics_run.preview", *arguments],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_app(REPO_ROOT / "app.py", tmp_path_factory.mktemp("example-out"))


@pytest.fixture(scope="module")
def tokens_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    app_dir = tmp_path_factory.mktemp("tokens-app")
    (app_dir / "app.py").write_text(TOKENS_APP)
    return synth_app(app_dir / "app.py", app_dir / "cdk.out", cwd=app_dir)


@pytest.fixture(scope="module")
def nested_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    app_dir = tmp_path_factory.mktemp("nested-app")
    (app_dir / "app.py").write_text(NESTED_APP)
    return synth_app(app_dir / "app.py", app_dir / "cdk.out", cwd=app_dir)


@pytest.fixture(scope="module")
def many_runs_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    app_dir = tmp_path_factory.mktemp("many-runs-app")
    (app_dir / "app.py").write_text(MANY_RUNS_APP)
    return synth_app(app_dir / "app.py", app_dir / "cdk.out", cwd=app_dir)


def test_the_example_app_preview_is_exactly_its_run_and_request(example_out: Path) -> None:
    result = preview(str(example_out))

    assert (result.returncode, result.stdout) == (0, EXAMPLE_PREVIEW)


def test_the_example_request_is_the_cli_input_json_it_was_built_from(example_out: Path) -> None:
    result = preview(str(example_out), "--run", "OmicsRunExample/Run")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads((REPO_ROOT / "examples" / "cram-to-bam.json").read_text())


def test_the_previewed_request_runs_by_hand_with_the_aws_cli(
    example_out: Path, tmp_path: Path, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    request = tmp_path / "request.json"
    request.write_text(preview(str(example_out), "--run", "RunC4A32B5F").stdout)
    env = handler_environment(omics, response_bucket)

    from_preview = cli_start_run_body(request, omics, env)
    from_example = cli_start_run_body(REPO_ROOT / "examples" / "cram-to-bam.json", omics, env)

    assert without_bookkeeping(from_preview) == without_bookkeeping(from_example)


def test_deploy_time_values_are_placeholders_and_stages_are_searched(tokens_out: Path) -> None:
    result = preview(str(tokens_out))

    assert (result.returncode, result.stdout, result.stderr) == (0, TOKENS_PREVIEW, "")


def test_a_template_file_is_previewed_and_literal_problems_are_warned_about_on_stderr(tmp_path: Path) -> None:
    template = tmp_path / "Hand.template.json"
    template.write_text(json.dumps({"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket"},
        "Run": {"Type": "Custom::OmicsRun", "Condition": "Nightly", "Properties": {
            "ServiceToken": {"Fn::ImportValue": "OmicsRunServiceToken"}, "ServiceTimeout": "600",
            "WorkflowId": "1234567", "OutputUri": {"Fn::Sub": "s3://${Bucket}/out/"},
            "Priority": "high", "RequesterPaysEnabled": "true",
            "Parameters": '{"threads": 4}', "EngineSettings": {"Fn::If": ["Fast", "{}", {"Ref": "AWS::NoValue"}]},
        }},
    }}))  # fmt: skip

    result = preview(str(template))

    assert result.returncode == 0
    assert json.loads(result.stdout) == [{
        "stack": "Hand",
        "logicalId": "Run",
        "condition": "Nightly",
        "startRun": {
            "workflowId": "1234567",
            "outputUri": "s3://<Ref Bucket>/out/",
            "priority": "high",
            "requesterPaysEnabled": True,
            "parameters": {"threads": 4},
            "engineSettings": '<Fn::If ["Fast","{}","<Ref AWS::NoValue>"]>',
        },
    }]  # fmt: skip
    assert result.stderr.splitlines() == [
        'warning: Hand/Run: property Priority: got "high"; allowed: an integer from 0 to 100000; '
        "the provider will reject it",
        "warning: Hand/Run: property RoleArn: missing; it is required by StartRun; the provider will reject it",
    ]


@pytest.mark.parametrize("selector", ["Nope", "OmicsRunExample/Ru"])
def test_a_run_selector_that_matches_no_run_names_the_runs(example_out: Path, selector: str) -> None:
    result = preview(str(example_out), "--run", selector)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"error: --run {selector} matches no run; the runs are:\n  OmicsRunExample/Run (logical ID RunC4A32B5F)\n"
    )


def test_a_directory_that_is_no_cloud_assembly_is_an_error(tmp_path: Path) -> None:
    result = preview(str(tmp_path))

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"error: {tmp_path} is not a cloud assembly (no manifest.json): run `cdk synth` first\n"


@pytest.mark.parametrize(
    "selector", ["Run", "/OmicsRunExample/Run", "RunC4A32B5F", "OmicsRunExample/RunC4A32B5F", "OmicsRunExample"]
)
def test_a_run_is_selected_by_its_construct_id_or_any_other_name_no_other_run_has(
    example_out: Path, selector: str
) -> None:
    result = preview(str(example_out), "--run", selector)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads((REPO_ROOT / "examples" / "cram-to-bam.json").read_text())


@pytest.mark.parametrize(
    ("selector", "name"),
    [("First/Run", "first"), ("Second/Run", "second"), ("Align", "align"), ("Pipeline/Align", "align"),
     ("Second/Pipeline/Align", "align"), ("First", "first")],
)  # fmt: skip
def test_a_construct_id_shared_by_runs_gives_way_to_their_paths(many_runs_out: Path, selector: str, name: str) -> None:
    result = preview(str(many_runs_out), "--run", selector)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == name


@pytest.mark.parametrize(
    ("selector", "candidates"),
    [
        ("Run", ["First/Run (logical ID RunC4A32B5F)", "Second/Run (logical ID RunC4A32B5F)"]),
        ("RunC4A32B5F", ["First/Run (logical ID RunC4A32B5F)", "Second/Run (logical ID RunC4A32B5F)"]),
        ("Second", ["Second/Run (logical ID RunC4A32B5F)", "Second/Pipeline/Align (logical ID PipelineAlign3DD924F5)"]),
    ],
)
def test_an_ambiguous_selector_fails_listing_the_runs_it_matches(
    many_runs_out: Path, selector: str, candidates: list[str]
) -> None:
    result = preview(str(many_runs_out), "--run", selector)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: --run {selector} matches {len(candidates)} runs; name one of them:",
        *(f"  {candidate}" for candidate in candidates),
    ]


def test_a_selector_that_matches_no_run_lists_every_run_of_every_stack(many_runs_out: Path) -> None:
    result = preview(str(many_runs_out), "--run", "Alig")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: --run Alig matches no run; the runs are:",
        "  First/Run (logical ID RunC4A32B5F)",
        "  Second/Run (logical ID RunC4A32B5F)",
        "  Second/Pipeline/Align (logical ID PipelineAlign3DD924F5)",
    ]


def test_a_template_without_construct_paths_is_selected_by_logical_id_and_listed_by_stack_and_logical_id(
    tmp_path: Path,
) -> None:
    properties = {"WorkflowId": "1", "RoleArn": "arn:aws:iam::1:role/r", "OutputUri": "s3://b/o/"}
    template = tmp_path / "Hand.template.json"
    template.write_text(json.dumps({"Resources": {
        "Nightly": {"Type": "Custom::OmicsRun", "Properties": properties},
        "Weekly": {"Type": "Custom::OmicsRun", "Properties": {**properties, "Name": "w"}},
    }}))  # fmt: skip

    selected = preview(str(template), "--run", "Weekly")
    unknown = preview(str(template), "--run", "Daily")

    assert (selected.returncode, json.loads(selected.stdout)["name"]) == (0, "w")
    assert (unknown.returncode, unknown.stderr.splitlines()) == (
        2,
        ["error: --run Daily matches no run; the templates record no construct paths (the aws:cdk:path metadata "
         "that `cdk synth` writes and a plain `python app.py` leaves out), so no construct ID or path can match; "
         "logical IDs still work, such as --run Nightly or --run Hand/Nightly; the runs are:",
         "  Hand/Nightly", "  Hand/Weekly"],
    )  # fmt: skip


def test_a_selector_for_an_app_without_runs_says_there_are_none(tmp_path: Path) -> None:
    template = tmp_path / "Empty.template.json"
    template.write_text(json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}))

    result = preview(str(template), "--run", "Run")

    assert (result.returncode, result.stderr) == (
        2,
        "error: --run Run: there is no Custom::OmicsRun or Custom::OmicsRunBatch to select\n",
    )


def test_a_batch_is_previewed_as_its_start_run_batch_request(tmp_path: Path) -> None:
    # The plain CloudFormation example, as a template file: its preview is the --cli-input-json file it mirrors.
    template = json.loads(
        json.dumps(cfn_yaml.loads((REPO_ROOT / "examples" / "plain-cloudformation-batch.yaml").read_text()))
    )
    path = tmp_path / "Cohort.template.json"
    path.write_text(json.dumps(template))

    listed = preview(str(path))
    selected = preview(str(path), "--run", "Cohort")

    assert json.loads(listed.stdout) == [
        {
            "stack": "Cohort",
            "logicalId": "Cohort",
            "startRunBatch": json.loads((REPO_ROOT / "examples" / "cohort-batch.json").read_text()),
            "resourceSettings": {"DeletePolicy": "CANCEL"},
        }
    ]
    assert json.loads(selected.stdout) == json.loads(listed.stdout)[0]["startRunBatch"]


def test_runs_in_nested_stacks_are_previewed_from_their_nested_templates(nested_out: Path) -> None:
    listed = preview(str(nested_out))

    assert (listed.returncode, listed.stderr) == (0, "")
    runs = json.loads(listed.stdout)
    assert [(run["stack"], run["startRun"]["name"]) for run in runs] == [
        ("Parent", "index"),
        ("ParentGenomics53EBDD98", "align"),
    ]
    selected = preview(str(nested_out), "--run", runs[1]["logicalId"])
    assert (selected.returncode, json.loads(selected.stdout)["name"]) == (0, "align")


def test_without_path_metadata_a_construct_id_is_refused_saying_why_and_that_logical_ids_work(
    nested_out: Path,
) -> None:
    result = preview(str(nested_out), "--run", "Align")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "error: --run Align matches no run; the templates record no construct paths (the aws:cdk:path metadata "
        "that `cdk synth` writes and a plain `python app.py` leaves out), so no construct ID or path can match; "
        "logical IDs still work, such as --run Index4A79713B or --run Parent/Index4A79713B; the runs are:",
        "  Parent/Index4A79713B",
        "  ParentGenomics53EBDD98/AlignBA698C47",
    ]


def test_a_nested_stack_whose_template_is_missing_is_named_and_nothing_found_exits_non_zero(tmp_path: Path) -> None:
    template = tmp_path / "Parent.template.json"
    nested = {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://example.com/child.json"}}
    template.write_text(json.dumps({"Resources": {"Child": nested, "Bucket": {"Type": "AWS::S3::Bucket"}}}))

    result = preview(str(template))

    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        "warning: Parent/Child: a nested stack whose template is not in the cloud assembly (no .nested.template.json "
        "file its TemplateURL names); its runs are not previewed",
        "error: no Custom::OmicsRun or Custom::OmicsRunBatch in the templates searched: Parent",
    ]
