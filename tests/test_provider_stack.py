"""OmicsRunProviderStack as a construct: run roles given in code, another export name, cdk-nag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from cdk_omics_run.provider_stack import DEFAULT_EXPORT_NAME, OmicsRunProviderStack

ROLE_ARN = "arn:aws:iam::123456789012:role/omics-service-role"


def pass_role_statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for policy in template.find_resources(policy_type).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "iam:PassRole"
    ]


def test_run_roles_given_in_code_replace_the_deploy_time_parameter() -> None:
    stack = OmicsRunProviderStack(cdk.App(), "Provider", run_role_arns=[ROLE_ARN, ROLE_ARN])
    template = Template.from_stack(stack)

    assert stack.run_role_arns is None
    assert "RunRoleArns" not in template.to_json().get("Parameters", {})
    [statement] = pass_role_statements(template)
    assert (statement["Resource"], statement["Condition"]) == (
        [ROLE_ARN],
        {"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}},
    )


def test_the_export_name_can_be_chosen() -> None:
    stack = OmicsRunProviderStack(cdk.App(), "Provider", export_name="TeamOmicsRunServiceToken")
    outputs = Template.from_stack(stack).to_json()["Outputs"]

    assert outputs["ServiceToken"]["Export"] == {"Name": "TeamOmicsRunServiceToken"} != {"Name": DEFAULT_EXPORT_NAME}
    assert stack.template_options.description.endswith("exports its ServiceToken as TeamOmicsRunServiceToken")


def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged_in_the_provider_stack(tmp_path: Path) -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []}, outdir=str(tmp_path))
    OmicsRunProviderStack(app, "Provider")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))

    try:
        app.synth()
    except RuntimeError as error:
        report = json.loads((tmp_path / "validation-report.json").read_text())
        findings = [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]]
        raise AssertionError(f"cdk-nag findings: {findings}") from error
