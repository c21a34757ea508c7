"""The AWS clients the provider uses, and the one rule they share: never retry past the deadline."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# Standard retries back off on throttling; StartRun's request-rate quota is
# low and a stack may start dozens of runs at once. The timeouts keep one
# stuck connection from eating the Lambda's whole deadline. botocore's
# ``max_attempts`` counts retries only (Config reference: "the maximum number
# of retry attempts"; ``total_max_attempts`` includes the first), so this is 9
# attempts in all.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=30,
)

# A retry may sleep up to 20 s (botocore's "Standard retry mode"), then connect
# (5 s) and read (30 s): a retry that could outlast the invocation is not made,
# so the handler answers with the error itself.
RETRY_RESERVE_SECONDS = 60.0

_seconds_left: Callable[[], float] = lambda: math.inf  # noqa: E731 - replaced per invocation


def set_time_budget(seconds_left: Callable[[], float]) -> None:
    """Tells every client how much time the current invocation has left."""
    global _seconds_left
    _seconds_left = seconds_left


def _no_retry_near_the_deadline(
    response: Any = None, caught_exception: Exception | None = None, operation: Any = None, **_: Any
) -> None:
    """A ``needs-retry`` hook: when time is short, a failed attempt ends the call with its own error."""
    if _seconds_left() >= RETRY_RESERVE_SECONDS:
        return None  # the SDK's own retry rules decide
    if caught_exception is not None:
        raise caught_exception
    if response is not None and response[0].status_code >= 300:
        raise ClientError(response[1], operation.name)
    return None


def _with_deadline(client: Any) -> Any:
    client.meta.events.register_first(
        f"needs-retry.{client.meta.service_model.service_id.hyphenize()}", _no_retry_near_the_deadline
    )
    return client


@lru_cache(maxsize=1)
def omics_client() -> Any:
    """A HealthOmics client, reused across warm invocations.

    Endpoint and host-prefix settings are left to the SDK's standard
    configuration (``AWS_ENDPOINT_URL_OMICS``, ``AWS_DISABLE_HOST_PREFIX_INJECTION``)
    so that tests and private endpoints work without code changes.
    """
    return _with_deadline(boto3.client("omics", config=CLIENT_CONFIG))


# A wake that fails is retried by its next message, a poll interval later, so
# its own calls retry briefly: a throttled GetRun never holds the invocation.
WAKE_CLIENT_CONFIG = CLIENT_CONFIG.merge(Config(retries={"mode": "standard", "total_max_attempts": 3}))


@lru_cache(maxsize=1)
def wake_omics_client() -> Any:
    """A HealthOmics client for the wakes of waits: the same endpoint settings, fewer retries."""
    return _with_deadline(boto3.client("omics", config=WAKE_CLIENT_CONFIG))


@lru_cache(maxsize=1)
def wake_cloudformation_client() -> Any:
    """A CloudFormation client for the wakes of waits, to read their own stack's record of a run's resource."""
    return _with_deadline(boto3.client("cloudformation", config=WAKE_CLIENT_CONFIG))


@lru_cache(maxsize=1)
def sqs_client() -> Any:
    """An SQS client, for the provider to send itself the next wake-up of a wait."""
    return _with_deadline(boto3.client("sqs", config=CLIENT_CONFIG))


@lru_cache(maxsize=1)
def s3_client() -> Any:
    """An S3 client, to read a completed run's output summary and check its outputs exist."""
    return _with_deadline(boto3.client("s3", config=CLIENT_CONFIG))
