"""The matching queue, the clerk's main screen: every parked bank line, oldest first, with its ranked
suggestions. A line is resolved with one click on a suggestion, or by naming the customer (and invoices),
or dismissed with a reason. With htmx each action redraws only its line; without, it is a plain POST
that comes back to the queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from billops.access.permissions import can
from billops.core.errors import DomainError, InvalidInput, PermissionDenied
from billops.payments import selectors
from billops.payments.forms import ReasonForm, RefundLineForm, ResolveForm, ReturnLineForm, ServiceForm
from billops.payments.models import BankLine
from billops.payments.services import queue, returns
from billops.payments.services.applications import Allocation
from billops.payments.services.matching import allocations_of
from billops.payments.views.common import (
    PAGE_SIZE,
    Shown,
    actor,
    customer_by_number,
    found_or_404,
    is_htmx,
)


@dataclass(frozen=True)
class SuggestionRow:
    index: int  # its place in the line's suggestions: what the Apply button posts
    customer_id: int
    customer: str  # account number
    score: int | None
    rule: str
    fields: list[tuple[str, str]]  # the evidence: which text said what
    invoices: list[tuple[str, int | None, Shown]]  # number, invoice id (None: not found), amount applied


@dataclass(frozen=True)
class QueueLine:
    line: BankLine
    amount: Shown
    suggestions: list[SuggestionRow]
    resolve_form: ResolveForm
    dismiss_form: ReasonForm
    return_form: ReturnLineForm  # money out: a receipt coming back…
    refund_form: RefundLineForm  # …or a refund already paid
    error: DomainError | None = None  # shown on the line, above its forms
    done: str = ""  # what became of it, after resolving or dismissing

    @property
    def money_out(self) -> bool:
        return self.line.amount <= 0


def _suggestions(line: BankLine, invoice_ids: dict[str, int]) -> list[SuggestionRow]:
    return [
        SuggestionRow(
            index=index,
            customer_id=suggestion["customer_id"],
            customer=suggestion.get("customer", ""),
            score=suggestion.get("score"),
            rule=suggestion.get("rule", ""),
            fields=sorted(suggestion.get("fields", {}).items()),
            invoices=[
                (item["number"], invoice_ids.get(item["number"]), Shown.of(item["amount"], line.currency))
                for item in suggestion.get("invoices", [])
            ],
        )
        for index, suggestion in enumerate(line.suggestions)
    ]


def _numbers(lines: list[BankLine]) -> list[str]:
    return [
        item["number"]
        for line in lines
        for suggestion in line.suggestions
        for item in suggestion.get("invoices", [])
    ]


def _queue_line(
    line: BankLine,
    invoice_ids: dict[str, int],
    *,
    resolve_form: ResolveForm | None = None,
    dismiss_form: ReasonForm | None = None,
    return_form: ReturnLineForm | None = None,
    refund_form: RefundLineForm | None = None,
    error: DomainError | None = None,
    done: str = "",
) -> QueueLine:
    return QueueLine(
        line=line,
        amount=Shown.of(line.amount, line.currency),
        suggestions=_suggestions(line, invoice_ids),
        resolve_form=resolve_form
        or ResolveForm(initial={"remember_payer": True}, prefix_id=f"resolve-{line.pk}"),
        dismiss_form=dismiss_form or ReasonForm(prefix_id=f"dismiss-{line.pk}"),
        return_form=return_form or ReturnLineForm(prefix_id=f"return-{line.pk}"),
        refund_form=refund_form or RefundLineForm(prefix_id=f"refund-{line.pk}"),
        error=error,
        done=done,
    )


def _permissions(request: HttpRequest) -> dict[str, bool]:
    return {
        "may_apply": can(request.user, "payments.apply"),
        "may_import": can(request.user, "payments.import"),
        "may_reverse": can(request.user, "payments.reverse"),
    }


def _queue_page(
    request: HttpRequest,
    status: int = 200,
    *,
    failed: QueueLine | None = None,
    error: DomainError | None = None,
    page_number: str | None = None,
) -> HttpResponse:
    parked = selectors.list_parked_lines()
    page = Paginator(parked, PAGE_SIZE).get_page(page_number or request.GET.get("page"))
    lines = list(page)
    ids = selectors.invoice_ids_by_number(_numbers(lines))
    items = [failed if failed and failed.line.pk == line.pk else _queue_line(line, ids) for line in lines]
    if failed is not None and failed.error and not any(item is failed for item in items):
        error = error or failed.error  # the line is no longer on the page (resolved meanwhile): on top
    context: dict[str, Any] = {
        "page": page,
        "items": items,
        "error": error,
        "params": {},  # the pager's links keep no filter
        **_permissions(request),
    }
    return render(request, "payments/queue.html", context, status=status)


@login_required
@require_GET
def queue_page(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


def _line_fragment(request: HttpRequest, item: QueueLine, status: int = 200) -> HttpResponse:
    context: dict[str, Any] = {
        "item": item,
        "page_number": request.POST.get("page", ""),
        **_permissions(request),
    }
    response = render(request, "payments/_queue_line.html", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _after(request: HttpRequest, line_id: int, done: str) -> HttpResponse:
    """The line as it is now for htmx; else back to the queue's page it was on (POST-redirect-GET)."""
    if is_htmx(request):
        line = selectors.get_bank_line(line_id)
        return _line_fragment(request, _queue_line(line, {}, done=done))
    messages.success(request, done)
    page = request.POST.get("page", "")
    return redirect(reverse("payments:queue") + (f"?page={page}" if page.isdigit() else ""))


LINE_FORMS = {ResolveForm: "resolve_form", ReasonForm: "dismiss_form", ReturnLineForm: "return_form",
              RefundLineForm: "refund_form"}  # fmt: skip


def _line_refused(
    request: HttpRequest, line_id: int, exc: DomainError, form: ServiceForm | None = None
) -> HttpResponse:
    """The line again with the error next to the form's field, or on the line when the form has no field
    for it: the line alone for htmx, else on the queue's page."""
    status = 403 if isinstance(exc, PermissionDenied) else 200
    line = found_or_404(selectors.get_bank_line, line_id)
    forms: dict[str, Any] = {}
    if form is not None:
        form.show_error(exc)
        forms = {LINE_FORMS[type(form)]: form}
    at_field = form is not None and form.field_for(exc.field) is not None
    ids = selectors.invoice_ids_by_number(_numbers([line]))
    item = _queue_line(line, ids, error=None if at_field else exc, **forms)
    if is_htmx(request):
        return _line_fragment(request, item, status)
    return _queue_page(request, status, failed=item, page_number=request.POST.get("page"))


def _suggested(line: BankLine, index: str) -> tuple[int, list[Allocation]]:
    """The customer and the invoices of the line's suggestion at `index` (no invoices: oldest first)."""
    if not index.isdigit() or int(index) >= len(line.suggestions):
        raise InvalidInput(f"bank line {line.pk} has no suggestion {index!r}", field="suggestion")
    suggestion = line.suggestions[int(index)]
    return suggestion["customer_id"], allocations_of(suggestion)


def _resolved(line: BankLine) -> str:
    receipt = line.receipt
    where = f"receipt {line.receipt_id}"
    if receipt is not None:
        amount = Shown.of(receipt.amount, receipt.currency)
        left = Shown.of(receipt.unapplied_amount, receipt.currency)
        where += f" of {amount.amount} {amount.currency} from {receipt.customer.account_number}"
        if left.amount:
            where += f", {left.amount} {left.currency} left unapplied"
    return f"Line {line.line} of {line.file.file_name} posted as {where}."


@login_required
@require_POST
def resolve_line(request: HttpRequest, line_id: int) -> HttpResponse:
    form = ResolveForm(request.POST, prefix_id=f"resolve-{line_id}")
    suggestion = request.POST.get("suggestion")
    try:
        if suggestion is not None:  # one click on a suggestion: its customer and invoices
            customer_id, allocations = _suggested(found_or_404(selectors.get_bank_line, line_id), suggestion)
            remember = True
        else:
            customer_id = customer_by_number(form.text("customer")).pk
            allocations = form.allocations()
            remember = form.remember()
        line = queue.resolve_line(
            line_id=line_id, customer_id=customer_id, actor=actor(request), allocations=allocations,
            remember_payer=remember,
        )  # fmt: skip
    except DomainError as exc:  # a suggestion's refusal goes on the line; the form's next to its field
        return _line_refused(request, line_id, exc, None if suggestion is not None else form)
    return _after(request, line_id, _resolved(line))


@login_required
@require_POST
def dismiss_line(request: HttpRequest, line_id: int) -> HttpResponse:
    form = ReasonForm(request.POST, prefix_id=f"dismiss-{line_id}")
    try:
        line = queue.dismiss_line(line_id=line_id, reason=form.text("reason"), actor=actor(request))
    except DomainError as exc:
        return _line_refused(request, line_id, exc, form)
    return _after(
        request, line_id, f"Line {line.line} of {line.file.file_name} dismissed: {form.text('reason')}."
    )


def _receipt_or_refund_id(form: ServiceForm, name: str) -> int:
    text = form.text(name)
    if not text.isdigit():
        raise InvalidInput(f"give the {name}'s number", field=name)
    return int(text)


@login_required
@require_POST
def return_line(request: HttpRequest, line_id: int) -> HttpResponse:
    """Money out that is a receipt the bank returned: the receipt is reversed with the return code."""
    form = ReturnLineForm(request.POST, prefix_id=f"return-{line_id}")
    try:
        line = queue.resolve_return(
            line_id=line_id, receipt_id=_receipt_or_refund_id(form, "receipt"),
            return_code=form.text("return_code"), reason=form.text("reason"), actor=actor(request),
            fee=form.fee_amount(),
        )  # fmt: skip
    except DomainError as exc:
        return _line_refused(request, line_id, exc, form)
    assert line.returned_receipt is not None  # resolved as a return
    return _after(
        request,
        line_id,
        f"Line {line.line} of {line.file.file_name}: receipt {line.returned_receipt_id} returned."
        + returns.fee_charged(line.returned_receipt),
    )


@login_required
@require_POST
def refund_line(request: HttpRequest, line_id: int) -> HttpResponse:
    """Money out that is a refund already paid: the line records it; nothing is posted again."""
    form = RefundLineForm(request.POST, prefix_id=f"refund-{line_id}")
    try:
        line = queue.match_refund(
            line_id=line_id, refund_id=_receipt_or_refund_id(form, "refund"), actor=actor(request)
        )
    except DomainError as exc:
        return _line_refused(request, line_id, exc, form)
    return _after(
        request, line_id, f"Line {line.line} of {line.file.file_name}: refund {line.refund_id} booked."
    )


@login_required
@require_POST
def rematch(request: HttpRequest) -> HttpResponse:
    """Match the whole queue again: lines the engine is sure of now are posted, the rest re-suggested."""
    try:
        posted, refreshed = queue.rematch_queue(actor=actor(request))
    except DomainError as exc:
        return _queue_page(request, 403 if isinstance(exc, PermissionDenied) else 200, error=exc)
    messages.success(
        request, f"Matched the queue again: {posted} lines posted, {refreshed} with new suggestions."
    )
    return redirect(reverse("payments:queue"))
