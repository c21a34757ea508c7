"""Cohorts chained by file: a processed batch's outputs sheet, and the next batch's settings built from it.

The app is synthesized, and its resources are played through the handler over real HTTP in
the order CloudFormation creates them: the upstream batch, its runs (the stand-in completes
them as HealthOmics does, or fails them), its outputs sheet, the settings file built from
the sheet, and the downstream batch that StartRunBatch starts on that file.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from events import Handle, LambdaContext, invoke_handler, operations
from support.deployed import Deployed
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from synth import cfn_lint, nag
from test_iam_authorization import allows

from cdk_omics_run import ArgumentError, BatchWaitFor, OmicsRunBatch, RunSetting

SAMPLES = ("NA12878", "NA12891", "NA12892")
ALIGN_OUTPUTS = {"merged_bam": "merged_bam/genome.merged.bam", "merged_bam_index": "merged_bam/genome.merged.bam.bai"}


def cohort_chain(bucket: str) -> tuple[cdk.App, OmicsRunBatch, OmicsRunBatch]:
    """Align each sample, then call each sample's BAM; under a folder of its own (the bucket outlives tests)."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Cohorts")
    folder = uuid.uuid4().hex[:8]
    align = OmicsRunBatch(
        stack, "Align", workflow_id="1234567", output_uri=f"s3://{bucket}/{folder}/align/",
        runs=[RunSetting(s, parameters={"input_cram": f"s3://{bucket}/crams/{s}.cram"}) for s in SAMPLES],
        wait_for=BatchWaitFor.PROCESSED, max_failed_runs=1,
    )  # fmt: skip
    call = OmicsRunBatch.from_outputs(
        stack, "Call", align, parameters={"input_bam": "merged_bam", "input_bai": "merged_bam_index"},
        default_parameters={"reference": f"s3://{bucket}/ref/GRCh38.fa"},
        workflow_id="7654321", output_uri=f"s3://{bucket}/{folder}/call/",
    )  # fmt: skip
    return app, align, call


def sheet_of(batch: OmicsRunBatch) -> Any:
    assert batch.wait is not None
    return batch.wait.node.find_child("Sheet").resource


def logical_id(resource: Any) -> str:
    return cdk.Stack.of(resource).get_logical_id(resource.node.default_child)


def create(handler_module: Any, bucket: ResponseBucket, deployed: Deployed, resource: Any, **fields: Any) -> dict:
    """Creates one custom resource of the app, as deployed; its attributes resolve to its answer from then on."""
    resource_type = deployed.templates["Cohorts"]["Resources"][logical_id(resource)]["Type"]
    answer = invoke_handler(
        handler_module, bucket, "Create", deployed.properties(resource), resource_type=resource_type,
        logical_id=logical_id(resource), **fields,
    ).response  # fmt: skip
    if answer["Status"] == "SUCCESS":
        deployed.answered(resource, answer["Data"])
    return dict(answer)


def create_batch(handler_module: Any, bucket: ResponseBucket, deployed: Deployed, batch: OmicsRunBatch) -> str:
    """Creates the batch (a waiting one's handle a real presigned URL); its Ref is its batch ID from then on."""
    stack = cdk.Stack.of(batch)
    if batch.wait is not None:
        deployed.values[stack.get_logical_id(batch.wait.handle)] = Handle(bucket).url
    answer = invoke_handler(
        handler_module, bucket, "Create", deployed.run_properties(stack, batch), resource_type="Custom::OmicsRunBatch",
        logical_id=logical_id(batch.resource),
    ).response  # fmt: skip
    deployed.values[logical_id(batch.resource)] = answer["PhysicalResourceId"]
    return str(answer["PhysicalResourceId"])


def processed_upstream(omics: OmicsStandIn, bucket: ResponseBucket, batch_id: str) -> list[str]:
    """The upstream batch's runs: the first and last complete with their files; the middle one FAILED."""
    run_ids = omics.submit_batch(batch_id)
    for run_id in (run_ids[0], run_ids[2]):
        omics.complete_with_outputs(run_id, bucket._s3(), ALIGN_OUTPUTS)
    omics.set_status(run_ids[1], "FAILED", failure_reason="Task align failed: out of memory")
    return run_ids


def read_s3(bucket: ResponseBucket, uri: str) -> str:
    name, _, key = uri[len("s3://") :].partition("/")
    return str(bucket._s3().get_object(Bucket=name, Key=key)["Body"].read().decode())


def test_the_next_cohort_runs_on_each_completed_samples_files_and_reports_the_skipped_one(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, call = cohort_chain(response_bucket.bucket)
    deployed = Deployed(app, {})
    run_ids = processed_upstream(omics, response_bucket, create_batch(handler_module, response_bucket, deployed, align))

    sheet = create(handler_module, response_bucket, deployed, sheet_of(align))
    settings = create(handler_module, response_bucket, deployed, call.node.find_child("RunSettings").resource)
    call_batch_id = create_batch(handler_module, response_bucket, deployed, call)

    bams = {run_id: f"{omics.runs[run_id]['runOutputUri']}/out/merged_bam/genome.merged.bam" for run_id in run_ids}
    assert sheet["Data"]["TotalRuns"] == "3"
    assert sheet["Data"]["CompletedRuns"] == "2"
    assert settings["Data"]["RunCount"] == "2"
    assert settings["Data"]["SkippedRuns"] == "1"
    [call_body] = [r.body for r in omics.requests if r.operation == "StartRunBatch"][1:]
    assert call_body is not None
    settings_uri = call_body["batchRunSettings"]["s3UriSettings"]
    assert settings_uri == settings["Data"]["S3UriSettings"]
    assert settings_uri.startswith(f"{call.node.find_child('RunSettings').folder.uri}run-settings-")
    assert call_body["defaultRunSetting"]["parameters"] == {"reference": f"s3://{response_bucket.bucket}/ref/GRCh38.fa"}

    # HealthOmics submits the runs its settings file names: two, each on its sample's BAM.
    omics.submit_batch(call_batch_id, settings=json.loads(read_s3(response_bucket, settings_uri)))
    call_runs = [run for run in omics.runs.values() if run.get("batchId") == call_batch_id]
    assert [(run["parameters"]["input_bam"], run["parameters"]["reference"]) for run in call_runs] == [
        (bams[run_ids[0]], f"s3://{response_bucket.bucket}/ref/GRCh38.fa"),
        (bams[run_ids[2]], f"s3://{response_bucket.bucket}/ref/GRCh38.fa"),
    ]
    assert [run["parameters"]["input_bai"] for run in call_runs] == [bams[r] + ".bai" for r in (run_ids[0], run_ids[2])]


def test_the_sheet_has_one_row_per_run_and_a_column_per_declared_output(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, _ = cohort_chain(response_bucket.bucket)
    deployed = Deployed(app, {})
    run_ids = processed_upstream(omics, response_bucket, create_batch(handler_module, response_bucket, deployed, align))

    sheet = create(handler_module, response_bucket, deployed, sheet_of(align))

    base = {run_id: omics.runs[run_id]["runOutputUri"] for run_id in run_ids}
    assert read_s3(response_bucket, sheet["Data"]["SheetUri"]) == (
        "runSettingId,runId,status,merged_bam,merged_bam_index\r\n"
        f"NA12878,{run_ids[0]},COMPLETED,{base[run_ids[0]]}/out/merged_bam/genome.merged.bam,"
        f"{base[run_ids[0]]}/out/merged_bam/genome.merged.bam.bai\r\n"
        f"NA12891,{run_ids[1]},FAILED,,\r\n"
        f"NA12892,{run_ids[2]},COMPLETED,{base[run_ids[2]]}/out/merged_bam/genome.merged.bam,"
        f"{base[run_ids[2]]}/out/merged_bam/genome.merged.bam.bai\r\n"
    )
    assert sheet["PhysicalResourceId"] == sheet["Data"]["SheetUri"]
    assert operations(omics).count("ListRunsInBatch") == 1


def test_a_completed_run_missing_a_declared_output_fails_the_sheet_naming_the_run_and_output(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, _ = cohort_chain(response_bucket.bucket)
    deployed = Deployed(app, {})
    run_ids = omics.submit_batch(create_batch(handler_module, response_bucket, deployed, align))
    for run_id in run_ids:
        omics.complete_with_outputs(run_id, response_bucket._s3(), ALIGN_OUTPUTS,
                                    unwritten=["merged_bam"] if run_id == run_ids[1] else [])  # fmt: skip

    sheet_resource = sheet_of(align)
    answer = create(handler_module, response_bucket, deployed, sheet_resource, expected_status="FAILED")

    assert answer["Reason"] == (
        f"{logical_id(sheet_resource)}: run {run_ids[1]} (NA12891): output BWAMappingWorkflow.merged_bam: "
        f"{omics.runs[run_ids[1]]['runOutputUri']}/out/merged_bam/genome.merged.bam does not exist"
    )


def test_a_sheet_of_a_batch_whose_runs_all_failed_starts_no_next_cohort(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, call = cohort_chain(response_bucket.bucket)
    deployed = Deployed(app, {})
    for run_id in omics.submit_batch(create_batch(handler_module, response_bucket, deployed, align)):
        omics.set_status(run_id, "FAILED")

    create(handler_module, response_bucket, deployed, sheet_of(align))
    settings_resource = call.node.find_child("RunSettings").resource
    answer = create(handler_module, response_bucket, deployed, settings_resource, expected_status="FAILED")

    assert (
        answer["Reason"] == f"{logical_id(settings_resource)}: no run to start: none of the 3 upstream runs COMPLETED"
    )
    assert operations(omics).count("StartRunBatch") == 1


def test_the_settings_file_is_named_by_its_content_and_never_written_again(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, call = cohort_chain(response_bucket.bucket)
    deployed = Deployed(app, {})
    processed_upstream(omics, response_bucket, create_batch(handler_module, response_bucket, deployed, align))
    create(handler_module, response_bucket, deployed, sheet_of(align))
    settings_resource = call.node.find_child("RunSettings").resource
    first = create(handler_module, response_bucket, deployed, settings_resource)["Data"]["S3UriSettings"]
    name, _, key = first[len("s3://") :].partition("/")
    written = response_bucket._s3().head_object(Bucket=name, Key=key)["LastModified"]

    again = create(handler_module, response_bucket, deployed, settings_resource)["Data"]["S3UriSettings"]

    assert again == first
    assert response_bucket._s3().head_object(Bucket=name, Key=key)["LastModified"] == written
    assert list(json.loads(read_s3(response_bucket, first))[0]) == ["parameters", "runSettingId"]


def test_outputs_need_a_batch_that_waits_for_processed() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Cohorts")
    submitted = OmicsRunBatch(stack, "Align", workflow_id="1234567", output_uri="s3://results-1/align/",
                              runs=[RunSetting("NA12878")], wait_for=BatchWaitFor.SUBMITTED)  # fmt: skip

    with pytest.raises(ArgumentError) as sheet:
        submitted.outputs_sheet_for(["merged_bam"])
    with pytest.raises(ArgumentError) as chained:
        OmicsRunBatch.from_outputs(stack, "Call", submitted, parameters={"input_bam": "merged_bam"},
                                   workflow_id="7654321", output_uri="s3://results-1/call/")  # fmt: skip
    with pytest.raises(ArgumentError) as skipped:
        _ = submitted.attr_skipped_runs

    assert str(sheet.value) == (
        "Cohorts/Align: outputs_sheet: the runs' outputs are known once every run ended; allowed on a batch "
        "declared with wait_for=BatchWaitFor.PROCESSED (this one waits for SUBMITTED)"
    )
    assert str(chained.value) == str(sheet.value)
    assert str(skipped.value).startswith("Cohorts/Align: attr_skipped_runs: this batch's runs are not built from")


def test_from_outputs_needs_a_folder_to_write_the_settings_file_under() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Cohorts")
    align = OmicsRunBatch(stack, "Align", workflow_id="1234567", output_uri="s3://results-1/align/",
                          runs=[RunSetting("NA12878")], wait_for=BatchWaitFor.PROCESSED)  # fmt: skip

    with pytest.raises(ArgumentError) as missing:
        OmicsRunBatch.from_outputs(stack, "Call", align, parameters={"input_bam": "merged_bam"}, workflow_id="7654321")

    assert str(missing.value) == (
        "Cohorts/Call: argument output_uri: got None; allowed with from_outputs: a folder the provider writes the "
        "settings file under: a literal s3://bucket/prefix/ URI, bucket.s3_url_for_object('prefix/') or "
        "(bucket, 'prefix/')"
    )


def policy_statements(deployed: Deployed, role_logical_id: str) -> list[dict[str, Any]]:
    template = deployed.templates["Cohorts"]
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        and {"Ref": role_logical_id} in resource["Properties"]["Roles"]
        for statement in deployed.value(resource["Properties"]["PolicyDocument"])["Statement"]
    ]


def test_the_provider_writes_only_the_sheet_and_the_settings_and_the_run_role_reads_them() -> None:
    app, align, call = cohort_chain("results-1")
    deployed = Deployed(app, {})
    assert align.wait is not None
    folder = align.wait.node.find_child("Sheet").folder.key.split("/")[0]
    provider_role = next(
        k for k, r in deployed.templates["Cohorts"]["Resources"].items()
        if r["Type"] == "AWS::IAM::Role" and "OmicsRunProvider" in k
    )  # fmt: skip
    provider = policy_statements(deployed, provider_role)
    call_role = policy_statements(deployed, logical_id(call.run_role))

    base = f"arn:aws:s3:::results-1/{folder}"
    assert allows(provider, "s3:PutObject", f"{base}/align/cohort-outputs/1-outputs-ab.csv", {})
    assert allows(provider, "s3:PutObject", f"{base}/call/cohort-run-settings/run-settings-ab.json", {})
    assert not allows(provider, "s3:PutObject", f"{base}/align/1234/out/x.bam", {})
    assert not allows(provider, "s3:PutObject", f"{base}/call/1234/out/x.vcf", {})
    assert allows(provider, "s3:GetObject", f"{base}/align/1234/logs/outputs.json", {})
    assert allows(call_role, "s3:GetObject", f"{base}/call/cohort-run-settings/run-settings-ab.json", {})
    assert allows(call_role, "s3:GetObject", f"{base}/align/1234/out/merged_bam/genome.merged.bam", {})
    assert not allows(call_role, "s3:GetObject", "arn:aws:s3:::results-1/other/x.bam", {})


def test_a_cohort_chain_passes_cdk_nag_and_cfn_lint(tmp_path: Path) -> None:
    app, _, _ = cohort_chain("results-1")
    nag(app)
    assembly = app.synth()
    for stack in assembly.stacks:
        (tmp_path / f"{stack.stack_name}.template.json").write_text(json.dumps(stack.template))
        assert cfn_lint(tmp_path / f"{stack.stack_name}.template.json") == (0, "")


def test_a_sheet_not_read_within_the_providers_time_fails_saying_how_far_it_got(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, _ = cohort_chain(response_bucket.bucket)
    deployed = Deployed(app, {})
    batch_id = create_batch(handler_module, response_bucket, deployed, align)
    processed_upstream(omics, response_bucket, batch_id)

    # Less than a minute left: no page of runs is started.
    answer = create(handler_module, response_bucket, deployed, sheet_of(align), expected_status="FAILED",
                    context=LambdaContext(timeout_seconds=59))  # fmt: skip

    assert answer["Reason"] == (
        f"{logical_id(sheet_of(align))}: batch {batch_id}: the provider's time ran out after reading 0 runs; "
        "a sheet is built in one invocation (Limits page: [batch-outputs-one-invocation])"
    )
    assert operations(omics).count("GetRun") == 0


def test_a_next_cohort_in_another_stack_reads_the_sheet_with_its_own_provider() -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    upstream_stack, downstream_stack = cdk.Stack(app, "Cohorts"), cdk.Stack(app, "Calls")
    align = OmicsRunBatch(upstream_stack, "Align", workflow_id="1234567", output_uri="s3://results-1/align/",
                          runs=[RunSetting("NA12878")], wait_for=BatchWaitFor.PROCESSED)  # fmt: skip
    OmicsRunBatch.from_outputs(downstream_stack, "Call", align, parameters={"input_bam": "merged_bam"},
                               workflow_id="7654321", output_uri="s3://results-1/call/")  # fmt: skip
    deployed = Deployed(app, {})
    template = deployed.templates["Calls"]
    [provider_role] = [k for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role" and "Provider" in k]
    provider = [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        and {"Ref": provider_role} in resource["Properties"]["Roles"]
        for statement in deployed.value(resource["Properties"]["PolicyDocument"])["Statement"]
    ]

    assert allows(provider, "s3:GetObject", "arn:aws:s3:::results-1/align/cohort-outputs/1-outputs-ab.csv", {})
    assert not allows(provider, "s3:GetObject", "arn:aws:s3:::results-1/align/1234/out/x.bam", {})


def test_a_run_role_given_as_an_arn_is_warned_about_the_settings_file() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Cohorts")
    align = OmicsRunBatch(stack, "Align", workflow_id="1234567", output_uri="s3://results-1/align/",
                          runs=[RunSetting("NA12878")], wait_for=BatchWaitFor.PROCESSED)  # fmt: skip

    with pytest.warns(UserWarning) as warned:
        OmicsRunBatch.from_outputs(stack, "Call", align, parameters={"input_bam": "merged_bam"}, workflow_id="7654321",
                                   output_uri="s3://results-1/call/", role_arn="arn:aws:iam::123456789012:role/r")  # fmt: skip

    assert [str(w.message) for w in warned] == [
        "Cohorts/Call: role_arn is an ARN, so the settings file and the upstream outputs cannot be granted to it "
        "here: let that role s3:GetObject s3://results-1/call/cohort-run-settings/* and the upstream batch's output "
        "location, or pass an iam.IRole"
    ]
