"""A processed batch's per-run outputs as a sheet, and the next cohort's run settings built from that sheet.

Resources read once the upstream batch's WaitCondition (PROCESSED) has succeeded:

- ``Custom::OmicsRunBatchOutputsPart``, a chain of them: each reads up to ``MaxPages`` pages
  of the batch's runs (ListRunsInBatch, at most 100 a page, API reference) from where the
  previous part stopped (its ``NextToken``, carried by CloudFormation from one invocation to
  the next), each page's runs and summaries in bounded parallel, and writes their rows. So
  no invocation reads more than one part, however large the batch.
- ``Custom::OmicsRunBatchOutputs`` (``BatchId``, ``OutputNames``, ``SheetFolder``, ``Parts``)
  joins the parts into a CSV with one row per run of the batch: ``runSettingId``, ``runId``,
  ``status``, then one column per declared output name, each a COMPLETED run's S3 URI read
  from its output summary and checked to exist (``run_outputs``). The sheet is named by its
  content, so a changed sheet is a new URI and whatever reads it is updated.
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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from omics_run import resource_types, run_outputs
from omics_run.batch_request import MAX_RUNS_PER_BATCH
from omics_run.lifecycle import (
    CloudFormationEvent,
    Outcome,
    ResourceFailure,
    error_code,
    property_failure_reason,
    resource_reason,
)
from omics_run.request_mapping import integer_setting
from omics_run.start_run_shape import PropertyError

logger = logging.getLogger(__name__)

OUTPUTS_RESOURCE_TYPE = resource_types.BATCH_OUTPUTS
PART_RESOURCE_TYPE = resource_types.BATCH_OUTPUTS_PART
SETTINGS_RESOURCE_TYPE = resource_types.BATCH_SETTINGS
RESOURCE_TYPES = resource_types.BATCH_FILES
SHEET_COLUMNS = ("runSettingId", "runId", "status")
# The status of a run setting whose submission failed: ListRunsInBatch gives it no runId.
SUBMISSION_FAILED = "SUBMISSION_FAILED"
# ListRunsInBatch's maxItems is at most 100 (API reference).
PAGE_SIZE = 100
# How many runs of a page are read at once (GetRun, the summary, a HeadObject per output).
READ_PARALLELISM = 16
# What a part answers as NextToken once every run was read.
END = "END"
PARTS_FOLDER = "parts/"
MAX_PARTS = 1000
# A page is started only with this much time left (a page of 100 runs reads in seconds).
PAGE_RESERVE_SECONDS = 60.0


def write_part(
    event: CloudFormationEvent, omics: Any, s3: Any, seconds_left: Callable[[], float] = lambda: float("inf")
) -> Outcome:
    """Create and Update of a Custom::OmicsRunBatchOutputsPart: up to ``MaxPages`` pages of the batch's runs.

    Properties: ``BatchId``, ``OutputNames``, ``SheetFolder``, ``Part`` (its index), ``MaxPages``, and
    ``After``: the previous part's ``NextToken`` (absent for the first part). Each part is one
    invocation: it reads its pages from where the previous one stopped, writes their rows under
    ``SheetFolder`` (``parts/``, named by content) and answers ``PartUri``, ``NextToken`` (END once
    the batch's runs are all read) and ``Runs``. A part after the end reads nothing.
    """
    properties = event.get("ResourceProperties", {})
    logical_id = event["LogicalResourceId"]
    batch_id = _text(logical_id, properties, "BatchId")
    folder = _folder(logical_id, properties, "SheetFolder")
    names = _names(logical_id, properties)
    try:
        part = integer_setting(properties, "Part", (0, MAX_PARTS), 0, unit="parts")
        max_pages = integer_setting(properties, "MaxPages", (1, MAX_RUNS_PER_BATCH // PAGE_SIZE), 1, unit="pages")
    except PropertyError as error:
        raise ResourceFailure(property_failure_reason(logical_id, error.property_name, error.problem)) from None
    after = properties.get("After")
    if after == END:
        return Outcome(f"{batch_id}-part{part}-after-the-end", {"PartUri": "", "NextToken": END, "Runs": "0"})
    rows: list[list[str]] = []
    token: str | None = str(after) if after else None
    for _ in range(max_pages):
        if seconds_left() < PAGE_RESERVE_SECONDS:
            raise ResourceFailure(
                resource_reason(
                    logical_id,
                    f"batch {batch_id}: the provider's time ran out after reading {len(rows)} runs of part {part}; "
                    "a part reads its pages in one invocation (Limits page: [batch-outputs-part-time])",
                )
            )
        page = omics.list_runs_in_batch(
            batchId=batch_id, maxItems=PAGE_SIZE, **({"startingToken": token} if token else {})
        )
        with ThreadPoolExecutor(max_workers=READ_PARALLELISM) as pool:
            rows += pool.map(lambda entry: _row(logical_id, entry, names, omics, s3), page.get("runs", []))
        token = page.get("nextToken") or None
        if token is None:
            break
    body = sheet_csv(names, rows).split("\r\n", 1)[1]  # the rows alone: the sheet has one header
    uri = _put_named_by_content(s3, folder + PARTS_FOLDER, f"{batch_id}-part{part}", ".csv", body)
    return Outcome(uri, {"PartUri": uri, "NextToken": token or END, "Runs": str(len(rows))})


def write_sheet(event: CloudFormationEvent, s3: Any) -> Outcome:
    """Create and Update of a Custom::OmicsRunBatchOutputs: the batch's sheet from its parts; its URI answered.

    Properties: ``BatchId``, ``OutputNames``, ``SheetFolder``, ``Parts`` (each part's ``PartUri``, in
    order; blank after the end) and ``Remaining``: the last part's ``NextToken``, END when every run
    was read (otherwise the batch has more runs than its parts were declared for, and this fails).
    """
    properties = event.get("ResourceProperties", {})
    logical_id = event["LogicalResourceId"]
    batch_id = _text(logical_id, properties, "BatchId")
    folder = _folder(logical_id, properties, "SheetFolder")
    names = _names(logical_id, properties)
    parts = properties.get("Parts")
    if not isinstance(parts, list) or not all(isinstance(uri, str) for uri in parts):
        raise ResourceFailure(property_failure_reason(logical_id, "Parts", "allowed: a list of part URIs"))
    if properties.get("Remaining") != END:
        raise ResourceFailure(
            resource_reason(
                logical_id, f"batch {batch_id} has more runs than its {len(parts)} parts of the sheet were declared for"
            )
        )
    bodies = []
    for uri in filter(None, parts):
        bucket, key = run_outputs.split_s3_uri(uri)
        bodies.append(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8"))
    body = sheet_csv(names, []) + "".join(bodies)
    statuses = [row[2] for row in csv.reader(io.StringIO("".join(bodies)))]
    uri = _put_named_by_content(s3, folder, f"{batch_id}-outputs", ".csv", body)
    completed = statuses.count("COMPLETED")
    return Outcome(uri, {"SheetUri": uri, "TotalRuns": str(len(statuses)), "CompletedRuns": str(completed)})


def _names(logical_id: str, properties: Mapping[str, Any]) -> list[str]:
    names = properties.get("OutputNames", [])
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise ResourceFailure(property_failure_reason(logical_id, "OutputNames", "allowed: a list of output names"))
    return names


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
    "PART_RESOURCE_TYPE",
    "RESOURCE_TYPES",
    "SETTINGS_RESOURCE_TYPE",
    "forget",
    "settings_from_sheet",
    "sheet_csv",
    "write_part",
    "write_settings",
    "write_sheet",
]
