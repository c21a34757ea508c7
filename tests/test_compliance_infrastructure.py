"""Compliance: the provider's options (KMS, VPC, concurrency, dead letters), cdk-nag's packs and checkov.

examples/compliant.py must pass cdk-nag's AwsSolutions, HIPAA Security and
NIST 800-53 R5 packs and checkov's CloudFormation scan, with every
acknowledgement listed here with its reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks
from conftest import REPO_ROOT, load_module
from synth import cfn_lint, synth_app, template_of

from cdk_omics_run import ArgumentError, OmicsRun, OmicsRunProvider, WaitFor

STACK = "OmicsCompliant"
COMPLIANT_APP = REPO_ROOT / "examples" / "compliant.py"
ROLE = "arn:aws:iam::123456789012:role/omics-run"
REQUIRED: dict[str, Any] = {"workflow_id": "1234567", "role_arn": ROLE, "output_uri": "s3://results-bucket/runs/"}
NAG_PACKS = (AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks)
NAG_RULE_PREFIXES = ("AwsSolutions::", "HIPAA.Security::", "NIST.800.53.R5::")


def compliant_example() -> ModuleType:
    return load_module(COMPLIANT_APP)


def new_app(outdir: Path | None = None) -> cdk.App:
    return cdk.App(context={"aws:cdk:bundling-stacks": []}, outdir=None if outdir is None else str(outdir))


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def logical_id(construct: Any) -> str:
    return str(cdk.Stack.of(construct).get_logical_id(construct.node.default_child))


def nag_findings(app: cdk.App) -> list[str]:
    """Runs the three packs over ``app``; returns each unacknowledged finding as ``rule construct-path``."""
    for pack in NAG_PACKS:
        cdk.Validations.of(app).add_plugins(pack(app))
    try:
        app.synth()
    except RuntimeError:
        report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
        return sorted(
            f"{violation['ruleName']} {construct['constructPath']}"
            for plugin in report["pluginReports"]
            if plugin["conclusion"] == "failure"
            for violation in plugin["violations"]
            for construct in violation["violatingConstructs"]
        )
    return []


# --- examples/compliant.py under cdk-nag


def test_the_compliant_example_passes_aws_solutions_hipaa_security_and_nist_800_53_r5(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    compliant_example().build_compliant(app)

    assert nag_findings(app) == []


def test_cdk_nag_as_run_here_reports_what_the_options_fix_on_a_stack_without_them(tmp_path: Path) -> None:
    # A negative control, and what configure() is for: the default provider's only findings.
    app = new_app(tmp_path)
    OmicsRun(cdk.Stack(app, "Plain"), "Run", **REQUIRED, wait_for=WaitFor.COMPLETED)

    assert nag_findings(app) == sorted(
        f"{pack}-{rule} Plain/OmicsRunProvider/{path}"
        for pack in ("HIPAA.Security", "NIST.800.53.R5")
        for rule, path in (
            ("CloudWatchLogGroupEncrypted", "LogGroup/Resource"),
            ("LambdaConcurrency", "Function/Resource"),  # none reserved by default: it fails on low quotas
            ("LambdaInsideVPC", "Function/Resource"),
        )
    )


# Every cdk-nag acknowledgement in the compliant stack: (construct path, rule) -> reason. All are
# AwsSolutions-IAM5 wildcards that no option removes; the HIPAA and NIST packs need none.
EXPECTED_ACKNOWLEDGEMENTS = {
    ("OmicsCompliant/OmicsRunProvider/Role/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::<OmicsRunProviderLogGroup5A127C4F.Arn>:*]"):
        "log streams of the provider's own log group, which Lambda names at run time",
    ("OmicsCompliant/OmicsRunProvider/Role/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:omics:<AWS::Region>:<AWS::AccountId>:run/*]"):
        "run IDs are assigned by HealthOmics at deploy time; IAM allows only runs tagged cdk-omics-run:stack with "
        "this stack, and the handler acts only on runs whose cdk-omics-run:owner tag names the resource",
    ("OmicsCompliant/OmicsRunProvider/Role/NetworkPolicy", "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]"):
        "Lambda creates and deletes the function's network interfaces, whose IDs EC2 assigns at run time; "
        "creation is limited to the function's subnets and security groups",
    ("OmicsCompliant/OmicsRunProvider/Role/NetworkPolicy", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"):
        "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions "
        "(Service Authorization Reference); Lambda needs them to attach the function to the VPC",
    ("OmicsCompliant/Align/RunRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::omics-artifacts-01d6xmpl4e72dd32/compliant/align/*]"):
        "HealthOmics writes the run's outputs under the output URI, in keys named at run time",
    ("OmicsCompliant/Align/RunRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/omics/WorkflowLog:*]"):
        "HealthOmics writes run logs to its fixed log group /aws/omics/WorkflowLog",
    ("OmicsCompliant/Align/RunRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/omics/WorkflowLog:log-stream:*]"):
        "HealthOmics names one log stream per run and task at run time",
    ("OmicsCompliant/Align/RunRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*]"):
        "a private workflow's container images live in ECR repositories its definition names, which HealthOmics "
        "resolves at run time",
}  # fmt: skip

# Every checkov skip in the compliant template: (logical ID, check) -> reason. All are on aws-cdk-lib's
# own function behind ec2.Vpc(restrict_default_security_group=True), which has no setting for them.
EXPECTED_CHECKOV_SKIPS = {
    ("CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E", "CKV_AWS_115"):
        "aws-cdk-lib's handler that closes the VPC's default security group runs once per deployment of the VPC; "
        "aws-cdk-lib has no concurrency setting for it",
    ("CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E", "CKV_AWS_116"):
        "aws-cdk-lib's handler that closes the VPC's default security group is invoked by CloudFormation, which "
        "reports its failure in the deployment; aws-cdk-lib has no dead-letter queue setting for it",
    ("CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E", "CKV_AWS_117"):
        "aws-cdk-lib's handler that closes the VPC's default security group calls the EC2 API while the VPC "
        "deploys, before it has endpoints; aws-cdk-lib has no VPC setting for it",
}  # fmt: skip


def test_every_acknowledgement_in_the_compliant_example_is_one_rule_on_one_construct_with_its_reason() -> None:
    stack = compliant_example().build_compliant(new_app())

    acknowledged = {
        (construct.node.path, rule): reason
        for construct in stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
        for rule, reason in entry.data.items()
        if rule.startswith(NAG_RULE_PREFIXES)
    }
    assert acknowledged == EXPECTED_ACKNOWLEDGEMENTS


# --- examples/compliant.py as CloudFormation: checkov, cfn-lint, and what the options render


@pytest.fixture(scope="module")
def compliant_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python examples/compliant.py``, as the CDK CLI runs it."""
    return synth_app(COMPLIANT_APP, tmp_path_factory.mktemp("compliant-out"))


@pytest.fixture(scope="module")
def compliant(compliant_out: Path) -> dict[str, Any]:
    return template_of(compliant_out, STACK)


def test_every_checkov_skip_in_the_compliant_template_is_listed_with_its_reason(compliant: dict[str, Any]) -> None:
    skips = {
        (resource_id, skip["id"]): skip["comment"]
        for resource_id, resource in compliant["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }

    assert skips == EXPECTED_CHECKOV_SKIPS


def test_the_compliant_template_passes_cfn_lint(compliant_out: Path) -> None:
    assert cfn_lint(compliant_out / f"{STACK}.template.json") == (0, "")


def test_the_compliant_provider_encrypts_its_log_group_environment_and_queues_with_the_key(
    compliant: dict[str, Any],
) -> None:
    [key_id] = of_type(compliant, "AWS::KMS::Key")
    key_arn = {"Fn::GetAtt": [key_id, "Arn"]}
    [provider_logs] = [r for k, r in of_type(compliant, "AWS::Logs::LogGroup").items() if k.startswith("OmicsRun")]
    [function] = [r for k, r in of_type(compliant, "AWS::Lambda::Function").items() if k.startswith("OmicsRun")]
    queues = of_type(compliant, "AWS::SQS::Queue")

    assert provider_logs["Properties"]["KmsKeyId"] == key_arn
    assert function["Properties"]["KmsKeyArn"] == key_arn
    # The function's dead-letter queue, the wake-up queue and its dead-letter queue.
    assert sorted(k[: -len("E4F8CC6D")] for k in queues) == [
        "OmicsRunProviderDeadLetterQueue", "OmicsRunProviderWaitDeadLetters", "OmicsRunProviderWaits",
    ]  # fmt: skip
    assert all(q["Properties"]["KmsMasterKeyId"] == key_arn for q in queues.values())
    assert not any("SqsManagedSseEnabled" in q["Properties"] for q in queues.values())
    assert compliant["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True


def test_the_compliant_provider_runs_in_the_isolated_subnets_with_a_dead_letter_queue_and_reserved_concurrency(
    compliant: dict[str, Any],
) -> None:
    [(function_id, function)] = [
        (k, r) for k, r in of_type(compliant, "AWS::Lambda::Function").items() if k.startswith("OmicsRun")
    ]
    [dead_letters] = [k for k in of_type(compliant, "AWS::SQS::Queue") if k.startswith("OmicsRunProviderDeadLetter")]
    [group] = [k for k in of_type(compliant, "AWS::EC2::SecurityGroup") if k.startswith("OmicsRunProviderSecurity")]
    subnets = sorted(k for k in of_type(compliant, "AWS::EC2::Subnet"))

    assert function["Properties"]["VpcConfig"] == {
        "SecurityGroupIds": [{"Fn::GetAtt": [group, "GroupId"]}],
        "SubnetIds": [{"Ref": subnet} for subnet in subnets],
    }
    assert len(subnets) == 2 and all("Isolated" in subnet for subnet in subnets)
    assert function["Properties"]["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]}}
    assert function["Properties"]["ReservedConcurrentExecutions"] == 10
    # Endpoints exist before the function, and so before any run's request.
    endpoints = of_type(compliant, "AWS::EC2::VPCEndpoint")
    assert set(endpoints) <= set(compliant["Resources"][function_id]["DependsOn"])
    assert sorted(e["Properties"]["ServiceName"]["Fn::Join"][1][-1] for e in endpoints.values()) == [
        ".cloudformation", ".s3", ".sqs", ".tags-omics", ".workflows-omics",
    ]  # fmt: skip


# --- checkov, offline, from its own virtualenv

# checkov pins boto3 1.35, networkx<2.7 and packaging<24, which conflict with requirements-dev.txt's pins:
# it gets a virtualenv of its own, built once from requirements-checkov.txt under the user's cache.
CHECKOV_REQUIREMENTS = REPO_ROOT / "requirements-checkov.txt"


def checkov_python() -> Path:
    """The Python of a virtualenv holding requirements-checkov.txt, created on first use (PyPI, about a minute)."""
    digest = hashlib.sha256(CHECKOV_REQUIREMENTS.read_bytes() + sys.version.encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cdk-omics-run"
    venv = cache / f"checkov-{digest}"
    python = venv / "bin" / "python"
    if not python.exists():
        building = cache / f"checkov-{digest}.building-{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, capture_output=True, timeout=120)
        installed = subprocess.run(
            [str(building / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(CHECKOV_REQUIREMENTS)],
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert installed.returncode == 0, f"installing checkov failed:\n{installed.stderr[-3000:]}"
        try:
            building.rename(venv)  # atomic; `python -m` runs from a moved virtualenv
        except OSError:
            shutil.rmtree(building, ignore_errors=True)  # another run got there first
    return python


def checkov_scan(template: Path) -> dict[str, Any]:
    """checkov's CloudFormation scan of one template, as JSON, without reaching Prisma Cloud's API.

    Offline by three means: no API key in the environment (so no platform run), ``--skip-download``
    (no policies or guidelines downloaded), and ``BC_SKIP_MAPPING=TRUE`` (no check-to-guideline mapping
    fetched). Should any request still be tried, the proxy, a closed port on this machine, refuses it.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "CKV_", "PRISMA_"))}
    env.update({"BC_SKIP_MAPPING": "TRUE", "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})
    result = subprocess.run(
        [str(checkov_python()), "-m", "checkov.main", "--file", str(template), "--framework", "cloudformation",
         "--skip-download", "--output", "json", "--compact"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-3000:]  # 1: some check failed
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


@pytest.mark.slow
def test_checkov_finds_no_failed_check_in_the_compliant_template(compliant_out: Path) -> None:
    report = checkov_scan(compliant_out / f"{STACK}.template.json")

    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    skipped = {(c["resource"].split(".")[1], c["check_id"]) for c in report["results"]["skipped_checks"]}
    assert failed == []
    assert skipped == set(EXPECTED_CHECKOV_SKIPS)
    assert report["summary"]["passed"] > 50  # the scan ran its checks


@pytest.mark.slow
def test_checkov_as_run_here_does_fail_a_provider_left_unconfigured(tmp_path: Path) -> None:
    # A negative control: the offline scan runs its checks. The defaults pass dead letters.
    app = new_app(tmp_path)
    OmicsRun(cdk.Stack(app, "Plain"), "Run", **REQUIRED)
    app.synth()

    report = checkov_scan(tmp_path / "Plain.template.json")

    failed = {(c["check_id"], c["resource"].split(".")[0]) for c in report["results"]["failed_checks"]}
    assert failed == {
        ("CKV_AWS_115", "AWS::Lambda::Function"),  # no reserved concurrency by default
        ("CKV_AWS_117", "AWS::Lambda::Function"),  # not in a VPC
        ("CKV_AWS_173", "AWS::Lambda::Function"),  # environment without a KMS key
        ("CKV_AWS_158", "AWS::Logs::LogGroup"),  # log group without a KMS key
        ("CKV_AWS_27", "AWS::SQS::Queue"),  # the dead-letter queue: checkov counts only KMS
    }


# --- OmicsRunProvider.configure


def new_stack() -> cdk.Stack:
    return cdk.Stack(new_app(), "Stack")


def test_configure_before_the_first_run_sets_up_the_provider_the_runs_share() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)

    provider = OmicsRunProvider.configure(stack, encryption_key=key, reserved_concurrent_executions=5)
    OmicsRun(stack, "Run", **REQUIRED)

    assert OmicsRunProvider.of(stack) is provider
    assert OmicsRunProvider.configure(stack, encryption_key=key, reserved_concurrent_executions=5) is provider
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties("AWS::Lambda::Function", {"ReservedConcurrentExecutions": 5})


def test_configuring_again_with_other_settings_is_an_error_naming_both() -> None:
    stack = new_stack()
    key, other = kms.Key(stack, "Key"), kms.Key(stack, "Other")
    OmicsRunProvider.configure(stack, encryption_key=key)

    with pytest.raises(ArgumentError) as caught:
        OmicsRunProvider.configure(stack, encryption_key=other, dead_letter_queue=False)

    assert str(caught.value) == (
        "Stack/OmicsRunProvider: OmicsRunProvider.configure: the stack's provider already exists with "
        "encryption_key=Stack/Key, dead_letter_queue=True; asked for encryption_key=Stack/Other, "
        "dead_letter_queue=False. Configure it once, before the stack's first OmicsRun"
    )


def test_configuring_after_a_run_created_the_provider_with_the_defaults_is_an_error() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED)

    with pytest.raises(ArgumentError, match=r"already exists with reserved_concurrent_executions=None; asked for "
                                            r"reserved_concurrent_executions=10\."):  # fmt: skip
        OmicsRunProvider.configure(stack, reserved_concurrent_executions=10)
    # The same settings as the defaults are no conflict.
    assert OmicsRunProvider.configure(stack) is OmicsRunProvider.of(stack)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"reserved_concurrent_executions": 2}, "argument reserved_concurrent_executions: got 2; allowed: None (no "
         "reservation) or an integer of at least 3 (2 for the waits' wake-ups and one for CloudFormation's requests)"),
        ({"reserved_concurrent_executions": True}, "argument reserved_concurrent_executions: got True;"),
        ({"vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)},
         "argument vpc_subnets: given without vpc; allowed only with vpc"),
        ({"create_vpc_endpoints": True}, "argument create_vpc_endpoints: given without vpc; allowed only with vpc"),
    ],
)  # fmt: skip
def test_configure_rejects_settings_the_provider_cannot_have(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ArgumentError) as caught:
        OmicsRunProvider.configure(new_stack(), **arguments)

    assert str(caught.value).startswith(f"Stack/OmicsRunProvider: {message}")


# --- what each option renders


def test_by_default_the_provider_has_no_reserved_concurrency_and_an_sse_sqs_dead_letter_queue_for_tls_only() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED)
    template = Template.from_stack(stack).to_json()
    provider = OmicsRunProvider.of(stack)

    [function] = of_type(template, "AWS::Lambda::Function").values()
    dead_letters = logical_id(provider.dead_letter_queue)
    assert "ReservedConcurrentExecutions" not in function["Properties"]  # it would not deploy on a low quota
    assert function["Properties"]["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]}}
    assert "KmsKeyArn" not in function["Properties"] and "VpcConfig" not in function["Properties"]
    queue = template["Resources"][dead_letters]["Properties"]
    assert (queue["SqsManagedSseEnabled"], queue["MessageRetentionPeriod"]) == (True, 14 * 24 * 3600)
    [queue_policy] = of_type(template, "AWS::SQS::QueuePolicy").values()
    [statement] = queue_policy["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    [policy] = of_type(template, "AWS::IAM::ManagedPolicy").values()
    assert {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": {"Fn::GetAtt": [dead_letters, "Arn"]}} in (
        policy["Properties"]["PolicyDocument"]["Statement"]
    )


def test_without_a_dead_letter_queue_or_reserved_concurrency_the_function_has_neither() -> None:
    stack = new_stack()
    OmicsRunProvider.configure(stack, dead_letter_queue=False, reserved_concurrent_executions=None)
    OmicsRun(stack, "Run", **REQUIRED)
    template = Template.from_stack(stack).to_json()

    [function] = of_type(template, "AWS::Lambda::Function").values()
    assert "DeadLetterConfig" not in function["Properties"]
    assert "ReservedConcurrentExecutions" not in function["Properties"]
    assert of_type(template, "AWS::SQS::Queue") == {}
    assert OmicsRunProvider.of(stack).dead_letter_queue is None


def test_the_key_lets_cloudwatch_logs_use_it_and_the_role_use_it_for_the_queues() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    OmicsRunProvider.configure(stack, encryption_key=key)
    OmicsRun(stack, "Run", **REQUIRED, wait_for=WaitFor.COMPLETED)
    template = Template.from_stack(stack).to_json()
    key_arn = {"Fn::GetAtt": [logical_id(key), "Arn"]}

    statements = template["Resources"][logical_id(key)]["Properties"]["KeyPolicy"]["Statement"]
    [for_logs] = [s for s in statements if "logs." in json.dumps(s.get("Principal", {}))]
    assert for_logs["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    assert for_logs["Action"] == [
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:Describe*",
    ]
    assert for_logs["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, ":logs:", {"Ref": "AWS::Region"}, ":", {"Ref": "AWS::AccountId"},
        ":log-group:*"]]}}}  # fmt: skip
    [policy] = of_type(template, "AWS::IAM::ManagedPolicy").values()
    [use_key] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "UseEncryptionKey"]
    assert use_key == {"Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Effect": "Allow", "Resource": key_arn,
                       "Sid": "UseEncryptionKey"}  # fmt: skip
    [log_group] = of_type(template, "AWS::Logs::LogGroup").values()
    assert log_group["Properties"]["KmsKeyId"] == key_arn
    queues = of_type(template, "AWS::SQS::Queue").values()
    assert len(queues) == 3 and all(q["Properties"]["KmsMasterKeyId"] == key_arn for q in queues)


def test_the_key_lets_eventbridge_deliver_the_runs_status_changes_to_the_encrypted_wake_queue() -> None:
    from test_iam_authorization import ACCOUNT, REGION, allows, concrete

    stack = new_stack()
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    provider = OmicsRunProvider.configure(stack, encryption_key=key)
    OmicsRun(stack, "Run", **REQUIRED, wait_for=WaitFor.COMPLETED)
    template = Template.from_stack(stack).to_json()
    statements = concrete(template["Resources"][logical_id(key)]["Properties"]["KeyPolicy"]["Statement"])
    for_events = [s for s in statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    rule_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{logical_id(provider.run_status_changes)}"

    # What EventBridge asks of the key to send to an encrypted queue (Amazon SQS Developer Guide).
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert allows(for_events, action, "*", {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": rule_arn})
        # Only on behalf of this account's rules.
        assert not allows(for_events, action, "*", {"aws:SourceAccount": "111122223333", "aws:SourceArn": rule_arn})
    assert not allows(for_events, "kms:Encrypt", "*", {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": rule_arn})
    assert of_type(template, "AWS::SQS::Queue")[logical_id(provider.wait_queue)]["Properties"]["KmsMasterKeyId"] == {
        "Fn::GetAtt": [logical_id(key), "Arn"]
    }


def test_an_imported_key_is_used_and_its_key_policy_left_to_the_user_with_a_warning() -> None:
    stack = new_stack()
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    provider = OmicsRunProvider.configure(stack, encryption_key=key)
    OmicsRun(stack, "Run", **REQUIRED)

    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::Logs::LogGroup", {"KmsKeyId": key.key_arn})
    warnings = [m for m in provider.node.metadata if m.type == "aws:cdk:warning"]
    assert [w.data for w in warnings] == [
        "encryption_key is imported, so its key policy is not changed here: it must let logs.<region>.amazonaws.com "
        "use the key for the provider's log group (docs/security.md: Compliance) [ack: cdk-omics-run:importedEncryptionKey]"
    ]


def vpc_stack(**options: Any) -> tuple[cdk.Stack, ec2.Vpc]:
    stack = new_stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])  # fmt: skip
    OmicsRunProvider.configure(stack, vpc=vpc, **options)
    return stack, vpc


def test_in_a_vpc_the_role_may_manage_network_interfaces_only_in_the_functions_subnets_and_groups() -> None:
    stack, vpc = vpc_stack()
    OmicsRun(stack, "Run", **REQUIRED)
    template = Template.from_stack(stack).to_json()
    provider = OmicsRunProvider.of(stack)

    [group] = provider.security_groups
    rules = template["Resources"][logical_id(group)]["Properties"]
    assert "SecurityGroupIngress" not in rules
    assert rules["SecurityGroupEgress"] == [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS to HealthOmics, SQS and "
                                             "S3 (endpoints or NAT)", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}]  # fmt: skip
    policies = of_type(template, "AWS::IAM::ManagedPolicy")
    assert len(policies) == 2 and not of_type(template, "AWS::IAM::Policy")
    [network] = [p for k, p in policies.items() if k.startswith("OmicsRunProviderRoleNetworkPolicy")]
    by_sid = {s["Sid"]: s for s in network["Properties"]["PolicyDocument"]["Statement"]}
    created_in = json.dumps(by_sid["CreateNetworkInterfaces"]["Resource"])
    assert created_in.count(":subnet/") == 2 and created_in.count(":security-group/") == 1
    assert all(json.dumps({"Ref": logical_id(s)}) in created_in for s in vpc.isolated_subnets)
    assert by_sid["DescribeNetworkInterfaces"]["Resource"] == "*"
    assert by_sid["DescribeNetworkInterfaces"]["Action"] == ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]
    assert "network-interface/*" in json.dumps(by_sid["ManageNetworkInterfaces"]["Resource"])
    # No endpoint unless asked for, and no AWS-managed policy (CDK's default for a function it gives a role).
    assert of_type(template, "AWS::EC2::VPCEndpoint") == {}
    [role] = of_type(template, "AWS::IAM::Role").values()
    assert "ManagedPolicyArns" not in role["Properties"]


def test_given_security_groups_and_subnets_are_the_functions() -> None:
    stack = new_stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=1)
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc)
    OmicsRunProvider.configure(
        stack, vpc=vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        security_groups=[group],
    )  # fmt: skip
    OmicsRun(stack, "Run", **REQUIRED)

    [function] = of_type(Template.from_stack(stack).to_json(), "AWS::Lambda::Function").values()
    assert function["Properties"]["VpcConfig"] == {
        "SecurityGroupIds": [{"Fn::GetAtt": [logical_id(group), "GroupId"]}],
        "SubnetIds": [{"Ref": logical_id(s)} for s in vpc.private_subnets],
    }


def test_created_endpoints_admit_https_from_the_function_only_and_sqs_and_cloudformation_come_with_the_first_wait() -> (
    None
):
    stack, _ = vpc_stack(create_vpc_endpoints=True)
    OmicsRun(stack, "Run", **REQUIRED)
    services = sorted(
        e["Properties"]["ServiceName"]["Fn::Join"][1][-1]
        for e in of_type(Template.from_stack(stack).to_json(), "AWS::EC2::VPCEndpoint").values()
    )
    assert services == [".s3", ".tags-omics", ".workflows-omics"]

    stack, _ = vpc_stack(create_vpc_endpoints=True)
    OmicsRun(stack, "Run", **REQUIRED, wait_for=WaitFor.RUNNING)
    template = Template.from_stack(stack).to_json()
    provider = OmicsRunProvider.of(stack)

    endpoints = of_type(template, "AWS::EC2::VPCEndpoint")
    assert sorted(e["Properties"]["ServiceName"]["Fn::Join"][1][-1] for e in endpoints.values()) == [
        ".cloudformation", ".s3", ".sqs", ".tags-omics", ".workflows-omics",
    ]  # fmt: skip
    interfaces = [e["Properties"] for e in endpoints.values() if e["Properties"]["VpcEndpointType"] == "Interface"]
    assert all(e["PrivateDnsEnabled"] is True for e in interfaces)
    [endpoint_group] = {json.dumps(e["SecurityGroupIds"]) for e in interfaces}
    [ingress] = of_type(template, "AWS::EC2::SecurityGroupIngress").values()
    assert ingress["Properties"]["SourceSecurityGroupId"] == {
        "Fn::GetAtt": [logical_id(provider.security_groups[0]), "GroupId"]
    }
    assert (ingress["Properties"]["FromPort"], ingress["Properties"]["ToPort"]) == (443, 443)
    assert json.dumps(ingress["Properties"]["GroupId"]) in endpoint_group
    [function] = [r for r in of_type(template, "AWS::Lambda::Function").values()]
    assert set(endpoints) <= set(function["DependsOn"])


def test_statements_added_to_the_role_land_in_its_one_managed_policy() -> None:
    stack = new_stack()
    OmicsRun(stack, "Run", **REQUIRED)
    provider = OmicsRunProvider.of(stack)

    provider.role.add_to_policy(
        iam.PolicyStatement(sid="Extra", actions=["s3:GetObject"], resources=["arn:aws:s3:::b/k"])
    )

    template = Template.from_stack(stack).to_json()
    [(policy_id, policy)] = of_type(template, "AWS::IAM::ManagedPolicy").items()
    assert policy_id == logical_id(provider.role.policy) == logical_id(provider.policy)
    assert "Extra" in {s.get("Sid") for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert policy["Properties"]["Roles"] == [{"Ref": logical_id(provider.role)}]
    assert of_type(template, "AWS::IAM::Policy") == {}
