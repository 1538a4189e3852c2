"""Reads of dispute cases for the API, the pages, dunning and the KPIs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import cast

from django.db.models import Count, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import PERMISSIONS
from billops.audit.models import AuditEvent
from billops.audit.selectors import history_of
from billops.collections.selectors.timeline import Entry
from billops.core.db import given
from billops.core.errors import InvalidInput, NotFound
from billops.core.money import round_money
from billops.disputes.crediting import CreditPlan, case_credit_plan, lines_left
from billops.disputes.models import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    DisputeAttachment,
    DisputeCase,
    DisputedLine,
    DisputeNote,
    Status,
)
from billops.invoicing.models import Invoice, InvoiceLine

ACTIVE = "active"  # the status filter for cases still being worked: open or investigating
SECONDS_PER_DAY = Decimal(86400)


def _cases() -> QuerySet[DisputeCase]:
    return DisputeCase.objects.select_related(
        "invoice", "customer", "owner", "opened_by", "resolved_by", "credit_note", "rebill_draft"
    )


def get_case(case_id: int) -> DisputeCase:
    """One case with its invoice, customer and people, or NotFound."""
    case = _cases().filter(pk=case_id).first()
    if case is None:
        raise NotFound(f"there is no dispute {case_id}", field="case_id")
    return case


def list_cases(
    *,
    status: str = "",
    owner_id: int | None = None,
    customer_id: int | None = None,
    invoice_id: int | None = None,
    overdue_sla: bool = False,
    unassigned: bool = False,
) -> QuerySet[DisputeCase]:
    """Cases, the ones due first; `status` "active" keeps those still being worked, `overdue_sla` those
    still being worked past their SLA due date, `unassigned` those nobody owns."""
    if status and status != ACTIVE and status not in Status.values:
        raise InvalidInput(
            f"status must be {ACTIVE} or one of {', '.join(Status.values)}, not {status!r}", field="status"
        )
    cases = _cases().filter(**given(owner_id=owner_id, customer_id=customer_id, invoice_id=invoice_id))
    if status == ACTIVE:
        cases = cases.filter(status__in=ACTIVE_STATUSES)
    elif status:
        cases = cases.filter(status=status)
    if unassigned:
        cases = cases.filter(owner__isnull=True)
    if overdue_sla:
        cases = cases.filter(status__in=ACTIVE_STATUSES, sla_due_on__lt=clock.today())
    return cases.order_by("sla_due_on", "pk")


def open_cases_for_customer(customer_id: int) -> QuerySet[DisputeCase]:
    """The customer's cases still being worked (open or investigating), the ones due first."""
    return list_cases(status=ACTIVE, customer_id=customer_id)


def is_overdue(case: DisputeCase, on: date | None = None) -> bool:
    """A case still being worked whose SLA due date has passed."""
    return case.is_active and case.sla_due_on < (on or clock.today())


def disputed_amounts(invoice_ids: Iterable[int]) -> dict[int, Decimal]:
    """What cases still being worked dispute on each invoice (tax included, in the invoice's currency);
    dunning leaves it out of what it asks for. Invoices without such a case are not in the reply."""
    sums = (
        DisputeCase.objects.filter(invoice_id__in=list(invoice_ids), status__in=ACTIVE_STATUSES)
        .values("invoice_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    # rounded to the currency: SQLite sums decimals in floating point
    return {row["invoice_id"]: round_money(row["total"], row["currency"]).amount for row in sums}


@dataclass(frozen=True)
class ResolutionTime:
    case_id: int
    status: str
    opened_at: datetime
    resolved_at: datetime

    @property
    def duration(self) -> timedelta:
        return self.resolved_at - self.opened_at

    @property
    def seconds(self) -> int:
        """Whole seconds from opening to decision, rounded down."""
        return self.duration // timedelta(seconds=1)


@dataclass(frozen=True)
class ResolutionTimes:
    start: date
    end: date
    cases: list[ResolutionTime]

    @property
    def count(self) -> int:
        return len(self.cases)

    @property
    def average_seconds(self) -> int | None:
        """The average time from opening to decision in whole seconds, rounded down; None with no case."""
        if not self.cases:
            return None
        return (
            sum((case.duration for case in self.cases), timedelta())
            // len(self.cases)
            // timedelta(seconds=1)
        )

    @property
    def average_days(self) -> Decimal | None:
        """The average time from opening to decision in days (unrounded); None with no case."""
        if not self.cases:
            return None
        seconds = sum((_seconds(case.duration) for case in self.cases), Decimal(0))
        return seconds / SECONDS_PER_DAY / len(self.cases)


def _seconds(duration: timedelta) -> Decimal:
    # exactly, from the parts: timedelta.total_seconds() is a float
    return Decimal(duration.days * 86400 + duration.seconds) + Decimal(duration.microseconds) / 1_000_000


def resolution_times(start: date, end: date) -> ResolutionTimes:
    """The dispute-resolution-time KPI: each case decided from `start` to `end` (both days included, in
    the system's time zone), from opening to decision, whatever the decision was."""
    if end < start:
        raise InvalidInput("the window ends before it starts", field="end")
    decided = (
        DisputeCase.objects.filter(
            status__in=FINAL_STATUSES, resolved_at__date__gte=start, resolved_at__date__lte=end
        )
        .order_by("resolved_at", "pk")
        .values_list("pk", "status", "opened_at", "resolved_at")
    )
    # a final case always has its `resolved_at` (a database constraint)
    times = [
        ResolutionTime(pk, status, opened, cast(datetime, resolved))
        for pk, status, opened, resolved in decided
    ]
    return ResolutionTimes(start, end, times)


# --- a case's page ----------------------------------------------------------------------------------


def list_disputed_lines(case: DisputeCase) -> QuerySet[DisputedLine]:
    return case.lines.select_related("line").order_by("line__line_no")


def list_notes(case: DisputeCase) -> QuerySet[DisputeNote]:
    return case.notes.select_related("author").order_by("created_at", "pk")


def list_attachments(case: DisputeCase) -> QuerySet[DisputeAttachment]:
    """The case's files, without their content."""
    return case.attachments.select_related("uploaded_by").defer("content").order_by("uploaded_at", "pk")


def get_attachment(case_id: int, attachment_id: int) -> DisputeAttachment:
    """One file of a case, with its content, or NotFound."""
    found = DisputeAttachment.objects.filter(case_id=case_id, pk=attachment_id).first()
    if found is None:
        raise NotFound(f"dispute {case_id} has no attachment {attachment_id}", field="attachment_id")
    return found


def case_history(case: DisputeCase) -> QuerySet[AuditEvent]:
    """Every audit event about the case, newest first."""
    return history_of(case)


def credit_preview(case: DisputeCase) -> CreditPlan:
    """The credit note resolving the case by credit would issue now, for the clerk to see first."""
    return case_credit_plan(case)


def list_case_workers() -> QuerySet[User]:
    """Active users whose role may work disputes: the people a case can be assigned to."""
    roles = PERMISSIONS["disputes.work"]
    return User.objects.filter(is_active=True, role__in=roles).order_by("username")


@dataclass(frozen=True)
class DisputableLine:
    """An invoice line as the "open a dispute" form shows it: what is left of it (tax included) and what
    other cases dispute of it already."""

    line: InvoiceLine
    left: Decimal
    disputed: Decimal

    @property
    def available(self) -> Decimal:
        return max(self.left - self.disputed, Decimal(0))


def disputable_lines(invoice: Invoice) -> list[DisputableLine]:
    disputed: dict[int, Decimal] = {}
    claims = DisputedLine.objects.filter(line__invoice=invoice, case__status__in=ACTIVE_STATUSES)
    for line_id, amount in claims.values_list("line_id", "amount"):
        disputed[line_id] = disputed.get(line_id, Decimal(0)) + amount
    return [
        DisputableLine(left.line, left.gross, disputed.get(left.line.pk, Decimal(0)))
        for left in lines_left(invoice)
    ]


def disputed_on(invoice: Invoice) -> Decimal:
    """What cases still being worked dispute on this invoice, together."""
    return disputed_amounts([invoice.pk]).get(invoice.pk, Decimal(0))


def open_dispute_counts(customer_ids: Iterable[int]) -> dict[int, int]:
    """Per customer, its cases still being worked; customers without one are not in the reply."""
    counts = (
        DisputeCase.objects.filter(customer_id__in=list(customer_ids), status__in=ACTIVE_STATUSES)
        .values("customer_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["customer_id"]: row["count"] for row in counts}


def timeline_entries(customer_id: int) -> list[Entry]:
    """The customer's dispute cases on its collections timeline: opened, and decided."""
    entries = []
    for case in DisputeCase.objects.filter(customer_id=customer_id).select_related("invoice", "opened_by"):
        url = reverse("disputes:case", args=[case.pk])
        amount = round_money(case.amount, case.currency)
        entries.append(
            Entry(
                on=case.opened_on, kind="dispute", url=url, by=str(case.opened_by),
                title=f"Dispute {case.pk} opened on {case.invoice.number}: {amount}",
                detail=f"{case.get_reason_display()}; {case.get_status_display().lower()}",
            )
        )  # fmt: skip
        if case.resolved_at is not None:
            entries.append(
                Entry(
                    on=timezone.localdate(case.resolved_at), kind="dispute", url=url,
                    title=f"Dispute {case.pk} {case.get_status_display().lower()}",
                    detail=case.get_root_cause_display() if case.root_cause else "",
                )
            )  # fmt: skip
    return entries


def counts() -> dict[str, int]:
    """What `billops check` counts of disputes: cases by status."""
    by_status = dict(DisputeCase.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {f"disputes_{status}": by_status.get(status, 0) for status in Status.values}
