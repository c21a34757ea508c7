"""A processed batch's per-run outputs as a sheet, and the next cohort's run settings built from that sheet.

Two resources, each read once the upstream batch's WaitCondition (PROCESSED) has succeeded:

- ``Custom::OmicsRunBatchOutputs`` (``BatchId``, ``OutputNames``, ``SheetFolder``) writes a CSV
  with one row per run of the batch: ``runSettingId``, ``runId``, ``status``, then one column
  per declared output name, each a COMPLETED run's S3 URI read from its output summary and
  checked to exist (``run_outputs``). The runs are listed a page at a time (ListRunsInBatch,
  at most 100 a page, API reference), and each page's runs and summaries are read in
  bounded parallel. The sheet is named by its content, so a changed sheet is a new URI and
  whatever reads it is updated.
- ``Custom::OmicsRunBatchSettings`` (``SheetUri``, ``Parameters``, ``SettingsFolder``) writes
  the next batch's ``s3UriSettings`` file: one run per COMPLETED row, its ``parameters``
  the row's outputs (``{"input_bam": "merged_bam"}``: parameter <- output column). Rows of
  runs that did not complete are skipped and counted (``SkippedRuns``). StartRunBatch's
  ``s3UriSettings`` (API reference, BatchRunSettings): "HealthOmics ... records the file's
  ETag. If the file is modified after submission, the batch fails". So the file is named by
  its content and never written again once it exists.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from omics_run import run_outputs
from omics_run.lifecycle import (
    CloudFormationEvent,
    Outcome,
    ResourceFailure,
    error_code,
    property_failure_reason,
    resource_reason,
)

logger = logging.getLogger(__name__)

OUTPUTS_RESOURCE_TYPE = "Custom::OmicsRunBatchOutputs"
SETTINGS_RESOURCE_TYPE = "Custom::OmicsRunBatchSettings"
SHEET_COLUMNS = ("runSettingId", "runId", "status")
# The status of a run setting whose submission failed: ListRunsInBatch gives it no runId.
SUBMISSION_FAILED = "SUBMISSION_FAILED"
# ListRunsInBatch's maxItems is at most 100 (API reference).
PAGE_SIZE = 100
# How many runs of a page are read at once (GetRun, the summary, a HeadObject per output).
READ_PARALLELISM = 16
# A page is started only with this much time left (a page of 100 runs reads in seconds).
PAGE_RESERVE_SECONDS = 60.0


def write_sheet(
    event: CloudFormationEvent, omics: Any, s3: Any, seconds_left: Callable[[], float] = lambda: float("inf")
) -> Outcome:
    """Create and Update of a Custom::OmicsRunBatchOutputs: the batch's sheet, written; its URI answered."""
    properties = event.get("ResourceProperties", {})
    logical_id = event["LogicalResourceId"]
    batch_id = _text(logical_id, properties, "BatchId")
    folder = _folder(logical_id, properties, "SheetFolder")
    names = properties.get("OutputNames", [])
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise ResourceFailure(property_failure_reason(logical_id, "OutputNames", "allowed: a list of output names"))
    rows: list[list[str]] = []
    for page in _pages(omics, batch_id):
        if seconds_left() < PAGE_RESERVE_SECONDS:
            raise ResourceFailure(
                resource_reason(
                    logical_id,
                    f"batch {batch_id}: the provider's time ran out after reading {len(rows)} runs; a sheet is "
                    "built in one invocation (Limits page: [batch-outputs-one-invocation])",
                )
            )
        with ThreadPoolExecutor(max_workers=READ_PARALLELISM) as pool:
            rows += pool.map(lambda entry: _row(logical_id, entry, names, omics, s3), page)
    body = sheet_csv(names, rows)
    uri = _put_named_by_content(s3, folder, f"{batch_id}-outputs", ".csv", body)
    completed = sum(1 for row in rows if row[2] == "COMPLETED")
    return Outcome(uri, {"SheetUri": uri, "TotalRuns": str(len(rows)), "CompletedRuns": str(completed)})


def write_settings(event: CloudFormationEvent, s3: Any) -> Outcome:
    """Create and Update of a Custom::OmicsRunBatchSettings: the next batch's settings file, from the sheet."""
    properties = event.get("ResourceProperties", {})
    logical_id = event["LogicalResourceId"]
    sheet_uri = _text(logical_id, properties, "SheetUri")
    folder = _folder(logical_id, properties, "SettingsFolder")
    parameters = properties.get("Parameters")
    if not isinstance(parameters, Mapping) or not parameters or not all(map(_is_text, parameters.values())):
        raise ResourceFailure(
            property_failure_reason(logical_id, "Parameters", "allowed: {workflow parameter: output name}")
        )
    bucket, key = run_outputs.split_s3_uri(sheet_uri)
    sheet = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
    try:
        settings, skipped = settings_from_sheet(sheet, parameters)
    except ValueError as problem:
        raise ResourceFailure(resource_reason(logical_id, f"the sheet {sheet_uri}: {problem}")) from None
    if not settings:
        raise ResourceFailure(
            resource_reason(logical_id, f"no run to start: none of the {skipped} upstream runs COMPLETED")
        )
    body = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    uri = _put_named_by_content(s3, folder, "run-settings", ".json", body)
    if skipped:
        logger.warning("%s: %d upstream runs did not complete and were skipped", logical_id, skipped)
    return Outcome(uri, {"S3UriSettings": uri, "RunCount": str(len(settings)), "SkippedRuns": str(skipped)})


def sheet_csv(names: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The sheet as CSV (RFC 4180: CRLF line ends, fields quoted only when they must be).

    >>> sheet_csv(["merged_bam"], [["s1", "11", "COMPLETED", "s3://b/11/out/x.bam"]])
    'runSettingId,runId,status,merged_bam\\r\\ns1,11,COMPLETED,s3://b/11/out/x.bam\\r\\n'
    """
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([*SHEET_COLUMNS, *names])
    writer.writerows(rows)
    return text.getvalue()


def settings_from_sheet(sheet: str, parameters: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
    """(the run settings of the sheet's COMPLETED rows, how many rows were skipped); ValueError names a bad column.

    >>> settings_from_sheet("runSettingId,runId,status,bam\\r\\ns1,1,COMPLETED,s3://b/x\\r\\ns2,2,FAILED,\\r\\n",
    ...                     {"input_bam": "bam"})
    ([{'runSettingId': 's1', 'parameters': {'input_bam': 's3://b/x'}}], 1)
    """
    reader = csv.DictReader(io.StringIO(sheet))
    columns = list(reader.fieldnames or [])
    missing = sorted({name for name in parameters.values() if name not in columns} | set(SHEET_COLUMNS) - set(columns))
    if missing:
        raise ValueError(f"no column {', '.join(missing)}; it has: {', '.join(columns) or 'none'}")
    settings, skipped = [], 0
    for row in reader:
        if row["status"] != "COMPLETED":
            skipped += 1
            continue
        values = {parameter: row[name] for parameter, name in parameters.items()}
        settings.append({"runSettingId": row["runSettingId"], "parameters": values})
    return settings, skipped


def _pages(omics: Any, batch_id: str) -> Iterator[list[dict[str, Any]]]:
    """ListRunsInBatch, a page at a time."""
    token: str | None = None
    while True:
        page = omics.list_runs_in_batch(
            batchId=batch_id, maxItems=PAGE_SIZE, **({"startingToken": token} if token else {})
        )
        yield list(page.get("runs", []))
        token = page.get("nextToken")
        if not token:
            return


def _row(logical_id: str, entry: Mapping[str, Any], names: Sequence[str], omics: Any, s3: Any) -> list[str]:
    """One run's row: a COMPLETED run's outputs, each checked to exist; blanks for any other run."""
    setting_id, run_id = str(entry.get("runSettingId", "")), str(entry.get("runId") or "")
    if not run_id:
        return [setting_id, "", SUBMISSION_FAILED, *[""] * len(names)]
    try:
        run = omics.get_run(id=run_id)
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        return [setting_id, run_id, "DELETED", *[""] * len(names)]
    status = str(run.get("status", ""))
    if status != "COMPLETED" or not names:
        return [setting_id, run_id, status, *[""] * len(names)]
    declared = [run_outputs.DeclaredOutput(f"Output{index}", "Name", name) for index, name in enumerate(names)]
    try:
        values = run_outputs.output_values(declared, run, s3)
    except run_outputs.OutputProblem as problem:
        raise ResourceFailure(resource_reason(logical_id, f"run {run_id} ({setting_id}): {problem}")) from None
    return [setting_id, run_id, status, *(values[output.attribute] for output in declared)]


def _put_named_by_content(s3: Any, folder: str, stem: str, suffix: str, body: str) -> str:
    """Writes ``body`` under ``folder`` named by its SHA-256, unless that object already exists; its URI."""
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
    bucket, prefix = run_outputs.split_s3_uri(folder.rstrip("/") + "/")
    key = f"{prefix}{stem}-{digest}{suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) not in ("404", "NoSuchKey", "NotFound"):
            raise
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"))
    return f"s3://{bucket}/{key}"


def _text(logical_id: str, properties: Mapping[str, Any], name: str) -> str:
    value = properties.get(name)
    if not _is_text(value):
        raise ResourceFailure(property_failure_reason(logical_id, name, "missing; it is required"))
    return str(value)


def _folder(logical_id: str, properties: Mapping[str, Any], name: str) -> str:
    value = _text(logical_id, properties, name)
    if not value.startswith("s3://") or len(value) <= len("s3://"):
        raise ResourceFailure(property_failure_reason(logical_id, name, f"got {value[:60]}; allowed: an s3:// URI"))
    return value


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def forget(event: CloudFormationEvent) -> Outcome:
    """Delete: the sheet and the settings file stay with the outputs they describe (a batch may still read them)."""
    return Outcome(event.get("PhysicalResourceId", ""))


__all__ = [
    "OUTPUTS_RESOURCE_TYPE",
    "SETTINGS_RESOURCE_TYPE",
    "forget",
    "settings_from_sheet",
    "sheet_csv",
    "write_settings",
    "write_sheet",
]
