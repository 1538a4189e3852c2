"""The customer list as CSV or XLSX, in the import's columns so that an export can be imported again.

Every text cell that a spreadsheet could run as a formula (it starts with = + - @, a tab or a CR) is
written with a leading `'`; the import drops that mark again (see `fileformat.escape_cell`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from openpyxl import Workbook

from billops.access import clock
from billops.customers.fileformat import (
    ADDRESS_PARTS,
    COLUMNS,
    CONTACT_PARTS,
    CONTACT_ROLES,
    escape_cell,
)
from billops.customers.models import Address, Contact, Customer
from billops.customers.validation import CUSTOMER_FIELDS, customer_state

Cell = str | int | Decimal
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _with_details(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    return customers.select_related("terms", "parent").prefetch_related(
        "tags",
        Prefetch("contacts", queryset=Contact.objects.order_by("-is_primary", "pk")),
        Prefetch("addresses", queryset=Address.objects.order_by("pk")),
    )


def _cell(value: Any) -> Cell:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return value
    return escape_cell(str(value))


def customer_rows(customers: QuerySet[Customer]) -> Iterator[list[Cell]]:
    """One row per customer in `COLUMNS` order: the master data, the first contact of each role
    (the primary one when there is one) and the billing address."""
    for customer in _with_details(customers).iterator(chunk_size=500):
        state = customer_state(customer)
        row = [_cell(state[name]) for name in CUSTOMER_FIELDS]
        contacts = list(customer.contacts.all())
        for role in CONTACT_ROLES:
            contact = next((c for c in contacts if c.role == role), None)
            row += [_cell(getattr(contact, part) if contact else "") for part in CONTACT_PARTS]
        address = next((a for a in customer.addresses.all() if a.kind == Address.Kind.BILLING), None)
        row += [_cell(getattr(address, part) if address else "") for part in ADDRESS_PARTS]
        yield row


def download(customers: QuerySet[Customer], file_format: Literal["csv", "xlsx"]) -> HttpResponse:
    """The export as a file to save, named after today: customers-20250131.csv (or .xlsx)."""
    if file_format == "xlsx":
        content, content_type = export_xlsx(customers), XLSX_CONTENT_TYPE
    else:
        content, content_type = export_csv(customers), CSV_CONTENT_TYPE
    response = HttpResponse(content, content_type=content_type)
    name = f"customers-{clock.today():%Y%m%d}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def export_csv(customers: QuerySet[Customer]) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheets pick the encoding), `,`-separated, `.` decimals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(customer_rows(customers))
    return ("\ufeff" + out.getvalue()).encode()


def export_xlsx(customers: QuerySet[Customer]) -> bytes:
    """One sheet named "customers" with a header row; amounts and days are numbers, dates ISO text."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("customers")
    sheet.append(list(COLUMNS))
    for row in customer_rows(customers):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
