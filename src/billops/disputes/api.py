"""API: dispute cases under /api/v1/disputes/: open one on an issued invoice (or some of its lines), work
it (investigate, assign, notes, attachments) and decide it (reject, withdrawn, resolved by credit note or
by re-bill); and the dispute-resolution-time KPI.

Amounts travel as decimal strings ("59.50") and are tax included. Errors come back as {code, message,
field}; a disputed line's field is named by its place in the request counted from 1 ("lines[2].amount"),
as the pages count rows.
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge
from django.http import HttpRequest, HttpResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from billops.access.auth import api_actor
from billops.core.money import round_money
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
from billops.disputes import selectors, services
from billops.disputes.models import DisputeAttachment, DisputeCase, DisputedLine, DisputeNote
from billops.disputes.responses import attachment_response
from billops.disputes.services.cases import check_attachment_size

router = Router()

LineNo = Annotated[int, Ge(1)]


def _amount(value: Decimal, currency: str) -> Decimal:
    return round_money(value, currency).amount


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


class LineClaimIn(StrictIn):
    line_no: LineNo | None = None  # the line's number on the invoice…
    line_id: RowId | None = None  # …or its id
    amount: AmountIn | None = None  # tax included; left out: all of the line that is left


class CaseIn(StrictIn):
    invoice_id: RowId
    reason: str  # price, quantity, not_received, duplicate, tax, quality, other
    amount: AmountIn | None = None  # tax included; left out: the lines' sum, or all that is open
    lines: list[LineClaimIn] = []
    owner_id: RowId | None = None
    sla_due_on: DateIn | None = None  # left out: the opening day plus the reason's SLA days
    note: str = ""
    source: str = "manual"  # manual, remittance_deduction, portal
    source_reference: str = ""


class InvestigateIn(StrictIn):
    note: str = ""


class AssignIn(StrictIn):
    owner_id: RowId | None  # null: to nobody


class NoteIn(StrictIn):
    text: str


class RejectCaseIn(StrictIn):
    root_cause: str
    note: str


class WithdrawIn(StrictIn):
    note: str


class ResolveCreditIn(StrictIn):
    root_cause: str
    note: str
    issued_on: DateIn | None = None  # the credit note's date; left out: today


class ResolveRebillIn(StrictIn):
    root_cause: str
    note: str


class CaseFilters(Schema):
    status: str = ""  # a status, or "active": open or investigating
    owner_id: RowId | None = None
    customer_id: RowId | None = None
    invoice_id: RowId | None = None
    overdue: bool = False  # still being worked past the SLA due date


class DisputedLineOut(Schema):
    line_no: int
    description: str
    amount: AmountOut

    @staticmethod
    def resolve_line_no(obj: DisputedLine) -> int:
        return obj.line.line_no

    @staticmethod
    def resolve_description(obj: DisputedLine) -> str:
        return obj.line.description

    @staticmethod
    def resolve_amount(obj: DisputedLine) -> Decimal:
        return _amount(obj.amount, obj.currency)


class NoteOut(Schema):
    id: int
    author: str
    text: str
    created_at: datetime

    @staticmethod
    def resolve_author(obj: DisputeNote) -> str:
        return obj.author.get_username()


class AttachmentOut(Schema):
    id: int
    file_name: str
    content_type: str
    size: int  # bytes
    sha256: str
    uploaded_by: str
    uploaded_at: datetime

    @staticmethod
    def resolve_uploaded_by(obj: DisputeAttachment) -> str:
        return obj.uploaded_by.get_username()


class CaseSummaryOut(Schema):
    id: int
    invoice_id: int
    invoice_number: str
    customer_id: int
    customer_account_number: str
    reason: str
    status: str
    amount: AmountOut  # disputed, tax included
    currency: str
    owner: str | None
    opened_on: date
    sla_due_on: date
    overdue: bool  # still being worked past its SLA due date
    source: str
    source_reference: str
    resolved_at: datetime | None

    @staticmethod
    def resolve_invoice_number(obj: DisputeCase) -> str:
        return obj.invoice.number or ""

    @staticmethod
    def resolve_customer_account_number(obj: DisputeCase) -> str:
        return obj.customer.account_number

    @staticmethod
    def resolve_amount(obj: DisputeCase) -> Decimal:
        return _amount(obj.amount, obj.currency)

    @staticmethod
    def resolve_owner(obj: DisputeCase) -> str | None:
        return _username(obj.owner)

    @staticmethod
    def resolve_overdue(obj: DisputeCase) -> bool:
        return selectors.is_overdue(obj)


class CaseOut(CaseSummaryOut):
    opened_by: str
    opened_at: datetime
    resolved_by: str | None
    root_cause: str
    resolution_note: str
    credit_note_id: int | None
    credit_note_number: str | None
    rebill_draft_id: int | None
    lines: list[DisputedLineOut]
    notes: list[NoteOut]
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_opened_by(obj: DisputeCase) -> str:
        return obj.opened_by.get_username()

    @staticmethod
    def resolve_resolved_by(obj: DisputeCase) -> str | None:
        return _username(obj.resolved_by)

    @staticmethod
    def resolve_credit_note_number(obj: DisputeCase) -> str | None:
        return obj.credit_note.number if obj.credit_note else None

    @staticmethod
    def resolve_lines(obj: DisputeCase) -> list[DisputedLine]:
        return list(selectors.list_disputed_lines(obj))

    @staticmethod
    def resolve_notes(obj: DisputeCase) -> list[DisputeNote]:
        return list(selectors.list_notes(obj))

    @staticmethod
    def resolve_attachments(obj: DisputeCase) -> list[DisputeAttachment]:
        return list(selectors.list_attachments(obj))


class ResolutionTimeOut(Schema):
    case_id: int
    status: str
    opened_at: datetime
    resolved_at: datetime
    seconds: int  # from opening to decision


class ResolutionTimesOut(Schema):
    start: date
    end: date
    count: int
    average_seconds: int | None  # whole seconds, rounded down; null with no case
    cases: list[ResolutionTimeOut]


class WindowIn(Schema):
    start: DateIn
    end: DateIn


def _case(case: DisputeCase) -> DisputeCase:
    return selectors.get_case(case.pk)


@router.get("/cases", response={200: list[CaseSummaryOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> object:
    """The cases due first; `status=active` keeps the ones still being worked."""
    values = filters.model_dump()
    return selectors.list_cases(overdue_sla=values.pop("overdue"), **values)


@router.post("/cases", response={201: CaseOut, **errors(*WRITE_ERRORS, 404)})
def open_dispute(request: HttpRequest, payload: CaseIn) -> object:
    """Open a case on an issued invoice: for an amount, for some lines, or for all it has open that no other
    case disputes."""
    values = payload.model_dump()
    lines = [services.LineClaim(**line) for line in values.pop("lines")]
    case = services.open_dispute(actor=api_actor(request), lines=lines or None, **values)
    return Status(201, _case(case))


@router.get("/cases/{case_id}", response={200: CaseOut, **errors(404, 422)})
def get_case(request: HttpRequest, case_id: RowId) -> object:
    return selectors.get_case(case_id)


@router.post("/cases/{case_id}/investigate", response={200: CaseOut, **errors(*WRITE_ERRORS, 404)})
def start_investigation(request: HttpRequest, case_id: RowId, payload: InvestigateIn) -> object:
    """An open case is being investigated; whoever does so owns it unless someone does already."""
    return _case(services.start_investigation(case_id=case_id, actor=api_actor(request), note=payload.note))


@router.post("/cases/{case_id}/assign", response={200: CaseOut, **errors(*WRITE_ERRORS, 404)})
def assign_dispute(request: HttpRequest, case_id: RowId, payload: AssignIn) -> object:
    return _case(
        services.assign_dispute(case_id=case_id, owner_id=payload.owner_id, actor=api_actor(request))
    )


@router.post("/cases/{case_id}/notes", response={201: CaseOut, **errors(*WRITE_ERRORS, 404)})
def add_note(request: HttpRequest, case_id: RowId, payload: NoteIn) -> object:
    services.add_note(case_id=case_id, text=payload.text, actor=api_actor(request))
    return Status(201, selectors.get_case(case_id))


@router.post("/cases/{case_id}/attachments", response={201: AttachmentOut, **errors(*WRITE_ERRORS, 404)})
def attach_file(
    request: HttpRequest,
    case_id: RowId,
    file: UploadedFile = File(...),  # noqa: B008
) -> object:
    """Evidence kept with the case, as the multipart part `file`; at most 10 MiB, not empty."""
    name = file.name or "upload"
    check_attachment_size(name, file.size or 0)  # refused before the whole file is read
    attachment = services.attach_file(
        case_id=case_id, file_name=name, content=file.read(), actor=api_actor(request),
        content_type=file.content_type or "",
    )  # fmt: skip
    return Status(201, attachment)


@router.get(
    "/cases/{case_id}/attachments/{attachment_id}",
    response={200: None, **errors(404, 422)},
    openapi_extra={
        "responses": {
            200: {
                "description": "OK",
                # the file's own type, as uploaded
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_attachment(request: HttpRequest, case_id: RowId, attachment_id: RowId) -> HttpResponse:
    """The file as uploaded; `X-Content-SHA256` is the hash recorded at upload."""
    return attachment_response(selectors.get_attachment(case_id, attachment_id))


@router.post("/cases/{case_id}/reject", response={200: CaseOut, **errors(*WRITE_ERRORS, 404)})
def reject_dispute(request: HttpRequest, case_id: RowId, payload: RejectCaseIn) -> object:
    """Decided against the customer: the invoice stands."""
    return _case(services.reject_dispute(case_id=case_id, actor=api_actor(request), **payload.model_dump()))


@router.post("/cases/{case_id}/withdraw", response={200: CaseOut, **errors(*WRITE_ERRORS, 404)})
def withdraw_dispute(request: HttpRequest, case_id: RowId, payload: WithdrawIn) -> object:
    """The customer withdrew the dispute."""
    return _case(services.withdraw_dispute(case_id=case_id, note=payload.note, actor=api_actor(request)))


@router.post("/cases/{case_id}/resolve-credit", response={200: CaseOut, **errors(*WRITE_ERRORS, 404)})
def resolve_by_credit(request: HttpRequest, case_id: RowId, payload: ResolveCreditIn) -> object:
    """Resolved with a credit note for the disputed amount, issued and posted; it settles the invoice."""
    case = services.resolve_by_credit(case_id=case_id, actor=api_actor(request), **payload.model_dump())
    return _case(case)


@router.post("/cases/{case_id}/resolve-rebill", response={200: CaseOut, **errors(*WRITE_ERRORS, 404)})
def resolve_by_rebill(request: HttpRequest, case_id: RowId, payload: ResolveRebillIn) -> object:
    """Resolved by a re-bill: the invoice is credited in full and a corrected draft is started."""
    case = services.resolve_by_rebill(case_id=case_id, actor=api_actor(request), **payload.model_dump())
    return _case(case)


@router.get("/resolution-times", response={200: ResolutionTimesOut, **errors(*QUERY_ERRORS)})
def resolution_times(request: HttpRequest, window: Query[WindowIn]) -> object:
    """The dispute-resolution-time KPI: cases decided from `start` to `end` (both included)."""
    times = selectors.resolution_times(window.start, window.end)
    return {
        "start": times.start, "end": times.end, "count": times.count,
        "average_seconds": times.average_seconds,
        "cases": [
            {"case_id": case.case_id, "status": case.status, "opened_at": case.opened_at,
             "resolved_at": case.resolved_at, "seconds": case.seconds}
            for case in times.cases
        ],
    }  # fmt: skip
