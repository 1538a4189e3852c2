"""Bank statements exported as CSV: `CsvMapping` says how one bank lays out its file, `parse_csv` reads a
file into one `ParsedStatement`, `write_csv` writes one. docs/formats/bank-csv.md describes it for people.

Every cell is read as text and amounts are built from it as Decimals, never guessed: `12,345` is refused
unless the layout says the bank writes decimal commas. A text cell that a spreadsheet would run as a
formula is refused, never stored, because what billops stores ends up in exports people open in one.
A CSV file has no id of its own, so the statement's id is a digest of the file's bytes.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from billops.core.currencies import validate_currency
from billops.core.errors import InvalidInput
from billops.payments.statements.parsed import (
    ParsedStatement,
    StatementLine,
    StatementRejected,
    check_statement,
    compact,
)

# what each mapped column holds, in the words of the messages; the order is write_csv's column order
_MEANINGS = {
    "booked_on": "the booking date",
    "value_on": "the value date",
    "amount": "the amount",
    "credit": "money in",
    "debit": "money out",
    "bank_reference": "the bank's reference",
    "end_to_end_id": "the end-to-end reference",
    "payer_name": "the payer's name",
    "payer_account": "the payer's account",
    "remittance": "the remittance text",
}
_POINT_AMOUNT = re.compile(r"[+-]?\d+(?:\.\d+)?")
_COMMA_AMOUNT = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+(?=,))(?:,\d+)?")  # 1.234 alone is ambiguous
_NUMBER_AFTER_MINUS = re.compile(r"-\d[\d.,]*")
_FORMULA_STARTS = ("=", "+", "@", "\t", "\r")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class CsvMapping:
    """How one bank lays out its CSV export, and what the file itself does not say (account, currency,
    balances). The column fields hold header names as the bank writes them (matched ignoring case and
    surrounding spaces); an empty name means the file has no such column."""

    account: str  # the account every row is booked on
    currency: str  # ISO 4217; every amount in the file is in it
    booked_on: str
    bank_reference: str
    amount: str = ""  # signed: more than 0 is money in; or leave empty and map credit and debit
    credit: str = ""  # money in, never negative
    debit: str = ""  # money out, written with or without a minus
    value_on: str = ""
    payer_name: str = ""
    payer_account: str = ""
    remittance: str = ""
    end_to_end_id: str = ""
    delimiter: str = ","
    decimal_comma: bool = False  # 1.234,56; without it amounts are written 1234.56
    date_format: str = "%Y-%m-%d"  # as for datetime.strptime
    encoding: str = "utf-8"  # a file that starts with a UTF-8 byte-order mark is read as UTF-8
    opening_balance: Decimal | None = None  # given by the caller when the file does not carry them
    closing_balance: Decimal | None = None

    def __post_init__(self) -> None:
        validate_currency(self.currency)
        if not compact(self.account):
            raise InvalidInput("the layout needs the account the file is for", field="account")
        if self.amount and (self.credit or self.debit):
            raise InvalidInput(
                "map either one signed amount column, or a credit and a debit column", field="amount"
            )
        if not self.amount and not (self.credit and self.debit):
            raise InvalidInput("map the amount column, or both a credit and a debit column", field="amount")
        for required in ("booked_on", "bank_reference"):
            if not getattr(self, required).strip():
                raise InvalidInput(f"the layout needs the column of {_MEANINGS[required]}", field=required)
        if len(self.delimiter) != 1 or self.delimiter in '"\r\n':
            raise InvalidInput(
                "the separator is one character, not a quote or a line break", field="delimiter"
            )
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise InvalidInput(f"{self.encoding!r} is not a known text encoding", field="encoding") from None
        seen: dict[str, str] = {}
        for field, column in self.columns().items():
            earlier = seen.setdefault(column.strip().casefold(), field)
            if earlier != field:
                raise InvalidInput(
                    f"the column {column!r} is mapped twice ({earlier} and {field})", field=field
                )

    def columns(self) -> dict[str, str]:
        """The mapped columns: field → the header name in the bank's file."""
        return {field: getattr(self, field) for field in _MEANINGS if getattr(self, field)}


def parse_csv(data: bytes, mapping: CsvMapping) -> list[ParsedStatement]:
    """Read a bank's CSV export into one statement, checked by `check_statement`; anything wrong rejects
    the whole file with its row (the header is row 1) and column."""
    text = _decode(data, mapping.encoding)
    rows = _rows(text, mapping.delimiter)
    header_number, header = next(rows, (0, []))
    if not header:
        raise StatementRejected("the file is empty")
    columns = _locate(header, mapping, line=header_number)
    lines = [
        _Row(number, cells, columns, mapping).statement_line(width=len(header)) for number, cells in rows
    ]
    statement = ParsedStatement(
        format="csv",
        statement_id=f"sha256:{hashlib.sha256(data).hexdigest()[:16]}",
        account=compact(mapping.account),
        currency=mapping.currency,
        opening_balance=mapping.opening_balance,
        closing_balance=mapping.closing_balance,
        lines=lines,
    )
    check_statement(statement)
    return [statement]


def _decode(data: bytes, encoding: str) -> str:
    if data.startswith(codecs.BOM_UTF8):  # Excel's "CSV UTF-8": the mark says what the file is
        data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise StatementRejected(
            f"the file is not {encoding.upper()} text (byte 0x{data[error.start]:02X})",
            line=data.count(b"\n", 0, error.start) + 1,
        ) from None


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with their number; a blank row is skipped but keeps its place in the numbering."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise StatementRejected(f"the row is not valid CSV ({error})", line=number) from None
        if any(cell.strip() for cell in cells):
            yield number, cells


def _locate(header: list[str], mapping: CsvMapping, *, line: int) -> dict[str, int]:
    names = [cell.strip().casefold() for cell in header]
    found = {}
    for field, column in mapping.columns().items():
        at = [index for index, name in enumerate(names) if name == column.strip().casefold()]
        if not at:
            raise StatementRejected(
                f"the header has no column {column!r}, which holds {_MEANINGS[field]}", line=line
            )
        if len(at) > 1:
            raise StatementRejected(
                f"the header has the column {column!r} {len(at)} times; billops cannot tell which to read",
                line=line,
            )
        found[field] = at[0]
    return found


@dataclass(frozen=True, slots=True)
class _Row:
    number: int  # the header is row 1
    cells: list[str]
    columns: dict[str, int]  # mapped field → index of its cell
    mapping: CsvMapping

    def statement_line(self, *, width: int) -> StatementLine:
        if len(self.cells) != width:
            raise StatementRejected(
                f"the row has {len(self.cells)} cells but the header has {width}", line=self.number
            )
        return StatementLine(
            line=self.number,
            booked_on=self.required(self.date("booked_on"), "booked_on"),
            value_on=self.date("value_on"),
            amount=self.signed_amount(),
            currency=self.mapping.currency,
            bank_reference=self.required(self.text("bank_reference"), "bank_reference"),
            end_to_end_id=self.text("end_to_end_id"),
            payer_name=self.text("payer_name"),
            payer_account=compact(self.text("payer_account")),
            remittance=self.text("remittance"),
        )

    def cell(self, field: str) -> str:
        return self.cells[self.columns[field]] if field in self.columns else ""

    def column(self, field: str) -> str:
        return str(getattr(self.mapping, field))

    def reject(self, message: str) -> StatementRejected:
        return StatementRejected(message, line=self.number)

    def required(self, value: T | None, field: str) -> T:
        if value is None or value == "":
            raise self.reject(f"column {self.column(field)!r} is empty; every row needs {_MEANINGS[field]}")
        return value

    def text(self, field: str) -> str:
        raw = self.cell(field)
        if looks_like_formula(raw):
            raise self.reject(
                f"the cell in column {self.column(field)!r} looks like a spreadsheet formula; "
                "billops does not import formulas"
            )
        return raw.strip()

    def date(self, field: str) -> date | None:
        value = self.cell(field).strip()
        if not value:
            return None
        try:
            return datetime.strptime(value, self.mapping.date_format).date()
        except ValueError:
            example = date(2026, 3, 31).strftime(self.mapping.date_format)
            raise self.reject(
                f"column {self.column(field)!r}: {value!r} is not a date like {example}"
            ) from None

    def amount(self, field: str) -> Decimal | None:
        value = self.cell(field).strip()
        if not value:
            return None
        if self.mapping.decimal_comma:
            if _COMMA_AMOUNT.fullmatch(value):
                return Decimal(value.replace(".", "").replace(",", "."))
            like = "-1234,56 or -1.234,56"
        else:
            if _POINT_AMOUNT.fullmatch(value):
                return Decimal(value)
            like = "-1234.56 (a '.' before the cents, no thousands separators)"
        raise self.reject(f"column {self.column(field)!r}: {value!r} is not an amount like {like}")

    def signed_amount(self) -> Decimal:
        if self.mapping.amount:
            return self.required(self.amount("amount"), "amount")
        credit, debit = self.amount("credit"), self.amount("debit")
        both = f"columns {self.mapping.credit!r} and {self.mapping.debit!r}"
        if credit is None and debit is None:
            raise self.reject(f"{both} are both empty; every row needs money in or money out")
        if credit and debit:
            raise self.reject(f"{both} both hold an amount; a row is money in or money out, not both")
        if credit is not None and credit < 0:
            raise self.reject(
                f"column {self.mapping.credit!r}: a credit cannot be negative ({credit}); "
                f"money out belongs in column {self.mapping.debit!r}"
            )
        return (credit or Decimal(0)) - abs(debit or Decimal(0))


def write_csv(statement: ParsedStatement, mapping: CsvMapping) -> bytes:
    """Write a statement in a bank's layout, for billops' demo and tests; `parse_csv` with the same
    mapping reads every mapped field back. Fields the layout has no column for are left out, and so
    are pending lines (a CSV row cannot say a line is pending). Raises ValueError for what would be
    misread or refused: another account or currency than the mapping's, a formula-looking text."""
    if compact(statement.account) != compact(mapping.account) or statement.currency != mapping.currency:
        raise ValueError(
            f"the statement is for {statement.account} in {statement.currency}, "
            f"the layout for {mapping.account} in {mapping.currency}"
        )
    columns = mapping.columns()
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=mapping.delimiter)
    writer.writerow(columns.values())
    for line in statement.booked:
        if line.currency != mapping.currency:
            raise ValueError(f"line {line.line} is in {line.currency}, the layout in {mapping.currency}")
        writer.writerow([_cell(line, field, mapping) for field in columns])
    return out.getvalue().encode(mapping.encoding)


def _cell(line: StatementLine, field: str, mapping: CsvMapping) -> str:
    if field in ("credit", "debit"):
        if (line.amount >= 0) != (field == "credit"):
            return ""  # the other column holds this line's amount
        return _amount_text(abs(line.amount), mapping)
    if field == "amount":
        return _amount_text(line.amount, mapping)
    value = getattr(line, field)
    if isinstance(value, date):
        return value.strftime(mapping.date_format)
    if value is None:
        return ""  # no value date
    if looks_like_formula(value):
        raise ValueError(f"line {line.line}: {field} {value!r} would be refused as a spreadsheet formula")
    return str(value)


def _amount_text(amount: Decimal, mapping: CsvMapping) -> str:
    text = format(amount, "f")  # never 1E+3
    return text.replace(".", ",") if mapping.decimal_comma else text


def looks_like_formula(text: str) -> bool:
    """`=1+1`, `+1`, `@SUM(A1)`, a leading tab or carriage return, or `-` before anything but a number
    (`-12.50` is a number, a lone `-` is text)."""
    value = text.strip()
    if text.startswith(_FORMULA_STARTS) or value.startswith(_FORMULA_STARTS):
        return True
    return value.startswith("-") and value != "-" and not _NUMBER_AFTER_MINUS.fullmatch(value)
