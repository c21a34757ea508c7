"""The cohort pipeline example: the calling cohort's settings are built at deploy time from the aligned cohort's sheet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from synth import cfn_lint, synth_app, template_of

STACK = "OmicsCohortPipeline"


@pytest.fixture(scope="module")
def cohort_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_app(REPO_ROOT / "examples" / "cohort_pipeline.py", tmp_path_factory.mktemp("cohort-out"))


def resources_of(template: dict, resource_type: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def test_calling_starts_on_the_settings_built_from_the_aligned_cohorts_sheet(cohort_out: Path) -> None:
    template = template_of(cohort_out, STACK)
    batches = resources_of(template, "Custom::OmicsRunBatch")
    [align_id] = [k for k in batches if k.startswith("Align")]
    [call_id] = [k for k in batches if k.startswith("CallVariants")]
    [(condition_id, _)] = resources_of(template, "AWS::CloudFormation::WaitCondition").items()
    [(sheet_id, sheet)] = resources_of(template, "Custom::OmicsRunBatchOutputs").items()
    [(settings_id, settings)] = resources_of(template, "Custom::OmicsRunBatchSettings").items()

    assert batches[align_id]["Properties"]["WaitFor"] == "PROCESSED"
    assert sheet["Properties"]["BatchId"] == {"Ref": align_id}
    assert sheet["Properties"]["OutputNames"] == ["merged_bam"]
    assert sheet["Properties"]["SheetFolder"] == "s3://omics-artifacts-01d6xmpl4e72dd32/cohort/align/cohort-outputs/"
    [(part_id, part)] = resources_of(template, "Custom::OmicsRunBatchOutputsPart").items()
    assert part["DependsOn"] == [condition_id]
    assert (part["Properties"]["BatchId"], part["Properties"]["MaxPages"]) == ({"Ref": align_id}, 40)
    assert sheet["Properties"]["Parts"] == [{"Fn::GetAtt": [part_id, "PartUri"]}]
    assert settings["Properties"]["SheetUri"] == {"Fn::GetAtt": [sheet_id, "SheetUri"]}
    assert settings["Properties"]["Parameters"] == {"input_bam": "merged_bam"}
    assert settings["Properties"]["SettingsFolder"] == (
        "s3://omics-artifacts-01d6xmpl4e72dd32/cohort/variants/cohort-run-settings/"
    )
    call = batches[call_id]["Properties"]
    assert call["S3UriSettings"] == {"Fn::GetAtt": [settings_id, "S3UriSettings"]}
    assert call["RunCount"] == {"Fn::GetAtt": [settings_id, "RunCount"]}
    assert json.loads(call["Parameters"]) == {
        "reference": "s3://omics-artifacts-01d6xmpl4e72dd32/ref/GRCh38.fa",
        "emit_gvcf": True,
    }
    assert template["Outputs"]["SkippedSamples"]["Value"] == {"Fn::GetAtt": [settings_id, "SkippedRuns"]}


def test_the_cohort_pipeline_template_passes_cfn_lint(cohort_out: Path) -> None:
    assert cfn_lint(cohort_out / f"{STACK}.template.json") == (0, "")
