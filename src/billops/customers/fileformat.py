"""The customer file format shared by imports and exports: its columns, the decimal rule and the
escaping of formula-looking cells. docs/formats/customers-csv.md describes it for people."""

from __future__ import annotations

import re
from dataclasses import dataclass

from billops.core.errors import InvalidAmount
from billops.customers.validation import CUSTOMER_FIELDS

CONTACT_ROLES = ("billing", "ap", "collections")
CONTACT_PARTS = ("name", "email", "phone")
ADDRESS_PARTS = ("lines", "city", "region", "postal_code", "country")

CONTACT_COLUMNS = tuple(f"{role}_contact_{part}" for role in CONTACT_ROLES for part in CONTACT_PARTS)
ADDRESS_COLUMNS = tuple(f"billing_address_{part}" for part in ADDRESS_PARTS)
COLUMNS: tuple[str, ...] = (*CUSTOMER_FIELDS, *CONTACT_COLUMNS, *ADDRESS_COLUMNS)
REQUIRED_COLUMNS = ("account_number", "legal_name", "currency", "country")
AMOUNT_COLUMNS = ("credit_limit",)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000

# A spreadsheet may run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def escape_cell(text: str) -> str:
    """Prefix a formula-looking text with `'` so no spreadsheet runs it; a text that already starts with
    `'` is prefixed too, so that `unescape_cell` restores every text exactly."""
    return ESCAPE + text if text.startswith((*FORMULA_STARTS, ESCAPE)) else text


def unescape_cell(text: str) -> str:
    """Undo `escape_cell`: one leading `'` is the escape mark and is dropped; nothing else changes."""
    return text[1:] if text.startswith(ESCAPE) else text


@dataclass(frozen=True)
class Reject:
    """One problem in an import file. `row` counts records as a spreadsheet shows them (the header is
    row 1); it is None for a problem with the file as a whole."""

    row: int | None
    column: str
    message: str


_SEPARATORS = re.compile(r"[\s'\u00a0\u202f_]")


def amount_text(text: str, *, decimal_comma: bool, column: str) -> str:
    """Read an amount cell under the file's decimal rule and return plain decimal text ("1234.50").

    The decimal separator is `,` in a `;`-separated CSV and `.` everywhere else. A thousands separator of
    any kind is refused rather than guessed, so an amount can never be read a thousand times too big
    or too small.
    """
    text = text.strip()
    if not text:
        return ""
    decimal, other = (",", ".") if decimal_comma else (".", ",")
    rule = (
        "in a ';'-separated file the decimal separator is ',' (write 1234,50)"
        if decimal_comma
        else "the decimal separator is '.' (write 1234.50)"
    )
    if other in text or text.count(decimal) > 1 or _SEPARATORS.search(text):
        raise InvalidAmount(
            f"{column} {text!r}: thousands separators are not accepted and {rule}", field=column
        )
    return text.replace(",", ".") if decimal_comma else text


def written_places(text: str) -> int:
    """Decimal places as written, trailing zeros included: "5.000" has 3."""
    return len(text.partition(".")[2])
