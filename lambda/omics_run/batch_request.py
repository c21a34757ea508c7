"""Custom::OmicsRunBatch properties -> a StartRunBatch request. A pure function of its inputs.

The properties are flat, as for Custom::OmicsRun: every ``defaultRunSetting``
member in PascalCase (``WorkflowId``, ``RoleArn``, ``RunTags`` ...), the batch's
own ``BatchName`` and ``Tags``, and exactly one of ``InlineSettings`` (a list
of per-run settings, each with PascalCase members such as ``RunSettingId``)
and ``S3UriSettings`` (the ``s3://`` URI of a JSON array of them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from omics_run import resource_types
from omics_run.request_mapping import SERVICE_PROPERTIES, ResourceSettings, integer_setting, resource_settings
from omics_run.start_run_shape import (
    Member,
    PropertyError,
    batch_members,
    batch_run_settings_members,
    coerce_member,
    default_run_setting_members,
    quote,
    unknown_name_problem,
)
from omics_run.tag_rules import MAX_DECLARED_RUN_TAGS_IN_BATCH, declared_tags_problem

RESOURCE_TYPE = resource_types.BATCH
BATCH_PROPERTIES_ALLOWED = (
    "allowed: the defaultRunSetting members in PascalCase, BatchName, Tags, InlineSettings, S3UriSettings"
)

# What a batch's wait may wait for (see batch_progress.REACHED): every run submitted, or every run ended.
BATCH_WAIT_TARGETS = ("NONE", "SUBMITTED", "PROCESSED")
BATCH_DEFAULT_WAIT_POLL_INTERVAL = 60
BATCH_WAIT_PROPERTIES = frozenset({"WaitFor", "WaitHandle", "WaitTimeout", "WaitPollInterval", "MaxFailedRuns"})
# RunCount: how many per-run settings the construct wrote, for the TotalRuns attribute of an
# s3UriSettings batch before HealthOmics has read its file.
BATCH_CONTROL_PROPERTIES = SERVICE_PROPERTIES | BATCH_WAIT_PROPERTIES | {"RerunToken", "DeletePolicy", "RunCount"}
MAX_RUNS_PER_BATCH = 100_000
# The user guide: "Batch runs are not supported with Ready2Run workflows" (also the model's
# documentation of DefaultRunSetting.workflowType).
UNSUPPORTED_WORKFLOW_TYPE = "READY2RUN"
# The provider adds its stack tag to every run's runTags, so that IAM's tag conditions hold for the batch's runs.
MAX_DECLARED_RUN_TAGS = MAX_DECLARED_RUN_TAGS_IN_BATCH


def start_run_batch_request(properties: Mapping[str, Any], *, request_id: str) -> dict[str, Any]:
    """Maps a batch resource's properties to the keyword arguments of ``omics.start_run_batch``.

    Every problem is found before any API call, as PropertyError naming the
    property: an unknown property, a wrong type or value, a missing required
    member, both or neither of InlineSettings and S3UriSettings, a duplicate
    RunSettingId, an S3UriSettings that is no ``s3://`` URI, or a Ready2Run
    workflow.

    >>> start_run_batch_request({"WorkflowId": "1", "RoleArn": "arn:aws:iam::1:role/r",
    ...     "InlineSettings": [{"RunSettingId": "s1"}]}, request_id="x")["batchRunSettings"]
    {'inlineSettings': [{'runSettingId': 's1'}]}
    """
    groups: tuple[tuple[str | None, dict[str, Member]], ...] = (
        ("defaultRunSetting", default_run_setting_members()),
        ("batchRunSettings", batch_run_settings_members()),
        (None, batch_members()),
    )
    request: dict[str, Any] = {"defaultRunSetting": {}, "batchRunSettings": {}}
    for name, value in properties.items():
        if name in BATCH_CONTROL_PROPERTIES:
            continue
        found = next(((group, members[name]) for group, members in groups if name in members), None)
        if found is None:
            known = [property_name for _, members in groups for property_name in members]
            raise PropertyError(name, unknown_name_problem("property", name, known, BATCH_PROPERTIES_ALLOWED))
        group, member = found
        target = request if group is None else request[group]
        target[member.wire_name] = coerce_member(member, value)
    for member in default_run_setting_members().values():
        if member.required and member.wire_name not in request["defaultRunSetting"]:
            raise PropertyError(member.property_name, "missing; it is required by StartRunBatch")
    _check_run_settings(request["batchRunSettings"])
    if request["defaultRunSetting"].get("workflowType") == UNSUPPORTED_WORKFLOW_TYPE:
        raise PropertyError(
            "WorkflowType", 'got "READY2RUN"; allowed: PRIVATE (batches do not run Ready2Run workflows)'
        )
    _check_tags("Tags", request.get("tags", {}))
    default_run_tags = request["defaultRunSetting"].get("runTags", {})
    _check_tags("RunTags", default_run_tags, limit=MAX_DECLARED_RUN_TAGS)
    for index, setting in enumerate(request["batchRunSettings"].get("inlineSettings", [])):
        run_tags = setting.get("runTags", {})
        _check_tags(f"InlineSettings[{index}].RunTags", run_tags)
        merged = len(set(default_run_tags) | set(run_tags))
        if merged > MAX_DECLARED_RUN_TAGS:
            raise PropertyError(
                f"InlineSettings[{index}].RunTags",
                f"with RunTags, the run would have {merged} tags; allowed: at most {MAX_DECLARED_RUN_TAGS} "
                "(HealthOmics merges them, and one of a run's 50 is the provider's)",
            )
    request["requestId"] = request_id
    return request


def _check_run_settings(settings: Mapping[str, Any]) -> None:
    """Exactly one of the union's members; unique run setting IDs; an ``s3://`` settings file."""
    if len(settings) != 1:
        given = "both" if settings else "neither"
        raise PropertyError("InlineSettings, S3UriSettings", f"got {given}; allowed: exactly one of the two")
    uri = settings.get("s3UriSettings")
    if uri is not None and not uri.startswith("s3://"):
        raise PropertyError("S3UriSettings", f"got {quote(uri)}; allowed: an s3:// URI of a JSON array of run settings")
    first_seen: dict[str, int] = {}
    for index, setting in enumerate(settings.get("inlineSettings", [])):
        setting_id = setting["runSettingId"]
        if setting_id in first_seen:
            raise PropertyError(
                f"InlineSettings[{index}].RunSettingId",
                f"got {quote(setting_id)} again (first at InlineSettings[{first_seen[setting_id]}]); "
                "allowed: a unique ID per run",
            )
        first_seen[setting_id] = index


def _check_tags(path: str, tags: Mapping[str, Any], limit: int | None = None) -> None:
    problem = declared_tags_problem(tags)
    if problem is not None:
        where, text = problem
        raise PropertyError(where.replace("Tags", path, 1), text)
    if limit is not None and len(tags) > limit:
        raise PropertyError(
            path, f"got {len(tags)} tags; allowed: at most {limit} (one of a run's 50 is the provider's)"
        )


@dataclass(frozen=True)
class BatchSettings(ResourceSettings):
    """How the resource treats its batch: a run resource's settings, and what only a batch has."""

    max_failed_runs: int = 0
    run_count: int | None = None


def batch_settings(properties: Mapping[str, Any]) -> BatchSettings:
    """Reads the control properties of a batch resource; raises PropertyError for bad values."""
    # A batch's wait polls only (no status-change event for batches), so it keeps the shorter default interval.
    shared = resource_settings(
        properties, wait_targets=BATCH_WAIT_TARGETS, default_poll_interval=BATCH_DEFAULT_WAIT_POLL_INTERVAL
    )
    run_count = properties.get("RunCount")
    return BatchSettings(
        **asdict(shared),
        max_failed_runs=integer_setting(properties, "MaxFailedRuns", (0, MAX_RUNS_PER_BATCH), 0, unit="runs"),
        run_count=None
        if run_count is None
        else integer_setting(properties, "RunCount", (1, MAX_RUNS_PER_BATCH), 1, unit="runs"),
    )


def inline_run_count(request: Mapping[str, Any]) -> int | None:
    """How many runs an inline batch holds (None for an s3UriSettings batch)."""
    inline: Sequence[Any] | None = request.get("batchRunSettings", {}).get("inlineSettings")
    return None if inline is None else len(inline)
