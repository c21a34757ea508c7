"""A completed run's outputs as values: read from its output summary, each checked to exist.

HealthOmics user guide, "HealthOmics run outputs": when a WDL or CWL run completes, an
output summary (JSON) lists every output of the workflow. For WDL its keys are
``WorkflowName.output_name`` and its values S3 URIs, or arrays of them for ``Array[File]``;
for CWL each value is an object with ``location`` (or an array of them). Nextflow writes no
summary: what a workflow publishes is exported under the run's output location ("Task
outputs"), and is named here by its path (``Path`` outputs).

A ``Custom::OmicsRunResult`` with an ``Outputs`` property answers one attribute per
declared output, and fails, naming the output, when it is not there: the stack then rolls
back before anything starts on a file that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

# Where the summary lives, relative to GetRun's runOutputUri (<outputUri>/<run ID>), in the order
# tried. The user guide's documents disagree, and S3 keys are case-sensitive, so each is read:
# - "Monitoring HealthOmics with CloudWatch Logs", its table of logs in S3: "Outputs.json (WDL and
#   CWL) ... After run completes ... s3://user_provided_path/runID/runUUID/logs/outputs.json";
# - "HealthOmics run outputs": WDL's "output summary file named output.json"; CWL's "outputs.json
#   at ... {my-S3outputpath}/{runId}/{run-uuid}/logs/outputs.json";
# - code that reads it for real runs (NGS360/Omics-Run-Event-Processor, omics_event_handler.py)
#   reads <runOutputUri>/logs/outputs.json, without the UUID; runOutputUri is <outputUri>/<run ID>.
# "{uuid}" stands for GetRun's uuid.
SUMMARY_KEYS = ("logs/outputs.json", "{uuid}/logs/outputs.json", "logs/output.json", "logs/Outputs.json")
# An Array[File] output answers one string, its URIs joined by this (split with Fn::Split).
LIST_DELIMITER = ","
KINDS = ("Name", "List", "Path")
# A custom resource's response is at most 4,096 bytes, and its other fields take up to about 900:
# a list output has a result of its own, and its joined URIs must fit the rest.
LIST_DATA_LIMIT = 4096 - 900 - len('{"Output0":""}')
OutputKind = Literal["Name", "List", "Path"]


class OutputProblem(Exception):
    """A declared output the run did not produce; its text is the Reason's tail."""


@dataclass(frozen=True)
class DeclaredOutput:
    """One output a stack uses: its attribute, and a summary name (``Name``, ``List``) or a path (``Path``)."""

    attribute: str
    kind: OutputKind
    value: str


def declared_outputs(outputs: Any) -> list[DeclaredOutput]:
    """The ``Outputs`` property: ``{"O0": {"Name": "merged_bam"}, "O1": {"Path": "out/x.vcf"}}``.

    Raises ValueError naming what is wrong, for the Reason.
    """
    if not isinstance(outputs, Mapping) or not outputs:
        raise ValueError("got no outputs; allowed: {attribute: {Name|List|Path: text}}")
    declared = []
    for attribute, spec in outputs.items():
        if not (isinstance(spec, Mapping) and len(spec) == 1 and next(iter(spec)) in KINDS):
            raise ValueError(f"{attribute}: allowed: one of {', '.join(KINDS)}")
        kind, value = next(iter(spec.items()))
        if not isinstance(value, str) or not value:
            raise ValueError(f"{attribute}.{kind}: allowed: non-empty text")
        declared.append(DeclaredOutput(str(attribute), kind, value))
    return declared


def summary_uris(summary: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """The summary's outputs as URIs: WDL's as they are, CWL's objects by their ``location``.

    >>> summary_uris({"W.bam": "s3://b/1/out/x.bam", "bams": [{"class": "File", "location": "s3://b/y.bam"}]})
    {'W.bam': 's3://b/1/out/x.bam', 'bams': ['s3://b/y.bam']}
    """
    found: dict[str, str | list[str]] = {}
    for key, value in summary.items():
        if isinstance(value, list):
            found[str(key)] = [uri for item in value if (uri := _uri_of(item)) is not None]
        elif (uri := _uri_of(value)) is not None:
            found[str(key)] = uri
    return found


def _uri_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("location"), str):
        return str(value["location"])
    return None


def resolved(name: str, outputs: Mapping[str, str | list[str]]) -> tuple[str, str | list[str]]:
    """(summary key, value) of ``name``: the key itself, or the one key whose part after the last dot it is."""
    if name in outputs:
        return name, outputs[name]
    matches = sorted(key for key in outputs if key.rpartition(".")[2] == name)
    if len(matches) == 1:
        return matches[0], outputs[matches[0]]
    if matches:
        raise OutputProblem(f"output {name} is ambiguous; candidates: {', '.join(matches)}")
    raise OutputProblem(f"no output {name} in the run's output summary; it has: {', '.join(sorted(outputs)) or 'none'}")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``; raises OutputProblem for anything else."""
    if not uri.startswith("s3://") or "/" not in uri[len("s3://") :]:
        raise OutputProblem(f"{uri[:60]} is no s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def read_summary(s3: Any, run_output_uri: str, run_uuid: str) -> dict[str, str | list[str]] | None:
    """The run's output summary as URIs, from the first documented key that exists; None when none does."""
    bucket, prefix = split_s3_uri(run_output_uri.rstrip("/") + "/")
    for key in (name.format(uuid=run_uuid) for name in SUMMARY_KEYS):
        try:
            body = s3.get_object(Bucket=bucket, Key=prefix + key)["Body"].read()
        except ClientError as error:
            if _missing(error):
                continue
            raise
        summary = json.loads(body)
        if not isinstance(summary, Mapping):
            raise OutputProblem(f"the output summary s3://{bucket}/{prefix}{key} holds no JSON object")
        return summary_uris(summary)
    return None


def output_values(declared: Sequence[DeclaredOutput], run: Mapping[str, Any], s3: Any) -> dict[str, str]:
    """Each declared output of ``run`` (GetRun's answer) as its attribute value, every object checked to exist."""
    run_output_uri = str(run.get("runOutputUri", ""))
    needs_summary = any(output.kind != "Path" for output in declared)
    summary = read_summary(s3, run_output_uri, str(run.get("uuid", ""))) if needs_summary else {}
    if summary is None:
        raise OutputProblem(
            f"no output summary (logs/outputs.json) under {run_output_uri}; Nextflow writes none: "
            "name its files with output_path"
        )
    values: dict[str, str] = {}
    for output in declared:
        if output.kind == "Path":
            uri = f"{run_output_uri.rstrip('/')}/{output.value.lstrip('/')}"
            _check_exists(s3, output.value, uri)
            values[output.attribute] = uri
            continue
        key, found = resolved(output.value, summary or {})
        uris = found if isinstance(found, list) else [found]
        if output.kind == "Name" and isinstance(found, list):
            raise OutputProblem(f"output {key} is a list of {len(found)} files; use output_list")
        if output.kind == "List" and not uris:
            # Fn::Split of an empty attribute is one empty item, never an empty list.
            raise OutputProblem(f"output {key} lists no files")
        for uri in uris:
            if output.kind == "List" and LIST_DELIMITER in uri:
                raise OutputProblem(f"output {key} has a URI with '{LIST_DELIMITER}', which output_list cannot split")
            _check_exists(s3, key, uri)
        values[output.attribute] = LIST_DELIMITER.join(uris)
        if output.kind == "List" and len(values[output.attribute].encode()) > LIST_DATA_LIMIT:
            raise OutputProblem(
                f"output {key} lists {len(uris)} files in {len(values[output.attribute].encode())} bytes; a result "
                f"answers at most {LIST_DATA_LIMIT}: name the files with output_path"
            )
    return values


def _check_exists(s3: Any, name: str, uri: str) -> None:
    bucket, key = split_s3_uri(uri)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if _missing(error):
            raise OutputProblem(f"output {name}: {uri} does not exist") from None
        raise


def _missing(error: ClientError) -> bool:
    """S3 answers 404 (NoSuchKey; HeadObject's has no body) for a missing key the caller may list."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in ("NoSuchKey", "404", "NotFound")


__all__ = [
    "LIST_DELIMITER",
    "SUMMARY_KEYS",
    "DeclaredOutput",
    "OutputProblem",
    "declared_outputs",
    "output_values",
    "read_summary",
    "resolved",
    "summary_uris",
]
