"""Staff pages for disputes: the case list (the worklist, the cases due first), opening a case on an
invoice, and a case's page with its status actions, notes, attachments and decisions. Thin, like the API:
parse the form, call one service or selector, show the result or the error next to its field;
POST-redirect-GET (a note added with htmx redraws only the notes)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billops.access.models import User
from billops.access.permissions import can
from billops.core.errors import DomainError, InvalidInput, NotFound
from billops.customers.selectors import get_customer_by_number
from billops.disputes import selectors, services
from billops.disputes.forms import (
    AssignForm,
    AttachmentForm,
    InvestigateForm,
    NoteForm,
    OpenForm,
    RejectForm,
    ResolveCreditForm,
    ResolveForm,
    WithdrawForm,
)
from billops.disputes.models import DisputeCase, Status
from billops.disputes.responses import attachment_response
from billops.disputes.services.cases import check_attachment_size
from billops.invoicing.models import Invoice
from billops.invoicing.selectors import get_invoice, get_invoice_by_number
from billops.payments.forms import ServiceForm
from billops.web.amounts import Shown

PAGE_SIZE = 50
T = TypeVar("T")


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view here is behind login_required


def _found(read: Callable[..., T], *args: Any) -> T:
    """What a selector reads, or a 404 page with its message."""
    try:
        return read(*args)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _refused(form: ServiceForm, exc: DomainError) -> tuple[int, DomainError | None]:
    """Show the error next to its field; one the form has no field for is shown on top of the page."""
    status = form.show_error(exc)
    return status, None if form.field_for(exc.field) else exc


def _is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


# --- the list ----------------------------------------------------------------------------------------


def _owner_filter(value: str, request: HttpRequest) -> dict[str, Any]:
    if value == "me":
        return {"owner_id": request.user.pk}
    if value == "none":
        return {"unassigned": True}
    return {"owner_id": int(value)} if value.isdigit() else {}


@login_required
@require_GET
def case_list(request: HttpRequest) -> HttpResponse:
    """The cases still being worked by default, the ones due first; overdue ones are marked."""
    filters = {
        "status": request.GET.get("status", selectors.ACTIVE).strip(),
        "owner": request.GET.get("owner", "").strip(),
        "customer": request.GET.get("customer", "").strip(),
        "overdue": "1" if request.GET.get("overdue") else "",
    }
    filter_error: DomainError | None = None
    try:
        customer_id = get_customer_by_number(filters["customer"]).pk if filters["customer"] else None
        found = selectors.list_cases(
            status="" if filters["status"] == "all" else filters["status"], customer_id=customer_id,
            overdue_sla=bool(filters["overdue"]), **_owner_filter(filters["owner"], request),
        )  # fmt: skip
    except DomainError as exc:  # an unknown customer or status: say so and list nothing
        filter_error, found = exc, DisputeCase.objects.none()
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [(case, Shown.of(case.amount, case.currency), selectors.is_overdue(case)) for case in page],
        "filters": filters,
        "kept": {name: value for name, value in filters.items() if value},
        "filter_error": filter_error,
        "statuses": [(selectors.ACTIVE, "Being worked"), *Status.choices, ("all", "All")],
        "owners": selectors.list_case_workers(),
    }
    return render(request, "disputes/list.html", context)


# --- opening a case ----------------------------------------------------------------------------------


def _invoice_asked(request: HttpRequest) -> Invoice | None:
    """The invoice named by `?invoice=<id>` (or a posted `invoice`), or `?number=INV-…`; None if neither."""
    invoice_id = (request.POST.get("invoice") or request.GET.get("invoice", "")).strip()
    number = request.GET.get("number", "").strip()
    if invoice_id:
        if not invoice_id.isdigit():
            raise Http404(f"there is no invoice {invoice_id!r}")
        return _found(get_invoice, int(invoice_id))
    return _found(get_invoice_by_number, number) if number else None


def _new_page(
    request: HttpRequest,
    invoice: Invoice | None,
    status: int = 200,
    *,
    form: OpenForm | None = None,
    error: DomainError | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {
        "invoice": invoice,
        "error": error,
        "may_open": can(request.user, "disputes.open"),
    }
    if invoice is not None:
        lines = selectors.disputable_lines(invoice)
        disputed = selectors.disputed_on(invoice)
        form = form or OpenForm(lines=lines, owners=selectors.list_case_workers())
        fields = form.line_fields()
        context |= {
            "lines": [
                (
                    row,
                    Shown.of(row.left, invoice.currency),
                    Shown.of(row.available, invoice.currency),
                    *fields[row.line.line_no],
                )
                for row in lines
            ],
            "open": Shown.of(invoice.open_amount, invoice.currency),
            "disputed": Shown.of(disputed, invoice.currency),
            "undisputed": Shown.of(max(invoice.open_amount - disputed, Decimal(0)), invoice.currency),
            "cases": selectors.list_cases(invoice_id=invoice.pk),
            "form": form,
        }
    return render(request, "disputes/new.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def new_case(request: HttpRequest) -> HttpResponse:
    """The form that opens a case on an invoice (`?invoice=<id>`), or asks for the invoice's number."""
    invoice = _invoice_asked(request)
    if request.method == "GET" or invoice is None:
        return _new_page(request, invoice)
    form = OpenForm(
        request.POST, lines=selectors.disputable_lines(invoice), owners=selectors.list_case_workers()
    )
    try:
        case = services.open_dispute(invoice_id=invoice.pk, actor=_actor(request), **form.arguments())
    except DomainError as exc:
        status, error = _refused(form, exc)
        return _new_page(request, invoice, status, form=form, error=error)
    amount = Shown.of(case.amount, case.currency)
    messages.success(
        request,
        f"Dispute {case.pk} opened on {invoice.number}: {amount.amount} {amount.currency} disputed, "
        f"due by {case.sla_due_on.isoformat()}.",
    )
    return redirect("disputes:case", case.pk)


# --- one case ------------------------------------------------------------------------------------------


def _case_page(
    request: HttpRequest,
    case_id: int,
    status: int = 200,
    *,
    forms: dict[str, ServiceForm] | None = None,
    error: DomainError | None = None,
) -> HttpResponse:
    case = _found(selectors.get_case, case_id)
    given = forms or {}
    may_work = can(request.user, "disputes.work")
    may_resolve = can(request.user, "disputes.resolve") and case.is_active
    owners = selectors.list_case_workers()
    preview, preview_error = None, None
    if may_resolve:
        try:
            preview = selectors.credit_preview(case)
        except DomainError as exc:  # credited since the case was opened: say so by the resolve form
            preview_error = exc
    actions: dict[str, ServiceForm | None] = {
        "investigate": given.get("investigate") or InvestigateForm()
        if may_work and case.status == Status.OPEN
        else None,
        "assign": given.get("assign") or AssignForm(initial={"owner_id": case.owner_id or ""}, owners=owners)
        if may_work and case.is_active
        else None,
        "reject": given.get("reject") or RejectForm() if may_work and case.is_active else None,
        "withdraw": given.get("withdraw") or WithdrawForm() if may_work and case.is_active else None,
        "resolve_credit": given.get("resolve_credit") or ResolveCreditForm(prefix_id="credit")
        if may_resolve
        else None,
        "resolve_rebill": given.get("resolve_rebill") or ResolveForm(prefix_id="rebill")
        if may_resolve
        else None,
    }
    context = {
        "case": case,
        "amount": Shown.of(case.amount, case.currency),
        "invoice_total": Shown.of(case.invoice.total, case.currency),
        "invoice_open": Shown.of(case.invoice.open_amount, case.currency),
        "overdue": selectors.is_overdue(case),
        "lines": [
            (line, Shown.of(line.amount, line.currency)) for line in selectors.list_disputed_lines(case)
        ],
        "preview": preview,
        "preview_lines": [
            (line, Shown.of(line.net, case.currency), Shown.of(line.tax, case.currency))
            for line in (preview.lines if preview else [])
        ],
        "preview_total": Shown.of(preview.total, case.currency) if preview else None,
        "preview_short": Shown.of(preview.short_by, case.currency) if preview and preview.short_by else None,
        "preview_error": preview_error,
        "credit_total": Shown.of(case.credit_note.total, case.currency) if case.credit_note else None,
        **_notes_context(case, given.get("note") if may_work else None, may_work),
        "attachments": selectors.list_attachments(case),
        "attachment_form": given.get("attachment") or AttachmentForm() if may_work else None,
        "history": selectors.case_history(case)[:50],
        "error": error,
        **actions,
    }
    return render(request, "disputes/case.html", context, status=status)


def _notes_context(case: DisputeCase, form: ServiceForm | None, may_work: bool) -> dict[str, Any]:
    return {
        "case": case,
        "notes": selectors.list_notes(case),
        "note_form": (form or NoteForm()) if may_work else None,
    }


@login_required
@require_GET
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _case_page(request, case_id)


def _act(
    request: HttpRequest,
    case_id: int,
    name: str,
    form: ServiceForm,
    action: Callable[[], Any],
    done: Callable[[Any], str],
) -> HttpResponse:
    """Run one service for the case's form `name`; back to the case page, with its message or the error."""
    _found(selectors.get_case, case_id)
    try:
        result = action()
    except DomainError as exc:
        status, error = _refused(form, exc)
        return _case_page(request, case_id, status, forms={name: form}, error=error)
    messages.success(request, done(result))
    return redirect("disputes:case", case_id)


@login_required
@require_POST
def investigate(request: HttpRequest, case_id: int) -> HttpResponse:
    form = InvestigateForm(request.POST)
    return _act(
        request, case_id, "investigate", form,
        lambda: services.start_investigation(case_id=case_id, actor=_actor(request), note=form.text("note")),
        lambda case: f"Dispute {case.pk} is being investigated by {case.owner.get_username()}.",
    )  # fmt: skip


@login_required
@require_POST
def assign(request: HttpRequest, case_id: int) -> HttpResponse:
    form = AssignForm(request.POST, owners=selectors.list_case_workers())
    return _act(
        request, case_id, "assign", form,
        lambda: services.assign_dispute(case_id=case_id, owner_id=form.owner(), actor=_actor(request)),
        lambda case: f"Dispute {case.pk} is assigned to "
        f"{case.owner.get_username() if case.owner else 'nobody'}.",
    )  # fmt: skip


@login_required
@require_POST
def add_note(request: HttpRequest, case_id: int) -> HttpResponse:
    """A note; with htmx only the notes are drawn again, with the note added or the error."""
    form = NoteForm(request.POST)
    if not _is_htmx(request):
        return _act(
            request, case_id, "note", form,
            lambda: services.add_note(case_id=case_id, text=form.text("note"), actor=_actor(request)),
            lambda note: "Note added.",
        )  # fmt: skip
    case = _found(selectors.get_case, case_id)
    try:
        services.add_note(case_id=case_id, text=form.text("note"), actor=_actor(request))
    except DomainError as exc:
        form.show_error(exc)  # drawn with 200: htmx swaps only successful replies
        return render(request, "disputes/_notes.html", _notes_context(case, form, True))
    return render(request, "disputes/_notes.html", _notes_context(case, None, True))


@login_required
@require_POST
def attach(request: HttpRequest, case_id: int) -> HttpResponse:
    form = AttachmentForm(request.POST, request.FILES)

    def upload() -> Any:
        file = request.FILES.get("file")
        if file is None:
            raise InvalidInput("choose the file to attach", field="file")
        check_attachment_size(file.name or "upload", file.size or 0)
        return services.attach_file(
            case_id=case_id, file_name=file.name or "upload", content=file.read(), actor=_actor(request),
            content_type=file.content_type or "",
        )  # fmt: skip

    return _act(
        request, case_id, "attachment", form, upload,
        lambda attachment: f"{attachment.file_name} attached ({attachment.size:,} bytes).",
    )  # fmt: skip


@login_required
@require_GET
def download(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponse:
    return attachment_response(_found(selectors.get_attachment, case_id, attachment_id))


@login_required
@require_POST
def reject(request: HttpRequest, case_id: int) -> HttpResponse:
    form = RejectForm(request.POST)
    return _act(
        request, case_id, "reject", form,
        lambda: services.reject_dispute(
            case_id=case_id, root_cause=form.text("root_cause"), note=form.text("note"), actor=_actor(request)
        ),
        lambda case: f"Dispute {case.pk} rejected: {case.invoice.number} stands.",
    )  # fmt: skip


@login_required
@require_POST
def withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    form = WithdrawForm(request.POST)
    return _act(
        request, case_id, "withdraw", form,
        lambda: services.withdraw_dispute(case_id=case_id, note=form.text("note"), actor=_actor(request)),
        lambda case: f"Dispute {case.pk} withdrawn by the customer.",
    )  # fmt: skip


@login_required
@require_POST
def resolve_credit(request: HttpRequest, case_id: int) -> HttpResponse:
    form = ResolveCreditForm(request.POST, prefix_id="credit")
    return _act(
        request, case_id, "resolve_credit", form,
        lambda: services.resolve_by_credit(
            case_id=case_id, root_cause=form.text("root_cause"), note=form.text("note"),
            issued_on=form.issued_on_date(), actor=_actor(request),
        ),
        lambda case: f"Dispute {case.pk} resolved: credit note {case.credit_note.number} of "
        f"{Shown.of(case.credit_note.total, case.currency).amount} {case.currency} issued on "
        f"{case.invoice.number}.",
    )  # fmt: skip


@login_required
@require_POST
def resolve_rebill(request: HttpRequest, case_id: int) -> HttpResponse:
    form = ResolveForm(request.POST, prefix_id="rebill")
    return _act(
        request, case_id, "resolve_rebill", form,
        lambda: services.resolve_by_rebill(
            case_id=case_id, root_cause=form.text("root_cause"), note=form.text("note"), actor=_actor(request)
        ),
        lambda case: f"Dispute {case.pk} resolved by re-bill: {case.invoice.number} credited in full by "
        f"{case.credit_note.number}; correct and issue draft {case.rebill_draft_id}.",
    )  # fmt: skip
