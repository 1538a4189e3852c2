"""Reading a customer import file and checking every row before anything is written.

CSV is UTF-8 with or without a byte-order mark, separated by `,` or `;` (sniffed from the header line).
XLSX is read with openpyxl in read-only mode without evaluating anything: a formula cell arrives as
its formula text and is stored literally like any other text. `services.import_customers` writes
the rows only when `plan_import` found no problem at all.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from billops.core.currencies import minor_units
from billops.core.errors import DomainError, Duplicate, InvalidAmount, InvalidInput, PermissionDenied
from billops.customers.fileformat import (
    ADDRESS_PARTS,
    AMOUNT_COLUMNS,
    COLUMNS,
    CONTACT_PARTS,
    CONTACT_ROLES,
    MAX_FILE_BYTES,
    MAX_ROWS,
    REQUIRED_COLUMNS,
    Reject,
    amount_text,
    unescape_cell,
    written_places,
)
from billops.customers.models import Customer
from billops.customers.validation import (
    CUSTOMER_FIELDS,
    check_address,
    check_contact,
    check_customer,
    parent_problems,
)

XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    file_format: str  # "csv" or "xlsx"
    decimal_comma: bool
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (row number, column -> text)
    rejects: list[Reject] = field(default_factory=list)


@dataclass
class PlannedCustomer:
    row: int
    values: dict[str, Any]
    contacts: list[dict[str, Any]]
    addresses: list[dict[str, Any]]


def read_table(content: bytes, filename: str) -> Table:
    """Split an import file into rows of text keyed by column; file-level problems become rejects."""
    is_xlsx = content.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm"))
    table = Table(file_format="xlsx" if is_xlsx else "csv", decimal_comma=False)
    if len(content) > MAX_FILE_BYTES:
        table.rejects.append(
            Reject(None, "", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        )
        return table
    if not content.strip():
        table.rejects.append(Reject(None, "", "the file is empty"))
        return table
    try:
        records = _xlsx_records(content) if is_xlsx else _csv_records(content, table)
        _collect(records, table)
    except _FileProblem as problem:
        table.rejects.append(Reject(problem.row, "", problem.message))
    return table


class _FileProblem(Exception):
    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message, self.row = message, row


def _csv_records(content: bytes, table: Table) -> Iterator[tuple[int, list[str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = content[: exc.start].count(b"\n") + 1
        raise _FileProblem(
            f"the file is not UTF-8 text (byte 0x{content[exc.start]:02X}); save it as 'CSV UTF-8'", row
        ) from None
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    table.decimal_comma = delimiter == ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error as exc:
        raise _FileProblem(f"the CSV cannot be read here: {exc}", number + 1) from None


def _xlsx_records(content: bytes) -> Iterator[tuple[int, list[str]]]:
    try:
        # data_only=False: a formula cell gives its formula text; nothing in the file is ever evaluated
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _FileProblem(f"the file is not a readable XLSX workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # some writers declare a wrong sheet size; read the rows that are there
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, [_xlsx_text(value, number) for value in values]
    finally:
        book.close()


def _xlsx_text(value: Any, row: int) -> str:
    """A cell as the text a person typed. Numbers come back from openpyxl as floats; their shortest
    repr is exactly the digits stored in the file for up to 15 significant digits."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        if not number.is_finite() or len(number.as_tuple().digits) > 15:
            raise _FileProblem(f"the number {value!r} has more than 15 digits; store it as text", row)
        return format(number, "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _collect(records: Iterator[tuple[int, list[str]]], table: Table) -> None:
    header_row = next(records, None)
    if header_row is None:
        raise _FileProblem("the file has no header row")
    raw_header = list(header_row[1])
    while raw_header and not raw_header[-1].strip():
        raw_header.pop()
    table.header = [name.strip().lower().replace(" ", "_") for name in raw_header]
    for name in table.header:
        if name not in COLUMNS:
            table.rejects.append(Reject(1, name, "unknown column (see docs/formats/customers-csv.md)"))
        elif table.header.count(name) > 1:
            table.rejects.append(Reject(1, name, "the column appears more than once"))
    for name in REQUIRED_COLUMNS:
        if name not in table.header:
            table.rejects.append(Reject(1, name, "this column is required"))
    if table.rejects:
        return
    for number, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are skipped; they keep their place in the row numbering
        if len(table.rows) >= MAX_ROWS:
            raise _FileProblem(f"the file has more than {MAX_ROWS} customers; split it", number)
        extra = [cell for cell in cells[len(table.header) :] if cell.strip()]
        if extra:
            table.rejects.append(
                Reject(number, "", f"the row has {len(cells)} cells but the header names {len(table.header)}")
            )
            continue
        table.rows.append(
            (number, {name: unescape_cell(cell) for name, cell in zip(table.header, cells, strict=False)})
        )
    if not table.rows and not table.rejects:
        raise _FileProblem("the file has a header but no customers")


def plan_import(
    table: Table, *, may_set_credit_limit: bool, today: date
) -> tuple[list[PlannedCustomer], list[Reject]]:
    """Check every row as `create_customer` would, plus what only a file can get wrong: account numbers
    repeated inside the file, parents that come later in it, and amounts under the decimal rule."""
    numbers = [cells.get("account_number", "").strip().upper() for _, cells in table.rows]
    parent_numbers = {cells.get("parent_account_number", "").strip().upper() for _, cells in table.rows}
    context = _FileContext(
        existing=set(
            Customer.objects.filter(account_number__in=numbers).values_list("account_number", flat=True)
        ),
        stored_parents={
            c.account_number: {"currency": c.currency, "status": c.status}
            for c in Customer.objects.filter(account_number__in=parent_numbers - {""})
        },
        first_row={},
        may_set_credit_limit=may_set_credit_limit,
    )
    for number, (row, _cells) in zip(numbers, table.rows, strict=True):
        context.first_row.setdefault(number, row)

    planned: list[PlannedCustomer] = []
    rejects: list[Reject] = []
    for row, cells in table.rows:
        plan, row_rejects = _check_row(row, cells, table, context, today)
        rejects += row_rejects
        if plan is not None:
            context.accepted[plan.values["account_number"]] = plan.values
            planned.append(plan)
    return planned, rejects


@dataclass
class _FileContext:
    existing: set[str]  # account numbers already in billops
    stored_parents: dict[str, dict[str, Any]]  # parents in billops: their currency and status
    first_row: dict[str, int]  # account number -> the first row that has it
    may_set_credit_limit: bool
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # earlier rows without problems


def _check_row(
    row: int, cells: dict[str, str], table: Table, context: _FileContext, today: date
) -> tuple[PlannedCustomer | None, list[Reject]]:
    rejects: list[Reject] = []

    def refuse(error: DomainError, column: str | None = None) -> None:
        rejects.append(Reject(row, column or error.field or "", error.message))

    # an empty cell means "the default", as a field left out would
    raw: dict[str, Any] = {
        name: cells[name]
        for name in CUSTOMER_FIELDS
        if name in cells and (cells[name].strip() or name in REQUIRED_COLUMNS)
    }
    for column in AMOUNT_COLUMNS:
        if column in raw:
            try:
                raw[column] = amount_text(raw[column], decimal_comma=table.decimal_comma, column=column)
            except DomainError as exc:
                refuse(exc)
                del raw[column]
    values, errors = check_customer(raw, base=None, today=today)
    for error in errors:
        refuse(error)
    for error in _credit_limit_problems(values, raw.get("credit_limit", ""), cells, context):
        rejects[:] = [r for r in rejects if r.column != "credit_limit"]  # one reason per cell is enough
        refuse(error)
    for error in _numbering_problems(row, values, context):
        refuse(error)

    contacts = []
    for role in CONTACT_ROLES:
        given = {part: cells.get(f"{role}_contact_{part}", "") for part in CONTACT_PARTS}
        if any(text.strip() for text in given.values()):
            contact, contact_errors = check_contact({"role": role, **given, "is_primary": True})
            for error in contact_errors:
                refuse(error, f"{role}_contact_{error.field}")
            contacts.append(contact)
    addresses = []
    given = {part: cells.get(f"billing_address_{part}", "") for part in ADDRESS_PARTS}
    if any(text.strip() for text in given.values()):
        if not given["country"].strip() and isinstance(values["country"], str):
            given["country"] = values["country"]
        address, address_errors = check_address({"kind": "billing", **given})
        for error in address_errors:
            refuse(error, f"billing_address_{error.field}")
        addresses.append(address)

    if rejects:
        return None, rejects
    return PlannedCustomer(row, values, contacts, addresses), []


def _credit_limit_problems(
    values: dict[str, Any], written: str, cells: dict[str, str], context: _FileContext
) -> list[DomainError]:
    currency, limit = values["currency"], values["credit_limit"]
    if isinstance(currency, str) and written and written_places(written) > minor_units(currency):
        # "5,000" in a ';' file is 5.000: refused rather than read as five when five thousand was meant
        message = (
            f"credit_limit {cells['credit_limit'].strip()!r} has {written_places(written)} decimal places "
            f"but {currency} has {minor_units(currency)}; thousands separators are not accepted"
        )
        return [InvalidAmount(message, field="credit_limit")]
    if isinstance(limit, Decimal) and limit > 0 and not context.may_set_credit_limit:
        return [PermissionDenied("only a billing supervisor may set a credit limit", field="credit_limit")]
    return []


def _numbering_problems(row: int, values: dict[str, Any], context: _FileContext) -> list[DomainError]:
    """Account numbers taken already, and parents that are not there (yet)."""
    problems: list[DomainError] = []
    account, parent_number = values["account_number"], values["parent_account_number"]
    if isinstance(account, str):
        if account in context.existing:
            problems.append(
                Duplicate(f"a customer with account number {account} already exists", field="account_number")
            )
        elif context.first_row.get(account, row) != row:
            first = context.first_row[account]
            problems.append(
                Duplicate(f"account number {account} is already used in row {first}", field="account_number")
            )
    if not isinstance(parent_number, str) or not parent_number or parent_number == account:
        return problems
    parent = context.stored_parents.get(parent_number) or context.accepted.get(parent_number)
    if parent is not None:
        return problems + parent_problems(values, parent, parent_number)
    found = context.first_row.get(parent_number)
    if found is None:
        message = f"there is no customer with account number {parent_number}"
    elif found > row:
        message = f"parent {parent_number} comes later in the file (row {found}); list parents first"
    else:
        message = f"parent {parent_number} (row {found}) cannot be imported; see that row"
    return [*problems, InvalidInput(message, field="parent_account_number")]
