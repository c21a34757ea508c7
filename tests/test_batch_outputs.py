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
import boto3
import pytest
from aws_cdk.assertions import Template
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
    return batch.wait.node.find_child("Sheet")


def create_sheet(handler_module: Any, bucket: ResponseBucket, deployed: Deployed, batch: OmicsRunBatch,
                 **fields: Any) -> dict:  # fmt: skip
    """Creates the batch's sheet as CloudFormation does: its parts in order, then the sheet; or the failed part's answer."""
    for part in sheet_of(batch).parts:
        answer = create(handler_module, bucket, deployed, part, **fields)
        if answer["Status"] == "FAILED":
            return answer
    return create(handler_module, bucket, deployed, sheet_of(batch).resource, **fields)


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

    sheet = create_sheet(handler_module, response_bucket, deployed, align)
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

    sheet = create_sheet(handler_module, response_bucket, deployed, align)

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


def test_a_large_batch_is_read_by_a_chain_of_parts_each_one_invocation(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    folder = f"s3://{response_bucket.bucket}/{uuid.uuid4().hex[:8]}/align/"
    client = boto3_omics()
    batch_id = client.start_run_batch(
        defaultRunSetting={"workflowId": "1234567", "roleArn": "arn:aws:iam::123456789012:role/r", "outputUri": folder},
        batchRunSettings={"s3UriSettings": f"{folder}settings.json"},
    )["id"]
    run_ids = omics.submit_batch(batch_id, [{"runSettingId": f"s{n:03d}"} for n in range(250)])
    for run_id in run_ids:
        omics.complete_with_outputs(run_id, response_bucket._s3(), {"merged_bam": "merged_bam/x.bam"})
    sheet_folder = f"{folder}cohort-outputs/"
    common = {"BatchId": batch_id, "OutputNames": ["merged_bam"], "SheetFolder": sheet_folder, "MaxPages": 2}

    answers, after = [], {}
    for part in range(3):  # 2 pages (200 runs) a part: the second reads the last 50, the third nothing
        answer = invoke_handler(
            handler_module,
            response_bucket,
            "Create",
            {**common, "Part": part, **after},
            resource_type="Custom::OmicsRunBatchOutputsPart",
            logical_id=f"SheetPart{part}",
        )
        answers.append(answer.response["Data"])
        after = {"After": answer.response["Data"]["NextToken"]}
    sheet = invoke_handler(
        handler_module, response_bucket, "Create",
        {**common, "Parts": [a["PartUri"] for a in answers], "Remaining": answers[-1]["NextToken"]},
        resource_type="Custom::OmicsRunBatchOutputs", logical_id="Sheet",
    ).response  # fmt: skip

    assert [(a["Runs"], a["NextToken"] == "END") for a in answers] == [("200", False), ("50", True), ("0", True)]
    assert answers[2]["PartUri"] == ""
    assert operations(omics).count("ListRunsInBatch") == 3
    rows = read_s3(response_bucket, sheet["Data"]["SheetUri"]).split("\r\n")
    assert rows[0] == "runSettingId,runId,status,merged_bam"
    assert [row.split(",")[0] for row in rows[1:-1]] == [f"s{n:03d}" for n in range(250)]
    assert (sheet["Data"]["TotalRuns"], sheet["Data"]["CompletedRuns"]) == ("250", "250")


def test_a_sheet_whose_parts_did_not_reach_the_end_fails(handler_module: Any, response_bucket: ResponseBucket) -> None:
    answer = invoke_handler(
        handler_module, response_bucket, "Create",
        {"BatchId": "4444444", "OutputNames": [], "SheetFolder": "s3://b/cohort-outputs/", "Parts": ["s3://b/p0.csv"],
         "Remaining": "token-2"},
        resource_type="Custom::OmicsRunBatchOutputs", logical_id="Sheet", expected_status="FAILED",
    ).response  # fmt: skip

    assert answer["Reason"] == "Sheet: batch 4444444 has more runs than its 1 parts of the sheet were declared for"


def test_a_batch_of_unknown_size_gets_parts_for_100000_runs_and_a_known_one_as_many_as_it_needs() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Cohorts")
    own_file = OmicsRunBatch(stack, "Own", workflow_id="1", output_uri="s3://results-1/own/",
                             s3_uri_settings="s3://results-1/settings.json", wait_for=BatchWaitFor.PROCESSED)  # fmt: skip
    listed = OmicsRunBatch(stack, "Listed", workflow_id="1", output_uri="s3://results-1/listed/",
                           runs=[RunSetting(f"s{n}") for n in range(3)], wait_for=BatchWaitFor.PROCESSED)  # fmt: skip
    own_file.outputs_sheet_for(["merged_bam"])
    listed.outputs_sheet_for(["merged_bam"])
    template = Template.from_stack(stack).to_json()["Resources"]

    parts = [sheet_of(own_file).parts, sheet_of(listed).parts]
    assert [len(p) for p in parts] == [25, 1]
    second = template[logical_id(parts[0][1])]["Properties"]
    assert second["After"] == {"Fn::GetAtt": [logical_id(parts[0][0]), "NextToken"]}
    assert (second["Part"], second["MaxPages"]) == (1, 40)
    assert template[logical_id(sheet_of(own_file).resource)]["Properties"]["Remaining"] == {
        "Fn::GetAtt": [logical_id(parts[0][-1]), "NextToken"]
    }


def test_a_completed_run_missing_a_declared_output_fails_the_sheet_naming_the_run_and_output(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, _ = cohort_chain(response_bucket.bucket)
    deployed = Deployed(app, {})
    run_ids = omics.submit_batch(create_batch(handler_module, response_bucket, deployed, align))
    for run_id in run_ids:
        omics.complete_with_outputs(run_id, response_bucket._s3(), ALIGN_OUTPUTS,
                                    unwritten=["merged_bam"] if run_id == run_ids[1] else [])  # fmt: skip

    answer = create_sheet(handler_module, response_bucket, deployed, align, expected_status="FAILED")

    assert answer["Reason"] == (
        f"{logical_id(sheet_of(align).parts[0])}: run {run_ids[1]} (NA12891): output BWAMappingWorkflow.merged_bam: "
        f"{omics.runs[run_ids[1]]['runOutputUri']}/out/merged_bam/genome.merged.bam does not exist"
    )


def test_a_sheet_of_a_batch_whose_runs_all_failed_starts_no_next_cohort(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, call = cohort_chain(response_bucket.bucket)
    deployed = Deployed(app, {})
    for run_id in omics.submit_batch(create_batch(handler_module, response_bucket, deployed, align)):
        omics.set_status(run_id, "FAILED")

    create_sheet(handler_module, response_bucket, deployed, align)
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
    create_sheet(handler_module, response_bucket, deployed, align)
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


def boto3_omics() -> Any:
    """A client of the HealthOmics stand-in (the handler's environment points the SDK at it)."""
    return boto3.session.Session().client("omics")


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


def test_a_part_not_read_within_the_providers_time_fails_saying_how_far_it_got(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, _ = cohort_chain(response_bucket.bucket)
    deployed = Deployed(app, {})
    batch_id = create_batch(handler_module, response_bucket, deployed, align)
    processed_upstream(omics, response_bucket, batch_id)

    # Less than a minute left: no page of runs is started.
    answer = create_sheet(handler_module, response_bucket, deployed, align, expected_status="FAILED",
                          context=LambdaContext(timeout_seconds=59))  # fmt: skip

    assert answer["Reason"] == (
        f"{logical_id(sheet_of(align).parts[0])}: batch {batch_id}: the provider's time ran out after reading 0 "
        "runs of part 0; a part reads its pages in one invocation (Limits page: [batch-outputs-part-time])"
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
