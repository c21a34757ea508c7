"""`make release-check`: shipped changes since the version last changed need a changelog entry, or a new version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "release_check.py"
PYPROJECT = '[project]\nname = "cdk-omics-run"\nversion = "{version}"\ndependencies = [{dependencies}]\n\n[tool.ruff]\nline-length = {line_length}\n'
CHANGELOG = "# Changelog\n\n## [Unreleased]\n{unreleased}\n## [{version}] - 2026-12-05\n- First release.\n"


class Repo:
    """A throwaway git repository with the project's shape: no tag, a version, a changelog, shipped files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        self.git("init", "--quiet", "--initial-branch=main")
        self.git("config", "user.email", "test@example.com")
        self.git("config", "user.name", "Test")
        self.write_pyproject("0.1.0")
        self.write(CHANGELOG.format(unreleased="", version="0.1.0"), "CHANGELOG.md")
        self.write("def handler(event, context): ...\n", "lambda/omics_run_handler.py")
        self.commit("0.1.0")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True, text=True).stdout

    def write(self, text: str, path: str) -> None:
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_text(text)

    def write_pyproject(self, version: str, dependencies: str = "", line_length: int = 120) -> None:
        self.write(
            PYPROJECT.format(version=version, dependencies=dependencies, line_length=line_length), "pyproject.toml"
        )

    def commit(self, message: str) -> None:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)

    def check(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(SCRIPT), "--repo", str(self.root)], capture_output=True, text=True)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def test_a_fresh_release_passes_without_any_tag(repo: Repo) -> None:
    result = repo.check()

    assert (result.returncode, result.stdout) == (0, "release-check: version 0.1.0: the changelog is current\n")
    assert repo.git("tag") == ""


def test_a_shipped_change_without_a_changelog_entry_fails_naming_the_files(repo: Repo) -> None:
    repo.write("def handler(event, context): return 1\n", "lambda/omics_run_handler.py")
    repo.write("VERSION = 1\n", "constructs/cdk_omics_run/new_module.py")
    repo.commit("handler change")
    version_commit = repo.git("log", "--format=%h", "-1", "HEAD~1").strip()

    result = repo.check()

    assert result.returncode == 1
    assert result.stderr == (
        f"release-check: shipped files changed since version 0.1.0 ({version_commit}), but CHANGELOG.md did not: "
        "constructs/cdk_omics_run/new_module.py, lambda/omics_run_handler.py; add an entry under `## [Unreleased]` "
        "in CHANGELOG.md, or release a new version\n"
    )


def test_uncommitted_and_untracked_shipped_changes_count_too(repo: Repo) -> None:
    repo.write("VERSION = 1\n", "lambda/omics_run/untracked.py")

    assert repo.check().returncode == 1


def test_a_changelog_entry_or_a_new_version_makes_it_pass(repo: Repo) -> None:
    repo.write("def handler(event, context): return 1\n", "lambda/omics_run_handler.py")
    repo.commit("handler change")
    assert repo.check().returncode == 1

    repo.write(CHANGELOG.format(unreleased="- The handler answers 1.\n", version="0.1.0"), "CHANGELOG.md")
    repo.commit("changelog")
    assert repo.check().returncode == 0

    repo.write_pyproject("0.2.0")
    repo.write(CHANGELOG.format(unreleased="", version="0.2.0"), "CHANGELOG.md")
    repo.commit("0.2.0")
    assert repo.check().returncode == 0
    # After the release, the next shipped change needs its own entry.
    repo.write("def handler(event, context): return 2\n", "lambda/omics_run_handler.py")
    repo.commit("another change")
    assert repo.check().returncode == 1


def test_only_shipped_files_and_the_project_table_count(repo: Repo) -> None:
    repo.write("def test(): ...\n", "tests/test_handler.py")
    repo.write_pyproject("0.1.0", line_length=100)
    repo.commit("tests and tooling")
    assert repo.check().returncode == 0

    repo.write_pyproject("0.1.0", dependencies='"crhelper>=2"', line_length=100)
    repo.commit("a new dependency")
    result = repo.check()
    assert result.returncode == 1
    assert "did not: pyproject.toml [project];" in result.stderr


def test_a_version_without_its_changelog_section_fails(repo: Repo) -> None:
    repo.write_pyproject("0.2.0")
    repo.commit("0.2.0, but no notes")

    result = repo.check()

    assert (result.returncode, result.stderr) == (
        1, "release-check: CHANGELOG.md has no section `## [0.2.0]` for the version in pyproject.toml\n",
    )  # fmt: skip


def test_a_shallow_clone_is_told_to_fetch_its_history(repo: Repo, tmp_path: Path) -> None:
    repo.write("def handler(event, context): return 1\n", "lambda/omics_run_handler.py")
    repo.commit("handler change")
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "--quiet", "--depth=1", f"file://{repo.root}", str(shallow)], check=True)

    result = subprocess.run([sys.executable, str(SCRIPT), "--repo", str(shallow)], capture_output=True, text=True)

    assert (result.returncode, result.stderr) == (
        1,
        "release-check: the clone is shallow, so the version's history is missing: run `git fetch --unshallow` first\n",
    )
