#!/usr/bin/env python3
"""Fails when shipped files changed since the version last changed, while the changelog did not.

Usage::

    python scripts/release_check.py             # this checkout (make release-check)
    python scripts/release_check.py --repo DIR  # another git checkout

The version commit is the newest commit that changed ``[project] version`` in
pyproject.toml (no tag is needed). Since it (committed, staged, unstaged or
untracked), a change to what users install (the construct package, the
handler, the standalone provider's template builder, pyproject.toml's
``[project]`` table) must come with a change to CHANGELOG.md, or with a new
version. CHANGELOG.md must also have a section for the current version.
Needs only Python's standard library and git, so it works on a fresh clone.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = "pyproject.toml"
CHANGELOG = "CHANGELOG.md"
# What a user installs or deploys: a change here is a change of the release.
SHIPPED_PREFIXES = ("constructs/cdk_omics_run/", "lambda/", "scripts/build_provider_template.py")
# pyproject.toml's [project] table (name, version, dependencies, scripts); the tool tables are not shipped.
PROJECT_TABLE = re.compile(r"^\[project(?:\.[^\]]+)?\]$.*?(?=^\[(?!project[.\]])|\Z)", re.MULTILINE | re.DOTALL)
SHOWN_FILES = 10


def _version_module() -> ModuleType:
    """The library's own version reader, loaded by path: importing the package would import aws-cdk-lib."""
    spec = importlib.util.spec_from_file_location("version", REPO_ROOT / "constructs" / "cdk_omics_run" / "version.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


version_module = _version_module()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def text_at(repo: Path, commit: str | None, path: str) -> str:
    """The file at a commit (None: the working tree); empty when it does not exist there."""
    if commit is None:
        file = repo / path
        return file.read_text(encoding="utf-8") if file.exists() else ""
    try:
        return git(repo, "show", f"{commit}:{path}")
    except subprocess.CalledProcessError:
        return ""


def version_in(pyproject_text: str) -> str:
    return str(version_module.project_version(pyproject_text))


def project_table(pyproject_text: str) -> str:
    return "".join(match.group(0) for match in PROJECT_TABLE.finditer(pyproject_text))


def version_commit(repo: Path) -> str | None:
    """The newest commit that changed the version, or None when no commit has one."""
    for commit in git(repo, "log", "--format=%H", "--", PYPROJECT).split():
        parents = git(repo, "rev-list", "--parents", "-n", "1", commit).split()[1:]
        version = version_in(text_at(repo, commit, PYPROJECT))
        if not parents or any(version_in(text_at(repo, parent, PYPROJECT)) != version for parent in parents):
            return commit
    return None


def changed_since(repo: Path, commit: str) -> set[str]:
    """Paths changed since the commit: committed, staged, unstaged and untracked."""
    tracked = git(repo, "diff", "--name-only", commit).split("\n")
    untracked = git(repo, "ls-files", "--others", "--exclude-standard").split("\n")
    return {path for path in (*tracked, *untracked) if path}


def problems(repo: Path) -> list[str]:
    """What stands in the way of a release; empty when nothing does."""
    if git(repo, "rev-parse", "--is-shallow-repository").strip() == "true":
        return ["the clone is shallow, so the version's history is missing: run `git fetch --unshallow` first"]
    current = version_in(text_at(repo, None, PYPROJECT))
    found: list[str] = []
    if f"## [{current}]" not in text_at(repo, None, CHANGELOG):
        found.append(f"{CHANGELOG} has no section `## [{current}]` for the version in {PYPROJECT}")
    commit = version_commit(repo)
    if commit is None:
        return [*found, f"no commit sets [project] version in {PYPROJECT}"]
    if version_in(text_at(repo, commit, PYPROJECT)) != current:
        return found  # the version itself changed since: a release in the making
    changed = changed_since(repo, commit)
    if CHANGELOG in changed:
        return found
    shipped = sorted(path for path in changed if path.startswith(SHIPPED_PREFIXES))
    if PYPROJECT in changed and project_table(text_at(repo, commit, PYPROJECT)) != project_table(
        text_at(repo, None, PYPROJECT)
    ):
        shipped.insert(0, f"{PYPROJECT} [project]")
    if shipped:
        more = len(shipped) - SHOWN_FILES
        listed = ", ".join(shipped[:SHOWN_FILES]) + (f" and {more} more" if more > 0 else "")
        found.append(
            f"shipped files changed since version {current} ({commit[:7]}), but {CHANGELOG} did not: {listed}; "
            f"add an entry under `## [Unreleased]` in {CHANGELOG}, or release a new version"
        )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="the git checkout to check (default: this one)")
    args = parser.parse_args(argv)
    found = problems(args.repo)
    for problem in found:
        print(f"release-check: {problem}", file=sys.stderr)
    if not found:
        print(f"release-check: version {version_in(text_at(args.repo, None, PYPROJECT))}: the changelog is current")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
