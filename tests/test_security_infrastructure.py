"""Least privilege: the provider's policy, the generated run role, cdk-nag, and CDK Tags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from conftest import REPO_ROOT
from synth import nag

from cdk_omics_run import (
    BatchWaitFor,
    OmicsRun,
    OmicsRunBatch,
    OmicsRunProvider,
    OmicsRunProviderStack,
    RunSetting,
    WaitFor,
    WorkflowType,
)

ROLE = "arn:aws:iam::123456789012:role/omics-run"
OUTPUT = "s3://results-bucket/runs/"
REQUIRED: dict[str, Any] = {"workflow_id": "1234567", "role_arn": ROLE, "output_uri": OUTPUT}


def new_stack() -> cdk.Stack:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    return cdk.Stack(app, "Stack")


def policies(template: Template) -> dict[str, dict[str, Any]]:
    """Inline (AWS::IAM::Policy) and customer-managed (AWS::IAM::ManagedPolicy) policies, by logical ID."""
    return {**template.find_resources("AWS::IAM::Policy"), **template.find_resources("AWS::IAM::ManagedPolicy")}


def statements(template: Template) -> list[dict[str, Any]]:
    found = []
    for resource in policies(template).values():
        found += resource["Properties"]["PolicyDocument"]["Statement"]
    for resource in template.find_resources("AWS::IAM::Role").values():
        for policy in resource["Properties"].get("Policies", []):
            found += policy["PolicyDocument"]["Statement"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def many_runs(stack: cdk.Stack, count: int) -> None:
    for index in range(count):
        OmicsRun(
            stack, f"Run{index}", workflow_id=str(1000000 + index % 3), role_arn=ROLE, output_uri=OUTPUT,
            run_group_id="7777777", wait_for=WaitFor.COMPLETED if index % 2 else None,
        )  # fmt: skip


def provider_statements(stack: cdk.Stack) -> dict[str, dict[str, Any]]:
    template = Template.from_stack(stack)
    return {s["Sid"]: s for s in statements(template) if "Sid" in s}


def test_no_statement_grants_every_action_and_omics_actions_never_apply_to_everything() -> None:
    stack = new_stack()
    many_runs(stack, 6)

    for statement in statements(Template.from_stack(stack)):
        assert not [a for a in as_list(statement["Action"]) if a == "*" or a.endswith(":*")], statement
        if any(a.startswith("omics:") for a in as_list(statement["Action"])):
            assert "*" not in as_list(statement["Resource"]), statement


def test_start_run_is_scoped_to_the_runs_workflows_and_run_groups() -> None:
    stack = new_stack()
    many_runs(stack, 6)

    resources = provider_statements(stack)["StartRuns"]["Resource"]
    rendered = [json.dumps(r) for r in resources]
    assert len(resources) == 1 + 3 + 1  # run/*, three distinct workflows, one run group
    assert any(":run/*" in r for r in rendered)
    assert sum(":workflow/100000" in r for r in rendered) == 3
    assert any(":runGroup/7777777" in r for r in rendered)


def test_pass_role_is_limited_to_the_run_roles_and_to_healthomics() -> None:
    stack = new_stack()
    many_runs(stack, 4)

    assert provider_statements(stack)["PassRunRoles"] == {
        "Action": "iam:PassRole",
        "Effect": "Allow",
        "Resource": [ROLE],
        "Condition": {"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}},
        "Sid": "PassRunRoles",
    }


@pytest.mark.parametrize("count", [1, 50])
def test_the_number_of_policies_and_functions_does_not_grow_with_runs(count: int) -> None:
    stack = new_stack()
    many_runs(stack, count)

    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Function", 1)
    # The provider's own customer-managed policy, waits or not (waits add statements to it); no inline one.
    template.resource_count_is("AWS::IAM::ManagedPolicy", 1)
    template.resource_count_is("AWS::IAM::Policy", 0)
    template.resource_count_is("AWS::IAM::Role", 1)


def test_shared_and_ready2run_workflows_are_allowed_in_their_owners_account() -> None:
    stack = new_stack()
    OmicsRun(stack, "Shared", **{**REQUIRED, "workflow_owner_id": "210987654321"})
    OmicsRun(stack, "Ready", **{**REQUIRED, "workflow_id": "9500764", "workflow_type": WorkflowType.READY2RUN})

    rendered = json.dumps(provider_statements(stack)["StartRuns"]["Resource"])
    assert ":210987654321:workflow/1234567" in rendered
    assert ':*:workflow/9500764"' in rendered


PARAMETERS = {
    "sample": "NA12878",
    "reads": ["s3://inputs-bucket/NA12878/lane1.fastq.gz", "s3://inputs-bucket/NA12878/lane2.fastq.gz"],
    "reference_dir": "s3://refs-bucket/hg38/",
    "nested": {"known_sites": [{"vcf": "s3://refs-bucket/dbsnp.vcf.gz"}]},
    "read_set": "omics://123456789012.storage.us-east-1.amazonaws.com/1111111111/readSet/2222222222/source1",
    "reference": "omics://123456789012.storage.us-east-1.amazonaws.com/3333333333/reference/4444444444",
    "threads": 8,
}


def test_without_a_role_the_run_gets_one_holding_exactly_what_its_inputs_need() -> None:
    stack = new_stack()
    run = OmicsRun(stack, "Run", workflow_id="1234567", output_uri=OUTPUT, parameters=PARAMETERS)

    assert run.run_role is not None
    template = Template.from_stack(stack)
    role_id = stack.get_logical_id(run.run_role.node.default_child)
    role = template.find_resources("AWS::IAM::Role")[role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "omics.amazonaws.com"},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                "ArnLike": {"aws:SourceArn": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":omics:",
                    {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"}, ":run/*"]]}},
            },
        }
    ]  # fmt: skip
    assert "Policies" not in role and not template.find_resources("AWS::IAM::Policy")  # no inline policy
    [policy] = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if r["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    by_sid = {s.get("Sid", json.dumps(s["Resource"])): s for s in policy}
    s3 = "arn:<partition>:s3:::"

    def plain(resources: Any) -> list[str]:
        return sorted(json.dumps(r).replace('{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::', s3)
                      .replace('"]]}', "").strip('"') for r in as_list(resources))  # fmt: skip

    assert by_sid["ReadDeclaredInputs"]["Action"] == "s3:GetObject"
    assert plain(by_sid["ReadDeclaredInputs"]["Resource"]) == [
        f"{s3}inputs-bucket/NA12878/lane1.fastq.gz",
        f"{s3}inputs-bucket/NA12878/lane2.fastq.gz",
        f"{s3}refs-bucket/dbsnp.vcf.gz",
        f"{s3}refs-bucket/hg38/*",
    ]
    assert plain(by_sid["WriteOutputs"]["Resource"]) == [f"{s3}results-bucket/runs/*"]
    assert by_sid["ReadDeclaredReadSets"]["Action"] == ["omics:GetReadSet", "omics:GetReadSetMetadata"]
    assert "sequenceStore/1111111111/readSet/2222222222" in json.dumps(by_sid["ReadDeclaredReadSets"]["Resource"])
    assert "referenceStore/3333333333/reference/4444444444" in json.dumps(by_sid["ReadDeclaredReferences"]["Resource"])
    assert "log-group:/aws/omics/WorkflowLog" in json.dumps(by_sid["WriteWorkflowLogs"]["Resource"])
    assert by_sid["PullWorkflowImages"]["Action"] == [
        "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
    ]  # fmt: skip
    listings = [s for s in policy if s["Action"] == "s3:ListBucket"]
    assert sorted(json.dumps(s["Condition"]) for s in listings) == sorted(
        [
            json.dumps({"StringLike": {"s3:prefix": ["NA12878/lane1.fastq.gz", "NA12878/lane2.fastq.gz"]}}),
            json.dumps({"StringLike": {"s3:prefix": ["dbsnp.vcf.gz", "hg38/*"]}}),
            json.dumps({"StringLike": {"s3:prefix": ["runs/*"]}}),
        ]
    )
    # The provider may pass exactly this role.
    assert provider_statements(stack)["PassRunRoles"]["Resource"] == [{"Fn::GetAtt": [role_id, "Arn"]}]


def test_a_generated_role_needs_an_output_location_it_can_place() -> None:
    stack = new_stack()
    bucket = cdk.CfnParameter(stack, "Bucket").value_as_string

    with pytest.raises(ValueError) as caught:
        OmicsRun(stack, "Run", workflow_id="1234567", output_uri=f"s3://{bucket}/out/")

    assert str(caught.value) == (
        "Stack/Run: argument output_uri: got a value known only at deploy time; "
        "allowed with no role_arn: a literal s3://bucket/prefix/ URI, "
        "bucket.s3_url_for_object('prefix/') or (bucket, 'prefix/') for a bucket of this app"
    )


def test_grant_read_outputs_gives_read_on_the_output_prefix() -> None:
    stack = new_stack()
    run = OmicsRun(stack, "Run", **REQUIRED)
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))

    run.grant_read_outputs(reader)

    [policy] = [r for k, r in Template.from_stack(stack).find_resources("AWS::IAM::Policy").items() if "Reader" in k]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["s3:GetObject", "s3:ListBucket"]
    assert "results-bucket/runs/*" in json.dumps(statement["Resource"])


def test_cdk_tags_reach_the_run_and_explicit_tags_win() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED, tags={"team": "genomics"})
    OmicsRun(stack, "Untagged", **REQUIRED)
    cdk.Tags.of(stack).add("cost-center", "42")
    cdk.Tags.of(stack).add("team", "platform")

    runs = Template.from_stack(stack).find_resources("Custom::OmicsRun")
    tags = sorted(json.dumps(r["Properties"]["Tags"], sort_keys=True) for r in runs.values())
    assert tags == [
        json.dumps({"cost-center": "42", "team": "genomics"}, sort_keys=True),
        json.dumps({"cost-center": "42", "team": "platform"}, sort_keys=True),
    ]


def test_tags_that_tags_of_adds_count_toward_the_limit_naming_the_run_and_where_they_came_from() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED, tags={f"declared{i}": "x" for i in range(40)})
    OmicsRun(stack, "Lean", **REQUIRED, tags={"team": "genomics"})
    cdk.Tags.of(stack).add("cost-center", "42")
    for i in range(10):
        cdk.Tags.of(stack.node.scope).add(f"app{i}", "y")  # type: ignore[arg-type]

    with pytest.raises(RuntimeError) as refused:
        stack.node.scope.synth()  # type: ignore[union-attr]

    [error] = [line.strip() for line in str(refused.value).splitlines() if line.strip().startswith("[")]
    assert error == (
        "[Stack/Run] argument tags, with those Tags.of(...) adds: got 51 tags; allowed: at most 43 (HealthOmics "
        "allows 50 per run, 7 are kept for the provider's own). They come from tags= (40: declared0, declared1, "
        "declared2, declared3, declared4 and 35 more); Tags.of(the app) (10: app0, app1, app2, app3, app4 and 5 "
        "more); Tags.of(Stack) (1: cost-center): drop some, or keep them off this resource with "
        "Tags.of(...).add(key, value, exclude_resource_types=['Custom::OmicsRun'])"
    )


def test_tags_of_kept_off_the_run_leave_it_within_the_limit() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED, tags={f"declared{i}": "x" for i in range(40)})
    for i in range(11):
        cdk.Tags.of(stack).add(f"cost{i}", "y", exclude_resource_types=["Custom::OmicsRun"])
    cdk.Tags.of(stack).add("declared0", "overridden by the run's own")
    cdk.Tags.of(stack).add("team", "platform")

    [run] = Template.from_stack(stack).find_resources("Custom::OmicsRun").values()
    assert len(run["Properties"]["Tags"]) == 41


def test_a_reserved_key_from_tags_of_is_refused_at_synth() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED)
    cdk.Tags.of(stack).add("cdk-omics-run:owner", "me")

    with pytest.raises(RuntimeError, match=r"\[Stack/Run\] argument tags.cdk-omics-run:owner, with those Tags.of"):
        Template.from_stack(stack)


def test_a_run_without_any_tags_sends_no_tags_property() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED)

    [run] = Template.from_stack(stack).find_resources("Custom::OmicsRun").values()
    assert "Tags" not in run["Properties"]


def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged_in_the_example_app(tmp_path: Path) -> None:
    import app as example

    application = cdk.App(context=example.cli_equivalent_context(), outdir=str(tmp_path))
    example.build_app(application)

    nag(application)


def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged_in_a_many_run_stack(tmp_path: Path) -> None:
    application = cdk.App(context={"aws:cdk:bundling-stacks": []}, outdir=str(tmp_path))
    stack = cdk.Stack(application, "ManyRuns")
    many_runs(stack, 40)
    OmicsRun(stack, "Generated", workflow_id="1234567", output_uri=OUTPUT, parameters=PARAMETERS)
    OmicsRun(stack, "Ready", **{**REQUIRED, "workflow_id": "9500764", "workflow_type": WorkflowType.READY2RUN})

    nag(application)


def test_cdk_nag_finds_nothing_unacknowledged_when_the_stacks_name_their_environment(tmp_path: Path) -> None:
    # An explicit env renders the region and account as literals where cdk-nag would print <AWS::Region>.
    application = cdk.App(context={"aws:cdk:bundling-stacks": []}, outdir=str(tmp_path))
    production = cdk.Environment(account="123456789012", region="eu-west-1")
    stack = cdk.Stack(application, "Production", env=production)
    OmicsRun(stack, "Waited", **REQUIRED, wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Generated", workflow_id="1234567", output_uri=OUTPUT, parameters=PARAMETERS)
    OmicsRun(stack, "Ready", **{**REQUIRED, "workflow_id": "9500764", "workflow_type": WorkflowType.READY2RUN})
    OmicsRunBatch(
        stack, "Cohort", workflow_id="1234567", role_arn=ROLE, output_uri=OUTPUT,
        runs=[RunSetting("s1", parameters={"sample": "s1"})], wait_for=BatchWaitFor.PROCESSED,
    )  # fmt: skip
    OmicsRunProviderStack(application, "Provider", env=production)

    nag(application)


def test_cdk_nag_as_run_here_does_report_an_unacknowledged_wildcard(tmp_path: Path) -> None:
    application = cdk.App(context={"aws:cdk:bundling-stacks": []}, outdir=str(tmp_path))
    stack = cdk.Stack(application, "Careless")
    OmicsRun(stack, "Run", **REQUIRED)
    OmicsRunProvider.of(stack).role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))

    with pytest.raises(AssertionError, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        nag(application)


def test_every_acknowledgement_names_one_wildcard_and_gives_a_reason() -> None:
    stack = new_stack()
    OmicsRun(stack, "Generated", workflow_id="1234567", output_uri=OUTPUT, parameters=PARAMETERS)

    acknowledgements = [
        entry
        for metadata in cdk.Stack.of(stack).node.find_all()
        for entry in metadata.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]
    rules = {rule: reason for entry in acknowledgements for rule, reason in entry.data.items()}
    assert len(rules) == 7
    for rule, reason in rules.items():
        assert rule.startswith("AwsSolutions::AwsSolutions-IAM5[Resource::") and rule.endswith("*]"), rule
        assert len(reason) > 30, rule


def test_the_provider_runtime_is_not_flagged_as_outdated() -> None:
    assert lambda_.Runtime.PYTHON_3_14.name == "python3.14"
    assert (REPO_ROOT / "requirements-dev.txt").read_text().count("cdk-nag==") == 1
