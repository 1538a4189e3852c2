"""Reading a usage CSV file into events, with every problem of the file by row and column.

UTF-8 with or without a byte-order mark, separated by `,`, a header naming the five columns in any
order; docs/formats/usage-csv.md describes it for people. A cell a spreadsheet would run as a formula
(starting with `=`, `+`, `-` or `@` and not a number) is refused: the file was likely mangled, and
such text must not travel on into exports.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from billops.catalog.imports import Reject
from billops.core.errors import InvalidAmount
from billops.core.money import to_decimal

COLUMNS = ("event_id", "customer", "metric", "timestamp", "value")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
FORMULA_STARTS = ("=", "+", "-", "@")


@dataclass(frozen=True, slots=True)
class EventData:
    """One event as sent: text and numbers, not yet checked."""

    event_id: Any = None
    customer: Any = None  # the account number
    metric: Any = None  # the metric code
    timestamp: Any = None  # ISO 8601 text or a datetime; without an offset, in the business time zone
    value: Any = None  # decimal text or a whole number; for unique_count the distinct value
    properties: Any = None


def _is_number(text: str) -> bool:
    try:
        to_decimal(text)
    except InvalidAmount:
        return False
    return True


def _text(content: bytes) -> tuple[str, list[Reject]]:
    if len(content) > MAX_FILE_BYTES:
        return "", [Reject(None, "", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = content[: exc.start].count(b"\n") + 1
        return "", [Reject(row, "", "the file is not UTF-8 text; save it as 'CSV UTF-8'")]
    if "\x00" in text:
        return "", [Reject(None, "", "the file holds a NUL character; it is not a CSV text file")]
    if not text.strip():
        return "", [Reject(None, "", "the file is empty")]
    return text, []


def read_events(content: bytes) -> tuple[list[tuple[int, EventData]], list[Reject]]:
    """The file's events with their row numbers (the header is row 1), or every problem found."""
    text, rejects = _text(content)
    if rejects:
        return [], rejects
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    events: list[tuple[int, EventData]] = []
    try:
        header = [name.strip().lower() for name in next(reader)]
        missing = [name for name in COLUMNS if name not in header]
        unknown = [name for name in header if name and name not in COLUMNS]
        if missing or unknown or len(set(header)) != len(header):
            names = ", ".join(COLUMNS)
            return [], [Reject(1, name, f"unknown column; the columns are {names}") for name in unknown] + [
                Reject(1, name, "this column is missing") for name in missing
            ] or [Reject(1, "", f"a column appears twice; the columns are {names}")]
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # a blank line keeps its place in the row numbering
            if len(events) >= MAX_ROWS:
                return [], [Reject(number, "", f"the file has more than {MAX_ROWS} events; split it")]
            if len(cells) != len(header):
                rejects.append(
                    Reject(number, "", f"the row has {len(cells)} cells, the header {len(header)}")
                )
                continue
            row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
            formulas = [
                name for name in COLUMNS if row[name].startswith(FORMULA_STARTS) and not _is_number(row[name])
            ]
            rejects += [
                Reject(number, name, "the cell starts like a spreadsheet formula") for name in formulas
            ]
            events.append((number, EventData(**{name: row[name] for name in COLUMNS})))
    except csv.Error as exc:
        return [], [Reject(reader.line_num, "", f"the CSV cannot be read here: {exc}")]
    return events, rejects
