"""A stack of many runs deploys: the provider's grants spill over into further policies past IAM's size quota.

A customer-managed policy holds at most 6,144 characters, whitespace not
counted (IAM and AWS STS quotas). Each run with a generated role adds that
role's ARN to the provider's iam:PassRole statement, and each distinct
workflow its ARN to the StartRun statement; about 50 runs used to fill the
policy, and the deploy failed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from synth import cfn_lint, nag

from cdk_omics_run import OmicsRun, WorkflowType
from cdk_omics_run import policy_overflow as overflow_module
from cdk_omics_run.policy_size import MANAGED_POLICY_CHARACTERS, estimated_characters

OUTPUT = "s3://results-bucket/runs/"
ROLE = "arn:aws:iam::123456789012:role/omics-run"
# The longest values a deployed policy can hold, written out here independently of the estimator.
LONGEST = {"AWS::Partition": "aws-us-gov", "AWS::Region": "ap-southeast-5", "AWS::AccountId": "123456789012"}
# A generated role's name is at most 64 characters: its ARN in aws-us-gov is 102.
LONGEST_ROLE_ARN = "arn:aws-us-gov:iam::123456789012:role/" + "R" * 64


def deployed(value: Any) -> Any:
    """The policy with each intrinsic replaced by the longest text it can deploy as."""
    if isinstance(value, list):
        return [deployed(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return LONGEST.get(value["Ref"], LONGEST_ROLE_ARN)
        if set(value) == {"Fn::GetAtt"}:
            return LONGEST_ROLE_ARN
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(deployed(part)) for part in parts)
        return {key: deployed(item) for key, item in value.items()}
    return value


def synthesized(runs: list[dict[str, Any]], out_dir: Path | None = None) -> tuple[cdk.App, dict[str, Any]]:
    app = cdk.App(outdir=str(out_dir) if out_dir else None, context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Stack")
    for index, arguments in enumerate(runs):
        OmicsRun(stack, f"Run{index}", output_uri=OUTPUT, **arguments)
    return app, app.synth().get_stack_by_name("Stack").template


def provider_policies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and logical_id.startswith("OmicsRunProviderRolePolicy")
    }


def resources_of(policies: dict[str, dict[str, Any]], sid_prefix: str) -> list[Any]:
    found = []
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Sid", "").startswith(sid_prefix):
                resources = statement["Resource"]
                found += resources if isinstance(resources, list) else [resources]
    return found


def test_the_estimate_counts_each_intrinsic_at_its_longest_deployed_text() -> None:
    document = {
        "Resource": [
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":omics:", {"Ref": "AWS::Region"}, ":x"]]},
            {"Fn::GetAtt": ["Role", "Arn"]},
            "literal",
        ]
    }

    expected = json.dumps({"Resource": ["arn:" + "x" * 10 + ":omics:" + "x" * 14 + ":x", "x" * 128, "literal"]})
    assert estimated_characters(document) == len(expected.replace(" ", ""))
    assert estimated_characters({"Ref": "AWS::AccountId"}) == len('"123456789012"')


def test_a_few_runs_keep_one_policy() -> None:
    _, template = synthesized([{"workflow_id": "1234567"} for _ in range(10)])

    assert list(provider_policies(template)) == ["OmicsRunProviderRolePolicy9456956C"]


def test_150_runs_with_generated_roles_spill_their_role_arns_into_policies_that_each_fit(tmp_path: Path) -> None:
    runs = [{"workflow_id": "1234567", "parameters": {"input_cram": f"s3://bucket/S{i}.cram"}} for i in range(150)]
    app, template = synthesized(runs, tmp_path)
    policies = provider_policies(template)
    provider_role = next(k for k, r in template["Resources"].items() if k.startswith("OmicsRunProviderRole") and
                         r["Type"] == "AWS::IAM::Role")  # fmt: skip
    [function] = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    run_roles = sorted(k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role" and "RunRole" in k)

    assert len(policies) == 4
    for logical_id, policy in policies.items():
        document = policy["Properties"]["PolicyDocument"]
        assert len(json.dumps(deployed(document), separators=(",", ":"))) <= MANAGED_POLICY_CHARACTERS, logical_id
        assert policy["Properties"]["Roles"] == [{"Ref": provider_role}]
        # The function (and so every run, whose ServiceToken it is) waits for every policy.
        assert logical_id in function["DependsOn"]
    passed = resources_of(policies, "PassRunRoles")
    assert sorted(resource["Fn::GetAtt"][0] for resource in passed) == run_roles  # each once
    assert len(run_roles) == 150
    for statement in (s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]):
        if statement.get("Sid", "").startswith("PassRunRoles"):
            assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}}
    nag(app)  # AwsSolutions: clean
    assert cfn_lint(tmp_path / "Stack.template.json") == (0, "")


def test_many_workflows_spill_their_arns_and_run_star_stays_with_its_acknowledgement(tmp_path: Path) -> None:
    runs = [{"workflow_id": f"{1000000 + i}", "role_arn": ROLE} for i in range(100)]
    runs.append({"workflow_id": "9876543", "role_arn": ROLE, "workflow_type": WorkflowType.READY2RUN})
    app, template = synthesized(runs, tmp_path)
    policies = provider_policies(template)
    main = policies.pop("OmicsRunProviderRolePolicy9456956C")

    started = resources_of({"main": main, **policies}, "StartRuns")
    [main_start] = [s for s in main["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "StartRuns"]
    assert policies  # spilled over
    assert main_start["Resource"][0] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":omics:", {"Ref": "AWS::Region"}, ":",
                          {"Ref": "AWS::AccountId"}, ":run/*"]]
    }  # fmt: skip
    assert len(started) == 1 + 101
    # Added last, the Ready2Run workflow's ARN (any account: a wildcard) is among the first moved out.
    assert any(":*:workflow/9876543" in json.dumps(policy) for policy in policies.values())
    nag(app)  # the Ready2Run workflow's any-account ARN stays acknowledged wherever it lands


def test_more_than_a_role_can_hold_is_refused_at_synth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(overflow_module, "MAX_OVERFLOW_POLICIES", 1)
    runs = [{"workflow_id": "1234567"} for _ in range(150)]

    # An ArgumentError raised in the aspect, which jsii hands back as a RuntimeError.
    with pytest.raises(RuntimeError) as refused:
        synthesized(runs)

    assert (
        "Stack/OmicsRunProvider/Role/Policy: the runs of this stack need more than 2 policies of 6,144 characters "
        "to name every workflow and run role; allowed: 10 managed policies per role (IAM quota). Give runs one "
        "role_arn, start cohorts as one OmicsRunBatch, or split the runs across stacks"
    ) in str(refused.value)
