"""Bill runs: turning billable work into issued invoices for one month, and previewing exactly that.

A run for a month:
1. `open_run` fixes its customers: every customer whose billing cycle is due at the end of the month
   (`due_customers`), in account-number order; it splits them into partitions. Whether one has work pending
   is found out as its chunk is billed, under its lock (reading everything pending twice would cost a
   large run a fifth of its time);
2. `run_partition` bills a partition's customers a chunk at a time, each chunk in a transaction of its
   own: locks the chunk's customers, takes their pending work, prices it as each customer's invoices
   dated `invoice_date` with the invoicing engine (`planning.plan_customer`: one per customer, or per
   matter or contract), issues them all at once (`issue_documents`) but for those it leaves as drafts
   for review (`BillRunDraft`), and records one `BilledItem` per item of work, whose unique key makes
   the database refuse to bill an item twice. If a chunk fails as a whole (a closed period, a database
   error), its customers are billed again one by one, each in its own transaction, so only a customer
   at fault is left out;
3. a customer it cannot bill (credit hold, a missing tax rate, a timekeeper without a rate) is listed as
   an exception with the reason; nothing of it is billed and the run carries on;
4. when the last partition is done, the run gets its counts and totals: the customers due are those it
   billed or listed, as in its preview.

A partition can run again after a crash: customers billed before it have nothing pending any more.
Deleting a draft a run left makes its work pending again (`services.releases`).
`services.execution` carries a run out, in this process or on Celery workers.

`preview_run` does 1 and the planning of 2 with the same functions and writes nothing, so a run right
after its preview produces exactly the invoices (and drafts) the preview showed. Running a month again
bills nothing new: what was billed is no longer pending.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet, Sum, prefetch_related_objects
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.billing.models import BilledItem, BillRun, BillRunDraft, BillRunException, BillRunPartition
from billops.billing.services import billables
from billops.billing.services.contracts import settle_contract_terms
from billops.billing.services.planning import PlannedInvoice, plan_customer, usual_amounts
from billops.core.calendars import month_end
from billops.core.db import insert_rows
from billops.core.errors import DomainError, InvalidInput
from billops.core.memo import reference_data_cached
from billops.core.money import round_money
from billops.customers.models import Customer
from billops.invoicing.models import Invoice, InvoiceStatus
from billops.invoicing.selectors import get_entity
from billops.invoicing.services.bulk import issue_documents
from billops.invoicing.services.drafts import invoice_state, save_priced
from billops.invoicing.services.lines import clean_document_date

logger = logging.getLogger(__name__)
PARTITION_SIZE = 500  # customers per partition: the unit a worker takes and a resume re-runs

# the months at whose end a cycle is due; an anniversary customer is due in its anniversary's month
DUE_MONTHS = {
    Customer.Cycle.MONTHLY: frozenset(range(1, 13)),
    Customer.Cycle.QUARTERLY: frozenset({3, 6, 9, 12}),
    Customer.Cycle.ANNUAL: frozenset({12}),
}


def due_customers(period_start: date) -> QuerySet[Customer]:
    """The customers whose cycle bills at the end of the month that starts on `period_start`."""
    cycles = [cycle for cycle, months in DUE_MONTHS.items() if period_start.month in months]
    return Customer.objects.filter(
        Q(cycle__in=cycles) | Q(cycle=Customer.Cycle.ANNIVERSARY, anniversary_on__month=period_start.month)
    )


def parse_period(period: str) -> date:
    """The first day of a month written `YYYY-MM`."""
    try:
        year, month = (int(part) for part in period.split("-"))
        return date(year, month, 1)
    except (ValueError, OverflowError):  # not two numbers, or no such month
        raise InvalidInput(f"the period {period!r} is not a month (YYYY-MM)", field="period") from None


@dataclass
class RunException:
    customer: Customer
    field: str
    message: str


@dataclass
class RunPreview:
    period_start: date
    period_end: date
    invoice_date: date
    customers_due: int
    invoices: list[PlannedInvoice] = field(default_factory=list)  # issued and left as drafts, in order
    exceptions: list[RunException] = field(default_factory=list)

    def totals(self) -> dict[str, Decimal]:
        """The totals of the invoices the run would issue, per currency."""
        return _totals(
            (planned.invoice.currency, planned.invoice.total)
            for planned in self.invoices
            if not planned.draft_reason
        )

    def draft_totals(self) -> dict[str, Decimal]:
        """The totals of those it would leave as drafts for review."""
        return _totals(
            (planned.invoice.currency, planned.invoice.total)
            for planned in self.invoices
            if planned.draft_reason
        )

    @property
    def drafts(self) -> list[PlannedInvoice]:
        return [planned for planned in self.invoices if planned.draft_reason]


def _totals(amounts: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for currency, total in amounts:
        by_currency[currency] += total
    return {currency: round_money(total, currency).amount for currency, total in sorted(by_currency.items())}


def _clean_dates(period: str, invoice_date: date | None) -> tuple[date, date, date]:
    start = parse_period(period)
    end = month_end(start)
    return start, end, clean_document_date(invoice_date, "invoice_date") or clock.today()


def preview_run(*, period: str, actor: User, invoice_date: date | None = None) -> RunPreview:
    """What a run of the month would issue now, and whom it could not bill; writes nothing."""
    require_permission(actor, "billing.run")
    start, end, on = _clean_dates(period, invoice_date)
    pending = billables.pending(end)
    customers = list(due_customers(start).filter(pk__in=list(pending)).order_by("account_number"))
    preview = RunPreview(start, end, on, customers_due=len(customers))
    entity = get_entity()
    usual = usual_amounts([customer.pk for customer in customers])
    with reference_data_cached():
        for customer in customers:
            try:
                preview.invoices.extend(
                    plan_customer(customer, pending[customer.pk], on, actor, entity, usual)
                )
            except DomainError as exc:
                preview.exceptions.append(RunException(customer, exc.field or "", exc.message))
    return preview


@transaction.atomic(durable=True)
def _bill_chunk(run: BillRun, customer_ids: Sequence[int], actor: User) -> None:
    """Bill a chunk of the run's customers at once: issue their invoices, save those left for review as
    drafts, and list the customers it could not bill; a customer with nothing pending any more (billed by
    an earlier attempt) is skipped."""
    # locked in id order, as every chunk does: two chunks never wait for each other in a circle
    locked = Customer.objects.select_for_update(of=("self",)).select_related("terms").order_by("pk")
    customers = {customer.pk: customer for customer in locked.filter(pk__in=customer_ids)}
    prefetch_related_objects(list(customers.values()), "addresses")
    pending = billables.pending(run.period_end, customer_ids=customer_ids, lock=True)
    entity = get_entity()
    usual = usual_amounts(list(pending))
    planned: list[PlannedInvoice] = []
    refused: list[BillRunException] = []
    with reference_data_cached():
        for customer_id in customer_ids:  # in account-number order: the invoices are numbered so
            if customer_id not in pending:
                continue
            customer = customers[customer_id]
            try:
                planned.extend(
                    plan_customer(customer, pending[customer_id], run.invoice_date, actor, entity, usual)
                )
            except DomainError as exc:
                refused.append(
                    BillRunException(
                        run=run, customer=customer, field=exc.field or "", message=exc.message[:500]
                    )
                )
        issue_documents(
            [(plan.invoice, plan.lines, plan.taxes) for plan in planned if not plan.draft_reason],
            actor=actor,
            issued_on=run.invoice_date,
        )
    drafts = [_save_draft(run, plan, actor) for plan in planned if plan.draft_reason]
    insert_rows(
        [
            BilledItem(
                key=item.key,
                customer_id=plan.customer.pk,
                invoice_id=plan.invoice.pk,
                line_no=line.line_no,
                run_id=run.pk,
            )
            for plan in planned
            for item, line in zip(plan.items, plan.lines, strict=True)
        ]
    )
    billables.mark_billed([item for plan in planned for item in plan.items])
    BillRunDraft.objects.bulk_create(drafts)
    BillRunException.objects.filter(run=run, customer_id__in=customer_ids).delete()  # an earlier attempt's
    BillRunException.objects.bulk_create(refused)


def _save_draft(run: BillRun, plan: PlannedInvoice, actor: User) -> BillRunDraft:
    """Write a planned invoice as a draft for review (submitted, when it needs approval), audited."""
    invoice = plan.invoice
    if plan.draft_reason == BillRunDraft.Reason.APPROVAL:
        invoice.status, invoice.approval_required = InvoiceStatus.SUBMITTED, True
        invoice.submitted_by, invoice.submitted_at = actor, timezone.now()
    save_priced(invoice, plan.lines, plan.taxes)
    after: dict[str, Any] = {
        **invoice_state(invoice),
        "bill_run": run.pk,
        "draft_reason": plan.draft_reason,
        "draft_message": plan.draft_message,
        "lines": len(plan.lines),
    }
    record_event(actor=actor, action="invoice.draft_created", target=invoice, after=after)
    return BillRunDraft(
        run=run, customer=plan.customer, invoice=invoice, reason=plan.draft_reason,
        message=plan.draft_message[:500], currency=invoice.currency, total=invoice.total,
    )  # fmt: skip


def _bill_each(run: BillRun, customer_ids: Sequence[int], actor: User) -> None:
    """The chunk's customers one by one, each in its own transaction: one that fails is listed as an
    exception and the others are billed."""
    for customer_id in customer_ids:
        try:
            _bill_chunk(run, [customer_id], actor)
        except DomainError as exc:
            _record_exception(run, customer_id, exc)


@transaction.atomic(durable=True)
def _record_exception(run: BillRun, customer_id: int, exc: DomainError) -> None:
    BillRunException.objects.update_or_create(
        run=run, customer_id=customer_id, defaults={"field": exc.field or "", "message": exc.message[:500]}
    )


def open_run(
    *, period: str, actor: User, invoice_date: date | None = None, partition_size: int = PARTITION_SIZE
) -> BillRun:
    """Fix the run's customers (those whose cycle is due) and split them into partitions."""
    require_permission(actor, "billing.run")
    require_permission(actor, "invoicing.issue")
    start, end, on = _clean_dates(period, invoice_date)
    if partition_size < 1:
        raise InvalidInput("a partition holds at least one customer", field="partition_size")
    with transaction.atomic(durable=True):
        # contracts whose term ended by the month's end renew or end first: that decides what is due
        settle_contract_terms(up_to=end, actor=actor)
    customer_ids = list(due_customers(start).order_by("account_number").values_list("pk", flat=True))
    with transaction.atomic(durable=True):
        run = BillRun.objects.create(period_start=start, period_end=end, invoice_date=on, started_by=actor)
        BillRunPartition.objects.bulk_create(
            BillRunPartition(
                run=run, number=number, customer_ids=customer_ids[offset : offset + partition_size]
            )
            for number, offset in enumerate(range(0, len(customer_ids), partition_size), start=1)
        )
        record_event(
            actor=actor,
            action="bill_run.started",
            target=run,
            after={"period": f"{start:%Y-%m}", "invoice_date": on, "customers_in_cycle": len(customer_ids)},
        )
    return run


@transaction.atomic(durable=True)
def _claim(partition_id: int) -> BillRunPartition | None:
    """Mark the partition as being billed by this process; None when it is done already. A failed one is
    taken again."""
    partition = (
        BillRunPartition.objects.select_for_update(of=("self",))
        .select_related("run__started_by")
        .get(pk=partition_id)
    )
    if partition.status == BillRunPartition.Status.DONE:
        return None
    partition.status, partition.attempts = BillRunPartition.Status.RUNNING, partition.attempts + 1
    partition.worker, partition.started_at = f"{socket.gethostname()}:{os.getpid()}", timezone.now()
    partition.save(update_fields=["status", "attempts", "worker", "started_at"])
    return partition


def run_partition(partition_id: int) -> None:
    """Bill the partition's customers, each in its own transaction, as the user who started the run.
    Safe to call again after a crash, or twice at once: nothing is billed twice."""
    partition = _claim(partition_id)
    if partition is None:
        return
    run = partition.run
    customer_ids = partition.customer_ids
    try:
        size = settings.BILL_RUN_CHUNK_SIZE  # bulk writes, yet locks held for a short while
        for offset in range(0, len(customer_ids), size):
            chunk = customer_ids[offset : offset + size]
            try:
                _bill_chunk(run, chunk, run.started_by)
            except (DomainError, DatabaseError):  # refused as a whole: find the customer at fault
                logger.warning("bill run %s: a chunk failed; billing its customers one by one", run.pk)
                _bill_each(run, chunk, run.started_by)
    except Exception as exc:  # a bug or a lost database: say so on the partition, then let it propagate
        _finish(partition, BillRunPartition.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    _finish(partition, BillRunPartition.Status.DONE)
    close_when_complete(run.pk)


@transaction.atomic(durable=True)
def _finish(partition: BillRunPartition, status: str, error: str = "") -> None:
    BillRunPartition.objects.filter(pk=partition.pk).update(
        status=status, error=error, finished_at=timezone.now()
    )


@transaction.atomic(durable=True)
def close_when_complete(run_id: int) -> None:
    """Once every partition is done: the run's counts and totals, and its closing audit event."""
    run = BillRun.objects.select_for_update().get(pk=run_id)
    if (
        run.status == BillRun.Status.DONE
        or run.partitions.exclude(status=BillRunPartition.Status.DONE).exists()
    ):
        return
    billed = BilledItem.objects.filter(run=run)
    drafts = run.drafts.filter(invoice__isnull=False)
    issued = Invoice.objects.filter(pk__in=billed.values("invoice_id")).exclude(
        pk__in=drafts.values("invoice_id")
    )
    run.invoices_issued = issued.count()
    run.customers_due = billed.values("customer_id").distinct().count() + run.exceptions.count()
    amounts = issued.values("currency").annotate(total=Sum("total")).values_list("currency", "total")
    run.totals = {currency: str(total) for currency, total in _totals(amounts).items()}
    run.drafts_created = run.drafts.count()
    draft_amounts = run.drafts.values("currency").annotate(sum=Sum("total")).values_list("currency", "sum")
    run.draft_totals = {currency: str(total) for currency, total in _totals(draft_amounts).items()}
    run.status, run.finished_at = BillRun.Status.DONE, timezone.now()
    run.save()
    record_event(
        actor=run.started_by,
        action="bill_run.finished",
        target=run,
        after={
            "invoices_issued": run.invoices_issued,
            "drafts_created": run.drafts_created,
            "exceptions": run.exceptions.count(),
            "totals": run.totals,
            "draft_totals": run.draft_totals,
        },
    )
