"""A simulated clock for the handler, the stand-ins and the SDK's retries, so hours of waiting take seconds.

Only what reads the time to decide is moved onto the clock: the handler's
``time.time()`` (deadlines, the safety net's schedule), botocore's sleep
between retries (``botocore.endpoint``), and Lambda's remaining time. Each
AWS call also advances the clock by ``call_seconds``, a modelled round trip,
so that a burst of calls spreads over simulated time the way real calls spread
over real time. Nothing else (sockets, threads, TLS) is touched::

    clock = SimulatedClock(start=1_800_000_000.0)
    clock.install(monkeypatch)  # waiting.wake() now reads clock.now(); a throttled call "sleeps" by advancing it
"""

from __future__ import annotations

import threading
import types
from typing import Any

import pytest

# A call to an AWS API in the same region, modelled: the order of magnitude of a regional round trip.
CALL_SECONDS = 0.02


class SimulatedClock:
    """Seconds since the epoch, moved only by ``advance`` (and so by ``sleep`` and by each modelled call)."""

    def __init__(self, start: float, call_seconds: float = CALL_SECONDS) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.call_seconds = call_seconds
        self.slept = 0.0

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)

    def advance_to(self, when: float) -> None:
        """Moves to ``when`` if that is later; the clock never goes back."""
        with self._lock:
            self._now = max(self._now, when)

    def sleep(self, seconds: float) -> None:
        self.slept += max(0.0, seconds)
        self.advance(seconds)

    def time_module(self) -> types.SimpleNamespace:
        """A stand-in for the ``time`` module as the handler's modules use it."""
        import time

        return types.SimpleNamespace(
            time=self.now, sleep=self.sleep, monotonic=self.now, perf_counter=time.perf_counter
        )

    def count_call(self, **_: Any) -> None:
        """A botocore ``before-send`` hook: each attempt of each call takes ``call_seconds``."""
        self.advance(self.call_seconds)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Puts the handler's modules and botocore's retry sleep on this clock, until ``monkeypatch`` undoes it."""
        import botocore.endpoint
        import omics_run_handler

        import omics_run.lifecycle
        import omics_run.waiting

        simulated = self.time_module()
        for module in (omics_run.lifecycle, omics_run.waiting, omics_run_handler, botocore.endpoint):
            monkeypatch.setattr(module, "time", simulated)


class SimulatedLambdaContext:
    """Lambda's context object, its remaining time counted on the simulated clock."""

    def __init__(self, clock: SimulatedClock, timeout_seconds: float = 300.0) -> None:
        self._clock = clock
        self._deadline = clock.now() + timeout_seconds
        self.function_name = "OmicsRunProvider"
        self.log_group_name = "/aws/lambda/OmicsRunProvider"
        self.log_stream_name = "simulated"
        self.aws_request_id = "simulated"
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:omics-run-provider"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock.now()) * 1000))
