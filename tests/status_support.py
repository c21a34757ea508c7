"""What the ``status`` command's tests share: a deployed stack in the CloudFormation stand-in, and the command run.

The command runs in-process (``cli.main``), its AWS clients aimed at the stand-ins by the SDK's
standard settings (``AWS_ENDPOINT_URL_CLOUDFORMATION``, ``AWS_ENDPOINT_URL_OMICS``), exactly as a
user's environment would aim them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from support.cloudformation_stand_in import CloudFormationStandIn
from support.omics_stand_in import OmicsStandIn

from cdk_omics_run import cli

REGION = "us-east-1"
STACK = "Genomics"
# When the seeded runs and tasks happened: fixed, so that finished runs' elapsed times are exact.
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    """``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


def environment(omics: OmicsStandIn, cloudformation: CloudFormationStandIn, home: Path) -> dict[str, str]:
    """A user's environment, with test credentials and the SDK's endpoints aimed at the stand-ins."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_CLOUDFORMATION": cloudformation.endpoint_url,
        "AWS_ENDPOINT_URL_OMICS": omics.endpoint_url,
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        # No developer's own configuration, and no instance metadata, can lend credentials.
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }


@dataclass
class Outcome:
    """What the command printed, and its exit status."""

    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


class StatusCommand:
    """``cdk-omics-run status ...`` run in-process against the stand-ins."""

    def __init__(
        self,
        omics: OmicsStandIn,
        cloudformation: CloudFormationStandIn,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        home: Path,
    ) -> None:
        self.omics = omics
        self.cloudformation = cloudformation
        self.env = environment(omics, cloudformation, home)
        self._monkeypatch = monkeypatch
        self._capsys = capsys
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION"):
            monkeypatch.delenv(name, raising=False)
        for name, value in self.env.items():
            monkeypatch.setenv(name, value)

    def __call__(self, *args: str) -> Outcome:
        self._capsys.readouterr()
        code = cli.main(["status", *args])
        captured = self._capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def without(self, *names: str) -> StatusCommand:
        """The same command in an environment without these variables."""
        for name in names:
            self._monkeypatch.delenv(name, raising=False)
        return self


def row(*cells: str) -> str:
    """One tab-separated line of the plain output."""
    return "\t".join(cells)
