"""Remittance advice: a customer's statement of which invoices one payment pays, read from CSV, XLSX or a
basic X12 820 into one `RemittanceAdvice`. docs/formats/remittance.md describes the formats for people.

Every parser checks the whole file before anything is applied and refuses it whole with
`RemittanceRejected`, naming the row (CSV, XLSX: the header is row 1) or the segment (X12: the ISA is
segment 1) and the column or element at fault. Amounts are built as Decimals from text, never guessed:
a thousands separator is refused, and so is a text cell that a spreadsheet would run as a formula.
A deduction is what the customer says it kept back from an invoice; reading it changes nothing, and
`services.remittances.apply_remittance` leaves it open on the invoice.
"""

from billops.payments.remittance.advice import (
    MAX_FILE_BYTES,
    RemittanceAdvice,
    RemittanceLine,
    RemittanceRejected,
    amount_problem,
    check_total,
)
from billops.payments.remittance.spreadsheet import XLSX_MAGIC, parse_remittance_csv, parse_remittance_xlsx
from billops.payments.remittance.x12 import parse_edi_820

__all__ = [
    "MAX_FILE_BYTES",
    "XLSX_MAGIC",
    "RemittanceAdvice",
    "RemittanceLine",
    "RemittanceRejected",
    "amount_problem",
    "check_total",
    "parse_edi_820",
    "parse_remittance_csv",
    "parse_remittance_xlsx",
]
