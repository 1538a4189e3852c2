"""Remittance advice from a spreadsheet: CSV (`,` or `;` separated; a decimal comma in a `;` file; with or
without a byte-order mark) and XLSX (the first sheet, read with openpyxl without evaluating anything).

Both are read as one table: a header row whose columns are matched ignoring case, spaces and
underscores (other columns are not read), then one row per invoice. A text cell that a spreadsheet
would run as a formula is refused, never read.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from billops.core.currencies import MINOR_UNITS
from billops.payments.remittance.advice import (
    MAX_LINES,
    POINT_AMOUNT,
    RemittanceAdvice,
    RemittanceLine,
    RemittanceRejected,
    amount_problem,
    check_size,
    check_text,
    invoice_key,
)
from billops.payments.statements.csvfile import looks_like_formula

XLSX_MAGIC = b"PK\x03\x04"  # a zip file: an XLSX workbook
MAX_REASON = 300

# the columns of a CSV or XLSX advice: name → what it holds, in the words of the messages
COLUMNS = {
    "invoice_number": "the invoice each row pays",
    "amount_paid": "the amount paid on the invoice",
    "deduction": "the amount kept back from the invoice",
    "reason": "why it was kept back",
    "currency": "the currency of the amounts",
}
REQUIRED = ("invoice_number", "amount_paid")

_COMMA_AMOUNT = re.compile(r"[+-]?([0-9]+(,[0-9]*)?|,[0-9]+)")
_HEADER_NOISE = re.compile(r"[\s_]+")


def parse_remittance_csv(data: bytes) -> RemittanceAdvice:
    """A CSV advice: UTF-8 with or without a byte-order mark, `,` or `;` separated (the header line says
    which); in a `;` file amounts are written with a decimal comma."""
    check_size(data)
    check_text(data)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data.strip():
        raise RemittanceRejected("the file is empty")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        row = data.count(b"\n", 0, error.start) + 1
        raise RemittanceRejected(
            f"row {row}: the file is not UTF-8 text (byte 0x{data[error.start]:02X}); save it as 'CSV UTF-8'",
            row=row,
        ) from None
    header_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    return _Table(_csv_rows(text, delimiter), decimal_comma=delimiter == ";", format="csv").advice()


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[object]]]:
    """Rows numbered as a spreadsheet shows them: a quoted cell may span lines and still be one row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise RemittanceRejected(
                f"row {number}: the row is not valid CSV ({error})", row=number
            ) from None
        yield number, list(cells)


def parse_remittance_xlsx(data: bytes) -> RemittanceAdvice:
    """An XLSX advice: the first sheet, its header in row 1. Nothing in the workbook is evaluated: a
    formula cell gives the value the spreadsheet last saved; numbers are read as Decimals via their
    text, and date cells in the columns billops does not read are ignored."""
    check_size(data)
    if not data.strip():
        raise RemittanceRejected("the file is empty")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _NOT_A_WORKBOOK as error:
        raise RemittanceRejected(f"the file is not an XLSX workbook ({type(error).__name__})") from None
    try:
        if not book.worksheets:
            raise RemittanceRejected("the workbook has no sheet")
        return _Table(_xlsx_rows(book.worksheets[0]), decimal_comma=False, format="xlsx").advice()
    finally:
        book.close()


# what openpyxl raises on a file that is no workbook, or a broken one: a bad zip, missing or malformed
# parts (XML parse errors are SyntaxErrors), values of the wrong kind
_NOT_A_WORKBOOK = (
    InvalidFileException, zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, IndexError, OSError, EOFError,
    ValueError, TypeError, SyntaxError,
)  # fmt: skip


def _xlsx_rows(sheet: Any) -> Iterator[tuple[int, list[object]]]:
    """The sheet's rows, numbered as the spreadsheet shows them (openpyxl yields an empty row for a gap)."""
    sheet.reset_dimensions()  # some writers declare a wrong sheet size; read the rows that are there
    rows = sheet.iter_rows(values_only=True)
    number = 0
    while True:
        number += 1
        try:
            values = next(rows)
        except StopIteration:
            return
        except _NOT_A_WORKBOOK as error:
            raise RemittanceRejected(
                f"row {number}: the sheet cannot be read ({type(error).__name__})", row=number
            ) from None
        yield number, list(values)


def _column_key(name: str) -> str:
    return _HEADER_NOISE.sub("", name).casefold()


_KEYS = {_column_key(name): name for name in COLUMNS}


@dataclass
class _Table:
    """The rows of a CSV or XLSX advice: cells are text (CSV) or what openpyxl gives (XLSX)."""

    rows: Iterator[tuple[int, list[object]]]
    decimal_comma: bool
    format: str
    header: dict[str, int] = field(default_factory=dict)  # column → its index
    names: dict[str, str] = field(default_factory=dict)  # column → its header as the file writes it

    def advice(self) -> RemittanceAdvice:
        header_row = next((row for row in self.rows if _non_blank(row[1])), None)
        if header_row is None:
            raise RemittanceRejected("the file is empty")
        self._read_header(*header_row)
        rows: list[_Row] = []
        for number, cells in self.rows:
            if not _non_blank(cells):
                continue  # a blank row is skipped; it keeps its place in the numbering
            if len(rows) >= MAX_LINES:
                raise RemittanceRejected(
                    f"row {number}: the file has more than {MAX_LINES} invoice lines; split it", row=number
                )
            rows.append(_Row(number, cells, self))
        currency = self._currency(rows)
        lines: list[RemittanceLine] = []
        first_row: dict[str, int] = {}
        for row in rows:
            line = row.line(currency)
            key = invoice_key(line.invoice_number)
            if key in first_row:
                raise row.reject(
                    "invoice_number",
                    f"{line.invoice_number} is on row {first_row[key]} already; an invoice is named once",
                )
            first_row[key] = row.number
            lines.append(line)
        if not lines:
            raise RemittanceRejected(
                f"row {header_row[0]}: the header is followed by no invoice line", row=header_row[0]
            )
        return RemittanceAdvice(
            payer="", payment_reference="", currency=currency, total=None, lines=lines, format=self.format
        )

    @staticmethod
    def _currency(rows: list[_Row]) -> str:
        """The one currency the rows state; a row that leaves the cell empty is in it too."""
        first: _Row | None = None
        for row in rows:
            stated = row.currency()
            if stated and first is not None and stated != first.currency():
                raise row.reject(
                    "currency",
                    f"{stated}, but row {first.number} says {first.currency()}; an advice is in one currency",
                )
            first = first or (row if stated else None)
        return first.currency() if first else ""

    def _read_header(self, number: int, cells: list[object]) -> None:
        for index, cell in enumerate(cells):
            name = _cell_text(cell).strip()
            column = _KEYS.get(_column_key(name))
            if column is None:
                continue  # other columns (dates, PO numbers, notes) are not read
            if column in self.header:
                raise RemittanceRejected(
                    f"row {number}: the header has the column {column!r} twice ({self.names[column]!r} and "
                    f"{name!r}); billops cannot tell which to read",
                    row=number,
                )
            self.header[column], self.names[column] = index, name
        for column in REQUIRED:
            if column not in self.header:
                raise RemittanceRejected(
                    f"row {number}: the header has no column {column!r}, which holds {COLUMNS[column]}",
                    row=number,
                )


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    cells: list[object]
    table: _Table

    def reject(self, column: str, message: str) -> RemittanceRejected:
        name = self.table.names.get(column, column)
        return RemittanceRejected(f"row {self.number}, column {name!r}: {message}", row=self.number)

    def cell(self, column: str) -> object:
        index = self.table.header.get(column)
        return self.cells[index] if index is not None and index < len(self.cells) else None

    def text(self, column: str) -> str:
        raw = _cell_text(self.cell(column))
        if looks_like_formula(raw):
            raise self.reject(
                column, "the cell looks like a spreadsheet formula; billops does not import formulas"
            )
        return raw.strip()

    def currency(self) -> str:
        code = self.text("currency").upper()
        if code and code not in MINOR_UNITS:
            raise self.reject("currency", f"{code!r} is not an ISO 4217 currency code")
        return code

    def amount(self, column: str, currency: str) -> Decimal | None:
        value = self.cell(column)
        if isinstance(value, bool | date | time):
            raise self.reject(column, f"{_cell_text(value)!r} is not an amount")
        if isinstance(value, int | float):
            number = Decimal(str(value))  # the digits as the spreadsheet shows them, not the binary float
        else:
            text = _cell_text(value).strip()
            if not text:
                return None
            pattern, like = (
                (_COMMA_AMOUNT, "1234,50 (a ',' before the cents in a ';'-separated file")
                if self.table.decimal_comma
                else (POINT_AMOUNT, "1234.50 (a '.' before the cents")
            )
            if not pattern.fullmatch(text):
                raise self.reject(column, f"{text!r} is not an amount like {like}, no thousands separators)")
            number = Decimal(text.replace(",", "."))
        problem = amount_problem(number, currency)
        if problem:
            raise self.reject(column, problem)
        return number

    def line(self, currency: str) -> RemittanceLine:
        invoice_number = self.text("invoice_number")
        if not invoice_number:
            raise self.reject("invoice_number", "the cell is empty; every row names the invoice it pays")
        paid = self.amount("amount_paid", currency)
        if paid is None:
            raise self.reject("amount_paid", "the cell is empty; write 0 when nothing is paid on the invoice")
        if paid < 0:
            raise self.reject("amount_paid", f"{paid} is negative; a row pays 0 or more on its invoice")
        deduction = self.amount("deduction", currency) or Decimal(0)
        if deduction < 0:
            raise self.reject("deduction", f"{deduction} is negative; write what was kept back as 0 or more")
        reason = self.text("reason")
        if len(reason) > MAX_REASON:
            raise self.reject("reason", f"the reason is longer than {MAX_REASON} characters")
        if paid == 0 and deduction == 0:
            raise RemittanceRejected(
                f"row {self.number}: {invoice_number} is paid nothing and nothing is deducted",
                row=self.number,
            )
        return RemittanceLine(self.number, invoice_number, paid, deduction, reason)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an invoice number typed as a number: 10023, not 10023.0
    return str(value)


def _non_blank(cells: Iterable[object]) -> bool:
    return any(_cell_text(cell).strip() for cell in cells)
