"""The example app end to end: synthesized for real, its bundled handler played a Create event.

The request the bundled handler sends must equal, member for member, what
``aws omics start-run --cli-input-json file://<request>`` sends (apart from
the idempotency token each side derives itself).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from conftest import REPO_ROOT, handler_environment
from events import cfn_event, without_bookkeeping
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from synth import cfn_lint, provider_asset_dir, run_resource, synth_app, template_of

STACK = "OmicsRunExample"
REQUESTS = ["cram-to-bam.json", "typed-parameters.json"]


@pytest.fixture(scope="module", params=REQUESTS)
def example(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(request file, synthesized output) for each example request."""
    request_file = REPO_ROOT / "examples" / request.param
    out_dir = tmp_path_factory.mktemp("example-out")
    return request_file, synth_app(REPO_ROOT / "app.py", out_dir, context={"runRequest": str(request_file)})


def run_bundled_handler(asset_dir: Path, event: dict, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "tests" / "support" / "bundled_handler.py"), str(asset_dir)],
        input=json.dumps(event),
        env={**os.environ, **env, "AWS_DATA_PATH": str(asset_dir / "service_models")},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


def cli_start_run_body(request_file: Path, omics: OmicsStandIn, env: dict[str, str]) -> dict:
    """The StartRun body the AWS CLI sends for ``--cli-input-json file://request_file``."""
    before = len(omics.start_run_bodies())
    subprocess.run(
        [sys.executable, "-m", "awscli", "omics", "start-run", "--cli-input-json", f"file://{request_file}"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    [body] = omics.start_run_bodies()[before:]
    return body


def test_the_bundled_handler_sends_what_the_aws_cli_sends_for_the_same_request(
    example: tuple[Path, Path], omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    request_file, out_dir = example
    env = handler_environment(omics, response_bucket)
    logical_id, properties = run_resource(template_of(out_dir, STACK))
    key = f"responses/{uuid.uuid4()}"
    # CloudFormation resolves the ServiceToken and stringifies every scalar before invoking.
    properties = {k: v for k, v in properties.items() if k != "ServiceToken"}
    event = cfn_event(
        "Create", properties, response_url=response_bucket.presigned_response_url(key), logical_id=logical_id
    )

    run_bundled_handler(provider_asset_dir(out_dir, STACK), event, env)

    response = response_bucket.wait_for_response(key)
    assert response["Status"] == "SUCCESS", response
    [handler_body] = omics.start_run_bodies()
    cli_body = cli_start_run_body(request_file, omics, env)
    assert without_bookkeeping(handler_body) == without_bookkeeping(cli_body)
    assert handler_body["parameters"] == json.loads(request_file.read_text())["parameters"]
    [run] = [r for r in omics.runs.values() if r["id"] == response["PhysicalResourceId"]]
    assert response["Data"] == {
        "Arn": run["arn"],
        "Id": run["id"],
        "Uuid": run["uuid"],
        "RunOutputUri": run["runOutputUri"],
        "Status": "PENDING",
    }


def test_the_provider_asset_holds_the_handler_crhelper_and_the_omics_model_only(example: tuple[Path, Path]) -> None:
    _, out_dir = example
    asset = provider_asset_dir(out_dir, STACK)

    top_level = sorted(p.name for p in asset.iterdir())
    assert top_level == ["crhelper", "omics_run", "omics_run_handler.py", "service_models"]
    assert (asset / "crhelper" / "LICENSE").is_file()
    assert list(asset.glob("service_models/omics/*/service-2.json*"))
    assert not list(asset.rglob("__pycache__"))


def test_the_template_passes_cfn_lint(example: tuple[Path, Path]) -> None:
    _, out_dir = example

    assert cfn_lint(out_dir / f"{STACK}.template.json") == (0, "")


def test_cfn_lint_as_run_here_does_report_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.template.json"
    broken.write_text(json.dumps({"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}))

    returncode, report = cfn_lint(broken)

    assert returncode == 2
    assert "E3003 'Role' is a required property" in report


def test_the_template_has_the_run_outputs(example: tuple[Path, Path]) -> None:
    _, out_dir = example
    template = template_of(out_dir, STACK)
    logical_id, _ = run_resource(template)

    assert {name: output["Value"] for name, output in template["Outputs"].items()} == {
        "RunArn": {"Fn::GetAtt": [logical_id, "Arn"]},
        "RunId": {"Fn::GetAtt": [logical_id, "Id"]},
        "RunUuid": {"Fn::GetAtt": [logical_id, "Uuid"]},
        "RunOutputUri": {"Fn::GetAtt": [logical_id, "RunOutputUri"]},
    }
