"""The ``cdk-omics-run`` console command (also ``python -m cdk_omics_run``).

Today it answers ``--version``; its subcommands will hang off the same parser.

Example::

    $ cdk-omics-run --version
    cdk-omics-run 0.1.0
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from cdk_omics_run.version import DISTRIBUTION, VERSION


def parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    found = argparse.ArgumentParser(
        prog=DISTRIBUTION,
        description="AWS HealthOmics workflow runs as AWS CDK constructs and CloudFormation resources.",
    )
    found.add_argument("--version", action="version", version=f"{DISTRIBUTION} {VERSION}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command and returns its exit status; argparse itself exits for ``--version``, ``--help`` and bad usage.

    Without arguments there is nothing to do yet: it shows the help.
    """
    command = parser()
    command.parse_args(argv)
    command.print_help()
    return 0
