"""The provider asset's hash is computed from its inputs, and follows exactly what is shipped.

The hash is known before bundling (``AssetHashType.CUSTOM``), so CDK skips
bundling when the assembly folder already holds the asset. That is safe only
if every input of the asset is in the hash: the handler source, crhelper's
files and version, the shipped omics service model(s) and the bundler's own
format. Each test below changes one input in a private copy of the
synthesizing environment and watches the hash, down to the asset hash CDK
writes into the template.
"""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import botocore
import botocore.loaders
import pytest
from aws_cdk import aws_lambda as lambda_
from synth import provider_asset_dir, synth_app, template_of

import cdk_omics_run.provider as provider_module
from cdk_omics_run import bundling
from cdk_omics_run.bundling import ASSET_FILE_MODE, ProviderAsset, ProviderAssetBundler, read_provider_asset
from cdk_omics_run.handler_source import handler_source_dir

APP = """
import aws_cdk as cdk
from cdk_omics_run import LogLevel, OmicsRun

app = cdk.App()
stack = cdk.Stack(app, "HashStack")
OmicsRun(stack, "Run", workflow_id="1234567", role_arn="arn:aws:iam::123456789012:role/run",
         output_uri="s3://bucket/out/", log_level=LogLevel.ALL)
app.synth()
"""
STACK = "HashStack"


class Inputs:
    """A private copy of everything the asset is built from, wired into the bundler."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.handler = root / "handler"
        shutil.copytree(handler_source_dir(), self.handler, ignore=shutil.ignore_patterns("__pycache__"))
        site = root / "site-packages"
        installed = bundling._installed_package_dir("crhelper")
        self.crhelper = site / "crhelper"
        shutil.copytree(installed, self.crhelper, ignore=shutil.ignore_patterns("__pycache__"))
        [dist_info] = installed.parent.glob("crhelper-*.dist-info")
        self.crhelper_dist_info = site / dist_info.name
        shutil.copytree(dist_info, self.crhelper_dist_info)
        self.botocore = root / "botocore"
        shutil.copytree(Path(botocore.__file__).parent / "data" / "omics", self.botocore / "data" / "omics")
        self.omics_model = sorted((self.botocore / "data" / "omics").glob("*/service-2.json*"))[-1]

        self.monkeypatch = monkeypatch
        monkeypatch.setattr(bundling, "_installed_package_dir", self._package_dir)
        monkeypatch.setattr(bundling, "_botocore_omics_models", lambda: self.botocore / "data" / "omics")
        monkeypatch.setattr(provider_module, "handler_source_dir", lambda: self.handler)

    def _package_dir(self, name: str) -> Path:
        assert name == "crhelper"
        return self.crhelper


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Inputs:
    return Inputs(tmp_path / "inputs", monkeypatch)


def bundler_hash(inputs: Inputs) -> str:
    return ProviderAssetBundler(inputs.handler).asset_hash


def cdk_asset_hash(outdir: Path) -> str:
    """The asset hash CDK gives the provider's code (the template's S3Key is ``<hash>.zip``)."""
    cdk.AssetStaging.clear_asset_hash_cache()
    stack = cdk.Stack(cdk.App(outdir=str(outdir)), "Stack")
    function = lambda_.Function(
        stack, "Function", runtime=lambda_.Runtime.PYTHON_3_14, handler="index.handler",
        code=provider_module.provider_code(),
    )  # fmt: skip
    return function.node.find_child("Code").asset_hash  # type: ignore[attr-defined]


def _edit_handler(inputs: Inputs) -> None:
    path = inputs.handler / "omics_run" / "client.py"
    path.write_bytes(path.read_bytes() + b"\n# edited\n")


def _add_handler_file(inputs: Inputs) -> None:
    (inputs.handler / "omics_run" / "extra.py").write_text("X = 1\n")


def _rename_handler_file(inputs: Inputs) -> None:
    (inputs.handler / "omics_run" / "client.py").rename(inputs.handler / "omics_run" / "client2.py")


def _edit_crhelper(inputs: Inputs) -> None:
    path = inputs.crhelper / "utils.py"
    path.write_bytes(path.read_bytes() + b"\n# edited\n")


def _bump_crhelper_version(inputs: Inputs) -> None:
    # Same files, another version in the installed metadata.
    inputs.crhelper_dist_info.rename(inputs.crhelper_dist_info.with_name("crhelper-99.0.0.dist-info"))


def _edit_crhelper_licence(inputs: Inputs) -> None:
    [licence, *_] = sorted(p for p in inputs.crhelper_dist_info.rglob("LICEN[CS]E*") if p.is_file())
    licence.write_bytes(licence.read_bytes() + b"\nedited\n")


def _edit_omics_model(inputs: Inputs) -> None:
    # A new StartRun member, as a botocore release would bring.
    raw = inputs.omics_model.read_bytes()
    compressed = inputs.omics_model.suffix == ".gz"
    model = json.loads(gzip.decompress(raw) if compressed else raw)
    model["shapes"]["StartRunRequest"]["members"]["brandNewMember"] = {"shape": "String"}
    text = json.dumps(model).encode()
    inputs.omics_model.write_bytes(gzip.compress(text, mtime=0) if compressed else text)


def _add_omics_api_version(inputs: Inputs) -> None:
    newer = inputs.omics_model.parent.with_name("2099-01-01")
    newer.mkdir()
    shutil.copy2(inputs.omics_model, newer / inputs.omics_model.name)


def _bump_bundle_format(inputs: Inputs) -> None:
    inputs.monkeypatch.setattr(bundling, "BUNDLE_FORMAT", bundling.BUNDLE_FORMAT + " (next)")


CHANGES: dict[str, Callable[[Inputs], None]] = {
    "a handler source file edited": _edit_handler,
    "a handler source file added": _add_handler_file,
    "a handler source file renamed": _rename_handler_file,
    "a crhelper file edited": _edit_crhelper,
    "another crhelper version, same files": _bump_crhelper_version,
    "crhelper's licence edited": _edit_crhelper_licence,
    "the omics service model edited": _edit_omics_model,
    "a new omics API version": _add_omics_api_version,
    "the bundle format bumped": _bump_bundle_format,
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_changing_any_input_changes_the_asset_hash(change: str, inputs: Inputs, tmp_path: Path) -> None:
    before = bundler_hash(inputs), cdk_asset_hash(tmp_path / "before")
    shipped_before = dict(read_provider_asset(inputs.handler).files)

    CHANGES[change](inputs)
    after = bundler_hash(inputs), cdk_asset_hash(tmp_path / "after")
    shipped_after = dict(read_provider_asset(inputs.handler).files)

    assert after[0] != before[0]
    assert after[1] != before[1]
    if change not in ("another crhelper version, same files", "the bundle format bumped"):
        assert shipped_after != shipped_before  # the change is one that is shipped


def test_byte_code_is_neither_shipped_nor_hashed(inputs: Inputs) -> None:
    before = bundler_hash(inputs)
    for package in (inputs.handler / "omics_run", inputs.crhelper):
        (package / "__pycache__").mkdir(exist_ok=True)
        (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0byte-code")
        (package / "stray.pyc").write_bytes(b"\0byte-code")
        (package / "stray.pyo").write_bytes(b"\0byte-code")

    assert bundler_hash(inputs) == before
    shipped = read_provider_asset(inputs.handler).files
    assert not [n for n in shipped if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]


def test_the_hash_does_not_depend_on_where_the_inputs_are(inputs: Inputs, tmp_path: Path) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    shutil.copytree(inputs.handler, elsewhere)

    assert ProviderAssetBundler(elsewhere).asset_hash == bundler_hash(inputs)


def test_the_hash_covers_every_file_and_its_bytes(inputs: Inputs) -> None:
    asset = read_provider_asset(inputs.handler)
    names = set(asset.files)

    assert {"omics_run_handler.py", "omics_run/client.py", "crhelper/__init__.py", "crhelper/utils.py"} <= names
    assert any(n.startswith("crhelper/LICEN") for n in names)
    assert f"{bundling.SERVICE_MODELS_DIR}/omics/{inputs.omics_model.parent.name}/service-2.json" in names
    # Moving bytes from one file to another changes the hash, though the concatenation is the same.
    [first, second, *_] = sorted(names)
    moved = dict(asset.files)
    moved[first], moved[second] = asset.files[first] + asset.files[second][:1], asset.files[second][1:]
    assert ProviderAsset(moved, asset.crhelper_versions).asset_hash != asset.asset_hash


def test_the_shipped_model_is_botocores_without_its_documentation(inputs: Inputs, tmp_path: Path) -> None:
    version = inputs.omics_model.parent.name
    asset = read_provider_asset(inputs.handler)
    shipped = asset.files[f"{bundling.SERVICE_MODELS_DIR}/omics/{version}/service-2.json"]
    asset.write(tmp_path / "asset")

    # Read back as the function reads it: botocore's loader, AWS_DATA_PATH at the asset's models.
    loaded = botocore.loaders.create_loader(str(tmp_path / "asset" / bundling.SERVICE_MODELS_DIR))
    from_asset = loaded.load_service_model("omics", "service-2", version)
    original = botocore.loaders.create_loader(str(inputs.botocore / "data")).load_service_model(
        "omics", "service-2", version
    )

    assert b'"documentation"' not in shipped
    assert from_asset == strip_documentation(original)
    assert from_asset["operations"]["StartRun"]["input"] == {"shape": "StartRunRequest"}
    assert len(shipped) < len(json.dumps(original)) / 1.5


def test_documentation_botocore_reads_is_kept_and_the_file_botocore_prefers_is_shipped(inputs: Inputs) -> None:
    version_dir = inputs.omics_model.parent
    raw = inputs.omics_model.read_bytes()
    model = json.loads(gzip.decompress(raw) if inputs.omics_model.suffix == ".gz" else raw)
    # botocore reads a client context parameter's documentation when it resolves endpoints.
    model["clientContextParams"] = {"UseThing": {"type": "boolean", "documentation": "Read by botocore."}}
    model["shapes"]["StartRunRequest"]["members"]["outputUri"]["documentation"] = "Dropped."
    for stale in version_dir.glob("service-2.json*"):
        stale.unlink()
    (version_dir / "service-2.json").write_text(json.dumps(model), encoding="utf-8")
    (version_dir / "service-2.json.gz").write_bytes(gzip.compress(b"{}"))  # botocore reads .json first
    (version_dir / "service-2.json.orig").write_text("not a model", encoding="utf-8")

    files = read_provider_asset(inputs.handler).files
    shipped = json.loads(files[f"{bundling.SERVICE_MODELS_DIR}/omics/{version_dir.name}/service-2.json"])

    assert [n for n in files if n.startswith(bundling.SERVICE_MODELS_DIR)] == [
        f"{bundling.SERVICE_MODELS_DIR}/omics/{version_dir.name}/service-2.json"
    ]
    assert shipped["clientContextParams"] == model["clientContextParams"]
    output_uri = dict(model["shapes"]["StartRunRequest"]["members"]["outputUri"])
    del output_uri["documentation"]
    assert shipped["shapes"]["StartRunRequest"]["members"]["outputUri"] == output_uri


def strip_documentation(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_documentation(v) for k, v in value.items() if k != "documentation"}
    if isinstance(value, list):
        return [strip_documentation(v) for v in value]
    return value


def staged_files(directory: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.relative_to(directory).as_posix(): (p.stat().st_mode & 0o777, p.read_bytes())
        for p in directory.rglob("*")
        if p.is_file()
    }


def test_what_is_bundled_is_exactly_what_was_hashed(inputs: Inputs, tmp_path: Path) -> None:
    outdir = tmp_path / "out"
    cdk_asset_hash(outdir)
    [staged] = [p for p in outdir.iterdir() if p.name.startswith("asset.")]
    asset = read_provider_asset(inputs.handler)

    assert staged_files(staged) == {name: (ASSET_FILE_MODE, data) for name, data in asset.files.items()}


def test_bundling_is_skipped_when_the_assembly_folder_already_holds_the_asset(
    inputs: Inputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[str] = []
    write = ProviderAsset.write

    def counted_write(self: ProviderAsset, output_dir: Path) -> None:
        writes.append(str(output_dir))
        write(self, output_dir)

    monkeypatch.setattr(ProviderAsset, "write", counted_write)
    outdir = tmp_path / "cdk.out"

    first = cdk_asset_hash(outdir)
    second = cdk_asset_hash(outdir)  # as the next `cdk synth` into the same cdk.out
    _edit_handler(inputs)
    third = cdk_asset_hash(outdir)

    assert first == second != third
    assert len(writes) == 2  # the first synth and the one after the edit
    assert sorted(p.name for p in outdir.iterdir() if p.name.startswith("asset.")) == sorted(
        [f"asset.{first}", f"asset.{third}"]
    )


def cli_zip(directory: Path) -> bytes:
    """The zip the CDK CLI makes of an asset folder: each file's path, bytes and mode, at a fixed time."""
    target = directory.parent / f"{directory.name}.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, (mode, data) in sorted(staged_files(directory).items()):
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.create_system = 3
            entry.external_attr = (0o100000 | mode) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return target.read_bytes()


def test_unchanged_inputs_give_the_same_asset_hash_and_the_same_zip_in_separate_synths(tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    synths = []
    for index in range(2):
        out_dir = synth_app(app, tmp_path / f"out{index}", cwd=tmp_path)
        template = template_of(out_dir, STACK)
        [code] = [
            r["Properties"]["Code"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
        ]
        asset = provider_asset_dir(out_dir, STACK)
        synths.append((code["S3Key"], asset.name, staged_files(asset), cli_zip(asset)))

    (key, name, files, _zip), second = synths
    assert second == synths[0]
    assert key == f"{name.removeprefix('asset.')}.zip"
    assert {mode for mode, _ in files.values()} == {ASSET_FILE_MODE}
    # What was shipped is what the synthesizing environment holds now.
    assert {n: data for n, (_, data) in files.items()} == dict(read_provider_asset(handler_source_dir()).files)
