"""The handler reads the omics model itself: the very file, and the very shapes, botocore's client uses.

``omics_run.service_model`` finds the model without importing botocore (which
would cost every synth about 0.28 s). If it chose a different file than
botocore's loader, the rules the construct and the handler check would differ
from the request botocore's serializer sends. Each arrangement below runs in
its own interpreter, because botocore fixes ``~/.aws/models`` when it is
imported.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.loaders
import botocore.session
import pytest
from botocore.model import Shape as BotocoreShape

from omics_run import service_model
from omics_run.service_model import Shape

LAMBDA_DIR = Path(__file__).resolve().parents[1] / "lambda"
BUILTIN = botocore.loaders.create_loader(None)
LATEST = BUILTIN.determine_latest_version("omics", "service-2")
OLDER, NEWER = "2000-01-01", "2999-12-31"

# Prints, as JSON, the file each reader picks and whether they read the same model.
COMPARE = """
import json, botocore.session
from omics_run import service_model
# The loader botocore's clients use: it honours AWS_DATA_PATH and the config file's data_path.
loader = botocore.session.get_session().get_component("data_loader")
version = loader.determine_latest_version("omics", "service-2")
_, botocore_path = loader.load_data_with_path(f"omics/{version}/service-2")
ours = service_model.model_file()
print(json.dumps({
    "botocore": botocore_path,
    "ours": str(ours),
    "same_model": loader.load_service_model("omics", "service-2") == service_model.service_description(),
    "metadata": service_model.service_description()["metadata"],
}))
"""


def write_model(base: Path, version: str, marker: str, *, gzipped: bool = False) -> Path:
    """botocore's omics model, its documentation marked, saved as ``base/omics/version/service-2.json[.gz]``."""
    model = BUILTIN.load_service_model("omics", "service-2")
    model["documentation"] = marker
    folder = base / "omics" / version
    folder.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(model).encode("utf-8")
    if gzipped:
        path = folder / "service-2.json.gz"
        path.write_bytes(gzip.compress(payload))
    else:
        path = folder / "service-2.json"
        path.write_bytes(payload)
    return path


def both_readers(home: Path, data_path: str | None, **extra_env: str) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if key != "AWS_DATA_PATH"}
    env.update({"HOME": str(home), "PYTHONPATH": str(LAMBDA_DIR), **extra_env})
    if data_path is not None:
        env["AWS_DATA_PATH"] = data_path
    completed = subprocess.run(
        [sys.executable, "-c", COMPARE], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    picked: dict[str, Any] = json.loads(completed.stdout)
    return picked


def assert_same_choice(picked: dict[str, Any], expected_file: Path | None) -> None:
    assert picked["same_model"] is True
    # botocore names the file without its extension.
    assert picked["ours"] in (picked["botocore"] + ".json", picked["botocore"] + ".json.gz")
    if expected_file is not None:
        assert picked["ours"] == str(expected_file)


def test_without_aws_data_path_both_read_botocores_own_model(tmp_path: Path) -> None:
    picked = both_readers(tmp_path, None)

    assert_same_choice(picked, None)
    assert picked["ours"].startswith(str(Path(botocore.loaders.__file__).parent / "data" / "omics" / LATEST))


def test_a_model_of_the_same_version_on_aws_data_path_wins(tmp_path: Path) -> None:
    shipped = write_model(tmp_path / "shipped", LATEST, "shipped")

    assert_same_choice(both_readers(tmp_path, str(tmp_path / "shipped")), shipped)


def test_an_older_version_on_aws_data_path_loses_to_botocores_newer_one(tmp_path: Path) -> None:
    write_model(tmp_path / "shipped", OLDER, "older")

    picked = both_readers(tmp_path, str(tmp_path / "shipped"))

    assert_same_choice(picked, None)
    assert f"{os.sep}{LATEST}{os.sep}" in picked["ours"]


def test_a_newer_version_on_aws_data_path_wins(tmp_path: Path) -> None:
    newer = write_model(tmp_path / "shipped", NEWER, "newer")

    assert_same_choice(both_readers(tmp_path, str(tmp_path / "shipped")), newer)


def test_the_first_of_several_aws_data_path_entries_that_has_the_version_wins_gzipped_or_not(
    tmp_path: Path,
) -> None:
    second = write_model(tmp_path / "second", LATEST, "second", gzipped=True)
    write_model(tmp_path / "third", LATEST, "third")
    data_path = os.pathsep.join([str(tmp_path / "missing"), str(tmp_path / "second"), str(tmp_path / "third")])

    assert_same_choice(both_readers(tmp_path, data_path), second)


def test_aws_data_path_entries_expand_home_and_variables(tmp_path: Path) -> None:
    by_home = write_model(tmp_path / "models-at-home", LATEST, "home")
    write_model(tmp_path / "models-by-variable", NEWER, "variable")

    picked = both_readers(tmp_path, os.pathsep.join(["~/models-at-home", "$MODELS_DIR"]), MODELS_DIR="/nonexistent")
    assert_same_choice(picked, by_home)

    by_variable = tmp_path / "models-by-variable" / "omics" / NEWER / "service-2.json"
    picked = both_readers(tmp_path, "$MODELS_DIR", MODELS_DIR=str(tmp_path / "models-by-variable"))
    assert_same_choice(picked, by_variable)


def test_the_users_aws_models_folder_comes_before_botocores(tmp_path: Path) -> None:
    customer = write_model(tmp_path / ".aws" / "models", LATEST, "customer")

    assert_same_choice(both_readers(tmp_path, None), customer)


def test_a_version_folder_without_a_service_model_is_no_version(tmp_path: Path) -> None:
    paginators_only = tmp_path / "shipped" / "omics" / NEWER
    paginators_only.mkdir(parents=True)
    (paginators_only / "paginators-1.json").write_text("{}", encoding="utf-8")

    picked = both_readers(tmp_path, str(tmp_path / "shipped"))

    assert_same_choice(picked, None)
    assert NEWER not in picked["ours"]


def test_the_config_files_data_path_stands_in_for_an_unset_aws_data_path(tmp_path: Path) -> None:
    by_profile = write_model(tmp_path / "profile-models", NEWER, "profile")
    write_model(tmp_path / "default-models", NEWER, "default")
    config = tmp_path / "config"
    config.write_text(
        f"[default]\ndata_path = {tmp_path / 'default-models'}\n\n"
        f"[profile research]\ndata_path = {tmp_path / 'profile-models'}\n",
        encoding="utf-8",
    )

    picked = both_readers(tmp_path, None, AWS_CONFIG_FILE=str(config), AWS_PROFILE="research")
    assert_same_choice(picked, by_profile)

    by_environment = write_model(tmp_path / "environment-models", NEWER, "environment")
    picked = both_readers(tmp_path, str(tmp_path / "environment-models"), AWS_CONFIG_FILE=str(config))
    assert_same_choice(picked, by_environment)


def test_a_config_file_without_data_path_changes_nothing(tmp_path: Path) -> None:
    config = tmp_path / ".aws" / "config"
    config.parent.mkdir()
    config.write_text("[default]\nregion = us-east-1\n", encoding="utf-8")

    picked = both_readers(tmp_path, None)

    assert_same_choice(picked, None)
    assert f"{os.sep}{LATEST}{os.sep}" in picked["ours"]


def test_sdk_extras_of_the_version_are_merged_from_the_first_path_holding_them(tmp_path: Path) -> None:
    shipped = write_model(tmp_path / "shipped", LATEST, "shipped")
    for folder, marker in (("extras", "merged"), ("more-extras", "not merged")):
        extras = tmp_path / folder / "omics" / LATEST / "service-2.sdk-extras.json"
        extras.parent.mkdir(parents=True)
        extras.write_text(json.dumps({"merge": {"metadata": {"serviceFullName": marker}}}), encoding="utf-8")
    data_path = os.pathsep.join(str(tmp_path / name) for name in ("shipped", "extras", "more-extras"))

    picked = both_readers(tmp_path, data_path)

    assert_same_choice(picked, shipped)
    assert picked["metadata"]["serviceFullName"] == "merged"
    assert picked["metadata"]["signingName"] == "omics"  # merged key by key, not replaced


def test_no_model_anywhere_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))

    with pytest.raises(service_model.ServiceModelNotFound, match="no service-2 model of nosuchservice in "):
        service_model.model_file("nosuchservice")


def walk(ours: Shape, theirs: BotocoreShape, path: str, depth: int = 0) -> Iterator[tuple[str, Any, Any]]:
    """(path, our value, botocore's value) for every attribute the rules read, through nested shapes."""
    for attribute in ("name", "type_name", "documentation"):
        yield f"{path}.{attribute}", getattr(ours, attribute), getattr(theirs, attribute)
    yield f"{path}.enum", ours.enum, list(getattr(theirs, "enum", []))
    for key in ("min", "max", "pattern", "document"):
        yield f"{path}.metadata[{key}]", ours.metadata.get(key), theirs.metadata.get(key)
    if depth > 6:
        return
    if ours.type_name == "structure":
        yield f"{path}.required_members", ours.required_members, list(theirs.required_members)
        yield f"{path}.members", list(ours.members), list(theirs.members)
        for name in ours.members:
            yield from walk(ours.members[name], theirs.members[name], f"{path}.{name}", depth + 1)
    elif ours.type_name == "list":
        yield from walk(ours.member, theirs.member, f"{path}[]", depth + 1)
    elif ours.type_name == "map":
        yield from walk(ours.key, theirs.key, f"{path}{{key}}", depth + 1)
        yield from walk(ours.value, theirs.value, f"{path}{{value}}", depth + 1)


@pytest.mark.parametrize("operation", ["StartRun", "StartRunBatch"])
def test_each_input_shape_reads_as_botocores_model_reads_it(operation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DATA_PATH", raising=False)
    theirs = botocore.session.get_session().get_service_model("omics").operation_model(operation).input_shape

    compared = list(walk(service_model.input_shape(operation), theirs, operation))

    assert [(path, ours) for path, ours, _ in compared] == [(path, expected) for path, _, expected in compared]
    # Member references carry their own documentation, laid over the shape's.
    assert any(path.endswith(".documentation") and ours for path, ours, _ in compared)
    assert len(compared) > 100
