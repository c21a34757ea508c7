"""Plain CloudFormation: the provider template in dist/, `aws cloudformation package`, and the YAML examples.

The dist build runs as the README documents it (scripts/build_provider_template.py),
`aws cloudformation package` runs for real against moto's S3, and the YAML
examples' properties, stringified as CloudFormation does, are played through
the handler unzipped from the very zip the template ships.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml
from conftest import REGION, REPO_ROOT, handler_environment
from events import as_cloudformation_sends, cfn_event, without_bookkeeping
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from synth import cfn_lint
from test_example_app import run_bundled_handler

from cdk_omics_run.provider_stack import DEFAULT_EXPORT_NAME

pytestmark = pytest.mark.slow

BUILD_SCRIPT = REPO_ROOT / "scripts" / "build_provider_template.py"
TEMPLATE_NAME = "omics-run-provider.template.json"
ZIP_NAME = "omics-run-provider.zip"
PACKAGE_BUCKET = "omics-run-packages"

# Each YAML example, and the --cli-input-json request whose StartRun it must make.
YAML_EXAMPLES = {
    "plain-cloudformation.yaml": "cram-to-bam.json",
    "plain-cloudformation-typed-parameters.yaml": "typed-parameters.json",
}


def build_dist(outdir: Path) -> Path:
    subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--outdir", str(outdir)],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return outdir


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_dist(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def unzipped_provider(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The zip's contents: what Lambda unpacks into /var/task."""
    target = tmp_path_factory.mktemp("var-task")
    with zipfile.ZipFile(dist / ZIP_NAME) as archive:
        archive.extractall(target)
    return target


def provider_template(dist: Path) -> dict[str, Any]:
    return json.loads((dist / TEMPLATE_NAME).read_text())


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def aws_cli(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "awscli", *arguments], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_build_writes_the_template_and_the_zip_side_by_side(dist: Path) -> None:
    assert sorted(p.name for p in dist.iterdir()) == [TEMPLATE_NAME, ZIP_NAME]


def test_the_template_needs_no_cdk_bootstrap_and_ships_its_code_as_the_zip_beside_it(dist: Path) -> None:
    template = provider_template(dist)
    text = json.dumps(template)

    [function] = resources_of_type(template, "AWS::Lambda::Function").values()
    assert function["Properties"]["Code"] == ZIP_NAME
    assert "Rules" not in template and "BootstrapVersion" not in template["Parameters"]
    assert "cdk-hnb659fds" not in text and "AWS::CDK::Metadata" not in text and "aws:cdk:" not in text


def policy_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for policy in resources_of_type(template, policy_type).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_template_exports_the_service_token_and_asks_for_the_run_roles(dist: Path) -> None:
    template = provider_template(dist)
    [function_id] = resources_of_type(template, "AWS::Lambda::Function")

    assert template["Parameters"] == {
        "RunRoleArns": {
            "Type": "CommaDelimitedList",
            "Description": template["Parameters"]["RunRoleArns"]["Description"],
        }
    }
    assert template["Outputs"]["ServiceToken"]["Value"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert template["Outputs"]["ServiceToken"]["Export"] == {"Name": DEFAULT_EXPORT_NAME}
    assert [s for s in policy_statements(template) if s["Action"] == "iam:PassRole"] == [{
        "Action": "iam:PassRole",
        "Condition": {"StringEquals": {"iam:PassedToService": "omics.amazonaws.com"}},
        "Effect": "Allow",
        "Resource": {"Ref": "RunRoleArns"},
        "Sid": "PassDeclaredRunRoles",
    }]  # fmt: skip


def test_the_provider_may_start_runs_of_any_workflow_and_continue_waits(dist: Path) -> None:
    # Its runs are declared in other templates: nothing names their workflows at build time.
    statements = policy_statements(provider_template(dist))
    [function_id] = resources_of_type(provider_template(dist), "AWS::Lambda::Function")

    [start_runs] = [s for s in statements if s.get("Sid") == "StartRunsOfAnyTemplate"]
    assert start_runs["Action"] == "omics:StartRun"
    assert sorted(part[-1] for part in (r["Fn::Join"][1] for r in start_runs["Resource"])) == [
        ":*:workflow/*",
        ":configuration/*",
        ":runCache/*",
        ":runGroup/*",
    ]
    # Each run names its own stack; IAM requires that it names one.
    assert start_runs["Condition"] == {"Null": {"aws:RequestTag/cdk-omics-run:stack": "false"}}
    # Hand-written templates may wait: the wake-up queue feeds the function.
    [mapping] = resources_of_type(provider_template(dist), "AWS::Lambda::EventSourceMapping")
    template = provider_template(dist)
    assert template["Resources"][mapping]["Properties"]["FunctionName"] == {"Ref": function_id}
    assert not [s for s in statements if s["Action"] == "lambda:InvokeFunction"]


def test_cfn_lint_finds_nothing_but_the_code_left_for_aws_cloudformation_package(dist: Path) -> None:
    returncode, report = cfn_lint(dist / TEMPLATE_NAME)

    # W3002 is cfn-lint recognising the local code path that `package` uploads.
    assert (returncode, [line for line in report.splitlines() if line and not line.startswith(str(dist))]) == (
        4,
        ["W3002 This code may only work with 'package' cli command"],
    )


def test_the_zip_holds_the_bundled_provider_with_fixed_timestamps_and_modes(dist: Path) -> None:
    with zipfile.ZipFile(dist / ZIP_NAME) as archive:
        entries = archive.infolist()

    names = [entry.filename for entry in entries]
    assert names == sorted(names)
    assert {name.split("/")[0] for name in names} == {"crhelper", "omics_run", "omics_run_handler.py", "service_models"}
    assert {"omics_run_handler.py", "omics_run/lifecycle.py", "crhelper/LICENSE"} <= set(names)
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert {(entry.date_time, entry.external_attr >> 16) for entry in entries} == {((1980, 1, 1, 0, 0, 0), 0o100644)}


def test_building_again_gives_the_same_bytes(dist: Path, tmp_path: Path) -> None:
    again = build_dist(tmp_path / "again")

    for name in (TEMPLATE_NAME, ZIP_NAME):
        assert (again / name).read_bytes() == (dist / name).read_bytes(), name


def test_aws_cloudformation_package_uploads_the_zip_and_writes_its_s3_location(
    dist: Path, tmp_path: Path, response_bucket: ResponseBucket
) -> None:
    s3 = response_bucket._s3()
    s3.create_bucket(Bucket=PACKAGE_BUCKET)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        # `package` ignores --endpoint-url (awscli v1 builds its own S3
        # client); the SDK's service-specific endpoint setting reaches it.
        "AWS_ENDPOINT_URL_S3": response_bucket.endpoint_url,
    }
    packaged = tmp_path / "packaged.template.json"

    result = aws_cli(
        "cloudformation", "package", "--template-file", str(dist / TEMPLATE_NAME), "--s3-bucket", PACKAGE_BUCKET,
        "--output-template-file", str(packaged), "--use-json", "--ca-bundle", response_bucket.ca_file,
        env=env,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    template = json.loads(packaged.read_text())
    [function] = resources_of_type(template, "AWS::Lambda::Function").values()
    zip_bytes = (dist / ZIP_NAME).read_bytes()
    # The key is the zip's MD5: a provider whose code is unchanged keeps its S3 object.
    assert function["Properties"]["Code"] == {"S3Bucket": PACKAGE_BUCKET, "S3Key": hashlib.md5(zip_bytes).hexdigest()}
    uploaded = s3.get_object(Bucket=PACKAGE_BUCKET, Key=function["Properties"]["Code"]["S3Key"])["Body"].read()
    assert uploaded == zip_bytes
    assert cfn_lint(packaged) == (0, "")


@pytest.mark.parametrize("example", sorted(YAML_EXAMPLES))
def test_the_yaml_example_passes_cfn_lint(example: str) -> None:
    assert cfn_lint(REPO_ROOT / "examples" / example) == (0, "")


def yaml_example_run(example: str) -> tuple[str, dict[str, Any]]:
    """The logical ID and properties of the example's run, intrinsic functions in their JSON form."""
    template = json.loads(json.dumps(cfn_yaml.loads((REPO_ROOT / "examples" / example).read_text())))
    [(logical_id, run)] = resources_of_type(template, "Custom::OmicsRun").items()
    return logical_id, dict(run["Properties"])


def play_create(
    logical_id: str, properties: dict[str, Any], unzipped_provider: Path, omics: OmicsStandIn, bucket: ResponseBucket
) -> dict[str, Any]:
    """Plays a Create through the shipped handler; returns the StartRun body it sent."""
    key = f"responses/{uuid.uuid4()}"
    # cfn_event stringifies every scalar, as CloudFormation does.
    event = cfn_event("Create", properties, response_url=bucket.presigned_response_url(key), logical_id=logical_id)
    run_bundled_handler(unzipped_provider, event, handler_environment(omics, bucket))
    assert bucket.wait_for_response(key)["Status"] == "SUCCESS"
    [body] = omics.start_run_bodies()
    return body


@pytest.mark.parametrize("example", sorted(YAML_EXAMPLES))
def test_the_yaml_example_makes_the_start_run_request_of_its_cli_input_json_through_the_shipped_zip(
    example: str, unzipped_provider: Path, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    logical_id, properties = yaml_example_run(example)
    # The ServiceToken is the provider stack's export; CloudFormation resolves it.
    assert properties.pop("ServiceToken") == {"Fn::ImportValue": DEFAULT_EXPORT_NAME}

    body = play_create(logical_id, properties, unzipped_provider, omics, response_bucket)

    assert without_bookkeeping(body) == json.loads((REPO_ROOT / "examples" / YAML_EXAMPLES[example]).read_text())


def test_parameters_written_as_a_yaml_object_reach_the_workflow_as_strings(
    unzipped_provider: Path, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    # What the README and the typed example warn about: the reason for the JSON string form.
    logical_id, properties = yaml_example_run("plain-cloudformation.yaml")
    properties.pop("ServiceToken")
    typed = {"sample_name": "NA12878", "threads": 16, "emit_gvcf": True}

    body = play_create(logical_id, {**properties, "Parameters": typed}, unzipped_provider, omics, response_bucket)

    assert (
        body["parameters"]
        == as_cloudformation_sends(typed)
        == {"sample_name": "NA12878", "threads": "16", "emit_gvcf": "true"}
    )
    assert body["priority"] == 1 and body["storageCapacity"] == 10  # StartRun's own members get their types back


def test_the_waiting_yaml_example_passes_cfn_lint_and_its_run_starts_a_wait_through_the_shipped_zip(
    unzipped_provider: Path, omics: OmicsStandIn, response_bucket: ResponseBucket, sqs: Any, wake_queue: str
) -> None:
    example = REPO_ROOT / "examples" / "plain-cloudformation-waiting.yaml"
    assert cfn_lint(example) == (0, "")
    template = json.loads(json.dumps(cfn_yaml.loads(example.read_text())))
    [(logical_id, run)] = resources_of_type(template, "Custom::OmicsRun").items()
    [condition] = resources_of_type(template, "AWS::CloudFormation::WaitCondition").values()
    properties = dict(run["Properties"])
    properties.pop("ServiceToken")
    assert properties["WaitHandle"] == condition["Properties"]["Handle"] == {"Ref": "AlignHandle"}
    assert str(properties["WaitTimeout"]) == condition["Properties"]["Timeout"]
    assert condition["DependsOn"] == logical_id
    properties["WaitHandle"] = response_bucket.presigned_response_url(f"handles/{uuid.uuid4()}")
    key = f"responses/{uuid.uuid4()}"
    event = cfn_event(
        "Create", properties, response_url=response_bucket.presigned_response_url(key), logical_id=logical_id
    )

    environment = handler_environment(omics, response_bucket, wake_queue=wake_queue)
    run_bundled_handler(unzipped_provider, event, environment)

    assert response_bucket.wait_for_response(key)["Status"] == "SUCCESS"
    [body] = omics.start_run_bodies()
    assert "cdk-omics-run:wait" in body["tags"]
    queued = sqs.get_queue_attributes(QueueUrl=wake_queue, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert queued["Attributes"]["ApproximateNumberOfMessagesDelayed"] == "1"  # the first wake, 60 s away


def test_the_batch_yaml_example_makes_the_start_run_batch_request_of_its_cli_input_json_through_the_shipped_zip(
    unzipped_provider: Path, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    template = json.loads(
        json.dumps(cfn_yaml.loads((REPO_ROOT / "examples" / "plain-cloudformation-batch.yaml").read_text()))
    )
    [(logical_id, batch)] = resources_of_type(template, "Custom::OmicsRunBatch").items()
    properties = dict(batch["Properties"])
    assert properties.pop("ServiceToken") == {"Fn::ImportValue": DEFAULT_EXPORT_NAME}
    key = f"responses/{uuid.uuid4()}"
    event = cfn_event(
        "Create", properties, response_url=response_bucket.presigned_response_url(key), logical_id=logical_id,
        resource_type="Custom::OmicsRunBatch",
    )  # fmt: skip

    run_bundled_handler(unzipped_provider, event, handler_environment(omics, response_bucket))

    answer = response_bucket.wait_for_response(key)
    assert answer["Status"] == "SUCCESS" and answer["Data"]["TotalRuns"] == "3"
    [body] = [r.body for r in omics.requests if r.operation == "StartRunBatch"]
    assert body is not None
    declared = json.loads((REPO_ROOT / "examples" / "cohort-batch.json").read_text())
    assert {k: v for k, v in body["tags"].items() if not k.startswith("cdk-omics-run:")} == declared["tags"]
    assert body["defaultRunSetting"]["runTags"].pop("cdk-omics-run:stack") == event["StackId"]
    assert {k: v for k, v in body.items() if k not in ("tags", "requestId")} == {
        k: v for k, v in declared.items() if k != "tags"
    }
