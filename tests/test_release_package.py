"""The sdist: what it carries, its metadata, and that a wheel built from it alone is complete."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from cdk_omics_run.version import checkout_version

pytestmark = pytest.mark.slow

NAME, VERSION = "cdk-omics-run", checkout_version(REPO_ROOT / "pyproject.toml")
ROOT = f"cdk_omics_run-{VERSION}"


def build(kind: str, source: Path, outdir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(outdir), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [built] = outdir.glob("cdk_omics_run-*.tar.gz" if kind == "sdist" else "cdk_omics_run-*.whl")
    return built


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build("sdist", REPO_ROOT, tmp_path_factory.mktemp("sdist"))


@pytest.fixture(scope="module")
def sdist_names(sdist: Path) -> set[str]:
    with tarfile.open(sdist) as archive:
        return {member.name for member in archive.getmembers() if member.isfile()}


@pytest.fixture(scope="module")
def wheel_from_sdist(sdist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the unpacked sdist, far from the checkout, as pip builds one."""
    unpacked = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(sdist) as archive:
        archive.extractall(unpacked, filter="data")
    return build("wheel", unpacked / ROOT, tmp_path_factory.mktemp("wheel"))


def sdist_metadata(sdist: Path) -> Message:
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"{ROOT}/PKG-INFO")
        assert member is not None
        return Parser().parsestr(member.read().decode())


def test_the_sdist_is_named_after_the_project_and_its_version(sdist: Path) -> None:
    assert sdist.name == f"{ROOT}.tar.gz"


def test_the_sdist_carries_the_library_the_handler_the_readme_the_licence_and_the_build_config(
    sdist_names: set[str],
) -> None:
    library = {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "constructs" / "cdk_omics_run").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}  # fmt: skip
    handler = {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "lambda").rglob("*.py")
               if "__pycache__" not in p.parts}  # fmt: skip

    assert {f"{ROOT}/{name}" for name in library | handler} <= sdist_names
    assert {
        f"{ROOT}/{name}" for name in ("README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml", "PKG-INFO")
    } <= sdist_names
    assert f"{ROOT}/constructs/cdk_omics_run/py.typed" in sdist_names


def test_the_sdist_leaves_out_tests_tooling_and_build_output(sdist_names: set[str]) -> None:
    top_level = {name.split("/")[1] for name in sdist_names}

    # hatchling always adds .gitignore, which it reads to exclude ignored files.
    assert top_level == {
        "constructs", "lambda", "README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml", "PKG-INFO", ".gitignore",
    }  # fmt: skip
    assert not [name for name in sdist_names if "__pycache__" in name or name.endswith(".pyc")]
    # No constructs/__init__.py: it would shadow the `constructs` package of CDK.
    assert f"{ROOT}/constructs/__init__.py" not in sdist_names


def test_the_licence_is_the_apache_2_text() -> None:
    text = (REPO_ROOT / "LICENSE").read_text()

    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_sdist_metadata_names_the_package_its_licence_its_python_and_bounded_dependencies(sdist: Path) -> None:
    metadata = sdist_metadata(sdist)
    dependencies = metadata.get_all("Requires-Dist")

    assert (metadata["Name"], metadata["Version"]) == (NAME, VERSION)
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "Typing :: Typed" in metadata.get_all("Classifier")
    assert {re.match(r"[A-Za-z0-9_.-]+", d).group(0) for d in dependencies} == {  # type: ignore[union-attr]
        "aws-cdk-lib", "constructs", "botocore", "crhelper", "miniwdl",
        "rich", "plotly",  # the cli extra's
    }  # fmt: skip
    # Optional ones only with their extra: the status command's libraries, the WDL reader of OmicsWorkflow.
    assert sorted(d for d in dependencies if "extra ==" in d) == [
        "miniwdl<2,>=1.16.0; extra == 'wdl'",
        "plotly<8,>=6; extra == 'cli'",
        "rich<16,>=13.9; extra == 'cli'",
    ]
    # Every dependency has a floor: the oldest versions the library is known to work with.
    assert all(">=" in dependency for dependency in dependencies), dependencies


def test_a_wheel_built_from_the_sdist_alone_carries_the_library_and_the_handler_source(wheel_from_sdist: Path) -> None:
    names = set(zipfile.ZipFile(wheel_from_sdist).namelist())
    handler = {f"cdk_omics_run/_lambda/{p.relative_to(REPO_ROOT / 'lambda').as_posix()}"
               for p in (REPO_ROOT / "lambda").rglob("*.py") if "__pycache__" not in p.parts}  # fmt: skip

    assert wheel_from_sdist.name == f"cdk_omics_run-{VERSION}-py3-none-any.whl"
    assert {
        "cdk_omics_run/__init__.py",
        "cdk_omics_run/py.typed",
        "cdk_omics_run/preview.py",
        "cdk_omics_run/provider_stack.py",
        "cdk_omics_run/_lambda/omics_run_handler.py",
        f"cdk_omics_run-{VERSION}.dist-info/licenses/LICENSE",
    } <= names
    assert handler <= names
    assert not [
        n for n in names if "__pycache__" in n or n.startswith(("tests/", "crhelper/", "constructs/", "lambda/"))
    ]


def test_the_wheel_from_the_sdist_has_the_metadata_of_the_sdist(sdist: Path, wheel_from_sdist: Path) -> None:
    with zipfile.ZipFile(wheel_from_sdist) as archive:
        wheel_metadata = Parser().parsestr(archive.read(f"cdk_omics_run-{VERSION}.dist-info/METADATA").decode())
    fields = ("Name", "Version", "License-Expression", "Requires-Python", "Requires-Dist", "License-File")

    assert {f: wheel_metadata.get_all(f) for f in fields} == {f: sdist_metadata(sdist).get_all(f) for f in fields}
