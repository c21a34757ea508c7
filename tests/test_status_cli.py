"""The ``status`` command as installed: the console script and ``python -m cdk_omics_run``, with and without
the ``cli`` extra; and how politely it reads (a task cursor per run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import botocore.session
import pytest
from status_support import STACK, environment, row
from support.cloudformation_stand_in import CloudFormationStandIn
from support.omics_stand_in import OmicsStandIn
from support.raw_http import aim_boto3_at

from cdk_omics_run.status.progress import TaskCursor, read_run

COMMAND = Path(sys.executable).with_name("cdk-omics-run")


def test_the_command_loads_neither_aws_cdk_lib_nor_jsii() -> None:
    # The constructs need them; the command does not, and starting jsii's node process took a second.
    probe = "import sys, cdk_omics_run.cli, cdk_omics_run.status.command; print(sorted({'aws_cdk', 'jsii'} & set(sys.modules)))"

    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)

    assert (loaded.returncode, loaded.stdout) == (0, "[]\n"), loaded.stderr


def test_the_console_script_and_the_module_run_status_over_http(
    omics: OmicsStandIn, cloudformation: CloudFormationStandIn, tmp_path: Path
) -> None:
    run = omics.add_run(status="PENDING")
    cloudformation.add_stack(STACK, [("AlignA1B2C3D4", run["id"], "Custom::OmicsRun")])
    env = {"PATH": os.environ["PATH"], **environment(omics, cloudformation, tmp_path)}

    for argv in ([str(COMMAND)], [sys.executable, "-m", "cdk_omics_run"]):
        shown = subprocess.run([*argv, "status", STACK], env=env, capture_output=True, text=True, timeout=60)

        assert (shown.returncode, shown.stderr) == (0, ""), argv
        assert shown.stdout.splitlines()[1] == row(
            STACK,
            "AlignA1B2C3D4",
            "run",
            run["id"],
            "PENDING",
            shown.stdout.splitlines()[1].split("\t")[5],
            "-",
            "0 done, 0 running, 0 failed of 0 tasks seen (total unknown until the run ends)",
        )


def test_without_the_cli_extra_status_says_how_to_install_it_and_the_rest_still_works(tmp_path: Path) -> None:
    # An environment where rich is not installed: a package of that name that cannot be imported.
    (tmp_path / "rich").mkdir()
    (tmp_path / "rich" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'rich'\", name='rich')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}

    status = subprocess.run([str(COMMAND), "status", STACK], env=env, capture_output=True, text=True, timeout=60)
    version = subprocess.run([str(COMMAND), "--version"], env=env, capture_output=True, text=True, timeout=60)
    usage = subprocess.run([str(COMMAND), "status", "--help"], env=env, capture_output=True, text=True, timeout=60)

    assert (status.returncode, status.stdout) == (1, "")
    assert status.stderr == (
        'cdk-omics-run status needs the "cli" extra (rich is not installed): pip install "cdk-omics-run[cli]"\n'
    )
    assert (version.returncode, version.stdout.split()[0]) == (0, "cdk-omics-run")
    # The options are documented either way.
    assert usage.returncode == 0 and "--watch" in usage.stdout and "--timeline FILE.html" in usage.stdout


def test_each_reading_starts_at_the_first_page_that_still_had_an_unfinished_task(
    omics: OmicsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """250 tasks in pages of 100: once the first 200 have ended, a reading reads the third page only."""
    aim_boto3_at(omics, monkeypatch)
    client = botocore.session.get_session().create_client("omics", region_name="us-east-1")
    run = omics.add_run(status="RUNNING")
    tasks = [omics.add_task(run["id"], f"shard-{n}", "COMPLETED" if n < 200 else "RUNNING") for n in range(250)]
    cursor = TaskCursor()

    first = read_run(client, run["id"], cursor, label="Genomics/Align")
    omics.reset_requests()
    omics.add_task(run["id"], "merge", "PENDING")
    omics.set_task_status(run["id"], tasks[200]["taskId"], "COMPLETED")
    second = read_run(client, run["id"], cursor, label="Genomics/Align")

    assert (first.tasks.done, first.tasks.running, first.tasks.seen) == (200, 50, 250)
    assert (second.tasks.done, second.tasks.running, second.tasks.seen) == (201, 49, 251)
    [listing] = omics.requests_for("ListRunTasks")
    assert listing.query["maxResults"] == ["100"]
    assert "startingToken" in listing.query  # the third page, not the first
    omics.set_status(run["id"], "COMPLETED")
    omics.reset_requests()
    read_run(client, run["id"], cursor, label="Genomics/Align")
    # Once the run ended, its tasks are read from the first page once more, for the final picture.
    assert [("startingToken" in r.query) for r in omics.requests_for("ListRunTasks")] == [False, True, True]
