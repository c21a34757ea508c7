#!/usr/bin/env python3
"""Builds the provider stack for plain CloudFormation: a template and the zip of its Lambda code.

Usage (``make provider-template`` runs it)::

    python scripts/build_provider_template.py [--outdir dist]

writes ``omics-run-provider.template.json`` and ``omics-run-provider.zip`` side
by side. The function's ``Code`` is the zip's relative path, the form that
``aws cloudformation package`` uploads and rewrites to an S3 location, so the
template deploys with ``aws cloudformation deploy``: no CDK, no CDK bootstrap.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

# jsii prints a large end-of-life banner under Node 20; it starts with the first aws_cdk import.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk

import cdk_omics_run
from cdk_omics_run.provider_stack import DEFAULT_EXPORT_NAME, OmicsRunProviderStack

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_NAME = "omics-run-provider.template.json"
ZIP_NAME = "omics-run-provider.zip"
STACK_NAME = "OmicsRunProvider"

# The earliest time a zip entry can hold: fixed, so equal inputs give equal
# bytes, and `aws cloudformation package` (which names the S3 object after
# the zip's MD5) uploads and updates the function only when the code changed.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o100644  # a regular file, readable by the Lambda runtime's user

# Resource names of CDK's bootstrap stack; none may survive in the template.
BOOTSTRAP_MARKERS = ("cdk-hnb659fds", "BootstrapVersion", "CheckBootstrapVersion")


def feature_flags() -> dict[str, Any]:
    """cdk.json's feature flags, so the provider is the one a CDK app of this project gets.

    The CDK CLI's own context (path metadata, version reporting) is left out:
    it would add CDK-only metadata and an AWS::CDK::Metadata resource.
    """
    return json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8")).get("context", {})


def synthesize(workdir: Path) -> tuple[dict[str, Any], str, Path]:
    """Synthesizes the provider stack into ``workdir``.

    Returns the template, the function's logical ID and the bundled asset folder.
    """
    app = cdk.App(outdir=str(workdir), context=feature_flags(), analytics_reporting=False)
    stack = OmicsRunProviderStack(
        app,
        STACK_NAME,
        description=(
            f"Custom::OmicsRun provider (cdk-omics-run {cdk_omics_run.__version__}): starts AWS HealthOmics "
            f"runs; exports its ServiceToken as {DEFAULT_EXPORT_NAME}"
        ),
        # No BootstrapVersion parameter and rule. The asset location it still
        # writes (the bootstrap bucket) is replaced below.
        synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False),
    )
    assembly = app.synth()
    function = stack.provider.function.node.default_child
    function_id = stack.resolve(function.logical_id)  # type: ignore[union-attr]  # default_child is optional
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    template = json.loads(Path(artifact.template_full_path).read_text(encoding="utf-8"))
    key = template["Resources"][function_id]["Properties"]["Code"]["S3Key"]
    return template, function_id, _asset_dir(workdir, stack.artifact_id, key)


def _asset_dir(workdir: Path, stack_artifact_id: str, object_key: str) -> Path:
    """The bundled folder behind the S3 object key the template names."""
    manifest = json.loads((workdir / f"{stack_artifact_id}.assets.json").read_text(encoding="utf-8"))
    for asset in manifest["files"].values():
        keys = {destination["objectKey"] for destination in asset["destinations"].values()}
        if object_key in keys and asset["source"].get("packaging") == "zip":
            return workdir / asset["source"]["path"]
    raise RuntimeError(f"no zip asset with object key {object_key} in {stack_artifact_id}.assets.json")


def standalone_template(template: dict[str, Any], function_id: str, zip_name: str) -> dict[str, Any]:
    """The template with the function's code at ``zip_name``, beside the template.

    Raises when anything else still refers to CDK's bootstrap resources:
    such a template would not deploy without ``cdk bootstrap``.
    """
    result = json.loads(json.dumps(template))
    result["Resources"][function_id]["Properties"]["Code"] = zip_name
    text = json.dumps(result)
    leftovers = [marker for marker in BOOTSTRAP_MARKERS if marker in text]
    if leftovers:
        raise RuntimeError(f"the provider template still refers to the CDK bootstrap: {', '.join(leftovers)}")
    return result


def write_deterministic_zip(source_dir: Path, target: Path) -> None:
    """Zips ``source_dir``: entries sorted, timestamps and modes fixed, so equal inputs give equal bytes."""
    files = sorted((path.relative_to(source_dir).as_posix(), path) for path in source_dir.rglob("*") if path.is_file())
    with zipfile.ZipFile(target, "w") as archive:
        for name, path in files:
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            entry.create_system = 3  # Unix, whatever the building OS, for the mode bits
            entry.external_attr = ZIP_FILE_MODE << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes(), compresslevel=9)


def build(outdir: Path) -> tuple[Path, Path]:
    """Writes the template and the zip into ``outdir``; returns their paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    template_path, zip_path = outdir / TEMPLATE_NAME, outdir / ZIP_NAME
    with tempfile.TemporaryDirectory(prefix="omics-run-provider-") as workdir:
        template, function_id, asset_dir = synthesize(Path(workdir))
        write_deterministic_zip(asset_dir, zip_path)
    template_path.write_text(
        json.dumps(standalone_template(template, function_id, ZIP_NAME), indent=1) + "\n", encoding="utf-8"
    )
    return template_path, zip_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=REPO_ROOT / "dist", help="where to write (default: dist/)")
    arguments = parser.parse_args(argv)
    for path in build(arguments.outdir):
        print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
