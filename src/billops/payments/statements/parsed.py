"""A bank statement as read from any format (camt.053/054, BAI2, MT940, OFX, CSV), before anything is
posted: what every parser returns, and the checks every format shares.

A parser reads bytes and returns one or more `ParsedStatement`s, or raises `StatementRejected` naming
the line, record or element at fault; it checks what its own format promises (BAI2 control totals, a
camt.053 number of entries, an MT940 balance's currency). `check_statement` then checks what holds for
every format: each amount exact to its currency, every line in the account's currency, a bank reference
once per file, and opening balance + booked lines = closing balance. A file that fails any check is
rejected whole, with the difference stated; nothing of it is posted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billops.core.currencies import minor_units, validate_currency
from billops.core.errors import InvalidInput, UnknownCurrency


class StatementRejected(InvalidInput):
    """The file is refused whole. `line` is the 1-based line (or record, or entry) of the file at fault,
    when there is one; the message names it too."""

    code = "statement_rejected"

    def __init__(self, message: str, *, line: int | None = None, field: str | None = "file") -> None:
        super().__init__(f"line {line}: {message}" if line else message, field=field, line=line)
        self.line = line


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One booked (or pending) movement on the account."""

    line: int  # where it is in the file (1-based line, record or entry number), for messages
    booked_on: date
    amount: Decimal  # signed: more than 0 is money in (a credit to the account), less than 0 money out
    currency: str  # ISO 4217
    bank_reference: str  # the bank's own reference of the entry, unique per account (re-imports)
    value_on: date | None = None
    end_to_end_id: str = ""  # the payer's reference carried through the payment (camt EndToEndId)
    # the other party: the payer of money in, the payee of money out
    payer_name: str = ""
    payer_account: str = ""  # its IBAN or account number, compacted (no spaces, upper case)
    payer_bank: str = ""  # BIC or routing number
    remittance: str = ""  # unstructured remittance text, lines joined by a space
    creditor_reference: str = ""  # a structured ISO 11649 RF reference, when the format carries one
    bank_code: str = ""  # the bank's transaction code (BAI2 type code, camt domain/family, MT940 GVC)
    # not booked (camt Sts PDNG, INFO or FUTR; OFX pending): never posted, left out of the balance check
    is_pending: bool = False


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    format: str  # "camt.053", "camt.054", "bai2", "mt940", "ofx", "csv"
    statement_id: str  # the bank's id of the statement (camt Stmt/Id, MT940 :20:/:28C:, …)
    account: str  # IBAN or account number the statement is for, compacted
    currency: str
    opening_balance: Decimal | None  # None where the format has no balances (camt.054, some CSV)
    closing_balance: Decimal | None
    opening_on: date | None = None
    closing_on: date | None = None
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def booked(self) -> list[StatementLine]:
        return [line for line in self.lines if not line.is_pending]


def check_amount(amount: Decimal, currency: str, *, line: int | None) -> None:
    """An amount is finite and exact to its currency's minor unit (EUR 12.345 is refused)."""
    if not amount.is_finite():
        raise StatementRejected(f"the amount {amount} is not a number", line=line)
    places = minor_units(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise StatementRejected(
            f"the amount {amount} {currency} has more than {places} decimal places", line=line
        )


def check_statement(statement: ParsedStatement) -> None:
    """What every format must satisfy; raises StatementRejected on the first problem."""
    try:
        validate_currency(statement.currency)
    except UnknownCurrency:
        raise StatementRejected(
            f"the statement's currency {statement.currency!r} is not an ISO 4217 code"
        ) from None
    seen = Counter(line.bank_reference for line in statement.lines if line.bank_reference)
    for line in statement.lines:
        if line.currency != statement.currency:
            raise StatementRejected(
                f"the entry is in {line.currency}, the account {statement.account} in {statement.currency}",
                line=line.line,
            )
        check_amount(line.amount, line.currency, line=line.line)
        if not line.bank_reference:
            raise StatementRejected("the entry has no bank reference", line=line.line)
        if seen[line.bank_reference] > 1:
            raise StatementRejected(
                f"the bank reference {line.bank_reference!r} appears {seen[line.bank_reference]} times "
                "in the file",
                line=line.line,
            )
    if statement.opening_balance is None or statement.closing_balance is None:
        return
    booked = sum((line.amount for line in statement.booked), Decimal(0))
    expected = statement.opening_balance + booked
    if expected != statement.closing_balance:
        raise StatementRejected(
            f"statement {statement.statement_id} is out of balance: opening {statement.opening_balance} + "
            f"lines {booked} = {expected}, but the closing balance is {statement.closing_balance} "
            f"{statement.currency} (a difference of {statement.closing_balance - expected})"
        )


def compact(identifier: str) -> str:
    """An account number, IBAN or BIC without spaces, in upper case."""
    return "".join(identifier.split()).upper()


def clean_text(text: str) -> str:
    """Text as one line: runs of spaces and line breaks become one space, so that the same remittance reads
    the same however the bank wrapped it."""
    return " ".join(text.split())


def known_currency(code: str, *, where: str, line: int) -> str:
    """The code, if ISO 4217 knows it; checked before any amount is scaled by its minor unit."""
    try:
        return validate_currency(code)
    except UnknownCurrency:
        raise StatementRejected(f"the currency {code!r} {where} is not an ISO 4217 code", line=line) from None
