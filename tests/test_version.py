"""The library's version: one source (pyproject.toml's [project] version), shown by the command and the provider."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Template
from conftest import REPO_ROOT

import cdk_omics_run
from cdk_omics_run import OmicsRun
from cdk_omics_run.version import checkout_version

PYPROJECT_VERSION = checkout_version(REPO_ROOT / "pyproject.toml")
VERSION_FILE = REPO_ROOT / "constructs" / "cdk_omics_run" / "version.py"


def test_the_version_is_the_package_metadata_in_semantic_version_form() -> None:
    assert cdk_omics_run.__version__ == cdk_omics_run.version.VERSION == PYPROJECT_VERSION
    assert PYPROJECT_VERSION.count(".") == 2 and all(part.isdigit() for part in PYPROJECT_VERSION.split("."))


def test_the_command_and_the_module_show_the_version() -> None:
    command = Path(sys.executable).with_name("cdk-omics-run")
    for argv in ([str(command), "--version"], [sys.executable, "-m", "cdk_omics_run", "--version"]):
        shown = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout

        assert shown == f"cdk-omics-run {PYPROJECT_VERSION}\n", argv


def test_a_source_checkout_never_installed_reads_its_own_pyproject() -> None:
    # -S: no site-packages, so no installed distribution's metadata (version.py needs only the standard library).
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('version', {str(VERSION_FILE)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(module.VERSION)\n"
    )
    shown = subprocess.run([sys.executable, "-S", "-c", script], check=True, capture_output=True, text=True).stdout

    assert shown == f"{PYPROJECT_VERSION}\n"


def test_only_the_project_tables_version_counts(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.other]\nversion = "9.9.9"\n\n[project]\nname = "x"\nversion = "1.2.3"\n')
    assert checkout_version(pyproject) == "1.2.3"

    pyproject.write_text('[project]\nname = "x"\n\n[tool.other]\nversion = "9.9.9"\n')
    assert checkout_version(pyproject) == "0+unknown"
    assert checkout_version(tmp_path / "missing.toml") == "0+unknown"


def test_the_provider_records_the_version_in_its_environment_and_description() -> None:
    stack = cdk.Stack(cdk.App(context={"aws:cdk:bundling-stacks": []}), "Stack")
    OmicsRun(stack, "Run", workflow_id="1234567", role_arn="arn:aws:iam::123456789012:role/run", output_uri="s3://b/o/")

    [function] = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    assert function["Properties"]["Description"] == f"Custom::OmicsRun provider (cdk-omics-run {PYPROJECT_VERSION})"
    assert function["Properties"]["Environment"]["Variables"]["CDK_OMICS_RUN_VERSION"] == PYPROJECT_VERSION


def test_no_run_tag_carries_the_version() -> None:
    # The run's bookkeeping slots are full (tag_rules.BOOKKEEPING_TAG_SLOTS): an eighth would cut the user's 43.
    from omics_run import bookkeeping, tag_rules

    slots = [name for name in dir(bookkeeping) if name.endswith("_TAG")]
    assert len(slots) == tag_rules.BOOKKEEPING_TAG_SLOTS == 7
