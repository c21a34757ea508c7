"""The provider asset ships the current HealthOmics model, so members newer than Lambda's boto3 work.

The Lambda runtime's bundled boto3 lags the HealthOmics API. The asset
carries the synthesizing botocore's omics model and the function sets
``AWS_DATA_PATH`` to it. These tests play that for real: the bundled handler
runs on botocore 1.35, which predates ``scratchStorageMode`` and
``engineSettings``, and must still accept both properties and send both
members. Without ``AWS_DATA_PATH`` the same handler rejects them: the shipped
model, nothing else, makes the difference.

The StartRun request is caught by a botocore ``before-send`` handler
(tests/support/start_run_capture.py), after validation and serialization,
because botocore 1.35 ignores ``AWS_DISABLE_HOST_PREFIX_INJECTION`` and would
send to a "workflows-" host the loopback stand-in cannot be. The
CloudFormation answer is still a real PUT to the presigned moto URL.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import REPO_ROOT, handler_environment
from events import OUTPUT_URI, ROLE_ARN, cfn_event
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from synth import provider_asset_dir, run_resource, synth_app, template_of

# The last botocore 1.35 release, and its matching boto3: it lacks both members below.
OLD_SDK_VERSION = "1.35.99"
NEW_MEMBERS = ("scratchStorageMode", "engineSettings")
ENGINE_SETTINGS = {"retryAttempts": 2, "strict": True}
STACK = "ModelShipping"
RUNNER = REPO_ROOT / "tests" / "support" / "start_run_capture.py"
RUN_ID = "7654321"  # what start_run_capture's synthetic StartRun response returns

APP = f"""
import aws_cdk as cdk
from cdk_omics_run import OmicsRun, ScratchStorageMode

app = cdk.App()
stack = cdk.Stack(app, {STACK!r})
OmicsRun(
    stack,
    "Run",
    workflow_id="1234567",
    role_arn={ROLE_ARN!r},
    output_uri={OUTPUT_URI!r},
    scratch_storage_mode=ScratchStorageMode.LOCAL,
    engine_settings={ENGINE_SETTINGS!r},
)
app.synth()
"""


@pytest.fixture(scope="session")
def old_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """boto3 and botocore 1.35.99 with their dependencies, in a folder of their own (one download per session)."""
    target = tmp_path_factory.mktemp("old-sdk")
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--only-binary=:all:",
            "--target",
            str(target),
            f"boto3=={OLD_SDK_VERSION}",
            f"botocore=={OLD_SDK_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Needs PyPI (or pip's cache); say so plainly rather than with a bare CalledProcessError.
    assert installed.returncode == 0, f"pip could not install boto3/botocore {OLD_SDK_VERSION}:\n{installed.stderr}"
    return target


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(provider asset folder, the run's properties) of a stack whose run sets both new members."""
    app_dir = tmp_path_factory.mktemp("model-shipping-app")
    app_file = app_dir / "app.py"
    app_file.write_text(APP, encoding="utf-8")
    out_dir = synth_app(app_file, app_dir / "out")
    _, properties = run_resource(template_of(out_dir, STACK))
    # CloudFormation resolves the ServiceToken itself; cfn_event adds its own.
    properties = {k: v for k, v in properties.items() if k != "ServiceToken"}
    return provider_asset_dir(out_dir, STACK), properties


def start_run_members(models_dir: Path) -> set[str]:
    """The StartRun request members of every omics service model under ``models_dir``."""
    members: set[str] = set()
    for path in models_dir.glob("*/service-2.json*"):
        raw = path.read_bytes()
        model = json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)
        members |= set(model["shapes"]["StartRunRequest"]["members"])
    return members


def run_with_old_sdk(
    asset: Path,
    old_sdk: Path,
    event: dict[str, Any],
    env: dict[str, str],
    capture_file: Path,
    *,
    ship_model: bool,
) -> dict[str, Any]:
    """Plays one event through the bundled handler on the old SDK; returns what start_run_capture recorded."""
    run_env = {**os.environ, **env, "PYTHONPATH": str(old_sdk)}
    run_env.pop("AWS_DATA_PATH", None)
    if ship_model:
        run_env["AWS_DATA_PATH"] = str(asset / "service_models")  # what the function's environment sets
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(asset), str(capture_file)],
        input=json.dumps(event),
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    capture = json.loads(capture_file.read_text(encoding="utf-8"))
    # The handler really ran on the old botocore, not on the one of this environment.
    assert capture["botocore_version"] == OLD_SDK_VERSION
    assert Path(capture["botocore_file"]).resolve().is_relative_to(old_sdk.resolve())
    return capture


def create_event(properties: dict[str, Any], bucket: ResponseBucket) -> tuple[dict[str, Any], str]:
    key = f"responses/{uuid.uuid4()}"
    return cfn_event("Create", properties, response_url=bucket.presigned_response_url(key)), key


def test_botocore_1_35_lacks_the_new_members_and_the_asset_ships_them(
    old_sdk: Path, synthesized: tuple[Path, dict[str, Any]]
) -> None:
    asset, _ = synthesized

    assert (old_sdk / f"botocore-{OLD_SDK_VERSION}.dist-info").is_dir()
    old_members = start_run_members(old_sdk / "botocore" / "data" / "omics")
    assert "workflowId" in old_members  # the model was found and read
    assert not set(NEW_MEMBERS) & old_members
    assert set(NEW_MEMBERS) <= start_run_members(asset / "service_models" / "omics")


def test_with_the_shipped_model_the_old_botocore_accepts_and_sends_the_new_members(
    old_sdk: Path,
    synthesized: tuple[Path, dict[str, Any]],
    omics: OmicsStandIn,
    response_bucket: ResponseBucket,
    tmp_path: Path,
) -> None:
    asset, properties = synthesized
    assert properties["ScratchStorageMode"] == "LOCAL"
    event, key = create_event(properties, response_bucket)

    capture = run_with_old_sdk(
        asset, old_sdk, event, handler_environment(omics, response_bucket), tmp_path / "capture.json", ship_model=True
    )

    [request] = capture["requests"]
    assert request["operation"] == "StartRun"
    assert (request["method"], urlsplit(request["url"]).path) == ("POST", "/run")
    assert request["body"]["scratchStorageMode"] == "LOCAL"
    assert request["body"]["engineSettings"] == ENGINE_SETTINGS
    assert request["body"]["workflowId"] == "1234567"
    response = response_bucket.wait_for_response(key)
    assert response["Status"] == "SUCCESS", response
    assert response["PhysicalResourceId"] == RUN_ID
    assert omics.requests == []  # caught before sending: nothing reached the network


@pytest.mark.parametrize("property_name", ["ScratchStorageMode", "EngineSettings"])
def test_without_the_shipped_model_the_old_botocore_rejects_each_new_member(
    property_name: str,
    old_sdk: Path,
    synthesized: tuple[Path, dict[str, Any]],
    omics: OmicsStandIn,
    response_bucket: ResponseBucket,
    tmp_path: Path,
) -> None:
    asset, properties = synthesized
    required = {k: properties[k] for k in ("WorkflowId", "RoleArn", "OutputUri")}
    event, key = create_event({**required, property_name: properties[property_name]}, response_bucket)

    capture = run_with_old_sdk(
        asset, old_sdk, event, handler_environment(omics, response_bucket), tmp_path / "capture.json", ship_model=False
    )

    response = response_bucket.wait_for_response(key)
    assert response["Status"] == "FAILED", response
    assert property_name in response["Reason"]
    assert capture["requests"] == []  # rejected before any API call
