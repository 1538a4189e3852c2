"""BAI2 (BAI Cash Management Balance Reporting, version 2) files: read into one `ParsedStatement` per account
(03 … 49), and written from statements for tests and the demo.

The `bai2` library reads the fields of each record: type codes, funds types with their availability fields,
dates and times. This module groups the physical lines into records, so that every rejection names its
line, walks the nesting 01 → 02 → 03 … 16 … 49 → 98 → 99, and checks the control totals and record counts
at each trailer itself: the library's IntegrityException says neither which account nor which line. It
also joins an 03 record's continuation lines itself (see `_logical_line`).

The text helpers at the end are shared with the MT940 parser.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bai2.constants import FundsType, GroupStatus, TypeCodes  # type: ignore[import-untyped]
from bai2.exceptions import NotSupportedYetException, ParsingException  # type: ignore[import-untyped]
from bai2.helpers import IteratorHelper  # type: ignore[import-untyped]
from bai2.parsers import (  # type: ignore[import-untyped]
    AccountIdentifierParser,
    Bai2FileHeaderParser,
    GroupHeaderParser,
    TransactionDetailParser,
)

from billops.core.currencies import minor_units
from billops.payments.statements.parsed import (
    ParsedStatement,
    StatementLine,
    StatementRejected,
    check_statement,
    clean_text,
    compact,
    known_currency,
)

FORMAT = "bai2"

_RECORD_NAMES = {
    "01": "file header",
    "02": "group header",
    "03": "account identifier",
    "16": "transaction detail",
    "49": "account trailer",
    "88": "continuation",
    "98": "group trailer",
    "99": "file trailer",
}
_CREDITS = range(100, 400)  # detail type codes of money in
_DEBITS = range(400, 700)  # and of money out
_NON_MONETARY = "890"  # "contains non-monetary information": no money moves
_OPENING_LEDGER = "010"
_CLOSING_LEDGER = "015"
_DEFAULT_CREDIT = "195"  # incoming money transfer, written when a line has no BAI2 type code
_DEFAULT_DEBIT = "495"  # outgoing money transfer
_ROW_LENGTH = 80  # physical record length the writer keeps to where the text allows
_YEARS = range(1969, 2069)  # the bai2 library reads YY as Python's %y does
_UNSIGNED = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"[+-]?[0-9]+")

# The library's errors, in words a clerk can act on (its own say "invalid literal for int()").
_REASONS = (
    (
        re.compile(r"invalid literal for int\(\) with base 10: ''"),
        "a field that must be a whole number is empty",
    ),
    (re.compile(r"invalid literal for int\(\) with base 10: ('.*')"), "{} is not a whole number"),
    (re.compile(r"('.*') is not a valid FundsType"), "{} is not a funds type (Z, 0, 1, 2, S, V or D)"),
    (re.compile(r"('.*') is not a valid GroupStatus"), "{} is not a group status (1 to 4)"),
    (re.compile(r"('.*') is not a valid AsOfDateModifier"), "{} is not an as-of-date modifier (1 to 4)"),
    (re.compile(r"time data ('.*') does not match format"), "{} is not a date (YYMMDD) or time (HHMM)"),
    (re.compile(r"unconverted data remains"), "a date (YYMMDD) or time (HHMM) in it does not exist"),
    (re.compile(r"Type code ('.*') is not supported"), "type code {} is not a BAI2 type code"),
    (re.compile(r"Only BAI version 2"), "only BAI version 2 files are read"),
)


def parse_bai2(data: bytes) -> list[ParsedStatement]:
    """Read a BAI2 file into one statement per account record group; the whole file is refused on the first
    problem, with its line."""
    statements = _Reader(_records(numbered_lines(data, encodings=("utf-8",)))).read_file()
    for statement in statements:
        check_statement(statement)
    return statements


@dataclass(frozen=True, slots=True)
class _Record:
    code: str
    line: int  # physical line of the record's first row
    rows: tuple[str, ...]  # the record's physical lines, its 88 continuations included

    @property
    def name(self) -> str:
        return f"{_RECORD_NAMES[self.code]} ({self.code})"


def _records(lines: list[tuple[int, str]]) -> list[_Record]:
    records: list[_Record] = []
    for number, text in lines:
        row = text.strip()
        code = row[:2]
        if code not in _RECORD_NAMES or row[2:3] != ",":
            raise StatementRejected(
                f"{row[:20]!r} is not a BAI2 record: a record starts with its code (01, 02, 03, 16, 49, 88, "
                "98 or 99) and a comma",
                line=number,
            )
        if code != "88":
            records.append(_Record(code, number, (row,)))
        elif records:
            last = records[-1]
            records[-1] = _Record(last.code, last.line, (*last.rows, row))
        else:
            raise StatementRejected(
                "a continuation record (88) must follow the record it continues", line=number
            )
    return records


def _logical_line(record: _Record) -> str:
    """The record as the one line the library reads. A row ending in "/" ends a field, so the continuation
    starts the next field; a row ending in text (a 16's text field) continues that text after a space.

    In an 03 record some banks end a continued row after a whole summary with a redundant comma ("…,,,/").
    That comma is dropped when it leaves exactly one empty field of a new summary. The library guesses this
    from the comma count alone and so misreads a spec-conformant "…,015/" + "88,1125000,,/" as type code
    0151125000."""
    line = record.rows[0]
    for row in record.rows[1:]:
        continuation = row[3:]
        if not line.endswith("/"):
            line = f"{line} {continuation}"
            continue
        line = line[:-1]
        # "03,account,currency," then count - 2 summary fields: one empty field past whole summaries
        if record.code == "03" and line.endswith(",") and (line.count(",") - 3) % 4 == 0:
            line = line[:-1]
        line = f"{line},{continuation}"
    return line


def _read(record: _Record, parser_class: Any) -> Any:
    """The library's model of one record; its errors become a rejection naming the record and the line."""
    try:
        return parser_class(IteratorHelper([_logical_line(record)])).parse()
    except (ParsingException, NotSupportedYetException, ValueError, IndexError) as error:
        raise StatementRejected(
            f"the {record.name} record cannot be read: {_reason(error)}", line=record.line
        ) from None


def _reason(error: Exception) -> str:
    if isinstance(error, IndexError):
        return "it has fewer fields than BAI2 defines for it"
    for pattern, reason in _REASONS:
        if match := pattern.search(str(error)):
            return reason.format(*match.groups())
    return str(error)


def _fields(record: _Record) -> list[str]:
    fields: list[str] = IteratorHelper([_logical_line(record)]).current_record.fields
    return fields


def _integers(record: _Record, names: Sequence[str]) -> list[int]:
    """A trailer's numbers (control total, counts), each required."""
    fields = _fields(record)
    values = []
    for position, name in enumerate(names):
        text = fields[position].strip() if position < len(fields) else ""
        if not text:
            raise StatementRejected(f"the {record.name} record has no {name}", line=record.line)
        if not _SIGNED.fullmatch(text):
            raise StatementRejected(
                f"the {name} in the {record.name} record is {text!r}, not a whole number", line=record.line
            )
        values.append(int(text))
    return values


def _check(trailer: _Record, subject: str, *, expected: int, found: int, counted: str) -> None:
    if expected != found:
        raise StatementRejected(
            f"{subject}: the {trailer.name} expects {expected}, found {found} ({counted})", line=trailer.line
        )


class _Reader:
    """Walks the records in file order, one level of nesting per method."""

    def __init__(self, records: list[_Record]) -> None:
        self.records = records
        self.position = 0

    def _peek(self) -> str | None:
        return self.records[self.position].code if self.position < len(self.records) else None

    def _take(self, code: str, context: str) -> _Record:
        name = _RECORD_NAMES[code]
        wanted = f"{'an' if name[0] in 'aeiou' else 'a'} {name} ({code}) record"
        if self.position == len(self.records):
            last = self.records[-1]
            raise StatementRejected(
                f"the file ends where {wanted} is expected {context}", line=last.line + len(last.rows) - 1
            )
        record = self.records[self.position]
        if record.code != code:
            raise StatementRejected(
                f"expected {wanted} {context}, found a {record.name} record", line=record.line
            )
        self.position += 1
        return record

    def read_file(self) -> list[ParsedStatement]:
        header = self._take("01", "at the start of the file")
        _read(header, Bai2FileHeaderParser)  # checks the version, dates and times; nothing in it is kept
        statements: list[ParsedStatement] = []
        total, groups, rows = 0, 0, len(header.rows)
        context = "after the file header"
        while groups == 0 or self._peek() == "02":
            group_statements, group_total, group_rows = self._read_group(context)
            statements += group_statements
            total, groups, rows = total + group_total, groups + 1, rows + group_rows
            context = "after the group trailer"
        trailer = self._take("99", "to close the file")
        if self.position < len(self.records):
            extra = self.records[self.position]
            raise StatementRejected(
                f"there is a {extra.name} record after the file trailer (99)", line=extra.line
            )
        expected_total, expected_groups, expected_rows = _integers(
            trailer, ("file control total", "number of groups", "number of records")
        )
        rows += len(trailer.rows)
        _check(
            trailer, "wrong file control total", expected=expected_total, found=total,
            counted="the sum of the group control totals",
        )  # fmt: skip
        _check(
            trailer, "wrong number of groups", expected=expected_groups, found=groups,
            counted="group headers (02) in the file",
        )  # fmt: skip
        _check(
            trailer, "wrong number of records in the file", expected=expected_rows, found=rows,
            counted="records 01 to 99, continuation records included",
        )  # fmt: skip
        return statements

    def _read_group(self, context: str) -> tuple[list[ParsedStatement], int, int]:
        header = self._take("02", context)
        group = _read(header, GroupHeaderParser)
        status = group.group_status
        if status is None:
            raise StatementRejected(
                "the group header (02) has no group status (1 for an update)", line=header.line
            )
        if status is not GroupStatus.update:
            raise StatementRejected(
                f"the group status is {status.value} ({status.name.replace('_', ' ')}): only groups with "
                "status 1 (update) are imported",
                line=header.line,
            )
        if group.as_of_date is None:
            raise StatementRejected("the group header (02) has no as-of date", line=header.line)
        statements: list[ParsedStatement] = []
        total, rows = 0, len(header.rows)
        context = "after the group header"
        while not statements or self._peek() == "03":
            statement, account_total, account_rows = self._read_account(group, context)
            statements.append(statement)
            total, rows = total + account_total, rows + account_rows
            context = "after the account trailer"
        trailer = self._take("98", "to close the group")
        expected_total, expected_accounts, expected_rows = _integers(
            trailer, ("group control total", "number of accounts", "number of records")
        )
        rows += len(trailer.rows)
        _check(
            trailer, "wrong group control total", expected=expected_total, found=total,
            counted="the sum of the group's account control totals",
        )  # fmt: skip
        _check(
            trailer, "wrong number of accounts", expected=expected_accounts, found=len(statements),
            counted="account identifiers (03) in the group",
        )  # fmt: skip
        _check(
            trailer, "wrong number of records in the group", expected=expected_rows, found=rows,
            counted="records 02 to 98, continuation records included",
        )  # fmt: skip
        return statements, total, rows

    def _read_account(self, group: Any, context: str) -> tuple[ParsedStatement, int, int]:
        header = self._take("03", context)
        identifier = _read(header, AccountIdentifierParser)
        account = compact(identifier.customer_account_number or "")
        if not account:
            raise StatementRejected("the account identifier (03) has no account number", line=header.line)
        # the library gives a group without currency USD, the spec's default
        currency = known_currency(
            identifier.currency or group.currency, where=f"of account {account}", line=header.line
        )
        balances = {
            item.type_code.code: item.amount
            for item in identifier.summary_items
            if item.type_code is not None and item.amount is not None
        }
        total = sum(item.amount or 0 for item in identifier.summary_items)
        lines: list[StatementLine] = []
        rows = len(header.rows)
        while self._peek() == "16":
            record = self._take("16", f"in account {account}")
            detail = _read_detail(record)
            total, rows = total + (detail.amount or 0), rows + len(record.rows)
            line = _statement_line(record, detail, currency=currency, booked_on=group.as_of_date)
            if line is not None:
                lines.append(line)
        trailer = self._take("49", f"to close account {account}")
        expected_total, expected_rows = _integers(trailer, ("account control total", "number of records"))
        rows += len(trailer.rows)
        _check(
            trailer, f"wrong account control total for account {account}", expected=expected_total,
            found=total, counted="the sum of the account's balances and entries, in minor units",
        )  # fmt: skip
        _check(
            trailer, f"wrong number of records for account {account}", expected=expected_rows, found=rows,
            counted="records 03 to 49, continuation records included",
        )  # fmt: skip
        opening, closing = balances.get(_OPENING_LEDGER), balances.get(_CLOSING_LEDGER)
        statement = ParsedStatement(
            format=FORMAT,
            statement_id=f"{account}/{group.as_of_date:%Y-%m-%d}",
            account=account,
            currency=currency,
            opening_balance=None if opening is None else from_minor_units(opening, currency),
            closing_balance=None if closing is None else from_minor_units(closing, currency),
            opening_on=None if opening is None else group.as_of_date,
            closing_on=None if closing is None else group.as_of_date,
            lines=lines,
        )
        return statement, total, rows


def _read_detail(record: _Record) -> Any:
    amount = _fields(record)[1:2]
    if amount and amount[0] and not _UNSIGNED.fullmatch(amount[0]):
        raise StatementRejected(
            f"the amount {amount[0]!r} of the transaction detail (16) is not a number: BAI2 amounts are "
            "whole numbers of the currency's minor unit (cents), without sign or decimal point",
            line=record.line,
        )
    return _read(record, TransactionDetailParser)


def _statement_line(record: _Record, detail: Any, *, currency: str, booked_on: date) -> StatementLine | None:
    """The entry of one 16 record; None for non-monetary information (890), which moves no money."""
    if detail.type_code is None:
        raise StatementRejected("the transaction detail (16) has no type code", line=record.line)
    code = detail.type_code.code
    if code == _NON_MONETARY and not detail.amount:
        return None
    if int(code) not in _CREDITS and int(code) not in _DEBITS:
        raise StatementRejected(
            f"type code {code} ({detail.type_code.description}) is neither a credit (100 to 399) nor a debit "
            "(400 to 699), so the entry cannot be booked",
            line=record.line,
        )
    if detail.amount is None:
        raise StatementRejected("the transaction detail (16) has no amount", line=record.line)
    bank_reference = (detail.bank_reference or "").strip()
    customer_reference = (detail.customer_reference or "").strip()
    if not bank_reference and not customer_reference:
        raise StatementRejected(
            "the transaction detail (16) has neither a bank reference nor a customer reference: billops "
            "needs one to recognise the entry if the file is imported again",
            line=record.line,
        )
    value_on = detail.availability["date"] if detail.funds_type is FundsType.value_dated else None
    units = detail.amount if int(code) in _CREDITS else -detail.amount
    return StatementLine(
        line=record.line,
        booked_on=booked_on,
        amount=from_minor_units(units, currency),
        currency=currency,
        bank_reference=bank_reference or customer_reference,
        value_on=value_on,
        end_to_end_id=customer_reference,
        remittance=clean_text(detail.text or ""),
        bank_code=code,
    )


def write_bai2(
    statements: Sequence[ParsedStatement], *, sender: str, receiver: str, created_on: date
) -> bytes:
    """A BAI2 file with one group (status 1, update) per statement and every control total and record count
    filled in, which `parse_bai2` and the bai2 library read back as the same statements.

    A statement is one as-of date: its balance dates and every line's booking date must agree. BAI2 has no
    place for payer name, account or bank, nor for a creditor reference: they are not written. A line whose
    bank_code is not a BAI2 detail type code is written as 195 (money in) or 495 (money out). Raises
    ValueError for what BAI2 cannot carry (pending lines, "," or "/" in an identifier or reference)."""
    if not statements:
        raise ValueError("a BAI2 file needs at least one statement")
    parties = f"{_identifier(sender, 'sender')},{_identifier(receiver, 'receiver')}"
    # file id 1, created at 00:00, physical record length and block size left to the default, version 2
    rows = [f"01,{parties},{yymmdd(created_on, years=_YEARS)},0000,1,,,2/"]
    total = 0
    for statement in statements:
        group_rows, group_total = _group_rows(statement, sender=sender, receiver=receiver)
        rows += group_rows
        total += group_total
    rows.append(f"99,{total},{len(statements)},{len(rows) + 1}/")
    return "".join(f"{row}\n" for row in rows).encode("utf-8")


def _group_rows(statement: ParsedStatement, *, sender: str, receiver: str) -> tuple[list[str], int]:
    dates = {on for on in (statement.opening_on, statement.closing_on) if on is not None}
    dates |= {line.booked_on for line in statement.lines}
    if len(dates) != 1:
        raise ValueError(
            f"statement {statement.statement_id}: a BAI2 group has one as-of date, the statement has "
            f"{sorted(dates) or 'none'}"
        )
    account_rows, total = _account_rows(statement)
    as_of = yymmdd(dates.pop(), years=_YEARS)
    rows = [f"02,{receiver},{sender},1,{as_of},,{statement.currency},/", *account_rows]
    rows.append(f"98,{total},1,{len(rows) + 1}/")
    return rows, total


def _account_rows(statement: ParsedStatement) -> tuple[list[str], int]:
    currency = statement.currency
    summaries = [
        (code, to_minor_units(balance, currency))
        for code, balance in (
            (_OPENING_LEDGER, statement.opening_balance),
            (_CLOSING_LEDGER, statement.closing_balance),
        )
        if balance is not None
    ]
    fields = [_identifier(statement.account, "account"), currency]
    fields += [f"{code},{units},," for code, units in summaries]  # type, amount, item count, funds type
    rows = [f"03,{','.join(fields)}/"]
    total = sum(units for _, units in summaries)
    for line in statement.lines:
        if line.is_pending or line.currency != currency:
            raise ValueError(f"line {line.line}: BAI2 has only booked entries in the account's currency")
        units = abs(to_minor_units(line.amount, currency))
        # value dated: the date and an empty time
        funds = f"V,{yymmdd(line.value_on, years=_YEARS)}," if line.value_on else "Z"
        head = ",".join(
            ("16", _type_code(line), str(units), funds, _identifier(line.bank_reference, "bank reference"))
        )
        rows += _text_rows(f"{head},{_identifier(line.end_to_end_id, 'customer reference')}", line)
        total += units
    rows.append(f"49,{total},{len(rows) + 1}/")
    return rows, total


def _type_code(line: StatementLine) -> str:
    if line.bank_code not in TypeCodes:
        return _DEFAULT_CREDIT if line.amount >= 0 else _DEFAULT_DEBIT
    number = int(line.bank_code)
    if (number in _CREDITS and line.amount >= 0) or (number in _DEBITS and line.amount <= 0):
        return line.bank_code
    raise ValueError(f"line {line.line}: type code {line.bank_code} does not fit the amount {line.amount}")


def _text_rows(head: str, line: StatementLine) -> list[str]:
    """The 16 record and its 88 continuations. Rows break between words, since the reader joins a
    continued text with a space; never after a "/", which would end the field."""
    text = clean_text(line.remittance)
    if not text:
        return [f"{head}/"]
    if text.endswith("/"):
        raise ValueError(f"line {line.line}: a BAI2 text cannot end with '/' (it would end the record)")
    rows: list[str] = []
    current, separator = f"{head},", ""
    for word in text.split(" "):
        if separator and len(current) + 1 + len(word) > _ROW_LENGTH and not current.endswith("/"):
            rows.append(current)
            current, separator = "88,", ""
        current, separator = f"{current}{separator}{word}", " "
    return [*rows, current]


def _identifier(value: str, what: str) -> str:
    if "," in value or "/" in value or "\n" in value:
        raise ValueError(
            f"the {what} {value!r} cannot be written to BAI2: it contains ',', '/' or a line break"
        )
    return value


# Shared with the MT940 parser and writer.


def numbered_lines(data: bytes, *, encodings: Sequence[str]) -> list[tuple[int, str]]:
    """The file's non-blank lines with their 1-based numbers (blank lines keep theirs), as a clerk's editor
    counts them: only CR, LF and CR LF end a line. The first of `encodings` that decodes the whole file is
    used; a byte-order mark is dropped."""
    try:
        text = data.decode(encodings[0])
    except UnicodeDecodeError as failure:
        for encoding in encodings[1:]:
            with suppress(UnicodeDecodeError):
                text = data.decode(encoding)
                break
        else:
            raise StatementRejected(
                f"the file is not {encodings[0].upper()} text: "
                f"byte 0x{data[failure.start]:02x} cannot be read",
                line=len(re.split(rb"\r\n|\r|\n", data[: failure.start])),
            ) from None
    text = text.removeprefix("\ufeff")
    lines = [(number, line) for number, line in enumerate(re.split(r"\r\n|\r|\n", text), 1) if line.strip()]
    if not lines:
        raise StatementRejected("the file is empty")
    return lines


def from_minor_units(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-minor_units(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """The amount as a whole number of the currency's minor unit; ValueError if it has more places."""
    scaled = amount.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} {currency} has more decimal places than the currency")
    return int(scaled)


def yymmdd(day: date, *, years: range) -> str:
    """A date with a two-digit year, if the reader will put it back in the same century."""
    if day.year not in years:
        raise ValueError(
            f"{day} cannot be written with a two-digit year (read as {years.start}-{years.stop - 1})"
        )
    return f"{day:%y%m%d}"
