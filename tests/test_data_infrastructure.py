"""Data the CDK way: buckets, assets and other stacks' values as a run's inputs and outputs, with grants that follow.

The run role's policy is evaluated as IAM evaluates it (the evaluator of
test_iam_authorization), with every reference replaced by what it names once deployed:
a bucket's name, a key's ARN, and another stack's export by the value it exports.
"""

from __future__ import annotations

import datetime
import decimal
import json
import warnings
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from events import invoke_handler
from support.deployed import ROLE_ARN, Deployed
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from synth import cfn_lint, nag
from test_iam_authorization import ACCOUNT, REGION, allows

from cdk_omics_run import ArgumentError, OmicsRun, OmicsRunBatch, RunSetting

# The second: server access logs granted by a bucket policy, not the legacy ACL that cfn-lint flags (W3045).
NO_BUNDLING = {"aws:cdk:bundling-stacks": [], "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}
READ = "s3:GetObject"
WRITE = "s3:PutObject"


def new_app(tmp_path: Path | None = None) -> cdk.App:
    return cdk.App(context=NO_BUNDLING, outdir=None if tmp_path is None else str(tmp_path))


def may(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    return allows(statements, action, resource, {})


def test_a_bucket_of_the_app_is_an_output_location_and_the_role_writes_only_its_prefix(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app = new_app()
    stack = cdk.Stack(app, "Genomics")
    bucket = s3.Bucket(stack, "Results")
    run = OmicsRun(stack, "Align", workflow_id="1234567", output_uri=bucket.s3_url_for_object("align/"))

    deployed = Deployed(app, {bucket: "results-bucket-1"})
    policy = deployed.role_statements(stack, run)
    assert may(policy, WRITE, "arn:aws:s3:::results-bucket-1/align/NA12878.bam")
    assert not may(policy, WRITE, "arn:aws:s3:::results-bucket-1/calls/NA12878.vcf")
    assert not may(policy, WRITE, "arn:aws:s3:::other-bucket/align/NA12878.bam")
    assert not may(policy, READ, "arn:aws:s3:::results-bucket-1/align/NA12878.bam")
    # Deployed: the provider starts the run with the bucket's own name.
    invoke_handler(handler_module, response_bucket, "Create", deployed.run_properties(stack, run))
    [body] = omics.start_run_bodies()
    assert body["outputUri"] == "s3://results-bucket-1/align/"


def test_a_bucket_and_prefix_pair_is_an_output_location_too() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Genomics")
    bucket = s3.Bucket(stack, "Results")
    run = OmicsRun(stack, "Align", workflow_id="1234567", output_uri=(bucket, "align/"))

    deployed = Deployed(app, {bucket: "results-bucket-1"})
    assert deployed.run_properties(stack, run)["OutputUri"] == "s3://results-bucket-1/align/"
    policy = deployed.role_statements(stack, run)
    assert may(policy, WRITE, "arn:aws:s3:::results-bucket-1/align/x.bam")
    assert not may(policy, WRITE, "arn:aws:s3:::results-bucket-1/x.bam")


def reference_app(tmp_path: Path) -> tuple[cdk.App, dict[str, Any]]:
    """A reference genome as an asset, a KMS-encrypted input bucket, and an output bucket of another stack."""
    app = new_app(tmp_path)
    data = cdk.Stack(app, "Data")
    input_key = kms.Key(data, "InputKey", enable_key_rotation=True)
    inputs = s3.Bucket(
        data, "Inputs", encryption=s3.BucketEncryption.KMS, encryption_key=input_key, enforce_ssl=True,
        server_access_logs_prefix="access/",
    )  # fmt: skip
    results = cdk.Stack(app, "Results")
    output_key = kms.Key(results, "OutputKey", enable_key_rotation=True)
    outputs = s3.Bucket(
        results, "Outputs", encryption=s3.BucketEncryption.KMS, encryption_key=output_key, enforce_ssl=True,
        server_access_logs_prefix="access/",
    )  # fmt: skip
    pipeline = cdk.Stack(app, "Pipeline")
    fasta = tmp_path.parent / f"{tmp_path.name}-GRCh38.fa"
    fasta.write_text(">chr1\nACGT\n")
    reference = s3_assets.Asset(pipeline, "Reference", path=str(fasta))
    run = OmicsRun(
        pipeline, "Align", workflow_id="1234567", output_uri=(outputs, "align/"),
        parameters={"reference": reference, "cram": (inputs, "crams/NA12878.cram"), "threads": 8},
    )  # fmt: skip
    return app, {
        "pipeline": pipeline, "run": run, "reference": reference, "inputs": inputs, "outputs": outputs,
        "input_key": input_key, "output_key": output_key,
    }  # fmt: skip


def test_an_asset_a_kms_bucket_and_another_stacks_bucket_get_exactly_their_grants(tmp_path: Path) -> None:
    app, made = reference_app(tmp_path)
    deployed = Deployed(
        app,
        {made["inputs"]: "inputs-1", made["outputs"]: "outputs-1", made["input_key"]: "in", made["output_key"]: "out"},
    )
    policy = deployed.role_statements(made["pipeline"], made["run"])
    assets = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
    reference_key = made["reference"].s3_object_key

    assert may(policy, READ, f"arn:aws:s3:::{assets}/{reference_key}")
    assert not may(policy, READ, f"arn:aws:s3:::{assets}/some-other-asset.zip")
    assert may(policy, READ, "arn:aws:s3:::inputs-1/crams/NA12878.cram")
    assert not may(policy, READ, "arn:aws:s3:::inputs-1/crams/NA12879.cram")
    assert may(policy, "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/in")
    assert not may(policy, "kms:GenerateDataKey", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/in")
    assert may(policy, WRITE, "arn:aws:s3:::outputs-1/align/NA12878.bam")
    assert not may(policy, WRITE, "arn:aws:s3:::outputs-1/other/NA12878.bam")
    assert may(policy, "kms:GenerateDataKey", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/out")
    assert not may(policy, "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/elsewhere")
    # The parameters name each object by its s3:// URI.
    parameters = json.loads(deployed.run_properties(made["pipeline"], made["run"])["Parameters"])
    assert parameters == {
        "reference": f"s3://{assets}/{reference_key}", "cram": "s3://inputs-1/crams/NA12878.cram", "threads": 8,
    }  # fmt: skip


def test_the_cross_stack_app_passes_cdk_nag_and_cfn_lint_with_no_reference_cycle(tmp_path: Path) -> None:
    app, _ = reference_app(tmp_path / "out")

    nag(app)  # synthesizes: CDK refuses a reference cycle between stacks there

    for stack_name in ("Data", "Results", "Pipeline"):
        code, report = cfn_lint(tmp_path / "out" / f"{stack_name}.template.json")
        assert code == 0, report


def test_one_deploy_time_value_warns_and_keeps_the_literal_grants_beside_it() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Genomics")
    cram = cdk.CfnParameter(stack, "Cram").value_as_string

    with pytest.warns(UserWarning) as warned:
        run = OmicsRun(
            stack, "Align", workflow_id="1234567", output_uri="s3://out/align/",
            parameters={"cram": cram, "ref": "s3://refs/GRCh38.fa"},
        )  # fmt: skip

    assert [str(w.message) for w in warned] == [
        "Genomics/Align: parameters.cram is a value known only at deploy time whose bucket cannot be known here, "
        "so the generated run role gets no read on it (the other inputs keep theirs); if it names S3 data, pass the "
        "bucket object ((bucket, key), or bucket.s3_url_for_object(key)) or grant it with "
        "run.run_role.add_to_policy(...)"
    ]
    policy = Deployed(app, {}).role_statements(stack, run)
    assert may(policy, READ, "arn:aws:s3:::refs/GRCh38.fa")


def test_a_bucket_given_as_an_object_is_granted_with_its_key() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Genomics")
    key = kms.Key(stack, "Key")
    inputs = s3.Bucket(stack, "Inputs", encryption_key=key)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about: every value is placed
        run = OmicsRun(
            stack, "Align", workflow_id="1234567", output_uri="s3://out/align/",
            parameters={"cram": inputs.s3_url_for_object("a.cram"), "ref": "s3://refs/GRCh38.fa",
                        "more": s3.Location(bucket_name=inputs.bucket_name, object_key="lanes/")},
        )  # fmt: skip

    policy = Deployed(app, {inputs: "inputs-1", key: "k"}).role_statements(stack, run)
    assert may(policy, READ, "arn:aws:s3:::inputs-1/a.cram")
    assert may(policy, READ, "arn:aws:s3:::inputs-1/lanes/L001.fastq.gz")
    assert not may(policy, READ, "arn:aws:s3:::inputs-1/b.cram")
    assert may(policy, READ, "arn:aws:s3:::refs/GRCh38.fa")
    assert may(policy, "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k")


def test_grant_read_outputs_follows_a_bucket_object_and_its_key() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Genomics")
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Results", encryption_key=key)
    run = OmicsRun(stack, "Align", workflow_id="1234567", output_uri=(bucket, "align/"))
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))

    run.grant_read_outputs(reader)

    deployed = Deployed(app, {bucket: "results-1", key: "k"})
    template = deployed.templates["Genomics"]
    statements = [
        s for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Policy" and k.startswith("Reader")
        for s in deployed.value(r["Properties"]["PolicyDocument"])["Statement"]
    ]  # fmt: skip
    assert may(statements, READ, "arn:aws:s3:::results-1/align/x.bam")
    assert not may(statements, READ, "arn:aws:s3:::results-1/other/x.bam")
    assert may(statements, "kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k")


def test_a_batch_grants_the_data_objects_of_its_default_and_per_run_parameters() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Genomics")
    references = s3.Bucket(stack, "References")
    crams = s3.Bucket(stack, "Crams")
    results = s3.Bucket(stack, "Results")
    batch = OmicsRunBatch(
        stack, "Cohort", workflow_id="1234567", output_uri=(results, "cohort/"),
        parameters={"reference": (references, "GRCh38.fa")},
        runs=[RunSetting(f"S{i}", parameters={"cram": (crams, f"S{i}.cram")}) for i in range(3)],
    )  # fmt: skip

    deployed = Deployed(app, {references: "refs-1", crams: "crams-1", results: "results-1"})
    policy = deployed.role_statements(stack, batch)
    assert may(policy, READ, "arn:aws:s3:::refs-1/GRCh38.fa")
    assert all(may(policy, READ, f"arn:aws:s3:::crams-1/S{i}.cram") for i in range(3))
    assert not may(policy, READ, "arn:aws:s3:::crams-1/S3.cram")
    assert may(policy, WRITE, "arn:aws:s3:::results-1/cohort/S0/out.bam")
    resources = deployed.templates["Genomics"]["Resources"].values()
    [resource] = [r for r in resources if r["Type"] == "Custom::OmicsRunBatch"]
    inline = deployed.value(resource["Properties"]["InlineSettings"])
    assert [json.loads(setting["Parameters"]) for setting in inline] == [
        {"cram": f"s3://crams-1/S{i}.cram"} for i in range(3)
    ]


# --- Clear errors: nothing reaches jsii unchecked ---------------------------------------------------


class Sample:
    pass


JSON_ALLOWED = (
    "allowed: JSON values (text, numbers, True/False, None, lists, dicts) or S3 data (an s3:// URI, "
    "bucket.s3_url_for_object(key), (bucket, key), s3.Location or a file s3_assets.Asset)"
)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (datetime.date(2024, 1, 1), f"got datetime.date(2024, 1, 1); {JSON_ALLOWED}; use value.isoformat()"),
        (frozenset({"a"}), f"got frozenset({{'a'}}); {JSON_ALLOWED}; use sorted(value) or list(value)"),
        (b"ACGT", f"got b'ACGT'; {JSON_ALLOWED}; use value.decode()"),
        (
            decimal.Decimal("0.5"),
            f"got Decimal('0.5'); {JSON_ALLOWED}; use float(value), or str(value) to keep every digit",
        ),
        (
            Path("ref.fa"),
            f"got PosixPath('ref.fa'); {JSON_ALLOWED}; use str(value) for its text, or an s3_assets.Asset to upload the file",
        ),
        (float("nan"), "got nan; allowed: a finite number (JSON has no NaN or infinity: use None, or the text 'NaN')"),
        (
            float("-inf"),
            "got -inf; allowed: a finite number (JSON has no NaN or infinity: use None, or the text 'NaN')",
        ),
    ],
)
def test_a_value_json_cannot_carry_is_refused_naming_its_path_and_the_fix(value: Any, message: str) -> None:
    stack = cdk.Stack(new_app(), "Genomics")

    with pytest.raises(ArgumentError) as caught:
        OmicsRun(
            stack, "Align", workflow_id="1234567", output_uri="s3://out/", parameters={"sample": {"when": [value]}}
        )

    assert str(caught.value) == f"Genomics/Align: argument parameters.sample.when[0]: {message}"


def test_a_custom_object_and_a_set_are_refused_before_jsii_sees_them() -> None:
    stack = cdk.Stack(new_app(), "Genomics")

    for index, (value, fix) in enumerate(((Sample(), ""), ({"x"}, "; use sorted(value) or list(value)"))):
        with pytest.raises(ArgumentError) as caught:
            OmicsRun(stack, f"Run{index}", workflow_id="1234567", output_uri="s3://out/", parameters={"when": value})
        assert str(caught.value).startswith(f"Genomics/Run{index}: argument parameters.when: got ")
        assert str(caught.value).endswith(f"{JSON_ALLOWED}{fix}")


def test_a_directory_asset_and_a_whole_bucket_are_refused_as_inputs(tmp_path: Path) -> None:
    stack = cdk.Stack(new_app(), "Genomics")
    folder = tmp_path / "refs"
    folder.mkdir()
    (folder / "GRCh38.fa").write_text(">chr1\n")

    with pytest.raises(ArgumentError) as caught:
        OmicsRun(stack, "A", workflow_id="1234567", output_uri="s3://out/",
                 parameters={"refs": s3_assets.Asset(stack, "Refs", path=str(folder))})  # fmt: skip
    assert str(caught.value) == (
        "Genomics/A: argument parameters.refs: got a directory asset, which CDK uploads as one zip file; allowed: a "
        "file asset (s3_assets.Asset(..., path='ref/GRCh38.fa')), or (bucket, 'folder/') for a folder"
    )
    with pytest.raises(ArgumentError) as caught:
        OmicsRun(stack, "B", workflow_id="1234567", output_uri="s3://out/",
                 parameters={"refs": (s3.Bucket(stack, "Refs2"), "")})  # fmt: skip
    assert str(caught.value) == (
        "Genomics/B: argument parameters.refs: got a whole bucket; allowed: an object or a folder in it, such as "
        "(bucket, 'refs/') (a run reads what it names, and its role reads exactly that)"
    )


ROLE_ALLOWED = (
    "allowed: an IAM role ARN, arn:<partition>:iam::<12-digit account>:role/[<path>/]<name> "
    "(such as 'arn:aws:iam::123456789012:role/service-role/omics-run'), or an iam.IRole"
)


@pytest.mark.parametrize(
    ("role_arn", "got"),
    [
        ("arn:aws:iam::123:role/x", "got 'arn:aws:iam::123:role/x'"),
        ("arn:aws:iam::123456789012:user/bob", "got 'arn:aws:iam::123456789012:user/bob', which names an IAM user"),
        ("arn:aws:iam::123456789012:role/x ", "got 'arn:aws:iam::123456789012:role/x ', with white space around it"),
        ("omics-run", "got 'omics-run'"),
    ],
)
def test_a_role_arn_that_is_not_a_roles_is_refused_naming_the_run(role_arn: str, got: str) -> None:
    stack = cdk.Stack(new_app(), "Genomics")

    with pytest.raises(ArgumentError) as caught:
        OmicsRun(stack, "Align", workflow_id="1234567", output_uri="s3://out/", role_arn=role_arn)

    assert str(caught.value) == f"Genomics/Align: argument role_arn: {got}; {ROLE_ALLOWED}"


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::123456789012:role/omics-run",
        "arn:aws-cn:iam::123456789012:role/omics-run",
        "arn:aws-us-gov:iam::123456789012:role/service-role/omics+run=1,a.b@c-d",
        "arn:aws:iam::123456789012:role/team/genomics/omics-run",
    ],
)
def test_a_role_arn_in_any_partition_and_with_any_path_is_accepted(role_arn: str) -> None:
    stack = cdk.Stack(new_app(), "Genomics")

    OmicsRun(stack, "Align", workflow_id="1234567", output_uri="s3://out/", role_arn=role_arn)
    OmicsRunBatch(stack, "Cohort", workflow_id="1234567", output_uri="s3://out/", role_arn=role_arn,
                  runs=[RunSetting("S1")])  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"name": datetime.date(2024, 1, 1)},
            "argument name: got datetime.date(2024, 1, 1); allowed: JSON values (text, numbers, True/False, None, lists, dicts); use value.isoformat()",
        ),
        (
            {"priority": {1}},
            "argument priority: got {1}; allowed: JSON values (text, numbers, True/False, None, lists, dicts); use sorted(value) or list(value)",
        ),
        (
            {"tags": {"team": b"genomics"}},
            "argument tags.team: got b'genomics'; allowed: JSON values (text, numbers, True/False, None, lists, dicts); use value.decode()",
        ),
        (
            {"engine_settings": {"memory": decimal.Decimal("1.5")}},
            f"argument engine_settings.memory: got Decimal('1.5'); {JSON_ALLOWED}; use float(value), or str(value) to keep every digit",
        ),
    ],
)
def test_any_argument_jsii_cannot_carry_is_refused_naming_it(arguments: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(new_app(), "Genomics")

    with pytest.raises(ArgumentError) as caught:
        OmicsRun(stack, "Align", workflow_id="1234567", output_uri="s3://out/", role_arn=ROLE_ARN, **arguments)

    assert str(caught.value) == f"Genomics/Align: {message}"
