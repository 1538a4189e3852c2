"""What a printed billing document shows, as plain frozen values.

The invoicing services build these from the database; rendering never touches a model, so a
document can be re-rendered years later from the same values and tested without a database.
Amounts are the document's own figures, already rounded where the rounding policy says: the
renderer formats them and never computes a tax or a total.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

DocumentKind = Literal["invoice", "credit_note", "debit_note", "draft"]


@dataclass(frozen=True, slots=True)
class Party:
    """A seller, a customer or a delivery address as printed."""

    name: str
    address_lines: tuple[str, ...]  # ready to print: street…, "postcode city", region
    country: str  # ISO 3166 alpha-2; printed as the country's name in the document language
    vat_id: str = ""
    tax_id: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class BankDetails:
    """Where the customer sends the money: IBAN/BIC in SEPA, account and routing number elsewhere."""

    account_holder: str
    iban: str = ""
    bic: str = ""
    bank_name: str = ""
    account_number: str = ""
    routing_number: str = ""


@dataclass(frozen=True, slots=True)
class DocumentLine:
    """One billed line."""

    description: str
    quantity: Decimal  # up to 4 places, printed without trailing zeros
    unit: str  # "h", "pcs", "month"…
    unit_price: Decimal  # up to 6 places, printed with at least 2
    discount_percent: Decimal  # 10 means 10 %; 0 when none
    net: Decimal  # quantity x unit price less the discount, rounded to the currency
    tax_label: str  # "VAT 19 %", "Reverse charge"…
    tax_rate: Decimal  # percent: 19 means 19 %
    service_start: date | None = None
    service_end: date | None = None
    reference: str = ""  # contract, order line or subscription the line comes from


@dataclass(frozen=True, slots=True)
class TaxSummaryRow:
    """The tax due at one rate: one row per label and rate."""

    label: str
    rate: Decimal  # percent: 19 means 19 %
    taxable: Decimal
    tax: Decimal
    note: str = ""  # reverse-charge wording, exemption certificate number…


@dataclass(frozen=True, slots=True)
class DocumentView:
    """An invoice, credit note, debit note or draft as the customer reads it."""

    kind: DocumentKind  # "draft" prints a DRAFT marker and no number
    language: str  # "en", "de" or "fr"; anything else prints in English
    currency: str  # ISO 4217
    number: str
    issue_on: date
    due_on: date | None
    seller: Party
    bill_to: Party
    ship_to: Party | None
    lines: tuple[DocumentLine, ...]
    tax_summary: tuple[TaxSummaryRow, ...]
    subtotal: Decimal  # sum of the lines' net amounts, i.e. after their discounts
    discount_total: Decimal  # the discounts already taken off those lines, shown for information
    tax_total: Decimal
    total: Decimal  # subtotal + tax_total; a credit note shows positive amounts
    terms: str = ""  # payment terms as printed: "Net 30 days"
    po_number: str = ""  # the customer's purchase order
    reference: str = ""
    original_number: str = ""  # the invoice a credit or debit note corrects
    service_start: date | None = None
    service_end: date | None = None
    notes: str = ""
    legal_notes: tuple[str, ...] = ()  # reverse charge, exemption, retention of title…
    bank: BankDetails | None = None
    payment_reference: str = ""  # an RF creditor reference is printed in groups of four
    remittance_text: str = ""
    customer_account: str = ""


@dataclass(frozen=True, slots=True)
class StatementRow:
    """One movement on a customer's account."""

    on: date
    kind: str  # "invoice", "credit_note", "debit_note", "payment", "refund", "write_off" or free text
    number: str
    description: str
    due_on: date | None
    debit: Decimal  # raises what the customer owes; 0 when none
    credit: Decimal  # lowers what the customer owes; 0 when none
    balance: Decimal  # running balance after this row; positive = customer owes us


@dataclass(frozen=True, slots=True)
class AgingBucket:
    """Open amount by age: "Current", "1-30 days"…"""

    label: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class StatementView:
    """A statement of account: every movement in a period and what is still open."""

    language: str
    currency: str
    seller: Party
    customer: Party
    customer_account: str
    period_start: date
    as_of: date
    opening_balance: Decimal  # positive = customer owes us
    rows: tuple[StatementRow, ...]
    closing_balance: Decimal
    aging: tuple[AgingBucket, ...]
    bank: BankDetails | None = None
    payment_reference: str = ""
