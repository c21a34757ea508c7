"""Where the provider's handler source lives, in a checkout and in an installed wheel."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType

HANDLER_MODULE = "omics_run_handler"
HANDLER_ENTRY_POINT = f"{HANDLER_MODULE}.handler"

# The wheel carries the handler source inside the package; a checkout keeps
# it in the top-level lambda/ folder.
_PACKAGED_SOURCE = Path(__file__).resolve().parent / "_lambda"
_CHECKOUT_SOURCE = Path(__file__).resolve().parents[2] / "lambda"


@lru_cache(maxsize=1)
def handler_source_dir() -> Path:
    """The folder holding ``omics_run_handler.py`` and the ``omics_run`` package."""
    for candidate in (_PACKAGED_SOURCE, _CHECKOUT_SOURCE):
        if (candidate / f"{HANDLER_MODULE}.py").is_file():
            return candidate
    raise FileNotFoundError(
        f"the Custom::OmicsRun handler source is missing: looked in {_PACKAGED_SOURCE} and {_CHECKOUT_SOURCE}"
    )


def start_run_shape() -> ModuleType:
    """The handler's ``start_run_shape`` module: the StartRun request's rules, from botocore's model."""
    return _handler_module("start_run_shape")


def service_model() -> ModuleType:
    """The handler's ``service_model`` module: where botocore's loader finds the omics model, and its shapes."""
    return _handler_module("service_model")


def workflow_request() -> ModuleType:
    """The handler's ``workflow_request`` module: a Custom::OmicsWorkflow's properties, checked against the model."""
    return _handler_module("workflow_request")


def tag_rules() -> ModuleType:
    """The handler's ``tag_rules`` module: the service's tag limits and the provider's reserved keys."""
    return _handler_module("tag_rules")


# The handler's runtime package, imported under a name of this library's own,
# so that it never collides with an ``omics_run`` a user's app may have.
_HANDLER_PACKAGE = "cdk_omics_run._handler_runtime"


@cache
def _handler_module(name: str) -> ModuleType:
    """A module of the handler that needs only the standard library, loaded from the handler source.

    Synth-time validation uses the very rules the handler applies at deploy
    time, so the two can never disagree. The modules import each other
    relatively, so they are loaded as submodules of the handler's package.
    """
    _handler_package()
    return importlib.import_module(f"{_HANDLER_PACKAGE}.{name}")


@cache
def _handler_package() -> ModuleType:
    package_dir = handler_source_dir() / "omics_run"
    spec = importlib.util.spec_from_file_location(
        _HANDLER_PACKAGE, package_dir / "__init__.py", submodule_search_locations=[str(package_dir)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    # Submodule imports (and dataclasses) look the package up in sys.modules.
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    return package
