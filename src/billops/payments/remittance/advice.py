"""A remittance advice as read from any format (CSV, XLSX, X12 820), before anything is applied: what
every parser returns, the error that refuses a file, and the checks every format shares."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal

from billops.core.currencies import minor_units
from billops.core.errors import InvalidInput
from billops.core.money import round_money

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_LINES = 10_000  # invoice lines in one advice
MAX_INTEGER_DIGITS = 12  # as an amount column holds (core.money)
POINT_AMOUNT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


class RemittanceRejected(InvalidInput):
    """The advice is refused whole. `row` is the 1-based row (CSV, XLSX) or segment (X12) at fault, when
    there is one; the message names it, and the column or element, too."""

    code = "remittance_rejected"

    def __init__(self, message: str, *, row: int | None = None, field: str | None = "file") -> None:
        super().__init__(message, field=field, row=row)
        self.row = row


@dataclass(frozen=True, slots=True)
class RemittanceLine:
    """One invoice the payment pays: what was paid on it, and what the customer kept back and why."""

    row: int  # where it is in the file (row, or the RMR's segment number), for messages
    invoice_number: str
    amount_paid: Decimal  # 0 or more
    deduction: Decimal = Decimal(0)  # 0 or more: kept back by the customer; stays open on the invoice
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RemittanceAdvice:
    payer: str  # as the advice names it; "" when it does not
    payment_reference: str  # the payer's reference of the payment (X12 TRN02); "" when none
    currency: str  # ISO 4217; "" when the advice does not say (then the receipt's)
    total: Decimal | None  # the payment amount the advice states (X12 BPR02); None when it states none
    lines: list[RemittanceLine]
    format: str = ""  # "csv", "xlsx", "x12-820"

    @property
    def paid_total(self) -> Decimal:
        return sum((line.amount_paid for line in self.lines), Decimal(0))

    @property
    def deduction_total(self) -> Decimal:
        return sum((line.deduction for line in self.lines), Decimal(0))

    def digest(self) -> str:
        """SHA-256 of what the advice says was paid: the payment's reference and each invoice's amount
        paid and deduction, in invoice order. The same advice sent again, in this format or another, has
        the same digest."""
        lines = sorted(
            (
                invoice_key(line.invoice_number),
                f"{line.amount_paid.normalize():f}",
                f"{line.deduction.normalize():f}",
            )
            for line in self.lines
        )
        content = json.dumps([self.payment_reference.strip(), lines], separators=(",", ":"))
        return hashlib.sha256(content.encode()).hexdigest()

    def place(self, line: RemittanceLine) -> str:
        """Where a line is in the file, as the messages name it: "row 3", or "segment 9 (RMR)"."""
        return f"segment {line.row} (RMR)" if self.format == "x12-820" else f"row {line.row}"


def check_total(advice: RemittanceAdvice) -> None:
    """When the advice states its payment's total, the lines' amounts paid add up to it."""
    if advice.total is None or advice.paid_total == advice.total:
        return
    paid, total = _shown(advice.paid_total, advice.currency), _shown(advice.total, advice.currency)
    currency = f" {advice.currency}" if advice.currency else ""
    raise RemittanceRejected(
        f"the invoice lines pay {paid}{currency} but the advice states a total of {total}{currency} "
        f"(a difference of {total - paid})"
    )


def _shown(amount: Decimal, currency: str) -> Decimal:
    """To the currency's places when the advice names its currency (300 → 300.00 EUR), else as written."""
    return round_money(amount, currency).amount if currency else amount


def amount_problem(amount: Decimal, currency: str) -> str:
    """What is wrong with an amount read from an advice, or "": not finite, too large, or more places than
    its currency has (when the currency is known)."""
    if not amount.is_finite():
        return f"{amount} is not an amount"
    if amount != 0 and amount.adjusted() >= MAX_INTEGER_DIGITS:
        return f"{amount} is too large (at most {MAX_INTEGER_DIGITS} digits before the point)"
    if currency and _places(amount) > minor_units(currency):
        return f"{amount} has more decimal places than {currency} allows ({minor_units(currency)})"
    return ""


def _places(amount: Decimal) -> int:
    """Decimal places that carry a digit: 12.50 has 1, 12.345 has 3."""
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def check_size(data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise RemittanceRejected(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")


def check_text(data: bytes) -> None:
    """A text file (CSV, X12) holds no NUL character; a database would refuse to store one."""
    if b"\x00" in data:
        row = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise RemittanceRejected(
            f"line {row}: the file holds a NUL character; it is not a text file", row=row
        )


def invoice_key(number: str) -> str:
    return number.strip().upper()  # as cash application matches invoice numbers
