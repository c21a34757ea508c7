"""How waits travel: delayed SQS messages to the provider, and signals to a WaitCondition handle."""

from __future__ import annotations

import http.client
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from omics_run.client import sqs_client
from omics_run.waiting import HandleRefused, Signal, WaitMessage

# The provider's wake-up queue, set by the construct when some run waits.
QUEUE_URL_ENV = "OMICS_RUN_WAIT_QUEUE_URL"
SIGNAL_TIMEOUT_SECONDS = 15
# A handle is a presigned S3 URL. S3 answers a client error that a later attempt may not meet with
# 408 or 429, or with 400 and the error code RequestTimeout (Amazon S3 API Reference, "Error
# responses"); any other 4xx (403 for an expired URL, 404 for a bucket or key that is gone) is final.
TRANSIENT_CLIENT_STATUSES = frozenset({408, 429})
TRANSIENT_S3_ERROR_CODES = frozenset({"RequestTimeout"})
_S3_ERROR_CODE = re.compile(rb"<Code>([^<]{1,64})</Code>")


def schedule_wake(message: WaitMessage, delay_seconds: int) -> None:
    """Sends the next wake-up, delivered after ``delay_seconds`` (0 to 900)."""
    sqs_client().send_message(QueueUrl=_queue_url(), MessageBody=message.to_json(), DelaySeconds=delay_seconds)


def _queue_url() -> str:
    queue_url = os.environ.get(QUEUE_URL_ENV)
    if not queue_url:
        raise RuntimeError(f"{QUEUE_URL_ENV} is not set: this provider was deployed without a wait queue")
    return queue_url


def send_event_back(event: Mapping[str, Any], delay_seconds: int) -> None:
    """Sends a status-change event back to the wake queue, delivered after ``delay_seconds``."""
    sqs_client().send_message(QueueUrl=_queue_url(), MessageBody=json.dumps(event), DelaySeconds=delay_seconds)


def put_signal(handle_url: str, signal: Signal) -> None:
    """Signals a WaitCondition handle as CloudFormation documents it: a PUT with an empty Content-Type.

    The URL is a presigned credential: it is never logged, and errors name
    only the HTTP status (and S3's error code). A refusal that no retry can
    change raises ``HandleRefused``; any other failure raises ``OSError``, so
    that the wake is retried.
    """
    request = urllib.request.Request(handle_url, data=signal.body(), method="PUT", headers={"Content-Type": ""})
    try:
        with urllib.request.urlopen(request, timeout=SIGNAL_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        code = _s3_error_code(error)
        answered = f"the WaitCondition handle answered HTTP {error.code}" + (f" ({code})" if code else "")
        final = 400 <= error.code < 500 and error.code not in TRANSIENT_CLIENT_STATUSES
        if final and code not in TRANSIENT_S3_ERROR_CODES:
            raise HandleRefused(answered) from None
        raise OSError(answered) from None
    except urllib.error.URLError as error:
        raise OSError(f"the WaitCondition handle could not be reached ({type(error.reason).__name__})") from None
    except (ValueError, http.client.HTTPException) as error:
        # A malformed URL's message would quote it: name only the error's type.
        raise OSError(f"the WaitCondition handle is not a usable URL ({type(error).__name__})") from None
    if not 200 <= status < 300:
        raise OSError(f"the WaitCondition handle answered HTTP {status}")


def _s3_error_code(error: urllib.error.HTTPError) -> str:
    try:
        found = _S3_ERROR_CODE.search(error.read(4096))
    except (OSError, http.client.HTTPException):
        return ""
    return found.group(1).decode("ascii", "replace") if found else ""
