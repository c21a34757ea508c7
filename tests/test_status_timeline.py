"""``status --timeline FILE.html``: one self-contained page, opened in headless Chromium (Debian's ``chromium``):
one bar per task of each run, and per run of each batch."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import boto3
import pytest
from status_support import STACK, StatusCommand, at
from support.cloudformation_stand_in import CloudFormationStandIn
from support.omics_stand_in import OmicsStandIn

# As tests/test_documentation_site.py runs it: no network of its own, no shared profile.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCRIPT_TIME_MS = 5000


@pytest.fixture
def status(
    omics: OmicsStandIn,
    cloudformation: CloudFormationStandIn,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> StatusCommand:
    return StatusCommand(omics, cloudformation, monkeypatch, capsys, tmp_path)


def seed_genomics(omics: OmicsStandIn, cloudformation: CloudFormationStandIn) -> tuple[str, str]:
    """A run of six tasks in every state, and a batch of three runs; (run ID, batch ID)."""
    run = omics.add_run(status="RUNNING", creationTime=at(0), startTime=at(1))
    omics.add_task(run["id"], "FastQC", "COMPLETED", creation_time=at(1), start_time=at(3), stop_time=at(15))
    omics.add_task(run["id"], "BwaMem", "COMPLETED", creation_time=at(15), start_time=at(18), stop_time=at(70))
    omics.add_task(run["id"], "SortSam", "FAILED", creation_time=at(70), start_time=at(71), stop_time=at(80))
    omics.add_task(run["id"], "SortSam-retry", "COMPLETED", creation_time=at(80), start_time=at(82), stop_time=at(95))
    omics.add_task(run["id"], "MarkDuplicates", "RUNNING", creation_time=at(95), start_time=at(99))
    omics.add_task(run["id"], "HaplotypeCaller", "PENDING", creation_time=at(100))
    batch = boto3.client("omics").start_run_batch(
        defaultRunSetting={
            "workflowId": "1234567",
            "roleArn": "arn:aws:iam::123456789012:role/r",
            "outputUri": "s3://o/",
        },
        batchRunSettings={"inlineSettings": [{"runSettingId": f"sample-{n}", "name": f"sample-{n}"} for n in range(3)]},
    )
    for n, run_id in enumerate(omics.submit_batch(batch["id"])):
        omics.runs[run_id].update(creationTime=at(0).isoformat(), startTime=at(2 + n).isoformat())
    cloudformation.add_stack(
        STACK,
        [("AlignA1B2C3D4", run["id"], "Custom::OmicsRun"), ("CohortB1B2C3D4", batch["id"], "Custom::OmicsRunBatch")],
    )
    return str(run["id"]), batch["id"]


class BarCounter(HTMLParser):
    """Counts the bars plotly drew: ``g.point`` elements inside each ``g.trace.bars``, and the y-axis labels."""

    def __init__(self) -> None:
        super().__init__()
        self.bars = 0
        self.labels: list[str] = []
        self._stack: list[str] = []
        self._in_label = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "g":
            self._stack.append(" ".join(classes))
            if "point" in classes and any("trace" in c.split() and "bars" in c.split() for c in self._stack):
                self.bars += 1
        self._in_label = tag == "text" and "ytick" in " ".join(self._stack[-1:])

    def handle_endtag(self, tag: str) -> None:
        if tag == "g" and self._stack:
            self._stack.pop()
        self._in_label = False

    def handle_data(self, data: str) -> None:
        if self._in_label:
            self.labels.append(data)


def rendered_dom(page: Path, profile: Path) -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed: the README's test command (make test) installs it")
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={SCRIPT_TIME_MS}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def test_the_timeline_page_draws_one_bar_per_task_and_per_batch_run_offline(
    status: StatusCommand, tmp_path: Path
) -> None:
    run_id, _ = seed_genomics(status.omics, status.cloudformation)
    page = tmp_path / "genomics.html"

    outcome = status(STACK, "--timeline", str(page))

    assert outcome.code == 0
    assert outcome.err == f"cdk-omics-run status: timeline of 9 bars written to {page}\n"
    html = page.read_text()
    # Self-contained: plotly.js inline, nothing fetched from elsewhere.
    assert not re.search(r"<script[^>]+src=", html)
    counter = BarCounter()
    counter.feed(rendered_dom(page, tmp_path / "profile"))
    assert counter.bars == 9  # six tasks, three runs of the batch
    tasks = [task["taskId"] for task in status.omics.run_tasks[run_id]]
    # A lane per task, named after the run resource, the task and its ID.
    assert sorted(label for label in counter.labels if label.startswith("AlignA1B2C3D4")) == sorted(
        f"AlignA1B2C3D4 {name} ({task_id})"
        for name, task_id in zip(
            ["FastQC", "BwaMem", "SortSam", "SortSam-retry", "MarkDuplicates", "HaplotypeCaller"], tasks, strict=True
        )
    )
