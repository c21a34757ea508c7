"""A run's manifest: the run record HealthOmics writes to CloudWatch Logs once the run ends.

The manifest stream is ``manifest/run/<run id>/<run uuid>`` in ``/aws/omics/WorkflowLog``; its events
are JSON records, one for the run and one per task, with resource metrics such as
``storageAverageGiB`` and ``storageMaximumGiB`` (user guide, "Monitoring HealthOmics with CloudWatch
Logs", run manifest logs; run_analyzer reads the same stream). Only the command reads it, for the
measured size of DYNAMIC run storage.

Example::

    average = storage_average_gib(logs, "1234567", "0f8c...")  # None when there is no manifest
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cdk_omics_run.status.progress import WORKFLOW_LOG_GROUP


def manifest_stream(run_id: str, run_uuid: str) -> str:
    """The manifest's log stream name."""
    return f"manifest/run/{run_id}/{run_uuid}"


def storage_average_gib(logs: Any, run_id: str, run_uuid: str) -> float | None:
    """The run record's ``metrics.storageAverageGiB``; None without a manifest (or without leave to read it)."""
    request: dict[str, Any] = {
        "logGroupName": WORKFLOW_LOG_GROUP,
        "logStreamName": manifest_stream(run_id, run_uuid),
        "startFromHead": True,
    }
    try:
        while True:
            page = logs.get_log_events(**request)
            for event in page.get("events", []):
                record = _record(event.get("message", ""))
                if ":run/" in str(record.get("arn", "")):
                    value = (record.get("metrics") or {}).get("storageAverageGiB")
                    return float(value) if value is not None else None
            token = page.get("nextForwardToken")
            if not page.get("events") or token == request.get("nextToken"):
                return None
            request["nextToken"] = token
    except (ClientError, BotoCoreError):
        return None


def _record(message: str) -> dict[str, Any]:
    try:
        found = json.loads(message)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
