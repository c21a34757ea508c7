"""The ``cdk-omics-run`` console command (also ``python -m cdk_omics_run``).

``status STACK`` shows where each run and batch of a deployed stack is (``cdk_omics_run.status``);
it needs the ``cli`` extra, whose terminal and plotting libraries a CDK app does not need.

Example::

    $ cdk-omics-run --version
    cdk-omics-run 0.1.0
    $ cdk-omics-run status Genomics --watch
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from cdk_omics_run.status.arguments import add_arguments as add_status_arguments
from cdk_omics_run.version import DISTRIBUTION, VERSION


def parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    found = argparse.ArgumentParser(
        prog=DISTRIBUTION,
        description="AWS HealthOmics workflow runs as AWS CDK constructs and CloudFormation resources.",
    )
    found.add_argument("--version", action="version", version=f"{DISTRIBUTION} {VERSION}")
    commands = found.add_subparsers(dest="command", metavar="COMMAND")
    status = commands.add_parser("status", help="where each run and batch of a deployed stack is")
    add_status_arguments(status)
    return found


def _status_command() -> Any:
    """The ``status`` command's module, or the ModuleNotFoundError of a library the ``cli`` extra brings."""
    try:
        from cdk_omics_run.status import command
    except ModuleNotFoundError as missing:
        if (missing.name or "").startswith("cdk_omics_run"):
            raise
        return missing
    return command


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command and returns its exit status; argparse itself exits for ``--version``, ``--help`` and bad usage.

    Without a command it shows the help.
    """
    command = parser()
    args = command.parse_args(argv)
    if args.command == "status":
        status_command = _status_command()
        if isinstance(status_command, ModuleNotFoundError):
            print(
                f'{DISTRIBUTION} status needs the "cli" extra ({status_command.name} is not installed): '
                f'pip install "{DISTRIBUTION}[cli]"',
                file=sys.stderr,
            )
            return 1
        return int(status_command.run(args))
    command.print_help()
    return 0
