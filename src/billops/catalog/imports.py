"""Reading a tax-rate table (CSV) and checking every row before anything is written.

The file is UTF-8 with or without a byte-order mark, separated by `,`, with `.` as the decimal point
and ISO dates; docs/formats/tax-rates-csv.md describes it for people. `plan_rates` finds every problem
at once, each with its row and column; `services.import_tax_rates` writes only when there is none.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from billops.catalog.models import TaxCode, TaxRate
from billops.catalog.validation import (
    Span,
    clean_country,
    clean_date,
    clean_locality,
    clean_optional_date,
    clean_period,
    clean_rate,
    clean_region,
    day_before,
    fit_rate,
    place_problems,
)
from billops.core.errors import DomainError

COLUMNS = ("tax_code", "country", "region", "locality", "rate", "valid_from", "valid_to")
MAX_FILE_BYTES = 20 * 1024 * 1024  # a provider's full US table of ~42,000 ZIP codes is about 2 MB
MAX_ROWS = 200_000

Key = tuple[str, str, str, str]  # tax code, country, region, locality


@dataclass(frozen=True)
class Reject:
    """One problem in the file. `row` counts lines as a spreadsheet shows them (the header is row 1);
    None for a problem with the file as a whole."""

    row: int | None
    column: str
    message: str


@dataclass(frozen=True)
class PlannedRate:
    row: int
    key: Key
    rate: Decimal
    valid_from: date
    valid_to: date | None


@dataclass
class Plan:
    """What an import would do: rates to add, open-ended rates to close, rows already present."""

    rows: int = 0
    new: list[PlannedRate] = field(default_factory=list)
    closes: list[tuple[int, date]] = field(default_factory=list)  # (rate id, its new valid_to)
    unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)


class _FileProblem(Exception):
    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message, self.row = message, row


def read_rows(content: bytes) -> tuple[list[tuple[int, dict[str, str]]], list[Reject]]:
    """The data rows as (row number, column -> text), or the problems that stop the file being read."""
    if len(content) > MAX_FILE_BYTES:
        return [], [Reject(None, "", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")]
    if not content.strip():
        return [], [Reject(None, "", "the file is empty")]
    try:
        return _rows(_records(content))
    except _FileProblem as problem:
        return [], [Reject(problem.row, "", problem.message)]


def _records(content: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = content[: exc.start].count(b"\n") + 1
        raise _FileProblem(
            f"the file is not UTF-8 text (byte 0x{content[exc.start]:02X}); save it as 'CSV UTF-8'", row
        ) from None
    if "\x00" in text:
        raise _FileProblem("the file holds a NUL character; it is not a CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",", strict=True)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error as exc:
        raise _FileProblem(f"the CSV cannot be read here: {exc}", number + 1) from None


def _rows(records: Iterator[tuple[int, list[str]]]) -> tuple[list[tuple[int, dict[str, str]]], list[Reject]]:
    header_row = next(records, None)
    if header_row is None:
        raise _FileProblem("the file has no header row")
    header = [name.strip().lower() for name in header_row[1]]
    while header and not header[-1]:
        header.pop()
    rejects = [
        Reject(1, name, f"unknown column; the columns are {','.join(COLUMNS)}")
        for name in header
        if name not in COLUMNS
    ]
    rejects += [
        Reject(1, name, "the column appears more than once") for name in COLUMNS if header.count(name) > 1
    ]
    rejects += [Reject(1, name, "this column is missing") for name in COLUMNS if name not in header]
    if rejects:
        if ";" in ",".join(header_row[1]):
            rejects.append(Reject(1, "", "the separator is ',' (a ';' was found in the header)"))
        return [], rejects
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are skipped; they keep their place in the row numbering
        if len(rows) >= MAX_ROWS:
            raise _FileProblem(f"the file has more than {MAX_ROWS} rates; split it", number)
        if any(cell.strip() for cell in cells[len(header) :]):
            rejects.append(
                Reject(number, "", f"the row has {len(cells)} cells but the header names {len(header)}")
            )
            continue
        rows.append((number, dict(zip(header, cells, strict=False))))
    if not rows and not rejects:
        raise _FileProblem("the file has a header but no rates")
    return rows, rejects


def plan_rates(content: bytes) -> Plan:
    """Check every row as `add_tax_rate` would, plus what only a file gets wrong: rows repeated or
    overlapping inside it. A row equal to a stored rate is left alone, so importing a file twice
    changes nothing the second time."""
    rows, rejects = read_rows(content)
    plan = Plan(rows=len(rows) + sum(1 for r in rejects if r.row and r.row > 1), rejects=rejects)
    if not rows:
        return plan  # the file could not be read (or has no rows): the rejects say why
    codes = {
        code.code: code
        for code in TaxCode.objects.filter(code__in={c.get("tax_code", "").strip().upper() for _, c in rows})
    }
    checked: list[PlannedRate] = []
    for row, cells in rows:
        planned = _check_row(row, cells, codes, plan.rejects)
        if planned is not None:
            checked.append(planned)
    _fit(checked, plan)
    plan.rejects.sort(key=lambda r: (r.row or 0, COLUMNS.index(r.column) if r.column in COLUMNS else -1))
    return plan


def _check_row(
    row: int, cells: dict[str, str], codes: dict[str, TaxCode], rejects: list[Reject]
) -> PlannedRate | None:
    before = len(rejects)

    def value(clean: Any, column: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return clean(*args, **kwargs)
        except DomainError as exc:
            rejects.append(Reject(row, column, exc.message))
            return None

    code_text = cells.get("tax_code", "").strip().upper()
    tax_code = codes.get(code_text)
    if not code_text:
        rejects.append(Reject(row, "tax_code", "tax_code is required"))
    elif tax_code is None:
        rejects.append(Reject(row, "tax_code", f"there is no tax code {code_text!r}; create it first"))
    elif not tax_code.is_active:
        rejects.append(Reject(row, "tax_code", f"tax code {code_text} is no longer in use"))
    country = value(clean_country, "country", cells.get("country", ""))
    region = value(clean_region, "region", cells.get("region", ""))
    locality = value(clean_locality, "locality", cells.get("locality", ""), region)
    if tax_code is not None and country is not None and region is not None:
        for error in place_problems(tax_code.kind, country, region, locality or ""):
            rejects.append(Reject(row, error.field or "", error.message))
    rate_text = cells.get("rate", "").strip()
    rate: Decimal | None = None
    if not rate_text:
        rejects.append(Reject(row, "rate", "rate is required"))
    elif "," in rate_text:  # "19,5" is a decimal comma, never nineteen thousand five hundred
        rejects.append(Reject(row, "rate", f"rate {rate_text!r}: the decimal separator is '.' (write 19.5)"))
    else:
        rate = value(clean_rate, "rate", rate_text)
    valid_from = value(clean_date, "valid_from", cells.get("valid_from", ""), "valid_from")
    valid_to = value(clean_optional_date, "valid_to", cells.get("valid_to", ""), "valid_to")
    value(clean_period, "valid_to", valid_from, valid_to)
    if len(rejects) > before or rate is None:  # a missing rate is among the rejects
        return None
    return PlannedRate(row, (code_text, country, region, locality), rate, valid_from, valid_to)


def _where(key: Key) -> str:
    return " ".join(part for part in key if part)


def _fit(checked: list[PlannedRate], plan: Plan) -> None:
    """Rows against each other, then against the stored rates of the same code and place."""
    stored: dict[Key, list[Span]] = defaultdict(list)
    wanted = {code for code, *_ in (p.key for p in checked)}
    for rate in TaxRate.objects.filter(tax_code__code__in=wanted).select_related("tax_code"):
        key = (rate.tax_code.code, rate.country, rate.region, rate.locality)
        stored[key].append(Span(rate.pk, rate.rate, rate.valid_from, rate.valid_to))
    by_key: dict[Key, list[PlannedRate]] = defaultdict(list)
    for planned in checked:
        by_key[planned.key].append(planned)
    for key, group in by_key.items():
        group.sort(key=lambda p: (p.valid_from, p.row))
        accepted: list[PlannedRate] = []
        spans = list(stored.get(key, []))
        for planned in group:
            span = Span(None, planned.rate, planned.valid_from, planned.valid_to)
            earlier = next(
                (a for a in accepted if Span(None, a.rate, a.valid_from, a.valid_to).overlaps(span)), None
            )
            if earlier is not None:
                same_start = earlier.valid_from == planned.valid_from
                what = "repeats" if same_start else "overlaps"
                message = f"{_where(key)} from {planned.valid_from.isoformat()} {what} row {earlier.row}"
                plan.rejects.append(Reject(planned.row, "valid_from", message))
                continue
            accepted.append(planned)
            fit = fit_rate(spans, span)
            if fit.same is not None:
                plan.unchanged += 1
            elif fit.clash is not None:
                message = f"overlaps the stored rate of {_where(key)}: {fit.clash.describe()}"
                plan.rejects.append(Reject(planned.row, "valid_from", message))
            else:
                if fit.close is not None and fit.close.pk is not None:
                    closed_to = day_before(planned.valid_from)
                    spans[spans.index(fit.close)] = Span(
                        fit.close.pk, fit.close.rate, fit.close.valid_from, closed_to
                    )
                    plan.closes.append((fit.close.pk, closed_to))
                spans.append(span)
                plan.new.append(planned)
