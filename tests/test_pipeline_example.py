"""The pipeline example: run B's parameters use run A's output location, and A waits for COMPLETED."""
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
    assert (align["WaitFor"], align["ServiceTimeout"], align["DeletePolicy"]) == ("COMPLETED", "3600", "LEAVE")
    assert "WaitFor" not in call
    assert json.dumps({"Fn::GetAtt": [align_id, "RunOutputUri"]}) in json.dumps(call["Parameters"])


def test_the_pipeline_template_passes_cfn_lint(pipeline_out: Path) -> None:
    assert cfn_lint(pipeline_out / f"{STACK}.template.json") == (0, "")
