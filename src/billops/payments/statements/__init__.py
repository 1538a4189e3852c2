"""Bank statement formats: which parser reads a file, told by the clerk or recognised from its first bytes.

CSV has no signature and no account of its own: it is read with the layout stored on the bank account
it is imported for (`BankAccount.csv_layout`).
"""

from __future__ import annotations

from collections.abc import Callable

from billops.payments.statements.bai import parse_bai2
from billops.payments.statements.camt import parse_camt
from billops.payments.statements.csvfile import CsvMapping, parse_csv
from billops.payments.statements.mt940 import parse_mt940
from billops.payments.statements.ofx import parse_ofx
from billops.payments.statements.parsed import ParsedStatement, StatementRejected

PARSERS: dict[str, Callable[[bytes], list[ParsedStatement]]] = {
    "camt": parse_camt,  # camt.053 and camt.054
    "bai2": parse_bai2,
    "mt940": parse_mt940,
    "ofx": parse_ofx,
}
FORMATS = (*PARSERS, "csv")


def detect_format(data: bytes) -> str:
    """The format a file's first bytes show: OFX (its header or <OFX>), other XML (camt), a BAI2 file
    header (01,), an MT940 message (:20: or a SWIFT block {1:); anything else is taken for CSV."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    upper = head.upper()
    if upper.startswith(b"OFXHEADER") or b"<OFX>" in upper or b"<?OFX" in upper:
        return "ofx"
    if head.startswith((b"<?xml", b"<Document")):
        return "camt"
    if head.startswith(b"01,"):
        return "bai2"
    if head.startswith((b":20:", b"{1:")) or b"\n:20:" in head:
        return "mt940"
    return "csv"


def parse_file(
    data: bytes, *, format: str = "", csv_mapping: CsvMapping | None = None
) -> list[ParsedStatement]:
    """The file's statements, checked by its format; StatementRejected names what is wrong."""
    format = format or detect_format(data)
    if format == "csv":
        if csv_mapping is None:
            raise StatementRejected(
                "a CSV file is read with its bank account's CSV layout: name the bank account, and set its "
                "layout first",
                field="bank_account",
            )
        return parse_csv(data, csv_mapping)
    if format not in PARSERS:
        raise StatementRejected(
            f"{format!r} is not a bank file format; use one of {', '.join(FORMATS)}", field="format"
        )
    return PARSERS[format](data)
