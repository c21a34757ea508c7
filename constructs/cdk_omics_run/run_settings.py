"""The per-run settings of a batch: typed objects, checked against the model, read from a sample sheet, written to S3.

A batch's runs share its default setting; each run's setting names it
(``run_setting_id``) and overrides or adds to that default (HealthOmics merges
``parameters`` and ``run_tags``, the run's keys winning). Up to 100 settings go
inline into the template; more are written as the JSON array that
StartRunBatch's ``s3UriSettings`` names, in the request's own member names.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from constructs import Construct

from cdk_omics_run.arguments import ArgumentError, argument_name_of, check_member, inline_setting_members_by_argument
from cdk_omics_run.data_locations import DataReferences, rendered_document
from cdk_omics_run.sample_sheet import Sheet, SheetColumn, read_sheet
from cdk_omics_run.tokens import is_token

# StartRunBatch's inlineSettings holds at most 100 runs; s3UriSettings up to 100,000 (the model's documentation).
MAX_INLINE_RUNS = 100
MAX_RUNS = 100_000


@dataclass(frozen=True)
class RunSetting:
    """One run of a batch: its ID within the batch, and what it sets beyond the batch's defaults.

    ``parameters`` and ``run_tags`` are merged with the batch's (this run's
    keys win); the other members replace the default for this run.

    Example::

        RunSetting("NA12878", parameters={"input_cram": "s3://my-bucket/NA12878.cram"})
    """

    run_setting_id: str
    name: str | None = None
    output_uri: str | None = None
    priority: int | None = None
    parameters: Mapping[str, Any] | None = None
    output_bucket_owner_id: str | None = None
    run_tags: Mapping[str, str] | None = None
    engine_settings: Mapping[str, Any] | None = None

    def request(self) -> dict[str, Any]:
        """The setting in StartRunBatch's wire form (``runSettingId``, ``parameters`` ...), unset members left out."""
        members = inline_setting_members_by_argument()
        return {
            members[item.name].wire_name: getattr(self, item.name)
            for item in fields(self)
            if getattr(self, item.name) is not None
        }

    @classmethod
    def from_request(cls, where: str, setting: Mapping[str, Any]) -> RunSetting:
        """A setting from its wire form, as ``--cli-input-json`` files and settings files hold it."""
        arguments = {argument_name_of(str(key)): value for key, value in setting.items()}
        return cls.from_arguments(where, arguments)

    @classmethod
    def from_arguments(cls, where: str, arguments: Mapping[str, Any]) -> RunSetting:
        known = [item.name for item in fields(cls)]
        unknown = [name for name in arguments if name not in known]
        if unknown:
            raise ArgumentError(f"{where}: unknown member {', '.join(unknown)}; allowed: {', '.join(known)}")
        if "run_setting_id" not in arguments:
            raise ArgumentError(f"{where}: run_setting_id is missing; every run of a batch needs one")
        return cls(**arguments)


RunSettingLike = RunSetting | Mapping[str, Any]


def run_settings(
    scope: Construct, runs: Iterable[RunSettingLike], data: DataReferences | None = None
) -> list[RunSetting]:
    """The runs as RunSettings (dicts take the same snake_case keys), each checked, their IDs unique.

    Data objects in a run's parameters (buckets, assets: see ``data_locations``) become their
    ``s3://`` URIs; what they name is added to ``data``. Raises ArgumentError naming the
    construct path and the run (``runs[3].priority``).
    """
    settings: list[RunSetting] = []
    first_seen: dict[str, int] = {}
    members = inline_setting_members_by_argument()
    for index, run in enumerate(runs):
        where = f"runs[{index}]"
        setting = run if isinstance(run, RunSetting) else RunSetting.from_arguments(f"{scope.node.path}: {where}", run)
        setting = _with_data_rendered(scope, where, setting, DataReferences() if data is None else data)
        for item in fields(setting):
            value = getattr(setting, item.name)
            if value is not None:
                check_member(scope, f"{where}.{item.name}", members[item.name], value)
        if setting.run_setting_id in first_seen:
            raise ArgumentError(
                f"{scope.node.path}: argument {where}.run_setting_id: got {setting.run_setting_id!r} again "
                f"(first at runs[{first_seen[setting.run_setting_id]}]); allowed: a unique ID per run"
            )
        first_seen[setting.run_setting_id] = index
        settings.append(setting)
    if not settings:
        raise ArgumentError(f"{scope.node.path}: argument runs: got none; allowed: 1 to {MAX_RUNS:,} runs")
    if len(settings) > MAX_RUNS:
        raise ArgumentError(
            f"{scope.node.path}: argument runs: got {len(settings):,}; allowed: at most {MAX_RUNS:,} runs per batch "
            "(StartRunBatch's limit): split the cohort into several batches"
        )
    return settings


def _with_data_rendered(scope: Construct, where: str, setting: RunSetting, data: DataReferences) -> RunSetting:
    parameters, found = rendered_document(scope, f"{where}.parameters", setting.parameters)
    engine_settings, _ = rendered_document(scope, f"{where}.engine_settings", setting.engine_settings)
    data.extend(found)
    if parameters is setting.parameters and engine_settings is setting.engine_settings:
        return setting
    return replace(setting, parameters=parameters, engine_settings=engine_settings)


def inline_property(settings: Sequence[RunSetting]) -> list[dict[str, Any]]:
    """The InlineSettings property: PascalCase members, documents as JSON text (CloudFormation would
    turn their numbers and booleans into strings)."""
    rendered = []
    for setting in settings:
        entry: dict[str, Any] = {}
        for wire_name, value in setting.request().items():
            is_document = wire_name in ("parameters", "engineSettings") and not is_token(value)
            entry[wire_name[:1].upper() + wire_name[1:]] = (
                json.dumps(value, separators=(",", ":"), ensure_ascii=False) if is_document else value
            )
        rendered.append(entry)
    return rendered


@contextmanager
def write_settings_file(requests: Sequence[Mapping[str, Any]], *, keep: bool = False) -> Iterator[Path]:
    """Writes the settings (``RunSetting.request()`` each) as the JSON array ``s3UriSettings`` names, in a
    folder of its own, for the block.

    A CDK asset copies ("stages") the file into the cloud assembly as it is
    created, so the folder is removed after the block; ``keep`` leaves it, for
    apps that turn staging off (``aws:cdk:disable-asset-staging``). The file's
    name is fixed, and CDK names the asset by the file's name and bytes: an
    unchanged cohort keeps its asset hash.
    """
    folder = Path(tempfile.mkdtemp(prefix="cdk-omics-run-settings-"))
    try:
        path = folder / "run-settings.json"
        with path.open("w", encoding="utf-8") as handle:
            json.dump(list(requests), handle, separators=(",", ":"), ensure_ascii=False)
        yield path
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


Row = Mapping[str, str]
# A value from a column: the column's name, (the column's name, the type its text becomes), or a SheetColumn.
ColumnParameter = str | tuple[str, Callable[[str], Any]] | SheetColumn


def settings_from_sample_sheet(
    construct_path: str,
    path: str | Path,
    *,
    run_setting_id: str | Callable[[Row], str],
    parameters: Mapping[str, ColumnParameter] | Callable[[Row], Mapping[str, Any]] | None = None,
    name: str | SheetColumn | Callable[[Row], str] | None = None,
    output_uri: str | SheetColumn | Callable[[Row], str] | None = None,
    priority: str | SheetColumn | Callable[[Row], int] | None = None,
    run_tags: Callable[[Row], Mapping[str, str]] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> list[RunSetting]:
    """One RunSetting per row of a sample sheet (a header row, then one row per sample).

    ``run_setting_id``, ``name``, ``output_uri``, ``priority``: a column's name
    (or a :class:`SheetColumn`) or a function of the row. ``parameters``: a
    mapping of workflow parameter to column (``"sample"``, or
    ``("read_length", int)`` to give the value a type, or a ``SheetColumn``),
    or a function of the row returning the run's parameters. An empty cell
    is an error unless its ``SheetColumn`` says ``empty_means_default=True``.
    ``encoding`` and ``delimiter``: as :func:`cdk_omics_run.sample_sheet.read_sheet` reads them.
    """
    sheet_path = Path(path)
    where = f"{construct_path}: sample sheet {sheet_path}"
    sheet = read_sheet(where, sheet_path, encoding=encoding, delimiter=delimiter)
    _check_columns(where, sheet, run_setting_id, parameters, name, output_uri, priority)
    settings = []
    for row in sheet.rows:
        cell = _Cells(f"{where} line {row.line}", row.cells)
        settings.append(
            RunSetting(
                run_setting_id=cell.text(run_setting_id),
                name=cell.optional(name),
                output_uri=cell.optional(output_uri),
                priority=cell.optional(priority, int),
                parameters=cell.parameters(parameters),
                run_tags=None if run_tags is None else dict(run_tags(row.cells)),
            )
        )
    return settings


def _column_of(spec: ColumnParameter, kind: Callable[[str], Any] = str) -> SheetColumn:
    """Every spelling of a column as a SheetColumn: a bare name or a pair leaves no cell empty."""
    if isinstance(spec, SheetColumn):
        return spec
    if isinstance(spec, str):
        return SheetColumn(spec, kind)
    return SheetColumn(*spec)


def _check_columns(where: str, sheet: Sheet, *choices: Any) -> None:
    named: list[str] = []
    for choice in choices:
        if isinstance(choice, (str, SheetColumn)):
            named.append(_column_of(choice).name)
        elif isinstance(choice, Mapping):
            named += [_column_of(spec).name for spec in choice.values()]
    missing = [column for column in named if column not in sheet.columns]
    if missing:
        raise ArgumentError(
            f"{where}: no column {', '.join(missing)}; its columns ({sheet.delimiter_name}-separated): "
            f"{', '.join(sheet.columns)}"
        )


class _Cells:
    """One row's values, each error naming the sheet, the line and the column."""

    def __init__(self, where: str, row: Row) -> None:
        self._where = where
        self._row = row

    def text(self, choice: str | Callable[[Row], str]) -> str:
        value = choice(self._row) if callable(choice) else self._row.get(choice, "")
        if not value:
            raise ArgumentError(f"{self._where}: the run setting ID is empty; every run of a batch needs one")
        return str(value)

    def optional(self, choice: Any, kind: Callable[[str], Any] = str) -> Any:
        if choice is None:
            return None
        if callable(choice) and not isinstance(choice, SheetColumn):
            return choice(self._row)
        column = _column_of(choice, kind)
        # A priority is an integer however its column is spelt.
        return self._value(replace(column, kind=kind) if column.kind is str else column)

    def parameters(self, choice: Any) -> dict[str, Any] | None:
        if choice is None:
            return None
        if callable(choice):
            return dict(choice(self._row))
        values = {}
        for parameter, spec in choice.items():
            value = self._value(_column_of(spec))
            if value is not None:
                values[parameter] = value
        return values

    def _value(self, column: SheetColumn) -> Any:
        """The cell's value; None for an empty cell only where the column says that empty means the default."""
        text = self._row[column.name]
        if text.strip():
            return self._typed(column.name, column.kind)
        if column.empty_means_default:
            return None
        spelling = f"SheetColumn({column.name!r}"
        spelling += f", {getattr(column.kind, '__name__', 'kind')}" if column.kind is not str else ""
        raise ArgumentError(
            f"{self._where}, column {column.name}: got an empty cell; allowed: a value, or, to leave it to "
            f"the batch's defaults, {spelling}, empty_means_default=True)"
        )

    def _typed(self, column: str, kind: Callable[[str], Any]) -> Any:
        text = self._row[column]
        try:
            return kind(text)
        # Any function of the text may be given (Decimal raises InvalidOperation, say): whatever it
        # raises is reported with the sheet's line and column, and kept as the cause.
        except Exception as error:
            known = _KIND_NAMES.get(kind) if isinstance(kind, type) else None
            allowed = known or f"text that {getattr(kind, '__name__', repr(kind))}() accepts"
            raise ArgumentError(f"{self._where}, column {column}: got {text!r}; allowed: {allowed}") from error


# How a column's type is named in errors; other functions are named as functions.
_KIND_NAMES: dict[type, str] = {int: "an integer", float: "a number"}


__all__ = ["MAX_INLINE_RUNS", "MAX_RUNS", "RunSetting", "RunSettingLike", "run_settings", "settings_from_sample_sheet"]
