"""API: payments under /api/v1/payments/: our bank accounts, receipts, and cash application.

Amounts travel as decimal strings ("250.00"). A receipt posted with an `Idempotency-Key` header is
recorded once: the same key again replays the first reply, and the key is kept on the receipt, so the
database itself refuses a second receipt under it.
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date, datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from billops.access.auth import api_actor
from billops.access.models import ApprovalRequest
from billops.core.money import Money, round_money
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    AmountOut,
    DateIn,
    LimitOffset,
    RowId,
    StrictIn,
    errors,
)
from billops.payments import selectors
from billops.payments.models import Application, BankAccount, Receipt, Refund, WriteOffTolerance
from billops.payments.services import (
    applications,
    bank_files,
    receipts,
    refunds,
    remittances,
    returns,
    tolerances,
)

router = Router()


def _amount(value: Decimal, currency: str) -> Decimal:
    return round_money(value, currency).amount


class BankAccountIn(StrictIn):
    code: str  # "MAIN-EUR"
    name: str
    currency: str
    number: str  # IBAN or account number
    bic: str = ""
    ledger_account: str = ""  # an account code; left out: bank clearing


class BankAccountOut(Schema):
    code: str
    name: str
    currency: str
    number: str
    bic: str
    ledger_account: str

    @staticmethod
    def resolve_ledger_account(obj: BankAccount) -> str:
        return obj.ledger_account.code


class ToleranceIn(StrictIn):
    max_amount: AmountIn  # at most this much per invoice…
    max_percent: AmountIn  # …and at most this percent of its total, e.g. "1.00"


class ToleranceOut(Schema):
    currency: str
    max_amount: AmountOut
    max_percent: AmountOut
    updated_by: str
    updated_at: datetime

    @staticmethod
    def resolve_updated_by(obj: WriteOffTolerance) -> str:
        return obj.updated_by.username

    @staticmethod
    def resolve_max_amount(obj: WriteOffTolerance) -> Decimal:
        return _amount(obj.max_amount, obj.currency)


class ReceiptIn(StrictIn):
    customer_id: RowId
    bank_account: str  # its code
    method: str  # cheque, ach, wire, card, cash, direct_debit
    amount: AmountIn
    currency: str
    received_on: DateIn | None = None  # left out: today
    payer_name: str = ""
    reference: str = ""
    card_brand: str = ""  # card payments: the brand, the last four digits and the processor's reference;
    card_last4: str = ""  # never a card number
    processor_reference: str = ""


class ApplicationOut(Schema):
    id: int
    item: str  # the invoice number, or "opening balance <reference>"
    amount: AmountOut
    discount: AmountOut  # the early-payment discount taken with it
    discount_vat: AmountOut  # the VAT in that discount, taken off the VAT owed
    written_off: AmountOut  # what the payment left short, written off to close the invoice
    applied_on: date
    unapplied_on: date | None
    unapply_reason: str

    @staticmethod
    def resolve_item(obj: Application) -> str:
        if obj.invoice is not None:
            return obj.invoice.number or ""
        return f"opening balance {obj.opening_balance.reference}" if obj.opening_balance else ""

    @staticmethod
    def resolve_amount(obj: Application) -> Decimal:
        return _amount(obj.amount, obj.currency)

    @staticmethod
    def resolve_discount(obj: Application) -> Decimal:
        return _amount(obj.discount, obj.currency)

    @staticmethod
    def resolve_discount_vat(obj: Application) -> Decimal:
        return _amount(obj.discount_vat, obj.currency)

    @staticmethod
    def resolve_written_off(obj: Application) -> Decimal:
        return _amount(obj.written_off, obj.currency)


class ReceiptOut(Schema):
    id: int
    customer_id: int
    customer_account_number: str
    bank_account: str
    method: str
    amount: AmountOut
    unapplied_amount: AmountOut
    currency: str
    received_on: date
    payer_name: str
    reference: str
    card_brand: str
    card_last4: str
    processor_reference: str
    status: str
    journal_entry_id: int | None
    created_by: str
    created_at: datetime
    applications: list[ApplicationOut]
    # a returned payment: when, why, and the invoice its fee is charged on
    reversed_on: date | None
    return_code: str
    return_reason: str
    return_fee_invoice_id: int | None

    @staticmethod
    def resolve_customer_account_number(obj: Receipt) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_bank_account(obj: Receipt) -> str:
        return obj.bank_account.code

    @staticmethod
    def resolve_amount(obj: Receipt) -> Decimal:
        return _amount(obj.amount, obj.currency)

    @staticmethod
    def resolve_unapplied_amount(obj: Receipt) -> Decimal:
        return _amount(obj.unapplied_amount, obj.currency)

    @staticmethod
    def resolve_created_by(obj: Receipt) -> str:
        return obj.created_by.get_username()

    @staticmethod
    def resolve_applications(obj: Receipt) -> list[Application]:
        return list(selectors.list_applications(obj))


class ReceiptFilters(Schema):
    customer_id: RowId | None = None
    unapplied_only: bool = False


class AllocationIn(StrictIn):
    invoice_number: str
    amount: AmountIn | None = None  # left out: as much as is open and left on the receipt
    # what the payment leaves open of the invoice, written off to close it (beyond the tolerance: a
    # supervisor)
    write_off: AmountIn | None = None

    def allocation(self) -> applications.Allocation:
        return applications.Allocation(
            self.invoice_number, self.amount, write_off=self.write_off or Decimal(0)
        )


class ApplyIn(StrictIn):
    allocations: list[AllocationIn] = []  # empty: oldest first
    applied_on: DateIn | None = None


class UnapplyIn(StrictIn):
    reason: str
    on: DateIn | None = None


class ReverseIn(StrictIn):
    return_code: str  # AM04, R01, NSF, CHARGEBACK, … (docs/cash-application.md)
    reason: str = ""  # left out: the code's meaning
    on: DateIn | None = None  # the day the bank took it back; left out: today
    fee: AmountIn | None = None  # charged to the customer on an invoice of its own (product RETURN-FEE)


class RefundIn(StrictIn):
    amount: AmountIn
    currency: str
    method: str  # wire, ach, cheque, card
    reason: str
    reference: str = ""
    on: DateIn | None = None  # left out: today


class RefundOut(Schema):
    id: int
    receipt_id: int
    customer_id: int
    bank_account: str
    method: str
    amount: AmountOut
    currency: str
    refunded_on: date
    reference: str
    reason: str
    journal_entry_id: int

    @staticmethod
    def resolve_bank_account(obj: Refund) -> str:
        return obj.bank_account.code

    @staticmethod
    def resolve_amount(obj: Refund) -> Decimal:
        return _amount(obj.amount, obj.currency)


class BankFileOut(Schema):
    file_id: int
    file_name: str
    format: str  # camt.053, camt.054, bai2, mt940, ofx, csv
    bank_account: str
    already_imported: bool  # the same file came before: nothing was read again
    lines: int
    posted: int
    parked: int  # waiting in the matching queue
    rejected: int
    earlier_posted: int  # earlier lines of the queue posted, matched again after this file


@router.post("/bank-accounts", response={201: BankAccountOut, **errors(*WRITE_ERRORS, 404)})
def create_bank_account(request: HttpRequest, payload: BankAccountIn) -> object:
    return Status(201, receipts.create_bank_account(actor=api_actor(request), **payload.model_dump()))


@router.get("/bank-accounts", response={200: list[BankAccountOut], **errors()})
def list_bank_accounts(request: HttpRequest) -> object:
    return list(selectors.list_bank_accounts())


@router.put("/write-off-tolerances/{currency}", response={200: ToleranceOut, **errors(*WRITE_ERRORS, 404)})
def set_write_off_tolerance(request: HttpRequest, currency: str, payload: ToleranceIn) -> object:
    """What a payment in the currency may leave open of an invoice, written off to close it: the lower of
    the amount and the percent of the invoice's total; 0 and 0 writes nothing off by itself."""
    return tolerances.set_write_off_tolerance(
        currency=currency, actor=api_actor(request), **payload.model_dump()
    )


@router.get("/write-off-tolerances", response={200: list[ToleranceOut], **errors()})
def list_write_off_tolerances(request: HttpRequest) -> object:
    return list(selectors.list_tolerances())


@router.post("/receipts", response={201: ReceiptOut, **errors(*WRITE_ERRORS, 404)})
def post_receipt(request: HttpRequest, payload: ReceiptIn) -> object:
    """Recorded once per Idempotency-Key; it stays unapplied until applied."""
    values = payload.model_dump()
    amount = Money(values.pop("amount"), values.pop("currency"))
    receipt = receipts.post_receipt(
        actor=api_actor(request), amount=amount, idempotency_key=request.headers.get("Idempotency-Key", ""),
        **values,
    )  # fmt: skip
    return Status(201, selectors.get_receipt(receipt.pk))


@router.get("/receipts", response={200: list[ReceiptOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_receipts(request: HttpRequest, filters: Query[ReceiptFilters]) -> object:
    return selectors.list_receipts(**filters.model_dump())


@router.get("/receipts/{receipt_id}", response={200: ReceiptOut, **errors(404, 422)})
def get_receipt(request: HttpRequest, receipt_id: RowId) -> object:
    return selectors.get_receipt(receipt_id)


@router.post("/receipts/{receipt_id}/apply", response={200: ReceiptOut, **errors(*WRITE_ERRORS, 404)})
def apply_receipt(request: HttpRequest, receipt_id: RowId, payload: ApplyIn) -> object:
    """To the invoices named, or oldest first; what is left stays unapplied, a credit on account."""
    chosen = [item.allocation() for item in payload.allocations]
    applications.apply_receipt(
        receipt_id=receipt_id, actor=api_actor(request), allocations=chosen or None,
        applied_on=payload.applied_on,
    )  # fmt: skip
    return selectors.get_receipt(receipt_id)


@router.post(
    "/applications/{application_id}/unapply", response={200: ReceiptOut, **errors(*WRITE_ERRORS, 404)}
)
def unapply_application(request: HttpRequest, application_id: RowId, payload: UnapplyIn) -> object:
    application = applications.unapply_application(
        application_id=application_id, reason=payload.reason, actor=api_actor(request), on=payload.on
    )
    return selectors.get_receipt(application.receipt_id)


@router.post("/receipts/{receipt_id}/reverse", response={200: ReceiptOut, **errors(*WRITE_ERRORS, 404)})
def reverse_receipt(request: HttpRequest, receipt_id: RowId, payload: ReverseIn) -> object:
    """The bank took the payment back (a bounced cheque, a returned direct debit, a card chargeback): what
    it paid is open again and its unapplied cash gone; with a fee, the customer is charged it."""
    returns.reverse_receipt(receipt_id=receipt_id, actor=api_actor(request), **payload.model_dump())
    return selectors.get_receipt(receipt_id)


class PendingApprovalOut(Schema):
    approval_request: int  # GET /api/v1/approvals/requests/{id}
    status: str
    amount: AmountOut
    currency: str

    @staticmethod
    def resolve_approval_request(obj: ApprovalRequest) -> int:
        return obj.pk

    @staticmethod
    def resolve_amount(obj: ApprovalRequest) -> Decimal:
        return _amount(obj.amount, obj.currency)


@router.post(
    "/receipts/{receipt_id}/refunds",
    response={201: RefundOut, 202: PendingApprovalOut, **errors(*WRITE_ERRORS, 404)},
)
def refund_receipt(request: HttpRequest, receipt_id: RowId, payload: RefundIn) -> object:
    """Pay the customer back out of the receipt's unapplied cash (its credit balance); supervisors only.
    At or above the approval policy's amount the reply is 202 with the approval request that waits for a
    second person; the refund is paid when it is approved."""
    values = payload.model_dump()
    amount = Money(values.pop("amount"), values.pop("currency"))
    refund = refunds.refund_receipt(receipt_id=receipt_id, amount=amount, actor=api_actor(request), **values)
    return Status(202 if isinstance(refund, ApprovalRequest) else 201, refund)


@router.post("/bank-files", response={200: BankFileOut, **errors(*WRITE_ERRORS, 404)})
def import_bank_file(
    request: HttpRequest,
    file: UploadedFile = File(...),  # noqa: B008
    format: Form[str] = "",
    bank_account: Form[str] = "",
) -> object:
    """A bank file (camt.053/054, BAI2, MT940, OFX; CSV with `bank_account`, whose layout reads it),
    checked whole and imported once: each line posted, parked in the matching queue or rejected with its
    reason (docs/cash-application.md). A refused file changes nothing."""
    result = bank_files.import_bank_file(
        data=file.read(), file_name=file.name or "upload", actor=api_actor(request), format=format,
        bank_account=bank_account,
    )  # fmt: skip
    return {
        "file_id": result.file.pk, "file_name": result.file.file_name, "format": result.file.format,
        "bank_account": result.file.bank_account.code, "already_imported": result.already_imported,
        "lines": result.file.lines_read, "posted": result.posted, "parked": result.parked,
        "rejected": result.rejected, "earlier_posted": result.earlier_posted,
    }  # fmt: skip


class RemittanceRowOut(Schema):
    row: int  # the file's row, or the RMR's segment number in an X12 820
    place: str  # "row 3", or "segment 9 (RMR)"
    invoice_number: str
    paid: AmountOut
    deduction: AmountOut  # kept back by the customer
    written_off: AmountOut  # the deduction written off: it closed the invoice within the tolerance
    reason: str
    open_amount: AmountOut  # the invoice's, after the advice
    status: str  # the invoice's, after the advice


class RemittanceOut(Schema):
    receipt_id: int
    currency: str
    format: str  # csv, xlsx or x12-820
    payer: str
    payment_reference: str
    rows: list[RemittanceRowOut]
    deductions_written_off: AmountOut
    deductions_left_open: AmountOut
    unapplied_amount: AmountOut  # what is left on the receipt


@router.post("/receipts/{receipt_id}/remittance", response={200: RemittanceOut, **errors(*WRITE_ERRORS, 404)})
def apply_remittance(
    request: HttpRequest,
    receipt_id: RowId,
    file: UploadedFile = File(...),  # noqa: B008
) -> object:
    """A remittance advice file (CSV, XLSX or X12 820; docs/formats/remittance.md) applied to the receipt,
    all or nothing; a deduction that closes its invoice within the write-off tolerance is written off,
    the others stay open on their invoices and are listed."""
    if file.size and file.size > remittances.MAX_FILE_BYTES:
        raise remittances.RemittanceRejected(
            f"the file is larger than {remittances.MAX_FILE_BYTES // (1024 * 1024)} MB"
        )
    advice = remittances.read_remittance(file.read(), file.name or "upload")
    result = remittances.apply_remittance(receipt_id=receipt_id, advice=advice, actor=api_actor(request))
    return {
        "receipt_id": result.receipt.pk, "currency": result.receipt.currency, "format": advice.format,
        "payer": advice.payer, "payment_reference": advice.payment_reference, "rows": result.rows,
        "deductions_written_off": result.written_off_total, "deductions_left_open": result.deduction_total,
        "unapplied_amount": result.unapplied_amount,
    }  # fmt: skip
