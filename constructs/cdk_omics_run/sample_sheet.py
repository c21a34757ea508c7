"""Reading a sample sheet strictly: its text, its delimiter, and one cell per column on every line.

A sheet that loses data on the way in makes runs that quietly fall back to
the workflow's defaults. So nothing is guessed past what the file says: text
that is not in the given encoding, a row with fewer or more cells than the
header, and (see ``run_settings``) an empty cell are each an ``ArgumentError``
naming the sheet and the line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk_omics_run.arguments import ArgumentError

# The delimiters LIMS exports use: comma (CSV), tab (TSV) and semicolon (CSV where the comma is the decimal mark).
DELIMITERS: dict[str, str] = {",": "comma", "\t": "tab", ";": "semicolon"}
# Rows read to tell one delimiter from another: enough to see that every row agrees with the header.
DETECTION_ROWS = 20
# The byte order mark Excel writes before UTF-8 text: skipped.
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class SheetColumn:
    """A sample-sheet column that becomes a workflow parameter, a run's name, output URI or priority.

    ``kind`` turns the cell's text into the value (``int``, ``float``, or any
    function of the text). An empty cell is an error, as it is for a bare
    column name, unless ``empty_means_default`` says that an empty cell
    leaves the value to the batch's defaults (the parameter is then left out
    of that run's setting).

    Example::

        parameters={
            "input_cram": "cram_uri",  # every row has one
            "read_length": SheetColumn("read_length", int, empty_means_default=True),
        }
    """

    name: str
    kind: Callable[[str], Any] = str
    empty_means_default: bool = False


@dataclass(frozen=True)
class SheetRow:
    """One data row: its line in the file (the first line is the header) and its cells by column."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Sheet:
    """A sample sheet read strictly: its columns, the delimiter it uses and its rows."""

    columns: list[str]
    delimiter: str
    rows: list[SheetRow]

    @property
    def delimiter_name(self) -> str:
        """``comma``, ``tab`` or ``semicolon``; another delimiter given with ``delimiter=`` is quoted."""
        return DELIMITERS.get(self.delimiter, repr(self.delimiter))


def read_sheet(where: str, path: Path, *, encoding: str | None = None, delimiter: str | None = None) -> Sheet:
    """The sheet at ``path``: a header row, then one row per sample, each with one cell per column.

    ``where`` begins every error (``Stack/Cohort: sample sheet samples.csv``).
    ``encoding`` defaults to UTF-8 (a byte order mark is skipped).
    ``delimiter`` defaults to a tab for a ``.tsv`` file, and otherwise to
    whichever of comma, tab and semicolon splits the header and the first
    rows alike. Blank lines are skipped, as a spreadsheet's export ends with
    them.

    Raises ArgumentError for an unreadable file, text that is not in the
    encoding (naming the first bad line), and a row whose cells do not match
    the header's columns (naming the line).
    """
    text = _text(where, path, encoding)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else detect_delimiter(text)
    elif not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ArgumentError(
            f"{where}: argument delimiter: got {delimiter!r}; allowed: one character, such as ',', '\\t' or ';' "
            "(or leave it out to detect it)"
        )
    records = _records(text, delimiter)
    header = next(records, None)
    if header is None:
        raise ArgumentError(f"{where}: it is empty; allowed: a header row, then one row per sample")
    _, columns = header
    rows = []
    for line, cells in records:
        if len(cells) != len(columns):
            raise ArgumentError(_ragged_row(where, line, cells, columns, delimiter))
        rows.append(SheetRow(line, dict(zip(columns, cells, strict=True))))
    return Sheet(columns, delimiter, rows)


def detect_delimiter(text: str) -> str:
    """Comma, tab or semicolon: the one that splits the header into the most columns and every first row alike.

    A delimiter that splits the header but not some row loses to one that
    splits both, so a comma inside a semicolon sheet's values does not win.
    With no delimiter in the header (one column), comma.

    >>> detect_delimiter("sample;cram\\nS1;s3://b/S1,v2.cram\\n")
    ';'
    >>> detect_delimiter("sample_id\\tcram\\nS1\\ts3://b/S1.cram\\n")
    '\\t'
    """
    best, best_rank = ",", (False, 1)
    for candidate in DELIMITERS:
        records = [cells for _, cells in _first(_records(text, candidate), DETECTION_ROWS + 1)]
        if not records:
            continue
        header, rows = records[0], records[1:]
        rank = (all(len(row) == len(header) for row in rows), len(header))
        if len(header) > 1 and rank > best_rank:
            best, best_rank = candidate, rank
    return best


def _text(where: str, path: Path, encoding: str | None) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ArgumentError(
            f"{where}: cannot read it ({error.strerror}); allowed: a CSV or TSV file with a header row"
        ) from None
    if encoding is None and data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        return data.decode(encoding or "utf-8")
    except LookupError:
        raise ArgumentError(
            f"{where}: argument encoding: got {encoding!r}; allowed: a Python codec name, such as 'cp1252'"
        ) from None
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        bad = data[error.start : error.end].hex(" ")
        fix = "save the sheet as UTF-8, or pass encoding= (such as encoding='cp1252' for Windows' Western text)"
        if encoding is not None:
            fix = f"text in {encoding}: save the sheet as {encoding}, or pass the encoding it was saved in"
        raise ArgumentError(
            f"{where}: line {line} is not {encoding or 'UTF-8'} text (bytes {bad}); allowed: {fix}"
        ) from None


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of each non-blank record; a record's line is the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for cells in reader:
        if cells and any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1


def _first(records: Iterator[tuple[int, list[str]]], count: int) -> Iterator[tuple[int, list[str]]]:
    for index, record in enumerate(records):
        if index >= count:
            return
        yield record


def _ragged_row(where: str, line: int, cells: list[str], columns: list[str], delimiter: str) -> str:
    name = DELIMITERS.get(delimiter, repr(delimiter))
    fewer = len(cells) < len(columns)
    problem = f"got {len(cells)} cells for {len(columns)} columns ({', '.join(columns)}): " + (
        f"no cell for {', '.join(columns[len(cells) :])}" if fewer else f"{len(cells) - len(columns)} extra"
    )
    fix = (
        f"write an empty cell as nothing between two {name}s, so that every column keeps its place"
        if fewer
        else f"quote a value that holds a {name}, or give the extra column a header"
    )
    return f"{where} line {line}: {problem}; allowed: one cell per column ({name}-separated): {fix}"


__all__ = ["DELIMITERS", "Sheet", "SheetColumn", "SheetRow", "detect_delimiter", "read_sheet"]
