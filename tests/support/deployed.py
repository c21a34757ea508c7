"""An app's templates as CloudFormation deploys them: references become the names, ARNs and answers they stand for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_kms as kms

ACCOUNT, REGION = "123456789012", "us-east-1"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com"}
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/omics-service-role"


class Deployed:
    """An app's templates as CloudFormation deploys them: references become the names and ARNs they stand for."""

    def __init__(self, app: cdk.App, physical: Mapping[Any, str]) -> None:
        assembly = app.synth()
        self.templates = {stack.stack_name: stack.template for stack in assembly.stacks}
        self.exports = {
            output["Export"]["Name"]: output["Value"]
            for template in self.templates.values()
            for output in template.get("Outputs", {}).values()
            if "Export" in output
        }
        # A bucket's Ref is its name and its Arn attribute its ARN; a key's Arn attribute its ARN.
        self.values: dict[str, str] = {}
        for resource, name in physical.items():
            logical_id = cdk.Stack.of(resource).get_logical_id(resource.node.default_child)  # type: ignore[arg-type]
            if isinstance(resource, kms.Key):
                self.values[f"{logical_id}.Arn"] = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{name}"
            else:
                self.values[logical_id] = name
                self.values[f"{logical_id}.Arn"] = f"arn:aws:s3:::{name}"

    def value(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            if set(value) == {"Ref"}:
                # A resource the test gave no value stands for itself.
                return PSEUDO.get(value["Ref"]) or self.values.get(value["Ref"], f"<{value['Ref']}>")
            if set(value) == {"Fn::GetAtt"}:
                name = ".".join(value["Fn::GetAtt"])
                return self.values.get(name, f"<{name}>")
            if set(value) == {"Fn::Split"}:
                separator, text = value["Fn::Split"]
                return str(self.value(text)).split(separator)
            if set(value) == {"Fn::ImportValue"}:
                return self.value(self.exports[value["Fn::ImportValue"]])
            if set(value) == {"Fn::Join"}:
                separator, parts = value["Fn::Join"]
                return separator.join(str(self.value(part)) for part in parts)
            if set(value) == {"Fn::Sub"}:
                text = value["Fn::Sub"]
                for name, pseudo in PSEUDO.items():
                    text = text.replace("${" + name + "}", pseudo)
                return text
            return {key: self.value(item) for key, item in value.items()}
        return value

    def role_statements(self, stack: cdk.Stack, run: Any) -> list[dict[str, Any]]:
        """The statements of the run role's policies, as IAM sees them deployed."""
        assert run.run_role is not None
        role_id = stack.get_logical_id(run.run_role.node.default_child)  # type: ignore[arg-type]
        template = self.templates[stack.stack_name]
        return [
            statement
            for resource in template["Resources"].values()
            if resource["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role_id} in resource["Properties"]["Roles"]
            for statement in self.value(resource["Properties"]["PolicyDocument"])["Statement"]
        ]

    def answered(self, resource: Any, data: Mapping[str, str]) -> None:
        """Records a custom resource's answer: its ``Fn::GetAtt`` attributes resolve to ``data`` from now on."""
        logical_id = cdk.Stack.of(resource).get_logical_id(resource.node.default_child)
        for key, item in data.items():
            self.values[f"{logical_id}.{key}"] = item

    def properties(self, resource: Any) -> dict[str, Any]:
        """A resource's properties as deployed, but its ServiceToken."""
        stack = cdk.Stack.of(resource)
        resource_id = stack.get_logical_id(resource.node.default_child)
        properties = self.templates[stack.stack_name]["Resources"][resource_id]["Properties"]
        return self.value({k: v for k, v in properties.items() if k != "ServiceToken"})

    def run_properties(self, stack: cdk.Stack, run: Any) -> dict[str, Any]:
        """The run's properties as deployed; its generated role stands as ROLE_ARN."""
        resource_id = stack.get_logical_id(run.node.find_child("Resource").node.default_child)  # type: ignore[arg-type]
        properties = dict(self.templates[stack.stack_name]["Resources"][resource_id]["Properties"])
        assert run.run_role is not None
        role_id = stack.get_logical_id(run.run_role.node.default_child)  # type: ignore[arg-type]
        assert properties.pop("RoleArn") == {"Fn::GetAtt": [role_id, "Arn"]}
        properties = {k: v for k, v in properties.items() if k not in ("ServiceToken", "Tags")}
        return {**self.value(properties), "RoleArn": ROLE_ARN}
