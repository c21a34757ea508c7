"""Builds the provider's Lambda asset locally, without Docker.

The asset holds the handler source, the crhelper package installed in the
synthesizing environment, and the HealthOmics service model of the
synthesizing botocore, so that StartRun members newer than the Lambda
runtime's boto3 still work.

The asset's hash is computed from exactly the bytes the asset will hold
(:attr:`ProviderAsset.asset_hash`), before any bundling, so CDK can give the asset
its name without bundling first: when the cloud assembly folder already holds
the asset of that hash (``cdk synth`` keeps ``cdk.out`` between runs), CDK
skips bundling altogether. When bundling does run, it writes those very
bytes, so what is shipped is always what was hashed.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

from cdk_omics_run.handler_source import service_model

# Where the service model goes inside the asset; the function's AWS_DATA_PATH
# points there (Lambda unpacks the asset into /var/task).
SERVICE_MODELS_DIR = "service_models"
LAMBDA_TASK_ROOT = "/var/task"
SERVICE_MODELS_DATA_PATH = f"{LAMBDA_TASK_ROOT}/{SERVICE_MODELS_DIR}"

# Part of every asset hash. Change it whenever the bundler changes how it lays
# out or writes the asset in a way the file list and bytes do not show (the
# file mode, say), so that such a change gives a new hash too.
BUNDLE_FORMAT = "cdk-omics-run provider asset, format 2"

# Every file is written with this mode: readable by the Lambda runtime's
# user, whatever the source's mode or the synthesizing umask. The CDK CLI
# zips each file with its mode, so fixing it keeps equal inputs equal zips.
ASSET_FILE_MODE = 0o644

# Never shipped: byte-code is the synthesizing interpreter's, not Lambda's.
_IGNORED = ("__pycache__", "*.pyc", "*.pyo")


@dataclass(frozen=True)
class ProviderAsset:
    """The provider asset's contents, read once: its path inside the asset (POSIX) to its bytes.

    ``crhelper_versions`` are the versions named by crhelper's installed
    metadata (normally one); they are part of the hash, beside the files.
    """

    files: Mapping[str, bytes]
    crhelper_versions: tuple[str, ...]

    @property
    def asset_hash(self) -> str:
        """SHA-256 over the bundle format, crhelper's versions, and every file's path and bytes."""
        digest = hashlib.sha256()
        _hash_field(digest, "format", BUNDLE_FORMAT.encode())
        _hash_field(digest, "crhelper", ",".join(self.crhelper_versions).encode())
        for name in sorted(self.files):
            _hash_field(digest, "file", name.encode())
            _hash_field(digest, "sha256", hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()

    def write(self, output_dir: Path) -> None:
        """Writes every file into ``output_dir`` with the fixed mode."""
        for name in sorted(self.files):
            target = output_dir.joinpath(*name.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.files[name])
            os.chmod(target, ASSET_FILE_MODE)


def read_provider_asset(handler_source: Path) -> ProviderAsset:
    """Collects the whole provider asset from the synthesizing environment."""
    sources = provider_asset_sources(handler_source)
    crhelper = _installed_package_dir("crhelper")
    return ProviderAsset(
        files={name: _shipped_bytes(name, source) for name, source in sources.items()},
        crhelper_versions=tuple(sorted(_crhelper_versions(crhelper))),
    )


def _shipped_bytes(name: str, source: Path) -> bytes:
    if not name.startswith(f"{SERVICE_MODELS_DIR}/"):
        return source.read_bytes()
    return service_model_for_lambda(source)


def service_model_for_lambda(source: Path) -> bytes:
    """A botocore model file (``.json`` or ``.json.gz``) as the asset ships it: without documentation.

    Documentation strings are half of the model and two thirds of the
    zipped asset's model; botocore's client reads those of operations,
    shapes and members only to write docstrings, and the handler never. Only
    those are dropped: botocore reads others, such as a client context
    parameter's, when it resolves endpoints. Written as compact JSON,
    uncompressed, because Lambda's zip compresses it anyway and botocore then
    reads it without gunzip.
    """
    raw = source.read_bytes()
    model = json.loads(gzip.decompress(raw) if source.name.endswith(".gz") else raw)
    return json.dumps(_without_documentation(model), separators=(",", ":")).encode("utf-8")


def _without_documentation(model: dict[str, Any]) -> dict[str, Any]:
    stripped = _dropped(model, "documentation")
    stripped["operations"] = {name: _dropped(op, "documentation") for name, op in model.get("operations", {}).items()}
    stripped["shapes"] = {name: _shape_without_documentation(shape) for name, shape in model.get("shapes", {}).items()}
    return stripped


def _shape_without_documentation(shape: dict[str, Any]) -> dict[str, Any]:
    stripped = _dropped(shape, "documentation")
    if "members" in shape:
        stripped["members"] = {name: _dropped(ref, "documentation") for name, ref in shape["members"].items()}
    return stripped


def _dropped(mapping: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


def provider_asset_sources(handler_source: Path) -> dict[str, Path]:
    """Every file of the asset: its path inside the asset (POSIX) to the file it comes from.

    The handler source at the asset's root; crhelper as ``crhelper/`` with its
    licence and notice files; botocore's omics service model(s) under
    ``service_models/omics/<API version>/service-2.json`` (see
    :func:`service_model_for_lambda`). A later entry of the same path
    replaces an earlier one.
    """
    files: dict[str, Path] = {}
    for relative, path in _walk(handler_source):
        files[relative] = path
    crhelper = _installed_package_dir("crhelper")
    for relative, path in _walk(crhelper):
        files[f"crhelper/{relative}"] = path
    # crhelper is Apache-2.0: its licence and notice travel with the copy we ship.
    for notice in _crhelper_notices(crhelper):
        files[f"crhelper/{notice.name}"] = notice
    # Each API version's model file, the one botocore's loader would read there.
    models = _botocore_omics_models()
    for version_dir in sorted(p for p in models.iterdir() if p.is_dir()):
        model = service_model().model_file_in(version_dir)
        if model is not None:
            files[f"{SERVICE_MODELS_DIR}/omics/{version_dir.name}/service-2.json"] = model
    return files


@jsii.implements(ILocalBundling)
class ProviderAssetBundler:
    """Writes the handler, crhelper and the omics service model into the asset folder.

    The asset is read when the bundler is made; :attr:`asset_hash` is its
    hash, and bundling writes exactly the bytes that were hashed.
    """

    def __init__(self, handler_source: Path) -> None:
        self.asset = read_provider_asset(handler_source)

    @property
    def asset_hash(self) -> str:
        """The hash of what :meth:`try_bundle` writes (:attr:`ProviderAsset.asset_hash`)."""
        return self.asset.asset_hash

    # The bundling options are not needed. Taking them as ``*args`` keeps the
    # method compatible with ILocalBundling's keyword-only Python signature,
    # while jsii, seeing no keyword-only parameter, passes them positionally.
    # Returning False would fall back to Docker, which the project never
    # needs, so failures raise instead.
    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        self.asset.write(Path(output_dir))
        return True


def _hash_field(digest: hashlib._Hash, label: str, value: bytes) -> None:
    # Length-prefixed, so no two different sequences of fields hash alike.
    for part in (label.encode(), value):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)


def _ignored(name: str) -> bool:
    return any(fnmatch(name, pattern) for pattern in _IGNORED)


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    """(POSIX path relative to ``root``, path) of every file under ``root``, ignored names left out.

    Symbolic links are followed, as a copy would follow them.
    """
    for directory, subdirectories, names in os.walk(root, followlinks=True):
        subdirectories[:] = sorted(d for d in subdirectories if not _ignored(d))
        base = Path(directory)
        for name in sorted(names):
            if _ignored(name):
                continue
            path = base / name
            if path.is_file():
                yield path.relative_to(root).as_posix(), path


def _botocore_omics_models() -> Path:
    return Path(service_model().botocore_data_dir()) / "omics"


def _installed_package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{name} must be installed where the app synthesizes: pip install {name}")
    return Path(next(iter(spec.submodule_search_locations)))


def _crhelper_dist_infos(package_dir: Path) -> list[Path]:
    return sorted(package_dir.parent.glob("crhelper-*.dist-info"))


def _crhelper_versions(package_dir: Path) -> list[str]:
    return [d.name[len("crhelper-") : -len(".dist-info")] for d in _crhelper_dist_infos(package_dir)]


def _crhelper_notices(package_dir: Path) -> Iterator[Path]:
    for dist_info in _crhelper_dist_infos(package_dir):
        for notice in sorted(
            (*dist_info.glob("LICEN[CS]E*"), *dist_info.glob("NOTICE*"), *dist_info.glob("licenses/*"))
        ):
            if notice.is_file():
                yield notice
