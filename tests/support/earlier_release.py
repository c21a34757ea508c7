"""An earlier release of the library, checked out from git and run in a process of its own.

The upgrade tests deploy with it, then play what CloudFormation sends the current handler after
``cdk deploy`` with the current library. Until the project has release tags, the baselines are
the commits just before each bookkeeping change (see tests/test_upgrade_*.py).

Example::

    release = EarlierRelease.checkout("e7a9f11", tmp_path)
    template = release.synthesize("OmicsRun(stack, 'CramToBam', workflow_id='1234567', ...)")
    release.invoke([create_event], environment)
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from events import cfn_event

import cdk_omics_run

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("earlier_release_runner.py")
# What a release's construct and handler need: nothing else is checked out.
RELEASE_FOLDERS = ("constructs", "lambda")


def latest_release_tag() -> str | None:
    """The newest release tag (``v0.1.0``) reachable from this checkout, or None before the first release."""
    found = subprocess.run(
        ["git", "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return found.stdout.strip() if found.returncode == 0 else None


def baselines(before_any_tag: str) -> list[str]:
    """What an upgrade suite deploys with: its fixed baseline, and the latest release tag once one exists."""
    tag = latest_release_tag()
    return [before_any_tag, *([tag] if tag else [])]


@dataclass(frozen=True)
class EarlierRelease:
    """The construct package and handler of one commit, in a folder of their own."""

    commit: str
    root: Path

    @classmethod
    def checkout(cls, commit: str, into: Path) -> EarlierRelease:
        """Extracts the commit's constructs/ and lambda/ (``git archive``), without touching this checkout."""
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, *RELEASE_FOLDERS], cwd=REPO_ROOT, capture_output=True
        )
        if archive.returncode != 0:
            raise AssertionError(
                f"commit {commit} is not in this clone ({archive.stderr.decode().strip()}); a shallow clone "
                "needs its history: `git fetch --unshallow` (.ci/run does it)"
            )
        root = into / commit
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as files:
            files.extractall(root, filter="data")
        return cls(commit, root)

    def synthesize(self, declare: str) -> dict[str, Any]:
        """The template of a stack that ``declare`` fills with this release's constructs."""
        template_path = self.root / "template.json"
        loaded = self._run({"declare": declare, "template_path": str(template_path)})
        assert Path(loaded["cdk_omics_run"]).is_relative_to(self.root), loaded  # the old construct, not ours
        return dict(json.loads(template_path.read_text()))

    def invoke(self, events: list[dict[str, Any]], environment: Mapping[str, str]) -> None:
        """Plays the events through this release's handler, which answers at each event's ResponseURL."""
        loaded = self._run({"events": events, "environment": dict(environment)})
        assert Path(loaded["omics_run_handler"]).is_relative_to(self.root), loaded

    def create(
        self,
        properties: Mapping[str, Any],
        *,
        logical_id: str,
        resource_type: str,
        bucket: Any,
        environment: Mapping[str, str],
    ) -> dict[str, Any]:
        """A Create through this release's handler, as CloudFormation sends it; its answer (SUCCESS asserted)."""
        key = f"responses/{self.commit}-{uuid.uuid4()}"
        event = cfn_event(
            "Create", properties, response_url=bucket.presigned_response_url(key), logical_id=logical_id,
            resource_type=resource_type,
        )  # fmt: skip
        self.invoke([event], environment)
        response: dict[str, Any] = bucket.wait_for_response(key)
        assert response["Status"] == "SUCCESS", response
        return response

    def _run(self, job: dict[str, Any]) -> dict[str, str]:
        done = subprocess.run(
            [sys.executable, str(RUNNER), str(self.root)],
            input=json.dumps(job), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return dict(json.loads(done.stdout.splitlines()[-1]))


def synthesize_current(declare: str) -> dict[str, Any]:
    """The template of the same declaration with the current library (this process's)."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "Stack")
    exports = {name: getattr(cdk_omics_run, name) for name in cdk_omics_run.__all__}  # loaded on first use
    exec(declare, {**exports, "cdk": cdk, "stack": stack})
    return dict(app.synth().get_stack_by_name("Stack").template)


def custom_resource(template: Mapping[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    """The logical ID and properties of the template's only resource of this type."""
    [(logical_id, resource)] = [(k, r) for k, r in template["Resources"].items() if r["Type"] == resource_type]
    return logical_id, dict(resource["Properties"])


def deployed(properties: Mapping[str, Any], references: Mapping[str, str]) -> dict[str, Any]:
    """The properties as CloudFormation hands them over: ``Ref`` resolved, no ServiceToken (events add it)."""

    def resolved(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"Ref"}:
            return references[value["Ref"]]
        if isinstance(value, dict):
            return {key: resolved(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolved(item) for item in value]
        return value

    return {key: resolved(value) for key, value in properties.items() if key != "ServiceToken"}


def wait_handles(*templates: Mapping[str, Any]) -> list[str]:
    """The logical IDs of the templates' WaitCondition handles (whose Ref is the handle's presigned URL)."""
    return sorted(
        {
            logical_id
            for template in templates
            for logical_id, resource in template["Resources"].items()
            if resource["Type"] == "AWS::CloudFormation::WaitConditionHandle"
        }
    )


def upgrade_fixtures(baseline_commits: list[str], declared: str) -> tuple[Any, Any]:
    """The ``release`` and ``templates`` fixtures an upgrade test module shares.

    ``release``: the library and handler of each baseline, checked out once per module.
    ``templates``: the stack declaring ``declared``, synthesized with that release and with the
    current library. A test module binds both at module level::

        release, templates = upgrade_fixtures(baselines("71ef854"), DECLARED)
    """

    @pytest.fixture(scope="module", params=baseline_commits)
    def release(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> EarlierRelease:
        return EarlierRelease.checkout(request.param, tmp_path_factory.mktemp("release"))

    @pytest.fixture(scope="module")
    def templates(release: EarlierRelease) -> tuple[dict[str, Any], dict[str, Any]]:
        return release.synthesize(declared), synthesize_current(declared)

    return release, templates
