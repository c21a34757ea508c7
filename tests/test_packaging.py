"""The built wheel: what it carries, and that another CDK app can synthesize with it alone."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import uuid
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from conftest import REPO_ROOT, handler_environment
from events import cfn_event, without_bookkeeping
from support.omics_stand_in import OmicsStandIn
from support.response_bucket import ResponseBucket
from synth import provider_asset_dir, run_resource, synth_app, template_of
from test_example_app import run_bundled_handler

from cdk_omics_run.version import checkout_version

CONSUMER_APP = """
import aws_cdk as cdk
import cdk_omics_run
from cdk_omics_run import LogLevel, OmicsRun

app = cdk.App()
stack = cdk.Stack(app, "Consumer")
OmicsRun(stack, "Run", workflow_id="1234567", role_arn="arn:aws:iam::123456789012:role/run",
         output_uri="s3://bucket/out/", log_level=LogLevel.ALL, parameters={"threads": 2})
app.synth()
print(cdk_omics_run.__file__)
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(REPO_ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = dist.glob("cdk_omics_run-*.whl")
    return built


def test_the_wheel_carries_the_library_the_handler_source_and_py_typed(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert {
        "cdk_omics_run/__init__.py",
        "cdk_omics_run/py.typed",
        "cdk_omics_run/_lambda/omics_run_handler.py",
        "cdk_omics_run/_lambda/omics_run/start_run_shape.py",
        "cdk_omics_run/_lambda/omics_run/request_mapping.py",
    } <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "crhelper/", "constructs/"))]


def test_the_wheel_metadata_names_the_package_its_python_and_its_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        [metadata_name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(metadata_name).decode())

    assert (metadata["Name"], metadata["Version"]) == ("cdk-omics-run", checkout_version(REPO_ROOT / "pyproject.toml"))
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.10"
    assert sorted(metadata.get_all("Requires-Dist")) == [
        "aws-cdk-lib<3,>=2.275.0",
        "botocore<2,>=1.35",
        "constructs<11,>=10.0.0",
        "crhelper<2.1,>=2.0.12",
        # The WDL reader of OmicsWorkflow, only with `pip install "cdk-omics-run[wdl]"`.
        "miniwdl<2,>=1.16.0; extra == 'wdl'",
        # The status command's libraries, only with `pip install "cdk-omics-run[cli]"`.
        "plotly<8,>=6; extra == 'cli'",
        "rich<16,>=13.9; extra == 'cli'",
    ]
    assert metadata.get_all("Provides-Extra") == ["cli", "wdl"]


def test_an_app_elsewhere_synthesizes_with_the_installed_wheel_and_its_handler_starts_the_run(
    wheel: Path, tmp_path: Path, omics: OmicsStandIn, response_bucket: ResponseBucket
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # The dependencies come from this environment (a plain path entry: its own
    # .pth files, such as the editable checkout's, are not processed).
    Path(site_packages, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True, timeout=120
    )
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "app.py").write_text(CONSUMER_APP)

    out_dir = synth_app(consumer / "app.py", tmp_path / "out", cwd=consumer, python=python)

    installed_at = subprocess.run(
        [python, "-c", "import cdk_omics_run; print(cdk_omics_run.__file__)"],
        cwd=consumer, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert Path(installed_at).is_relative_to(venv)
    version = subprocess.run(
        [str(venv / "bin" / "cdk-omics-run"), "--version"], check=True, capture_output=True, text=True
    ).stdout  # fmt: skip
    assert version == f"cdk-omics-run {checkout_version(REPO_ROOT / 'pyproject.toml')}\n"
    logical_id, properties = run_resource(template_of(out_dir, "Consumer"))
    key = f"responses/{uuid.uuid4()}"
    properties = {k: v for k, v in properties.items() if k != "ServiceToken"}
    event = cfn_event(
        "Create", properties, response_url=response_bucket.presigned_response_url(key), logical_id=logical_id
    )
    run_bundled_handler(provider_asset_dir(out_dir, "Consumer"), event, handler_environment(omics, response_bucket))

    assert response_bucket.wait_for_response(key)["Status"] == "SUCCESS"
    [body] = omics.start_run_bodies()
    assert without_bookkeeping(body) == {
        "workflowId": "1234567",
        "roleArn": "arn:aws:iam::123456789012:role/run",
        "outputUri": "s3://bucket/out/",
        "logLevel": "ALL",
        "parameters": {"threads": 2},
    }
    assert len(body["requestId"]) == 64
