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
``Loader.list_api_versions``, ``Loader.load_data_with_path``,
``Loader._find_extras``, ``ExtrasProcessor``) and ``botocore/configprovider.py``
(the ``data_path`` setting):

- the search paths are ``AWS_DATA_PATH``'s entries (``os.pathsep``
  separated, ``~`` and variables expanded), then ``~/.aws/models``, then
  botocore's own ``data`` folder; paths that are not folders are skipped;
- the API version is the greatest folder name, over all search paths,
  holding a ``service-2.json`` or ``service-2.json.gz``;
- the file is read from the first search path that has that version, and
  the ``merge`` object of ``service-2.sdk-extras.json``, from the first
  search path that has one for that version, is merged into it;
- ``data_path`` in the AWS config file stands in for an unset
  ``AWS_DATA_PATH`` (the session's ``data_path`` setting).

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
# botocore's Loader.BUILTIN_EXTRAS_TYPES: service-2.sdk-extras.json is merged into the model.
EXTRAS_TYPE = "sdk"


class ServiceModelNotFound(LookupError):
    """No search path holds the service's model."""


def search_paths() -> list[Path]:
    """Where botocore looks for models, in its order of precedence."""
    extra = data_path_setting()
    paths = [] if extra is None else [os.path.expanduser(os.path.expandvars(p)) for p in extra.split(os.pathsep)]
    paths.append(os.path.join(os.path.expanduser("~"), ".aws", "models"))
    paths.append(str(botocore_data_dir()))
    return [Path(path) for path in paths if os.path.isdir(path)]


def data_path_setting() -> str | None:
    """botocore's ``data_path`` setting: ``AWS_DATA_PATH``, else ``data_path`` in the AWS config file."""
    from_environment = os.environ.get("AWS_DATA_PATH")
    if from_environment is not None:
        return from_environment
    config_file = os.path.expanduser(os.environ.get("AWS_CONFIG_FILE", os.path.join("~", ".aws", "config")))
    try:
        with open(config_file, encoding="utf-8", errors="replace") as config:
            mentions_data_path = "data_path" in config.read()
    except OSError:
        return None
    if not mentions_data_path:
        return None
    # Rare: which profile's data_path applies is botocore's to say, so ask it, paying its import here only.
    import botocore.session

    setting = botocore.session.get_session().get_config_variable("data_path")
    return None if setting is None else str(setting)


def botocore_data_dir() -> Path:
    """The ``data`` folder of the installed botocore, found without running its ``__init__``."""
    spec = importlib.util.find_spec("botocore")
    if spec is None or spec.origin is None:
        raise ServiceModelNotFound("botocore is not installed, and its data folder holds the service models")
    return Path(spec.origin).parent / "data"


def model_file_in(version_dir: Path, type_name: str = MODEL_TYPE) -> Path | None:
    """The file botocore reads for ``type_name`` in one API version's folder: ``.json`` first, then ``.json.gz``."""
    for extension in MODEL_EXTENSIONS:
        candidate = version_dir / f"{type_name}{extension}"
        if candidate.is_file():
            return candidate
    return None


def model_file(service_name: str = SERVICE_NAME, paths: list[Path] | None = None) -> Path:
    """The model file botocore's client would load for ``service_name`` (``paths``: the search paths)."""
    paths = search_paths() if paths is None else paths
    versions = {
        version_dir.name
        for base in paths
        if (base / service_name).is_dir()
        for version_dir in (base / service_name).iterdir()
        if model_file_in(version_dir) is not None
    }
    if not versions:
        raise ServiceModelNotFound(f"no {MODEL_TYPE} model of {service_name} in {', '.join(map(str, paths))}")
    found = _first_in(paths, service_name, max(versions), MODEL_TYPE)
    if found is None:
        raise ServiceModelNotFound(f"{service_name}/{max(versions)}/{MODEL_TYPE} vanished while it was being read")
    return found


def _first_in(paths: list[Path], service_name: str, version: str, type_name: str) -> Path | None:
    for base in paths:
        found = model_file_in(base / service_name / version, type_name)
        if found is not None:
            return found
    return None


def service_description(service_name: str = SERVICE_NAME) -> Mapping[str, Any]:
    """The whole model, as botocore's loader returns it: with its ``sdk`` extras merged in."""
    # Found once: finding them reads the AWS config file.
    paths = search_paths()
    model = model_file(service_name, paths)
    extras = _first_in(paths, service_name, model.parent.name, f"{MODEL_TYPE}.{EXTRAS_TYPE}-extras")
    return _described(model, extras)


@cache
def _described(model: Path, extras: Path | None) -> Mapping[str, Any]:
    description = _read_json(model)
    if extras is not None:
        _deep_merge(description, _read_json(extras).get("merge", {}))
    return description


def _read_json(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as stream:
        loaded: dict[str, Any] = json.loads(stream.read().decode("utf-8"))
    return loaded


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    # botocore.utils.deep_merge: objects merge key by key, anything else replaces.
    for key, value in extra.items():
        if isinstance(base.get(key), dict) and isinstance(value, dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value


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


def output_shape(operation_name: str, service_name: str = SERVICE_NAME) -> Shape:
    """An operation's output shape (``GetRun``'s holds ``status``, whose enum is the run's statuses)."""
    description = service_description(service_name)
    return resolve(description["operations"][operation_name]["output"], description["shapes"])
