"""The HealthOmics client the provider uses."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

# Standard retries back off on throttling; StartRun's request-rate quota is
# low and a stack may start dozens of runs at once. The timeouts keep one
# stuck connection from eating the Lambda's whole deadline.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 8},
    connect_timeout=5,
    read_timeout=30,
)


@lru_cache(maxsize=1)
def omics_client() -> Any:
    """A HealthOmics client, reused across warm invocations.

    Endpoint and host-prefix settings are left to the SDK's standard
    configuration (``AWS_ENDPOINT_URL_OMICS``, ``AWS_DISABLE_HOST_PREFIX_INJECTION``)
    so that tests and private endpoints work without code changes.
    """
    return boto3.client("omics", config=CLIENT_CONFIG)


@lru_cache(maxsize=1)
def lambda_client() -> Any:
    """A Lambda client, for the provider to hand a wait over to its next invocation."""
    return boto3.client("lambda", config=CLIENT_CONFIG)
