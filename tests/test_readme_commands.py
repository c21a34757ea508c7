"""The README's shell commands work exactly as written, in a fresh copy of the project.

Every fenced ``sh`` block is run, in order, as one bash script (so an
``export`` carries on to later blocks), in a copy of the files git tracks.
Commands that need an AWS account (``aws ...``) are left out, and so is
``make test``, which is what runs this test. The copy shares this checkout's
installed environments (``.venv``, ``node_modules``): installing them is the
set-up command's job, which CI runs from a clean clone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

NEEDS_AN_AWS_ACCOUNT = re.compile(r"^aws\s")
RUNS_THIS_TEST = {"make test"}
OLD_MTIME = 946684800  # 2000-01-01


def readme_commands(readme: str) -> list[str]:
    """The commands of the README's sh blocks, continuation lines joined, comments kept."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            command = line.split("  #")[0].strip()
            if command and not NEEDS_AN_AWS_ACCOUNT.match(command) and command not in RUNS_THIS_TEST:
                commands.append(command)
    return commands


def test_the_readme_has_commands_to_check() -> None:
    commands = readme_commands((REPO_ROOT / "README.md").read_text(encoding="utf-8"))

    assert "make synth" in commands
    assert any(c.startswith("python -m cdk_omics_run.preview") for c in commands)
    assert not any(c.startswith("aws ") for c in commands)


PYTHON_EXAMPLES = {
    "Genomics": ("Custom::OmicsRun", 2),
    "Pipeline": ("Custom::OmicsRun", 1),
    "Cohort": ("Custom::OmicsRunBatch", 1),
}


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(PYTHON_EXAMPLES)))
def test_each_readme_python_example_synthesizes_as_written(tmp_path: Path, index: int) -> None:
    examples = re.findall(r"^```python\n(.*?)^```", (REPO_ROOT / "README.md").read_text(), re.MULTILINE | re.DOTALL)
    assert len(examples) == len(PYTHON_EXAMPLES)
    (tmp_path / "example.py").write_text(examples[index])

    result = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, env={**os.environ, "CDK_OUTDIR": str(tmp_path / "out")},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-4000:]
    stack_name, (resource_type, count) = list(PYTHON_EXAMPLES.items())[index]
    template = json.loads((tmp_path / "out" / f"{stack_name}.template.json").read_text())
    assert sum(r["Type"] == resource_type for r in template["Resources"].values()) == count


@pytest.mark.slow
def test_every_readme_command_works_verbatim_in_a_fresh_copy(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, copy / name)
            # Older than the shared environments' install markers: make sees them as up to date.
            os.utime(copy / name, (OLD_MTIME, OLD_MTIME))
    for environment in (".venv", "node_modules"):
        (copy / environment).symlink_to(REPO_ROOT / environment, target_is_directory=True)
    commands = readme_commands((copy / "README.md").read_text(encoding="utf-8"))
    script = "set -euo pipefail\n" + "".join(f"echo '+ {c}' >&2\n{c}\n" for c in commands)

    result = subprocess.run(["bash", "-c", script], cwd=copy, capture_output=True, text=True, timeout=900)

    assert result.returncode == 0, result.stderr[-4000:]
    assert (copy / "dist" / "omics-run-provider.template.json").is_file()
    assert (copy / "request.json").read_text().startswith("{")
