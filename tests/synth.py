"""Synthesizing apps for tests, and finding the provider asset in the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from conftest import REPO_ROOT

# W3005 flags the DependsOn that aws-cdk-lib itself adds from every Lambda
# function to its role and policy: redundant, harmless, and not ours to remove.
CFN_LINT_IGNORED = ["--ignore-checks=W3005"]


def synth_app(
    app_file: Path,
    out_dir: Path,
    *,
    cwd: Path = REPO_ROOT,
    context: dict[str, str] | None = None,
    python: str = sys.executable,
) -> Path:
    """Runs ``CDK_OUTDIR=out python app.py`` (with optional CDK context) and returns out_dir."""
    env = {**os.environ, "CDK_OUTDIR": str(out_dir)}
    if context:
        env["CDK_CONTEXT_JSON"] = json.dumps(context)
    subprocess.run([python, str(app_file)], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return out_dir


def template_of(out_dir: Path, stack_name: str) -> dict[str, Any]:
    return json.loads((out_dir / f"{stack_name}.template.json").read_text())


def provider_asset_dir(out_dir: Path, stack_name: str) -> Path:
    """The bundled asset folder of the stack's provider function."""
    manifest = json.loads((out_dir / f"{stack_name}.assets.json").read_text())
    [source] = [f["source"] for f in manifest["files"].values() if f["source"].get("packaging") == "zip"]
    return out_dir / source["path"]


def run_resource(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The logical ID and properties of the template's only Custom::OmicsRun."""
    [(logical_id, resource)] = [(k, r) for k, r in template["Resources"].items() if r["Type"] == "Custom::OmicsRun"]
    return logical_id, resource["Properties"]


def cfn_lint(template: Path) -> tuple[int, str]:
    """cfn-lint's exit code and report for one template (0 and "" when clean)."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(template), *CFN_LINT_IGNORED],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout


def nag(app: cdk.App) -> None:
    """Runs cdk-nag's AwsSolutions pack over the app; fails naming every unacknowledged finding."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except RuntimeError as error:
        report = json.loads((Path(app.outdir) / "validation-report.json").read_text())
        violations = [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]]
        raise AssertionError(f"cdk-nag findings: {violations}") from error
