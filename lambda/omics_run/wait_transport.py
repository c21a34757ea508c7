"""How waits travel: delayed SQS messages to the provider, and signals to a WaitCondition handle."""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request

from omics_run.client import sqs_client
from omics_run.waiting import Signal, WaitMessage

# The provider's wake-up queue, set by the construct when some run waits.
QUEUE_URL_ENV = "OMICS_RUN_WAIT_QUEUE_URL"
SIGNAL_TIMEOUT_SECONDS = 15


def schedule_wake(message: WaitMessage, delay_seconds: int) -> None:
    """Sends the next wake-up, delivered after ``delay_seconds`` (0 to 900)."""
    queue_url = os.environ.get(QUEUE_URL_ENV)
    if not queue_url:
        raise RuntimeError(f"{QUEUE_URL_ENV} is not set: this provider was deployed without a wait queue")
    sqs_client().send_message(QueueUrl=queue_url, MessageBody=message.to_json(), DelaySeconds=delay_seconds)


def put_signal(handle_url: str, signal: Signal) -> None:
    """Signals a WaitCondition handle as CloudFormation documents it: a PUT with an empty Content-Type.

    The URL is a presigned credential: it is never logged, and errors name
    only the HTTP status.
    """
    request = urllib.request.Request(handle_url, data=signal.body(), method="PUT", headers={"Content-Type": ""})
    try:
        with urllib.request.urlopen(request, timeout=SIGNAL_TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise OSError(f"the WaitCondition handle answered HTTP {error.code}") from None
    except urllib.error.URLError as error:
        raise OSError(f"the WaitCondition handle could not be reached ({type(error.reason).__name__})") from None
    except (ValueError, http.client.HTTPException) as error:
        # A malformed URL's message would quote it: name only the error's type.
        raise OSError(f"the WaitCondition handle is not a usable URL ({type(error).__name__})") from None
    if not 200 <= status < 300:
        raise OSError(f"the WaitCondition handle answered HTTP {status}")
