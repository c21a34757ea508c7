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


def tag_rules() -> ModuleType:
    """The handler's ``tag_rules`` module: the service's tag limits and the provider's reserved keys."""
    return _handler_module("tag_rules")


@cache
def _handler_module(name: str) -> ModuleType:
    """A dependency-free module of the handler, loaded from the handler source.

    Synth-time validation uses the very rules the handler applies at deploy
    time, so the two can never disagree.
    """
    path = handler_source_dir() / "omics_run" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"cdk_omics_run._{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
