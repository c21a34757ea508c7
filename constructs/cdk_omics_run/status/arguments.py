"""The ``status`` subcommand's arguments: standard library only, so that ``--help`` works without the ``cli`` extra.

Example::

    add_arguments(subcommands.add_parser("status"))
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``status`` subcommand's arguments."""
    parser.add_argument("stack", metavar="STACK", help="the deployed stack's name or ID")
    parser.add_argument("--watch", action="store_true", help="read again until every run has ended, or Ctrl-C")
    parser.add_argument("--json", action="store_true", help="print a JSON object per reading")
    parser.add_argument("--runs", action="store_true", help="list the runs of each batch too")
    parser.add_argument(
        "--cost", action="store_true", help="estimate what each run and batch cost, once it ended (Price List API)"
    )
    parser.add_argument(
        "--timeline", metavar="FILE.html", type=Path, help="write a Gantt chart of the tasks (and batches' runs)"
    )
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between readings (default 15)")
    parser.add_argument("--region", help="the stack's region (default: AWS_DEFAULT_REGION or the profile's)")
    parser.add_argument("--profile", help="the AWS profile to use")
