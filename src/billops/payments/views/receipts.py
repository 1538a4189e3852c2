"""Receipts: the list with the form that records one, a receipt's page with its applications and the forms
that apply and unapply it, and a customer's cash account (its open items, credits and applications)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from billops.access import clock
from billops.access.models import ApprovalRequest
from billops.access.permissions import can
from billops.core.errors import DomainError, PermissionDenied, UnprocessableReplay
from billops.core.money import money
from billops.customers.models import Customer
from billops.customers.selectors import get_customer, get_customer_by_number
from billops.payments import selectors
from billops.payments.forms import ApplyForm, ReasonForm, ReceiptForm, RefundForm, ReturnForm, ServiceForm
from billops.payments.models import Application, Receipt
from billops.payments.services import applications, receipts, refunds, returns
from billops.payments.views.common import (
    PAGE_SIZE,
    Shown,
    actor,
    customer_by_number,
    found_or_404,
    kept,
    totals,
)

RECENT_APPLICATIONS = 50  # a customer's cash page lists this many of its latest applications


def _refused(form: ServiceForm, exc: DomainError) -> tuple[int, DomainError | None]:
    """Show the error next to its field; one the form has no field for is shown on top of the page."""
    status = form.show_error(exc)
    return status, None if form.field_for(exc.field) else exc


# --- the list, and recording a receipt -------------------------------------------------------------


def _list_page(
    request: HttpRequest,
    status: int = 200,
    *,
    form: ReceiptForm | None = None,
    error: DomainError | None = None,
) -> HttpResponse:
    filters = {
        "customer": request.GET.get("customer", "").strip(),
        "unapplied": "1" if request.GET.get("unapplied") else "",
    }
    filter_error: DomainError | None = None
    customer_id: int | None = None
    if filters["customer"]:
        try:
            customer_id = get_customer_by_number(filters["customer"]).pk
        except DomainError as exc:  # an unknown account number: say so and list nothing
            filter_error = exc
    found = selectors.list_receipts_with_origin(
        customer_id=customer_id, unapplied_only=bool(filters["unapplied"])
    )
    page = Paginator(found.none() if filter_error else found, PAGE_SIZE).get_page(request.GET.get("page"))
    may_post = can(request.user, "payments.post")
    if may_post and form is None:
        form = ReceiptForm.blank(bank_accounts=selectors.list_bank_accounts(), today=clock.today())
    context = {
        "page": page,
        "rows": [
            (
                receipt,
                Shown.of(receipt.amount, receipt.currency),
                Shown.of(receipt.unapplied_amount, receipt.currency),
            )
            for receipt in page
        ],
        "filters": filters,
        "kept": kept(filters),
        "filter_error": filter_error,
        "error": error,
        "form": form if may_post else None,
        "may_post": may_post,
    }
    return render(request, "payments/receipts.html", context, status=status)


@login_required
@require_GET
def receipt_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@login_required
@require_POST
def record_receipt(request: HttpRequest) -> HttpResponse:
    form = ReceiptForm(request.POST, bank_accounts=selectors.list_bank_accounts())
    try:
        customer = customer_by_number(form.text("customer"))
        receipt = receipts.post_receipt(actor=actor(request), **form.arguments(customer))
    except DomainError as exc:
        if isinstance(exc, UnprocessableReplay):
            form.renew_key()
        status, error = _refused(form, exc)
        return _list_page(request, status, form=form, error=error)
    amount = Shown.of(receipt.amount, receipt.currency)
    messages.success(
        request,
        f"Receipt {receipt.pk} recorded: {amount.amount} {amount.currency} from {customer.account_number}, "
        "unapplied until it is applied.",
    )
    return redirect("payments:receipt", receipt.pk)


# --- one receipt: apply and unapply ----------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationRow:
    application: Application
    amount: Shown
    form: ReasonForm | None  # the unapply form of an active application, for those who may

    @property
    def deductions(self) -> list[tuple[str, Shown]]:
        """What came off the item with the cash: the early-payment discount, the shortfall written off."""
        application = self.application
        return [
            (label, Shown.of(amount, application.currency))
            for label, amount in (
                ("discount", application.discount),
                ("of which VAT", application.discount_vat),
                ("written off", application.written_off),
            )
            if amount
        ]


def _open_items(customer: Customer) -> dict[str, Any]:
    items = selectors.list_open_items(customer)
    return {
        "open_balances": [(b, Shown.of(b.open_amount, b.currency)) for b in items.opening_balances],
        "open_invoices": [(i, Shown.of(i.open_amount, i.currency)) for i in items.invoices],
    }


def _receipt_page(
    request: HttpRequest,
    receipt_id: int,
    status: int = 200,
    *,
    apply_form: ApplyForm | None = None,
    unapply_form: tuple[int, ReasonForm] | None = None,
    return_form: ReturnForm | None = None,
    refund_form: RefundForm | None = None,
    error: DomainError | None = None,
) -> HttpResponse:
    receipt = found_or_404(selectors.get_receipt_detail, receipt_id)
    may_apply = can(request.user, "payments.apply")
    rows = []
    for application in selectors.list_applications_with_people(receipt):
        form = None
        if may_apply and application.is_active:
            failed = unapply_form is not None and unapply_form[0] == application.pk
            form = (
                unapply_form[1]
                if unapply_form and failed
                else ReasonForm(prefix_id=f"unapply-{application.pk}")
            )
        rows.append(ApplicationRow(application, Shown.of(application.amount, application.currency), form))
    can_take_more = receipt.status == Receipt.Status.POSTED and receipt.unapplied_amount > 0
    context = {
        "receipt": receipt,
        "amount": Shown.of(receipt.amount, receipt.currency),
        "unapplied": Shown.of(receipt.unapplied_amount, receipt.currency),
        "applications": rows,
        **_open_items(receipt.customer),
        "apply_form": (apply_form or ApplyForm()) if may_apply and can_take_more else None,
        # a posted receipt the bank may still return; its unapplied cash may be refunded
        "return_form": (return_form or ReturnForm())
        if can(request.user, "payments.reverse")
        and receipt.status == Receipt.Status.POSTED
        and not receipt.refunds.exists()
        else None,
        "refund_form": (refund_form or RefundForm())
        if can(request.user, "payments.refund") and can_take_more
        else None,
        "may_apply": may_apply,
        "error": error,
    }
    return render(request, "payments/receipt.html", context, status=status)


@login_required
@require_GET
def receipt_detail(request: HttpRequest, receipt_id: int) -> HttpResponse:
    return _receipt_page(request, receipt_id)


@login_required
@require_POST
def apply_receipt(request: HttpRequest, receipt_id: int) -> HttpResponse:
    form = ApplyForm(request.POST)
    try:
        applied = applications.apply_receipt(
            receipt_id=receipt_id, actor=actor(request), allocations=form.allocations()
        )
    except DomainError as exc:
        status, error = _refused(form, exc)
        return _receipt_page(request, receipt_id, status, apply_form=form, error=error)
    receipt = selectors.get_receipt(receipt_id)
    total = Shown.of(sum((a.amount for a in applied), Decimal(0)), receipt.currency)
    left = Shown.of(receipt.unapplied_amount, receipt.currency)
    items = ", ".join(_item(a) for a in applied)
    messages.success(
        request,
        f"Applied {total.amount} {total.currency} to {items}; {left.amount} {left.currency} left unapplied.",
    )
    return redirect("payments:receipt", receipt_id)


def _item(application: Application) -> str:
    if application.invoice is not None:
        return application.invoice.number or ""
    return f"opening balance {application.opening_balance.reference}" if application.opening_balance else ""


@login_required
@require_POST
def unapply_application(request: HttpRequest, application_id: int) -> HttpResponse:
    application = found_or_404(selectors.get_application, application_id)
    form = ReasonForm(request.POST, prefix_id=f"unapply-{application_id}")
    try:
        applications.unapply_application(
            application_id=application_id, reason=form.text("reason"), actor=actor(request)
        )
    except DomainError as exc:
        status, error = _refused(form, exc)
        if isinstance(exc, PermissionDenied):
            return _receipt_page(request, application.receipt_id, status, error=error)
        return _receipt_page(
            request, application.receipt_id, status, unapply_form=(application_id, form), error=error
        )
    amount = Shown.of(application.amount, application.currency)
    messages.success(
        request, f"Unapplied {amount.amount} {amount.currency} from {_item(application)}: it is open again."
    )
    return redirect("payments:receipt", application.receipt_id)


@login_required
@require_POST
def reverse_receipt(request: HttpRequest, receipt_id: int) -> HttpResponse:
    """The bank returned the payment: what it paid is open again."""
    form = ReturnForm(request.POST)
    try:
        receipt = returns.reverse_receipt(
            receipt_id=receipt_id, return_code=form.text("return_code"), reason=form.text("reason"),
            actor=actor(request), fee=form.fee_amount(),
        )  # fmt: skip
    except DomainError as exc:
        status, error = _refused(form, exc)
        return _receipt_page(request, receipt_id, status, return_form=form, error=error)
    messages.success(
        request,
        f"Receipt {receipt.pk} reversed ({receipt.return_code}): what it paid is open again."
        + returns.fee_charged(receipt),
    )
    return redirect("payments:receipt", receipt_id)


@login_required
@require_POST
def refund_receipt(request: HttpRequest, receipt_id: int) -> HttpResponse:
    """Pay the customer back out of the receipt's unapplied cash."""
    form = RefundForm(request.POST)
    receipt = found_or_404(selectors.get_receipt, receipt_id)
    try:
        refund = refunds.refund_receipt(
            receipt_id=receipt_id, amount=money(form.text("amount"), receipt.currency),
            method=form.text("method"), reason=form.text("reason"), reference=form.text("reference"),
            actor=actor(request),
        )  # fmt: skip
    except DomainError as exc:
        status, error = _refused(form, exc)
        return _receipt_page(request, receipt_id, status, refund_form=form, error=error)
    amount = Shown.of(refund.amount, refund.currency)
    if isinstance(refund, ApprovalRequest):
        messages.success(
            request,
            f"The refund of {amount.amount} {amount.currency} waits for a second person's approval "
            f"(request {refund.pk}).",
        )
        return redirect("payments:receipt", receipt_id)
    messages.success(
        request, f"Refunded {amount.amount} {amount.currency} to {receipt.customer.account_number}."
    )
    return redirect("payments:receipt", receipt_id)


# --- a customer's cash -----------------------------------------------------------------------------


def _sums(pairs: Any) -> list[Shown]:
    by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for amount, currency in pairs:
        by_currency[currency] += amount
    return totals(by_currency)


@login_required
@require_GET
def customer_cash(request: HttpRequest, customer_id: int) -> HttpResponse:
    """What a customer has open, what it has paid and not yet applied, and the latest applications."""
    customer = found_or_404(get_customer, customer_id)
    items = selectors.list_open_items(customer)
    credits = list(selectors.list_receipts(customer_id=customer.pk, unapplied_only=True))
    recent = selectors.list_customer_applications(customer.pk)[:RECENT_APPLICATIONS]
    context = {
        "customer": customer,
        **_open_items(customer),
        "open_total": _sums(
            [(b.open_amount, b.currency) for b in items.opening_balances]
            + [(i.open_amount, i.currency) for i in items.invoices]
        ),
        "credits": [
            (r, Shown.of(r.amount, r.currency), Shown.of(r.unapplied_amount, r.currency)) for r in credits
        ],
        "credit_total": _sums([(r.unapplied_amount, r.currency) for r in credits]),
        "applications": [(a, Shown.of(a.amount, a.currency)) for a in recent],
        "may_apply": can(request.user, "payments.apply"),
    }
    return render(request, "payments/customer.html", context)
