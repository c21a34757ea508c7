"""How the HealthOmics stand-in's self-tests reach it: boto3 aimed at it, raw requests, exact errors."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from support.omics_stand_in import OmicsStandIn


def raw_request(
    stand_in: OmicsStandIn, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """One request as written, without botocore's validation: (status, lower-cased headers, JSON body)."""
    parts = urlsplit(stand_in.endpoint_url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=5)
    try:
        payload = json.dumps(body) if body is not None else None
        connection.request(method, path, body=payload, headers={"content-type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, headers, json.loads(data) if data else {}
    finally:
        connection.close()


def service_error(excinfo: pytest.ExceptionInfo[Any], code: str, status: int) -> str:
    """Asserts the exact error code and HTTP status botocore parsed; returns the message."""
    response = excinfo.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    return str(response["Error"]["Message"])


def aim_boto3_at(stand_in: OmicsStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    """Points boto3 at the stand-in the way the code under test is pointed, with test credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", stand_in.endpoint_url)
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # A developer's own profile or global endpoint must not redirect the calls.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
