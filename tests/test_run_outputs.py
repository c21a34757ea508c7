"""Run outputs as values: a pipeline chained by the files its runs produce, checked when each run completes.

The app is synthesized, and its resources are played through the handler over real HTTP
in the order CloudFormation creates them: the stand-in completes a run as HealthOmics
does (its files, then its output summary, in moto's S3), and what a Custom::OmicsRunResult
answers feeds the next run's properties.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from events import Handle, invoke_handler, operations
from support.deployed import Deployed
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from synth import cfn_lint, nag
from test_iam_authorization import allows

from cdk_omics_run import ArgumentError, OmicsRun, WaitFor
from cdk_omics_run.run_outputs import FILE_OUTPUTS_PER_RESULT

ALIGN_OUTPUTS = {
    "merged_bam": "merged_bam/genome.merged.bam",
    "merged_bam_index": "merged_bam_index/genome.merged.bam.bai",
    "sorted_bams": ["sorted_bams/0/L007.sorted.bam", "sorted_bams/1/L008.sorted.bam"],
}


def pipeline(bucket: str) -> tuple[cdk.App, OmicsRun, OmicsRun]:
    """Alignment, then variant calling on its merged BAM; under a folder of its own (the bucket outlives tests)."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Pipeline")
    folder = uuid.uuid4().hex[:8]
    align = OmicsRun(stack, "Align", workflow_id="1234567", output_uri=f"s3://{bucket}/{folder}/align/",
                     wait_for=WaitFor.COMPLETED)  # fmt: skip
    call = OmicsRun(stack, "Call", workflow_id="7654321", output_uri=f"s3://{bucket}/{folder}/call/",
                    parameters={"input_bam": align.output("merged_bam"), "sample": "NA12878"})  # fmt: skip
    return app, align, call


def output_results(run: OmicsRun) -> list[Any]:
    assert run.wait is not None
    return [
        child for child in run.wait.node.find_child("Outputs").node.children if isinstance(child, cdk.CustomResource)
    ]


def create_waiting_run(handler_module: Any, bucket: ResponseBucket, deployed: Deployed, run: OmicsRun) -> str:
    """Creates the run (its WaitHandle a real presigned handle URL); its Ref is its run ID from then on."""
    assert run.wait is not None
    stack = cdk.Stack.of(run)
    deployed.values[stack.get_logical_id(run.wait.handle)] = Handle(bucket).url
    answer = invoke_handler(handler_module, bucket, "Create", deployed.run_properties(stack, run)).response
    deployed.values[stack.get_logical_id(run.resource.node.default_child)] = answer["PhysicalResourceId"]
    return str(answer["PhysicalResourceId"])


def create(handler_module: Any, bucket: ResponseBucket, deployed: Deployed, resource: Any, **fields: Any) -> dict:
    resource_type = deployed.templates["Pipeline"]["Resources"][
        cdk.Stack.of(resource).get_logical_id(resource.node.default_child)
    ]["Type"]
    return invoke_handler(
        handler_module, bucket, "Create", deployed.properties(resource), resource_type=resource_type,
        logical_id=cdk.Stack.of(resource).get_logical_id(resource.node.default_child), **fields,
    ).response  # fmt: skip


def test_the_next_run_starts_on_the_file_the_first_run_produced(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, call = pipeline(response_bucket.bucket)
    deployed = Deployed(app, {})
    run_id = create_waiting_run(handler_module, response_bucket, deployed, align)

    summary = omics.complete_with_outputs(run_id, response_bucket._s3(), ALIGN_OUTPUTS)
    [result] = output_results(align)
    answer = create(handler_module, response_bucket, deployed, result)
    deployed.answered(result, answer["Data"])
    invoke_handler(handler_module, response_bucket, "Create", deployed.run_properties(cdk.Stack.of(call), call))

    bam = summary["BWAMappingWorkflow.merged_bam"]
    assert bam == f"{omics.runs[run_id]['runOutputUri']}/out/merged_bam/genome.merged.bam"
    assert answer["Data"] == {"Output0": bam}
    call_body = omics.start_run_bodies()[-1]
    assert call_body["workflowId"] == "7654321"
    assert call_body["parameters"] == {"input_bam": bam, "sample": "NA12878"}


def test_a_missing_output_fails_naming_it_and_the_next_run_never_starts(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    app, align, _ = pipeline(response_bucket.bucket)
    deployed = Deployed(app, {})
    run_id = create_waiting_run(handler_module, response_bucket, deployed, align)
    omics.complete_with_outputs(run_id, response_bucket._s3(), ALIGN_OUTPUTS, unwritten=["merged_bam"])

    [result] = output_results(align)
    answer = create(handler_module, response_bucket, deployed, result, expected_status="FAILED")

    logical_id = cdk.Stack.of(result).get_logical_id(result.node.default_child)
    assert answer["Reason"] == (
        f"{logical_id}: run {run_id}: output BWAMappingWorkflow.merged_bam: "
        f"{omics.runs[run_id]['runOutputUri']}/out/merged_bam/genome.merged.bam does not exist"
    )
    # CloudFormation rolls back here: the next run, which reads the output, is never created.
    assert operations(omics).count("StartRun") == 1


def result_properties(run_id: str, **outputs: dict[str, str]) -> dict[str, Any]:
    return {"RunId": run_id, "Outputs": outputs}


def started_run(omics: OmicsStandIn, bucket: ResponseBucket) -> str:
    """A run writing under a folder of its own (the bucket outlives tests, run IDs do not)."""
    return str(omics.add_run(outputUri=f"s3://{bucket.bucket}/{uuid.uuid4().hex[:8]}/", workflowId="1234567")["id"])


def read_result(handler_module: Any, bucket: ResponseBucket, properties: dict, **fields: Any) -> dict:
    return invoke_handler(
        handler_module, bucket, "Create", properties, resource_type="Custom::OmicsRunResult",
        logical_id="AlignOutputs", **fields,
    ).response  # fmt: skip


def test_wdl_outputs_by_full_and_short_name_and_an_array(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    run_id = started_run(omics, response_bucket)
    summary = omics.complete_with_outputs(run_id, response_bucket._s3(), ALIGN_OUTPUTS)

    answer = read_result(handler_module, response_bucket, result_properties(
        run_id, Output0={"Name": "BWAMappingWorkflow.merged_bam_index"}, Output1={"Name": "merged_bam"},
        Output2={"List": "sorted_bams"},
    ))  # fmt: skip

    assert answer["Data"] == {
        "Output0": summary["BWAMappingWorkflow.merged_bam_index"],
        "Output1": summary["BWAMappingWorkflow.merged_bam"],
        "Output2": ",".join(summary["BWAMappingWorkflow.sorted_bams"]),
    }


@pytest.mark.parametrize("summary_name", ["{uuid}/logs/outputs.json", "logs/output.json", "logs/Outputs.json"])
def test_the_summary_is_found_under_each_documented_name(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket, summary_name: str
) -> None:
    run_id = started_run(omics, response_bucket)
    name = summary_name.format(uuid=omics.runs[run_id]["uuid"])
    summary = omics.complete_with_outputs(run_id, response_bucket._s3(), ALIGN_OUTPUTS, summary_name=name)

    answer = read_result(handler_module, response_bucket, result_properties(run_id, Output0={"Name": "merged_bam"}))

    assert answer["Data"] == {"Output0": summary["BWAMappingWorkflow.merged_bam"]}


def test_cwl_outputs_are_read_from_their_file_objects(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    run_id = started_run(omics, response_bucket)
    summary = omics.complete_with_outputs(run_id, response_bucket._s3(), ALIGN_OUTPUTS, engine="CWL")

    answer = read_result(handler_module, response_bucket, result_properties(
        run_id, Output0={"Name": "merged_bam"}, Output1={"List": "sorted_bams"},
    ))  # fmt: skip

    assert summary["merged_bam"]["class"] == "File"
    assert answer["Data"] == {
        "Output0": summary["merged_bam"]["location"],
        "Output1": ",".join(item["location"] for item in summary["sorted_bams"]),
    }


def test_a_nextflow_run_names_its_published_files_by_path_and_each_is_checked(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    run_id = started_run(omics, response_bucket)
    omics.complete_with_outputs(
        run_id, response_bucket._s3(), {}, engine="NEXTFLOW", published=["out/calls/NA12878.vcf.gz"]
    )
    base = omics.runs[run_id]["runOutputUri"]

    answer = read_result(
        handler_module, response_bucket, result_properties(run_id, Output0={"Path": "out/calls/NA12878.vcf.gz"})
    )
    missing = read_result(handler_module, response_bucket, result_properties(run_id, Output0={"Path": "out/calls/NA12879.vcf.gz"}),
                          expected_status="FAILED")  # fmt: skip
    no_summary = read_result(handler_module, response_bucket, result_properties(run_id, Output0={"Name": "vcf"}),
                             expected_status="FAILED")  # fmt: skip

    assert answer["Data"] == {"Output0": f"{base}/out/calls/NA12878.vcf.gz"}
    assert (
        missing["Reason"]
        == f"AlignOutputs: run {run_id}: output out/calls/NA12879.vcf.gz: {base}/out/calls/NA12879.vcf.gz does not exist"
    )
    assert no_summary["Reason"] == (
        f"AlignOutputs: run {run_id}: no output summary (logs/outputs.json) under {base}; Nextflow writes none: "
        "name its files with output_path"
    )


def test_an_ambiguous_or_unknown_short_name_fails_listing_the_candidates(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    run_id = started_run(omics, response_bucket)
    s3_client = response_bucket._s3()
    omics.complete_with_outputs(run_id, s3_client, ALIGN_OUTPUTS)
    # A second workflow's outputs in the same summary (a WDL import), one of them named alike.
    base = omics.runs[run_id]["runOutputUri"]
    bucket, _, prefix = base[len("s3://") :].partition("/")
    summary = json.loads(s3_client.get_object(Bucket=bucket, Key=f"{prefix}/logs/outputs.json")["Body"].read())
    summary["QC.merged_bam"] = summary["BWAMappingWorkflow.merged_bam"]
    s3_client.put_object(Bucket=bucket, Key=f"{prefix}/logs/outputs.json", Body=json.dumps(summary).encode())

    ambiguous = read_result(handler_module, response_bucket, result_properties(run_id, Output0={"Name": "merged_bam"}),
                            expected_status="FAILED")  # fmt: skip
    unknown = read_result(handler_module, response_bucket, result_properties(run_id, Output0={"Name": "vcf"}),
                          expected_status="FAILED")  # fmt: skip

    assert ambiguous["Reason"] == (
        f"AlignOutputs: run {run_id}: output merged_bam is ambiguous; candidates: BWAMappingWorkflow.merged_bam, QC.merged_bam"
    )
    assert unknown["Reason"] == (
        f"AlignOutputs: run {run_id}: no output vcf in the run's output summary; it has: "
        "BWAMappingWorkflow.merged_bam, BWAMappingWorkflow.merged_bam_index, BWAMappingWorkflow.sorted_bams, "
        "QC.merged_bam"
    )


def test_outputs_are_read_only_from_a_completed_run(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    run_id = started_run(omics, response_bucket)
    omics.set_status(run_id, "RUNNING")

    answer = read_result(handler_module, response_bucket, result_properties(run_id, Output0={"Name": "merged_bam"}),
                         expected_status="FAILED")  # fmt: skip

    assert answer["Reason"] == f"AlignOutputs: run {run_id} is RUNNING: outputs are read once it is COMPLETED"
    assert operations(omics) == ["GetRun"]


# --- At synth --------------------------------------------------------------------------------------


def test_outputs_need_a_run_that_waits_for_completed() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Pipeline")
    running = OmicsRun(stack, "Align", workflow_id="1234567", output_uri="s3://b/align/", wait_for=WaitFor.RUNNING)
    not_waiting = OmicsRun(stack, "Quick", workflow_id="1234567", output_uri="s3://b/quick/")

    with pytest.raises(ArgumentError) as caught:
        running.output("merged_bam")
    assert str(caught.value) == (
        "Pipeline/Align: output('merged_bam'): the run's outputs are known once it completes; allowed on a run "
        "declared with wait_for=WaitFor.COMPLETED (this one waits for RUNNING)"
    )
    with pytest.raises(ArgumentError, match=r"this one waits for NONE"):
        not_waiting.output_list("sorted_bams")


def test_outputs_are_spread_over_results_at_the_longest_uri_they_could_have_and_asked_once() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Pipeline")
    align = OmicsRun(stack, "Align", workflow_id="1234567", output_uri="s3://b/align/", wait_for=WaitFor.COMPLETED)

    names = [f"output_{i}" for i in range(5)]
    tokens = [align.output(name) for name in names]
    assert align.output("output_0") == tokens[0]
    align.output_list("sorted_bams")

    results = output_results(align)
    declared = [cdk.Stack.of(stack).resolve(r.node.default_child._cfn_properties)["Outputs"] for r in results]  # type: ignore[union-attr]
    # 1,093 characters at most per URI (s3:// + 63 + / + 1,024), within a 4,096-byte response.
    assert FILE_OUTPUTS_PER_RESULT == 2
    assert declared == [
        {"Output0": {"Name": "output_0"}, "Output1": {"Name": "output_1"}},
        {"Output0": {"Name": "output_2"}, "Output1": {"Name": "output_3"}},
        {"Output0": {"Name": "output_4"}},
        {"Output0": {"List": "sorted_bams"}},
    ]


def test_the_next_runs_generated_role_reads_the_first_runs_outputs_and_no_more() -> None:
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Pipeline")
    results = s3.Bucket(stack, "Results")
    align = OmicsRun(stack, "Align", workflow_id="1234567", output_uri=(results, "align/"), wait_for=WaitFor.COMPLETED)
    call = OmicsRun(stack, "Call", workflow_id="7654321", output_uri=(results, "call/"),
                    parameters={"input_bam": align.output("merged_bam"), "bams": align.output_list("sorted_bams")})  # fmt: skip

    deployed = Deployed(app, {results: "results-1"})
    policy = deployed.role_statements(stack, call)
    assert allows(policy, "s3:GetObject", "arn:aws:s3:::results-1/align/1234/out/merged_bam/x.bam", {})
    assert not allows(policy, "s3:GetObject", "arn:aws:s3:::results-1/other/x.bam", {})
    assert not allows(policy, "s3:GetObject", "arn:aws:s3:::results-1/call/x.bam", {})
    # The list output reaches the parameters as a JSON array, with no Lambda-backed stringifier.
    template = deployed.templates["Pipeline"]
    assert not [k for k, r in template["Resources"].items() if r["Type"].startswith("Custom::AWSCDK")]
    # The provider reads under the first run's output location only.
    provider = [s for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::ManagedPolicy"
                and k.startswith("OmicsRunProviderRolePolicy") for s in deployed.value(r["Properties"]["PolicyDocument"])["Statement"]]  # fmt: skip
    assert allows(provider, "s3:GetObject", "arn:aws:s3:::results-1/align/1234/logs/outputs.json", {})
    assert not allows(provider, "s3:GetObject", "arn:aws:s3:::results-1/call/1234/logs/outputs.json", {})


def test_a_pipeline_chained_by_file_passes_cdk_nag_and_cfn_lint(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
    try:
        import pipeline as example
    finally:
        sys.path.pop(0)

    # Server access logs granted by a bucket policy, not the legacy ACL cfn-lint flags (W3045).
    context = {"aws:cdk:bundling-stacks": [], "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}
    app = cdk.App(context=context, outdir=str(tmp_path))
    example.build_pipeline(app)
    stack = cdk.Stack(app, "Buckets")
    results = s3.Bucket(stack, "Results", enforce_ssl=True, server_access_logs_prefix="access/")
    align = OmicsRun(stack, "Align", workflow_id="1234567", output_uri=(results, "align/"), wait_for=WaitFor.COMPLETED)
    OmicsRun(stack, "Call", workflow_id="7654321", output_uri=(results, "call/"),
             parameters={"bam": align.output("merged_bam"), "bams": align.output_list("sorted_bams")})  # fmt: skip

    nag(app)

    for name in ("OmicsPipeline", "Buckets"):
        assert cfn_lint(tmp_path / f"{name}.template.json") == (0, "")


def test_a_list_output_too_long_for_one_response_fails_naming_the_fix(
    handler_module: Any, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    run_id = started_run(omics, response_bucket)
    many = [f"sorted_bams/{i}/{'L' * 80}.sorted.bam" for i in range(40)]
    omics.complete_with_outputs(run_id, response_bucket._s3(), {"sorted_bams": many})

    answer = read_result(handler_module, response_bucket, result_properties(run_id, Output0={"List": "sorted_bams"}),
                         expected_status="FAILED")  # fmt: skip

    assert answer["Reason"].startswith(
        f"AlignOutputs: run {run_id}: output BWAMappingWorkflow.sorted_bams lists 40 files in "
    )
    assert answer["Reason"].endswith("bytes; a result answers at most 3182: name the files with output_path")
