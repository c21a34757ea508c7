"""The omics service model, found and read the way botocore's loader finds and reads it.

Why not botocore itself: importing ``botocore.session`` costs about 0.28 s
and even ``botocore.model`` about 0.17 s (both pull in urllib3 and
botocore's documentation tooling), and the construct library loads the
request rules on every ``cdk synth``. The rules need only the model's JSON,
so this module reads it with the standard library. It must pick the very
file botocore's client uses, or synth-time checks, deploy-time checks and
the client's serializer could disagree; ``tests/test_service_model.py``
compares it with ``botocore.loaders`` under every search-path arrangement
that matters.

botocore's rules, from ``botocore/loaders.py`` (``create_loader``,
``Loader.list_api_versions``, ``Loader.load_data_with_path``):

- the search paths are ``AWS_DATA_PATH``'s entries (``os.pathsep``
  separated, ``~`` and variables expanded), then ``~/.aws/models``, then
  botocore's own ``data`` folder; paths that are not folders are skipped;
- the API version is the greatest folder name, over all search paths,
  holding a ``service-2.json`` or ``service-2.json.gz``;
- the file is read from the first search path that has that version.

And from ``botocore/model.py`` (``ShapeResolver.resolve_shape_ref``): a
member reference's own traits (its ``documentation``, for one) are laid
over the shape it names.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
from collections.abc import Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any

SERVICE_NAME = "omics"
MODEL_TYPE = "service-2"
# botocore's JSONFileLoader tries these, in this order.
MODEL_EXTENSIONS = (".json", ".json.gz")


class ServiceModelNotFound(LookupError):
    """No search path holds the service's model."""


def search_paths() -> list[Path]:
    """Where botocore looks for models, in its order of precedence."""
    extra = os.environ.get("AWS_DATA_PATH")
    paths = [] if extra is None else [os.path.expanduser(os.path.expandvars(p)) for p in extra.split(os.pathsep)]
    paths.append(os.path.join(os.path.expanduser("~"), ".aws", "models"))
    paths.append(str(_botocore_data_dir()))
    return [Path(path) for path in paths if os.path.isdir(path)]


def _botocore_data_dir() -> Path:
    # find_spec locates the installed botocore without running its __init__.
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        raise ServiceModelNotFound("botocore is not installed, and its data folder holds the service models")
    return Path(spec.origin).parent / "data"


def _model_file_in(version_dir: Path) -> Path | None:
    for extension in MODEL_EXTENSIONS:
        candidate = version_dir / f"{MODEL_TYPE}{extension}"
        if candidate.is_file():
            return candidate
    return None


def model_file(service_name: str = SERVICE_NAME) -> Path:
    """The model file botocore's client would load for ``service_name``."""
    paths = search_paths()
    versions = {
        version_dir.name
        for base in paths
        if (base / service_name).is_dir()
        for version_dir in (base / service_name).iterdir()
        if _model_file_in(version_dir) is not None
    }
    if not versions:
        raise ServiceModelNotFound(f"no {MODEL_TYPE} model of {service_name} in {', '.join(map(str, paths))}")
    latest = max(versions)
    for base in paths:
        found = _model_file_in(base / service_name / latest)
        if found is not None:
            return found
    raise ServiceModelNotFound(f"{service_name}/{latest}/{MODEL_TYPE} vanished while it was being read")


@cache
def _load(path: Path) -> Mapping[str, Any]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as stream:
        loaded: Mapping[str, Any] = json.loads(stream.read().decode("utf-8"))
    return loaded


def service_description(service_name: str = SERVICE_NAME) -> Mapping[str, Any]:
    """The whole model, as botocore's loader returns it."""
    return _load(model_file(service_name))


class Shape:
    """One shape of the model, with a member reference's traits laid over it.

    The attributes this project reads, named as botocore's ``Shape`` names
    them; ``metadata`` is the whole definition, where botocore keeps a subset.
    Each is computed once: the rules read them for every value they check.
    """

    def __init__(self, name: str, definition: Mapping[str, Any], shapes: Mapping[str, Any]) -> None:
        self.name = name
        self.metadata = definition
        self._shapes = shapes

    @cached_property
    def type_name(self) -> str:
        return str(self.metadata["type"])

    @cached_property
    def documentation(self) -> str:
        return str(self.metadata.get("documentation", ""))

    @cached_property
    def enum(self) -> list[str]:
        return list(self.metadata.get("enum", []))

    @cached_property
    def required_members(self) -> list[str]:
        return list(self.metadata.get("required", []))

    @cached_property
    def members(self) -> dict[str, Shape]:
        return {name: self._resolve(reference) for name, reference in self.metadata.get("members", {}).items()}

    @cached_property
    def member(self) -> Shape:
        """A list's item shape."""
        return self._resolve(self.metadata["member"])

    @cached_property
    def key(self) -> Shape:
        """A map's key shape."""
        return self._resolve(self.metadata["key"])

    @cached_property
    def value(self) -> Shape:
        """A map's value shape."""
        return self._resolve(self.metadata["value"])

    def _resolve(self, reference: Mapping[str, Any]) -> Shape:
        return resolve(reference, self._shapes)


def resolve(reference: Mapping[str, Any], shapes: Mapping[str, Any]) -> Shape:
    """The shape a reference (``{"shape": name, ...traits}``) names, its traits laid over it."""
    traits = dict(reference)
    name = traits.pop("shape")
    return Shape(name, {**shapes[name], **traits}, shapes)


def input_shape(operation_name: str, service_name: str = SERVICE_NAME) -> Shape:
    """An operation's input shape."""
    description = service_description(service_name)
    return resolve(description["operations"][operation_name]["input"], description["shapes"])
