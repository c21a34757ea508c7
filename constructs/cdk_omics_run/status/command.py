"""``cdk-omics-run status STACK``: the stack's runs and batches, once or (``--watch``) until they end.

With a terminal it draws a table (rich); with ``--json`` or without a terminal it prints plain,
machine-readable output: a JSON object per reading, or tab-separated lines. ``--watch`` reads
again every ``--interval`` seconds, doubles the interval while the service throttles (up to
``MAX_INTERVAL``), and stops once every run and batch has ended, or on Ctrl-C.

Example::

    $ cdk-omics-run status Genomics --watch
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from rich.console import Console
from rich.live import Live

from cdk_omics_run.status.errors import StatusError, is_throttling
from cdk_omics_run.status.prices import PRICE_LIST_REGION, PriceBook
from cdk_omics_run.status.reader import StackReader
from cdk_omics_run.status.render import renderable
from cdk_omics_run.status.report import Snapshot, plain_lines, snapshot_json
from cdk_omics_run.status.stack_resources import BATCH_TYPE, RUN_TYPE, stack_resources
from cdk_omics_run.status.timeline_page import write_stack_timeline

# The longest wait between two readings while the service throttles.
MAX_INTERVAL = 300.0
# Exit status after Ctrl-C, as shells report a command ended by SIGINT.
INTERRUPTED = 130
# botocore's standard retry mode retries throttling with backoff (3 attempts in all) before the command sees it.
_CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 3})


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Runs ``status``; every failure is one line on stderr and exit status 1."""
    out = out or sys.stdout
    try:
        reader = _reader(args)
        if args.watch:
            code = _watch(reader, args, out)
        else:
            _show_once(_read(reader), args, out)
            code = 0
        last = reader.last
        if args.timeline is not None and last is not None:
            bars = _guarded(lambda: write_stack_timeline(args.timeline, reader, last))
            print(f"cdk-omics-run status: timeline of {bars} bars written to {args.timeline}", file=sys.stderr)
        return code
    except StatusError as error:
        print(f"cdk-omics-run status: {error}", file=sys.stderr)
        return 1
    except ClientError as error:  # none is expected here (each call names its own); still one line, no traceback
        print(f"cdk-omics-run status: {error}", file=sys.stderr)
        return 1


def _reader(args: argparse.Namespace) -> StackReader:
    session = botocore.session.Session(profile=args.profile)
    try:
        cloudformation = session.create_client("cloudformation", region_name=args.region, config=_CLIENT_CONFIG)
        omics = session.create_client("omics", region_name=args.region, config=_CLIENT_CONFIG)
        resources = _guarded(lambda: stack_resources(cloudformation, args.stack))
    except NoRegionError as error:
        raise StatusError("no AWS region: pass --region, or set AWS_DEFAULT_REGION") from error
    except BotoCoreError as error:  # a profile that does not exist, among others
        raise StatusError(f"{error}: check --profile and your AWS configuration") from error
    if not resources:
        raise StatusError(
            f"stack {args.stack} has no {RUN_TYPE} or {BATCH_TYPE} resources (nested stacks included): "
            "name the stack that holds your OmicsRun or OmicsRunBatch constructs"
        )
    prices = logs = None
    if args.cost:
        # The Price List API answers in a few regions only: its endpoint is chosen, not the stack's region.
        pricing = session.create_client("pricing", region_name=PRICE_LIST_REGION, config=_CLIENT_CONFIG)
        prices = PriceBook.from_price_list(pricing)
        logs = session.create_client("logs", region_name=args.region, config=_CLIENT_CONFIG)
    return StackReader(omics, args.stack, resources, with_runs=args.runs, prices=prices, logs=logs)


def _guarded(call: Callable[[], Any], *, throttling_passes: bool = False) -> Any:
    """Errors that every AWS call may raise, as one line each; with ``throttling_passes``, --watch backs off instead."""
    try:
        return call()
    except NoCredentialsError as error:
        raise StatusError(
            "no AWS credentials found: run `aws configure` or `aws sso login`, or set AWS_PROFILE"
        ) from error
    except ClientError as error:
        if is_throttling(error) and not throttling_passes:
            raise StatusError("AWS throttled every retry of this reading: try again in a minute") from error
        raise
    except BotoCoreError as error:
        raise StatusError(f"{error}: check your network and AWS configuration") from error


def _read(reader: StackReader, *, throttling_passes: bool = False) -> Snapshot:
    snapshot: Snapshot = _guarded(reader.snapshot, throttling_passes=throttling_passes)
    return snapshot


def _show_once(snapshot: Snapshot, args: argparse.Namespace, out: TextIO) -> None:
    if args.json:
        out.write(json.dumps(snapshot_json(snapshot)) + "\n")
    elif out.isatty():
        Console(file=out).print(renderable(snapshot))
    else:
        out.write("\n".join(plain_lines(snapshot)) + "\n")
    out.flush()


def _watch(reader: StackReader, args: argparse.Namespace, out: TextIO) -> int:
    live = out.isatty() and not args.json
    interval = max(args.interval, 0.1)
    delay = interval
    snapshot: Snapshot | None = None
    display = Live(console=Console(file=out), auto_refresh=False, transient=False) if live else None
    try:
        if display is not None:
            display.start()
        while True:
            footer, throttled = "", False
            try:
                snapshot = _read(reader, throttling_passes=True)
                delay = interval
            except ClientError as error:
                if not is_throttling(error):
                    raise
                # Throttled through botocore's own retries: read less often until a reading succeeds.
                throttled, delay = True, min(delay * 2, MAX_INTERVAL)
                footer = f"throttled by AWS: next reading in {delay:g} s"
            if snapshot is not None:
                if snapshot.finished:
                    footer = "every run and batch has ended"
                elif not footer:
                    footer = f"next reading in {delay:g} s (Ctrl-C stops watching)"
                if display is not None:
                    display.update(renderable(snapshot, footer), refresh=True)
                elif not throttled:
                    _show_once(snapshot, args, out)
                    if not args.json:
                        out.write("\n")
                if snapshot.finished:
                    return 0
            if throttled and display is None:
                print(f"cdk-omics-run status: {footer}", file=sys.stderr, flush=True)
            time.sleep(delay)
    except KeyboardInterrupt:
        return INTERRUPTED
    finally:
        if display is not None:
            display.stop()
