"""Builds the provider's Lambda asset locally, without Docker.

The asset holds the handler source, the crhelper package installed in the
synthesizing environment, and the HealthOmics service model of the
synthesizing botocore, so that StartRun members newer than the Lambda
runtime's boto3 still work.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import botocore
import jsii
from aws_cdk import BundlingOptions, ILocalBundling

# Where the service model goes inside the asset; the function's AWS_DATA_PATH
# points there (Lambda unpacks the asset into /var/task).
SERVICE_MODELS_DIR = "service_models"
LAMBDA_TASK_ROOT = "/var/task"
SERVICE_MODELS_DATA_PATH = f"{LAMBDA_TASK_ROOT}/{SERVICE_MODELS_DIR}"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


@jsii.implements(ILocalBundling)
class ProviderAssetBundler:
    """Copies the handler, crhelper and the omics service model into the asset folder."""

    def __init__(self, handler_source: Path) -> None:
        self._handler_source = handler_source

    # jsii passes `options` positionally; returning False would fall back to
    # Docker, which the project never needs, so failures raise instead.
    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        bundle_provider_asset(self._handler_source, Path(output_dir))
        return True


def bundle_provider_asset(handler_source: Path, output_dir: Path) -> None:
    """Writes the complete provider asset into ``output_dir``."""
    shutil.copytree(handler_source, output_dir, ignore=_IGNORED, dirs_exist_ok=True)
    crhelper = _installed_package_dir("crhelper")
    shutil.copytree(crhelper, output_dir / "crhelper", ignore=_IGNORED, dirs_exist_ok=True)
    _copy_crhelper_license(crhelper, output_dir / "crhelper")
    models = Path(botocore.__file__).parent / "data" / "omics"
    for model in models.glob("*/service-2.json*"):
        target = output_dir / SERVICE_MODELS_DIR / "omics" / model.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(model, target / model.name)


def _installed_package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{name} must be installed where the app synthesizes: pip install {name}")
    return Path(list(spec.submodule_search_locations)[0])


def _copy_crhelper_license(package_dir: Path, target: Path) -> None:
    # crhelper is Apache-2.0: its licence and notice travel with the copy we ship.
    for dist_info in package_dir.parent.glob("crhelper-*.dist-info"):
        for notice in (*dist_info.glob("LICEN[CS]E*"), *dist_info.glob("NOTICE*"), *dist_info.glob("licenses/*")):
            if notice.is_file():
                shutil.copy2(notice, target / notice.name)
