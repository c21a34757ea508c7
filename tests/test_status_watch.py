"""``status --watch``: redrawn in place in a real terminal (tmux) until everything ended or Ctrl-C; one JSON
object per reading without a terminal; slower readings while AWS throttles."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from status_support import STACK, environment
from support.cloudformation_stand_in import CloudFormationStandIn
from support.omics_stand_in import OmicsStandIn

COMMAND = Path(sys.executable).with_name("cdk-omics-run")
ROLE_ARN = "arn:aws:iam::123456789012:role/omics-run"
RUNS = 10


class Terminal:
    """A tmux pane on a server of this test's own (``-L``): keys typed in, the screen read back."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True).stdout

    def type(self, text: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", "watch", "-l", text)
        if keys:
            self.tmux("send-keys", "-t", "watch", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "watch")

    def wait_for(self, seen: Callable[[str], bool], what: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if seen(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"never saw {what}; the screen:\n{self.screen()}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if subprocess.run(["which", "tmux"], capture_output=True).returncode != 0:
        pytest.fail("tmux is needed to drive --watch in a real terminal (Debian package tmux)")
    pane = Terminal(f"status-watch-{uuid.uuid4().hex[:8]}")
    pane.tmux("-f", "/dev/null", "new-session", "-d", "-s", "watch", "-x", "200", "-y", "30", "bash --norc --noprofile")
    yield pane
    pane.tmux("kill-server")


def deployed_cohort(omics: OmicsStandIn, cloudformation: CloudFormationStandIn) -> list[str]:
    """A stack with a batch of RUNS runs, submitted and in progress; the runs' IDs."""
    client = boto3.client("omics")
    batch = client.start_run_batch(
        defaultRunSetting={"workflowId": "1234567", "roleArn": ROLE_ARN, "outputUri": "s3://results/"},
        batchRunSettings={"inlineSettings": [{"runSettingId": f"sample-{n}"} for n in range(RUNS)]},
    )
    run_ids = omics.submit_batch(batch["id"])
    cloudformation.add_stack(STACK, [("CohortB1B2C3D4", batch["id"], "Custom::OmicsRunBatch")])
    return run_ids


@pytest.fixture
def aws(
    omics: OmicsStandIn, cloudformation: CloudFormationStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    env = environment(omics, cloudformation, tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def batch_row(screen: str) -> str:
    [line] = [line for line in screen.splitlines() if "CohortB1B2C3D4" in line]
    return line


def bar_length(screen: str) -> int:
    """The filled part of the batch's progress bar (NO_COLOR: rich draws only the filled part)."""
    lines = screen.splitlines()
    index = next(i for i, line in enumerate(lines) if "CohortB1B2C3D4" in line)
    return lines[index].count("━")


def test_watch_redraws_the_progress_bar_in_place_until_the_batch_ended(
    terminal: Terminal, omics: OmicsStandIn, cloudformation: CloudFormationStandIn, aws: dict[str, str], tmp_path: Path
) -> None:
    run_ids = deployed_cohort(omics, cloudformation)
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in {**aws, "NO_COLOR": "1"}.items())
    terminal.type(f"clear; env {exports} {COMMAND} status {STACK} --watch --interval 0.2; echo exit=$?", "Enter")

    start = terminal.wait_for(lambda s: "0/10 runs ended" in s, "the first reading")
    for run_id in run_ids[:4]:
        omics.set_status(run_id, "COMPLETED")
    middle = terminal.wait_for(lambda s: "4/10 runs ended" in s, "four runs ended")
    for run_id in run_ids[4:]:
        omics.set_status(run_id, "COMPLETED")
    end = terminal.wait_for(lambda s: "exit=" in s, "the command's end")

    assert (bar_length(start), bar_length(middle), bar_length(end)) == (0, 12, 30)
    # Redrawn in place: one table on the screen at every moment, never a scroll of tables.
    assert [screen.count("Runs of stack Genomics") for screen in (start, middle, end)] == [1, 1, 1]
    assert "next reading in 0.2 s (Ctrl-C stops watching)" in middle
    final = [line.strip() for line in end.splitlines() if line.strip()]
    assert final[-3:-1] == ["every run and batch has ended", "exit=0"]
    assert re.search(r"PROCESSED.*10/10 runs ended \(10 completed, 0 failed, 0 running\)", batch_row(end))


def test_ctrl_c_stops_watching_and_leaves_the_last_table(
    terminal: Terminal, omics: OmicsStandIn, cloudformation: CloudFormationStandIn, aws: dict[str, str]
) -> None:
    deployed_cohort(omics, cloudformation)
    exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in {**aws, "NO_COLOR": "1"}.items())
    terminal.type(f"clear; env {exports} {COMMAND} status {STACK} --watch --interval 0.2; echo exit=$?", "Enter")
    terminal.wait_for(lambda s: "0/10 runs ended" in s, "the first reading")

    terminal.tmux("send-keys", "-t", "watch", "C-c")
    end = terminal.wait_for(lambda s: "exit=" in s, "the command's end")

    assert "exit=130" in end
    assert "Traceback" not in end
    assert "INPROGRESS" in batch_row(end)


def test_without_a_terminal_watch_prints_a_json_object_per_reading_and_reads_less_often_while_throttled(
    omics: OmicsStandIn, cloudformation: CloudFormationStandIn, aws: dict[str, str]
) -> None:
    run_ids = deployed_cohort(omics, cloudformation)
    # Every attempt of two readings in a row (botocore's standard mode makes 3 attempts each).
    omics.fail_next("GetBatch", "ThrottlingException", times=6)
    command = subprocess.Popen(
        [str(COMMAND), "status", STACK, "--watch", "--json", "--interval", "0.2"],
        env={**os.environ, **aws},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert command.stdout is not None
    first = json.loads(command.stdout.readline())
    for run_id in run_ids:
        omics.set_status(run_id, "COMPLETED")
    rest = [json.loads(line) for line in command.stdout]
    command.wait(timeout=30)
    assert command.stderr is not None

    assert command.returncode == 0
    assert command.stderr.read().splitlines() == [
        "cdk-omics-run status: throttled by AWS: next reading in 0.4 s",
        "cdk-omics-run status: throttled by AWS: next reading in 0.8 s",
    ]
    assert (first["finished"], rest[-1]["finished"]) == (False, True)
    assert rest[-1]["resources"][0]["runSummary"]["completedRunCount"] == RUNS
    assert all(not reading["finished"] for reading in rest[:-1])
