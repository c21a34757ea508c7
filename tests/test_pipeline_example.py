"""The pipeline example: run B's parameters name run A's merged BAM, and A waits six hours for COMPLETED."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from synth import cfn_lint, synth_app, template_of

STACK = "OmicsPipeline"


@pytest.fixture(scope="module")
def pipeline_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_app(REPO_ROOT / "examples" / "pipeline.py", tmp_path_factory.mktemp("pipeline-out"))


def test_the_second_run_reads_the_first_runs_output_and_the_first_waits(pipeline_out: Path) -> None:
    template = template_of(pipeline_out, STACK)
    runs = {k: r for k, r in template["Resources"].items() if r["Type"] == "Custom::OmicsRun"}
    [align_id] = [k for k in runs if k.startswith("Align")]
    [call_id] = [k for k in runs if k.startswith("CallVariants")]

    align, call = runs[align_id]["Properties"], runs[call_id]["Properties"]
    assert (align["WaitFor"], align["WaitTimeout"], align["DeletePolicy"]) == ("COMPLETED", 21600, "LEAVE")
    assert "WaitFor" not in call and "ServiceTimeout" not in align
    [(condition_id, condition)] = resources_of(template, "AWS::CloudFormation::WaitCondition").items()
    assert condition["Properties"]["Timeout"] == "21600"
    # B's parameters read A's merged BAM from the output result read after A's WaitCondition.
    results = resources_of(template, "Custom::OmicsRunResult")
    [(outputs_id, outputs)] = [(k, r) for k, r in results.items() if "Outputs" in r["Properties"]]
    assert outputs["Properties"]["Outputs"] == {"Output0": {"Name": "merged_bam"}}
    assert outputs["Properties"]["RunId"] == {"Ref": align_id}
    assert json.dumps({"Fn::GetAtt": [outputs_id, "Output0"]}) in json.dumps(call["Parameters"])
    assert all(result["DependsOn"] == [condition_id] for result in results.values())
    assert condition["DependsOn"] == [align_id]


def test_the_second_run_s_completion_is_watched_by_an_eventbridge_rule(pipeline_out: Path) -> None:
    template = template_of(pipeline_out, STACK)
    [call_id] = [
        k for k, r in template["Resources"].items() if k.startswith("CallVariants") and r["Type"] == "Custom::OmicsRun"
    ]
    # Beside the provider's own rule, which ends the waits on the runs' status changes.
    [rule] = [
        r
        for r in resources_of(template, "AWS::Events::Rule").values()
        if "runId" in r["Properties"]["EventPattern"]["detail"]
    ]

    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.omics"],
        "detail-type": ["Run Status Change"],
        "detail": {"runId": [{"Fn::GetAtt": [call_id, "Id"]}], "status": ["COMPLETED", "FAILED"]},
    }


def resources_of(template: dict, resource_type: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def test_the_pipeline_template_passes_cfn_lint(pipeline_out: Path) -> None:
    assert cfn_lint(pipeline_out / f"{STACK}.template.json") == (0, "")
