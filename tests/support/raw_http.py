"""What the HealthOmics stand-in's self-tests send and read below botocore: raw requests, exact errors."""

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
