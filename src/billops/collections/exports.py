"""The aging as CSV or XLSX: one row per customer (collector, entity or currency) and currency, the bucket
amounts as numbers, then a total row per currency. Text that a spreadsheet could run as a formula is
escaped as the customer export does."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook

from billops.collections.labels import row_names
from billops.collections.selectors.aging import Aging
from billops.customers.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from billops.customers.fileformat import escape_cell

Cell = str | Decimal


def aging_rows(report: Aging) -> list[list[Cell]]:
    """The header, the rows, and a total per currency."""
    names = row_names(report)
    header: list[Cell] = [report.group, "currency", *report.buckets.labels, "total"]
    rows = [header]
    for row in sorted(report.rows, key=lambda row: (row.currency, names.get(row.key, ""))):
        rows.append([escape_cell(names.get(row.key, str(row.key))), row.currency, *row.buckets, row.total])
    rows += [["Total", total.currency, *total.buckets, total.total] for total in report.totals()]
    return rows


def download(report: Aging, file_format: str) -> HttpResponse:
    """The aging as a file to save: aging-by-customer-20260520.csv (or .xlsx)."""
    rows = aging_rows(report)
    if file_format == "xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None  # a new workbook has one sheet
        sheet.title = f"Aging {report.as_of.isoformat()}"
        for row in rows:
            sheet.append(row)
        content = io.BytesIO()
        book.save(content)
        body: bytes | str = content.getvalue()
        content_type = XLSX_CONTENT_TYPE
    else:
        text = io.StringIO()
        csv.writer(text, lineterminator="\r\n").writerows(rows)
        body, content_type = text.getvalue(), CSV_CONTENT_TYPE
    response = HttpResponse(body, content_type=content_type)
    name = f"aging-by-{report.group}-{report.as_of:%Y%m%d}.{file_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
