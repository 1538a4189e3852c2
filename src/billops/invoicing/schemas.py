"""The request and reply schemas of the invoicing API (api.py), with how each value is shown.

Amounts, quantities, prices and percentages travel as decimal strings ("150.00", "1.25").
"""

# no `from __future__ import annotations` here: Ninja and pydantic resolve these annotations at run time

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.urls import reverse
from ninja import Field, Schema
from pydantic import WithJsonSchema

from billops.core.money import round_money
from billops.core.schemas import AmountIn, AmountOut, DateIn, RowId, StrictIn
from billops.invoicing.models import (
    ApprovalThreshold,
    BillingEntity,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
)
from billops.invoicing.services import workflow

# a quantity, unit price or percentage in a reply: decimal text with its significant places ("1.25")
DecimalOut = Annotated[Decimal, WithJsonSchema({"type": "string", "examples": ["1.25"]})]


def _amount(value: Decimal, currency: str) -> Decimal:
    """An amount at its currency's minor unit: 10.100000 from the database reads "10.10"."""
    return round_money(value, currency).amount


def _plain(value: Decimal) -> Decimal:
    # 1.2500 -> 1.25 and 10.0000 -> 10, never the exponent form normalize() gives for 10 (1E+1)
    return Decimal(f"{value.normalize():f}")


def _price(value: Decimal, currency: str) -> Decimal:
    """A unit price or fixed discount keeps its places but shows at least the cents: 150.00, 12.3456."""
    cents = _amount(value, currency)
    return cents if cents == value else _plain(value)


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


# --- requests ------------------------------------------------------------------------------------


class InvoiceLineIn(StrictIn):
    """A line as entered; a product fills in the description, unit, price and tax code left out."""

    quantity: AmountIn  # more than zero, up to 4 places; money goes back through a credit note
    description: str = ""
    product_code: str = ""
    unit: str = ""
    unit_price: AmountIn | None = None  # up to 6 places; left out: the customer's price or a price list
    discount_percent: AmountIn = Decimal(0)
    discount_amount: AmountIn = Decimal(0)  # a fixed amount off the line
    tax_code: str = ""  # left out: the product's
    service_start: DateIn | None = None
    service_end: DateIn | None = None
    reference: str = ""


class InvoiceIn(StrictIn):
    customer_id: RowId
    entity_code: str = ""  # left out: the default billing entity
    currency: str | None = None  # left out: the customer's
    issued_on: DateIn | None = None  # the invoice date; on a draft the planned one, else the issue day
    service_start: DateIn | None = None
    service_end: DateIn | None = None
    po_number: str = ""
    reference: str = ""
    notes: str = ""
    invoice_discount_percent: AmountIn = Decimal(0)
    language: str | None = None  # en, de or fr; left out: the customer's, else the entity's
    lines: list[InvoiceLineIn] = []
    issue: bool = False  # true: issue it at once (201 with its number) or keep nothing


class InvoiceChangeIn(StrictIn):
    """Only the fields sent are changed; a change sends a submitted or approved draft back to draft."""

    issued_on: DateIn | None = None
    service_start: DateIn | None = None
    service_end: DateIn | None = None
    po_number: str | None = None
    reference: str | None = None
    notes: str | None = None
    invoice_discount_percent: AmountIn | None = None
    language: str | None = None


class InvoiceFilters(Schema):
    """Query parameters of the document list: each one left out matches every document."""

    status: InvoiceStatus | None = None
    document_type: DocumentType | None = None
    customer_id: RowId | None = None
    issued_from: DateIn | None = None
    issued_to: DateIn | None = None
    overdue: bool = False  # true: open documents whose due date has passed today
    search: str = ""  # part of the number, the customer's account number or name, or the PO number


class InvoiceReasonIn(StrictIn):
    reason: str


class IssueIn(StrictIn):
    issued_on: DateIn | None = None  # left out: the draft's planned date, else today


class VoidIn(StrictIn):
    reason: str
    voided_on: DateIn | None = None  # left out: today


class CreditLineIn(StrictIn):
    """Part of an invoice line to credit: a quantity (pro rata) or a net amount; neither = what is left."""

    line_no: RowId
    quantity: AmountIn | None = None
    amount: AmountIn | None = None


class CreditNoteIn(StrictIn):
    reason: str
    lines: list[CreditLineIn] | None = Field(None, min_length=1)  # left out: everything still creditable
    issued_on: DateIn | None = None


class DebitNoteIn(StrictIn):
    reason: str
    lines: list[InvoiceLineIn] = Field(..., min_length=1)


class EntityIn(StrictIn):
    code: str
    legal_name: str
    address_lines: str  # street lines, one per line
    city: str
    country: str
    postal_code: str = ""
    region: str = ""
    vat_id: str = ""
    tax_id: str = ""
    email: str = ""
    phone: str = ""
    bank_account_holder: str = ""
    bank_name: str = ""
    iban: str = ""
    bic: str = ""
    bank_account_number: str = ""
    bank_routing_number: str = ""
    invoice_prefix: str = "INV"
    credit_note_prefix: str = "CN"
    debit_note_prefix: str = "DN"
    tax_rounding: str = "per_line"  # or "per_invoice"
    language: str = "en"
    is_default: bool = False


class ThresholdIn(StrictIn):
    currency: str
    amount: AmountIn  # invoices at or above it, in this currency, need a second person's approval


# --- replies -------------------------------------------------------------------------------------


class InvoiceSummaryOut(Schema):
    id: int
    document_type: str
    status: str
    number: str | None  # null until issued
    customer_id: int
    customer_account_number: str
    customer_name: str
    currency: str
    issued_on: date | None  # on a draft: the planned date, or null
    due_on: date | None
    po_number: str
    total: AmountOut  # positive for every type: the type says which way it moves the balance
    open_amount: AmountOut  # what is still owed; negative for a credit note not yet used up

    @staticmethod
    def resolve_customer_account_number(obj: Invoice) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_customer_name(obj: Invoice) -> str:
        return obj.customer.legal_name

    @staticmethod
    def resolve_total(obj: Invoice) -> Decimal:
        return _amount(obj.total, obj.currency)

    @staticmethod
    def resolve_open_amount(obj: Invoice) -> Decimal:
        return _amount(obj.open_amount, obj.currency)


class InvoiceLineOut(Schema):
    line_no: int
    product_code: str
    description: str
    quantity: DecimalOut
    unit: str
    unit_price: DecimalOut
    price_source: str  # "price list STD-EUR", "customer rate (K-12)", "entered"
    discount_percent: DecimalOut
    discount_amount: DecimalOut
    net: AmountOut  # quantity times price less every discount, rounded
    tax_code: str
    tax_rate: DecimalOut  # percent
    tax_treatment: str
    tax_label: str
    tax_note: str
    tax_warning: str
    tax_amount: AmountOut
    revenue_account: str
    service_start: date | None
    service_end: date | None
    reference: str
    credits_line_no: int | None  # on a credit note: the line of the original invoice it credits

    @staticmethod
    def resolve_product_code(obj: InvoiceLine) -> str:
        return obj.product.code if obj.product else ""

    @staticmethod
    def resolve_quantity(obj: InvoiceLine) -> Decimal:
        return _plain(obj.quantity)

    @staticmethod
    def resolve_unit_price(obj: InvoiceLine) -> Decimal:
        return _price(obj.unit_price, obj.invoice.currency)

    @staticmethod
    def resolve_discount_percent(obj: InvoiceLine) -> Decimal:
        return _plain(obj.discount_percent)

    @staticmethod
    def resolve_discount_amount(obj: InvoiceLine) -> Decimal:
        return _price(obj.discount_amount, obj.invoice.currency)

    @staticmethod
    def resolve_net(obj: InvoiceLine) -> Decimal:
        return _amount(obj.net, obj.invoice.currency)

    @staticmethod
    def resolve_tax_code(obj: InvoiceLine) -> str:
        return obj.tax_code.code

    @staticmethod
    def resolve_tax_rate(obj: InvoiceLine) -> Decimal:
        return _plain(obj.tax_rate)

    @staticmethod
    def resolve_tax_amount(obj: InvoiceLine) -> Decimal:
        return _amount(obj.tax_amount, obj.invoice.currency)

    @staticmethod
    def resolve_revenue_account(obj: InvoiceLine) -> str:
        return obj.revenue_account.code

    @staticmethod
    def resolve_credits_line_no(obj: InvoiceLine) -> int | None:
        return obj.credits_line.line_no if obj.credits_line else None


class InvoiceTaxOut(Schema):
    """One row of the tax summary: per tax code, rate and treatment."""

    tax_code: str
    label: str
    rate: DecimalOut  # percent
    treatment: str
    note: str
    taxable: AmountOut
    tax: AmountOut

    @staticmethod
    def resolve_tax_code(obj: InvoiceTax) -> str:
        return obj.tax_code.code

    @staticmethod
    def resolve_rate(obj: InvoiceTax) -> Decimal:
        return _plain(obj.rate)

    @staticmethod
    def resolve_taxable(obj: InvoiceTax) -> Decimal:
        return _amount(obj.taxable, obj.invoice.currency)

    @staticmethod
    def resolve_tax(obj: InvoiceTax) -> Decimal:
        return _amount(obj.tax, obj.invoice.currency)


class PreIssueCheckOut(Schema):
    code: str  # "credit_hold", "po_missing", "zero_amount", "no_lines", "exemption_expired", …
    message: str
    blocking: bool  # a blocking check stops the issue; the others are warnings


class InvoiceLinksOut(Schema):
    pdf: str  # the PDF: the issued document, or a preview marked DRAFT
    journal_entry_id: int | None  # posted at issue
    void_entry_id: int | None  # the reversal posted by a void
    original_id: int | None  # the invoice a credit or debit note corrects
    correction_ids: list[int]  # the credit and debit notes against this invoice
    rebill_of_id: int | None  # the invoice this draft replaces
    rebill_ids: list[int]  # the drafts that replace this invoice


class InvoiceOut(InvoiceSummaryOut):
    entity_code: str
    language: str
    terms_text: str
    service_start: date | None
    service_end: date | None
    reference: str
    notes: str
    reason: str  # why a credit or debit note was raised
    invoice_discount_percent: DecimalOut
    tax_rounding: str
    subtotal: AmountOut
    discount_total: AmountOut
    tax_total: AmountOut
    credited_amount: AmountOut
    lines: list[InvoiceLineOut]
    taxes: list[InvoiceTaxOut]
    checks: list[PreIssueCheckOut]  # before issue only; empty once issued
    approval_required: bool
    approval_reason: str  # why a draft needs a second person's approval; "" when it does not
    hold_override_by: str | None
    hold_override_reason: str
    created_by: str
    created_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    issued_by: str | None
    issued_at: datetime | None
    voided_by: str | None
    voided_at: datetime | None
    void_reason: str
    digest: str  # SHA-256 of the issued content
    links: InvoiceLinksOut

    @staticmethod
    def resolve_entity_code(obj: Invoice) -> str:
        return obj.entity.code

    @staticmethod
    def resolve_invoice_discount_percent(obj: Invoice) -> Decimal:
        return _plain(obj.invoice_discount_percent)

    @staticmethod
    def resolve_subtotal(obj: Invoice) -> Decimal:
        return _amount(obj.subtotal, obj.currency)

    @staticmethod
    def resolve_discount_total(obj: Invoice) -> Decimal:
        return _amount(obj.discount_total, obj.currency)

    @staticmethod
    def resolve_tax_total(obj: Invoice) -> Decimal:
        return _amount(obj.tax_total, obj.currency)

    @staticmethod
    def resolve_credited_amount(obj: Invoice) -> Decimal:
        return _amount(obj.credited_amount, obj.currency)

    @staticmethod
    def resolve_lines(obj: Invoice) -> list[InvoiceLine]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_taxes(obj: Invoice) -> list[InvoiceTax]:
        return list(obj.taxes.all())

    @staticmethod
    def resolve_checks(obj: Invoice) -> list[workflow.Check]:
        return workflow.pre_issue_checks(obj) if obj.is_editable else []

    @staticmethod
    def resolve_approval_reason(obj: Invoice) -> str:
        return workflow.approval_reason(obj) if obj.is_editable else ""

    @staticmethod
    def resolve_approval_required(obj: Invoice) -> bool:
        return bool(workflow.approval_reason(obj)) if obj.is_editable else obj.approval_required

    @staticmethod
    def resolve_hold_override_by(obj: Invoice) -> str | None:
        return _username(obj.hold_override_by)

    @staticmethod
    def resolve_created_by(obj: Invoice) -> str:
        return obj.created_by.get_username()

    @staticmethod
    def resolve_submitted_by(obj: Invoice) -> str | None:
        return _username(obj.submitted_by)

    @staticmethod
    def resolve_approved_by(obj: Invoice) -> str | None:
        return _username(obj.approved_by)

    @staticmethod
    def resolve_issued_by(obj: Invoice) -> str | None:
        return _username(obj.issued_by)

    @staticmethod
    def resolve_voided_by(obj: Invoice) -> str | None:
        return _username(obj.voided_by)

    @staticmethod
    def resolve_links(obj: Invoice) -> dict[str, Any]:
        return {
            "pdf": reverse("api:invoice_pdf", kwargs={"invoice_id": obj.pk}),
            "journal_entry_id": obj.journal_entry_id,
            "void_entry_id": obj.void_entry_id,
            "original_id": obj.original_id,
            "correction_ids": sorted(note.pk for note in obj.corrections.all()),
            "rebill_of_id": obj.rebill_of_id,
            "rebill_ids": sorted(draft.pk for draft in obj.rebills.all()),
        }


class RebillOut(Schema):
    credit_note: InvoiceOut  # issued: credits the invoice in full
    draft: InvoiceOut  # the replacement, with the same lines, to correct and issue


class DeletedOut(Schema):
    id: int
    deleted: bool


class InvoiceEventOut(Schema):
    seq: int
    occurred_at: datetime
    actor_label: str
    action: str  # "invoice.draft_created", "invoice.issued", "invoice.voided", …
    before: Any
    after: Any
    request_id: str
    journal_entry_id: int | None


class ThresholdOut(Schema):
    currency: str
    amount: AmountOut

    @staticmethod
    def resolve_amount(obj: ApprovalThreshold) -> Decimal:
        return _amount(obj.amount, obj.currency)


class EntityOut(Schema):
    code: str
    legal_name: str
    address_lines: str
    postal_code: str
    city: str
    region: str
    country: str
    vat_id: str
    tax_id: str
    email: str
    phone: str
    bank_account_holder: str
    bank_name: str
    iban: str
    bic: str
    bank_account_number: str
    bank_routing_number: str
    invoice_prefix: str
    credit_note_prefix: str
    debit_note_prefix: str
    tax_rounding: str
    language: str
    is_default: bool
    approval_thresholds: list[ThresholdOut]

    @staticmethod
    def resolve_approval_thresholds(obj: BillingEntity) -> list[ApprovalThreshold]:
        return sorted(obj.approval_thresholds.all(), key=lambda threshold: threshold.currency)
