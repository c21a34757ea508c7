"""The shell commands and Python examples of the README and of the site's pages work exactly as written.

Every fenced ``sh`` block, the README's first and then the pages' in the
site's order, is run as one bash script (so an ``export`` carries on to later
blocks), in a copy of the files git tracks; a command written on two pages
runs once.
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
from documentation_pages import documents, fenced_blocks

NEEDS_AN_AWS_ACCOUNT = re.compile(r"^aws\s")
RUNS_THIS_TEST = {"make test"}
OLD_MTIME = 946684800  # 2000-01-01


def documented_commands(markdowns: list[str]) -> list[str]:
    """The commands of the sh blocks, in order, continuation lines joined, each once, comments kept."""
    commands: list[str] = []
    for block in (block for markdown in markdowns for block in fenced_blocks(markdown, "sh")):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            command = line.split("  #")[0].strip()
            if command and not NEEDS_AN_AWS_ACCOUNT.match(command) and command not in RUNS_THIS_TEST:
                commands.append(command)
    return list(dict.fromkeys(commands))


def test_the_readme_and_the_site_have_commands_to_check() -> None:
    readme, *pages = (document.read_text(encoding="utf-8") for document in documents())

    assert "make synth" in documented_commands([readme])
    commands = documented_commands([readme, *pages])
    assert any(c.startswith("python -m cdk_omics_run.preview") for c in commands)
    assert any(c.startswith("node_modules/.bin/cdk synth --app") for c in commands)  # Waiting and pipelines
    assert not any(c.startswith("aws ") for c in commands)


# The Python examples of the site's pages (docs/): the stack each synthesizes, and what it holds.
PYTHON_EXAMPLES = {
    "index.md": [("Genomics", "Custom::OmicsRun", 2)],
    "runs.md": [("Pipeline", "Custom::OmicsRun", 1)],
    "cohorts.md": [("Cohort", "Custom::OmicsRunBatch", 1), ("Cohorts", "Custom::OmicsRunBatch", 2)],
    "workflows.md": [("Pipeline", "Custom::OmicsWorkflow", 1), ("Workflows", "AWS::ECR::PullThroughCacheRule", 2)],
}
EXAMPLE_CASES = [(page, index) for page, examples in PYTHON_EXAMPLES.items() for index in range(len(examples))]


def test_every_python_example_is_listed_and_the_readme_shows_only_the_sites() -> None:
    readme, *pages = documents()

    for page in pages:
        examples = fenced_blocks(page.read_text(encoding="utf-8"), "python")
        assert len(examples) == len(PYTHON_EXAMPLES.get(page.name, [])), f"{page.name}: list its examples here"
    # The README's examples are synthesized as the site's, which they are copies of.
    site_examples = {example for page in pages for example in fenced_blocks(page.read_text(encoding="utf-8"), "python")}
    for example in fenced_blocks(readme.read_text(encoding="utf-8"), "python"):
        assert example in site_examples, f"a README example that no page of the site shows:\n{example[:200]}"


@pytest.mark.slow
@pytest.mark.parametrize(("page", "index"), EXAMPLE_CASES)
def test_each_python_example_synthesizes_as_written(tmp_path: Path, page: str, index: int) -> None:
    examples = fenced_blocks((REPO_ROOT / "docs" / page).read_text(encoding="utf-8"), "python")
    (tmp_path / "example.py").write_text(examples[index])

    result = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, env={**os.environ, "CDK_OUTDIR": str(tmp_path / "out")},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-4000:]
    stack_name, resource_type, count = PYTHON_EXAMPLES[page][index]
    template = json.loads((tmp_path / "out" / f"{stack_name}.template.json").read_text())
    assert sum(r["Type"] == resource_type for r in template["Resources"].values()) == count


@pytest.mark.slow
def test_every_documented_command_works_verbatim_in_a_fresh_copy(tmp_path: Path) -> None:
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
    commands = documented_commands([document.read_text(encoding="utf-8") for document in documents(copy)])
    script = "set -euo pipefail\n" + "".join(f"echo '+ {c}' >&2\n{c}\n" for c in commands)

    result = subprocess.run(["bash", "-c", script], cwd=copy, capture_output=True, text=True, timeout=900)

    assert result.returncode == 0, result.stderr[-4000:]
    assert (copy / "dist" / "omics-run-provider.template.json").is_file()
    assert (copy / "request.json").read_text().startswith("{")
