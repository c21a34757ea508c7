"""The CDK CLI pinned in package.json synthesizes the example app, and agrees with `python app.py`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from synth import cfn_lint, synth_app, template_of

CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
STACK = "OmicsRunExample"


def cdk_synth(out_dir: Path, *context: str) -> subprocess.CompletedProcess[str]:
    # cdk.json runs `python3 app.py`: the test's own interpreter must come first on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    arguments = [str(CDK_CLI), "synth", "--quiet", "--output", str(out_dir)]
    for item in context:
        arguments += ["--context", item]
    return subprocess.run(arguments, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def cli_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CDK_CLI.exists():
        pytest.fail("the CDK CLI is not installed: run `npm ci` (the README's test command does)")
    out_dir = tmp_path_factory.mktemp("cdk-cli-out")
    result = cdk_synth(out_dir)
    assert result.returncode == 0, result.stderr
    return out_dir


def test_the_pinned_cli_is_the_one_that_runs() -> None:
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    version = subprocess.run([str(CDK_CLI), "--version"], capture_output=True, text=True, check=True).stdout

    assert version.startswith(pinned + " ")


def test_cdk_synth_and_python_app_py_write_the_same_template(cli_out: Path, tmp_path: Path) -> None:
    direct = synth_app(REPO_ROOT / "app.py", tmp_path / "direct")

    assert template_of(cli_out, STACK) == template_of(direct, STACK)
    assert cfn_lint(cli_out / f"{STACK}.template.json") == (0, "")


def test_the_run_request_context_key_chooses_the_request_file(tmp_path: Path) -> None:
    result = cdk_synth(tmp_path, f"runRequest={REPO_ROOT / 'examples' / 'typed-parameters.json'}")

    assert result.returncode == 0, result.stderr
    template = template_of(tmp_path, STACK)
    [properties] = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "Custom::OmicsRun"]
    assert properties["Name"] == "variant-calling"


def test_the_cli_contacts_nothing_for_notices_or_telemetry() -> None:
    config = json.loads((REPO_ROOT / "cdk.json").read_text())

    assert config["notices"] is False
    assert config["context"]["cli-telemetry"] is False
    assert shutil.which("python3") is not None
