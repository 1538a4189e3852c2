"""Bill runs: turning billable work into issued invoices for one month, and previewing exactly that.

A run for a month:
1. `open_run` fixes its customers: every customer whose billing cycle is due at the end of the month
   (`due_customers`), in account-number order; it splits them into partitions. Whether one has work pending
   is found out as its chunk is billed, under its lock (reading everything pending twice would cost a
   large run a fifth of its time);
2. `run_partition` bills a partition's customers a chunk at a time, each chunk in a transaction of its
   own: locks the chunk's customers, takes their pending work, prices it as one invoice per customer
   dated `invoice_date` with the invoicing engine, issues them all at once (`issue_documents`), and
   records one `BilledItem` per item of work, whose unique key makes the database refuse to bill an
   item twice. If a chunk fails as a whole (a closed period, a database error), its customers are
   billed again one by one, each in its own transaction, so only a customer at fault is left out;
3. a customer it cannot bill (credit hold, an invoice that needs approval, a missing tax rate) is listed
   as an exception with the reason; nothing of it is billed and the run carries on;
4. when the last partition is done, the run gets its counts and totals: the customers due are those it
   billed or listed, as in its preview.

A partition can run again after a crash: customers billed before it have nothing pending any more.
`services.execution` carries a run out, in this process or on Celery workers.

`preview_run` does 1 and the pricing of 2 with the same functions and writes nothing, so a run right
after its preview produces exactly the invoices the preview showed. Running a month again bills nothing
new: what was billed is no longer pending.
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

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet, Sum, prefetch_related_objects
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.billing.models import BilledItem, BillRun, BillRunException, BillRunPartition
from billops.billing.services import billables
from billops.billing.services.billables import Billable
from billops.billing.services.contracts import settle_contract_terms
from billops.core.calendars import month_end
from billops.core.db import insert_rows
from billops.core.errors import DomainError, InvalidInput
from billops.core.memo import reference_data_cached
from billops.core.money import round_money
from billops.customers.models import Customer
from billops.customers.selectors import get_customer
from billops.invoicing.errors import WrongStatus
from billops.invoicing.models import BillingEntity, Invoice, InvoiceLine, InvoiceTax
from billops.invoicing.selectors import get_entity
from billops.invoicing.services.bulk import issue_documents
from billops.invoicing.services.drafts import build_lines, document_for, save_priced
from billops.invoicing.services.lines import calculate, clean_document_date
from billops.invoicing.services.workflow import (
    approval_reason,
    issue_document,
    pre_issue_checks,
    refuse_blocking,
)

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
class PlannedInvoice:
    """One customer's invoice as the run would issue it: priced, taxed, not written."""

    customer: Customer
    invoice: Invoice
    lines: list[InvoiceLine]
    taxes: list[InvoiceTax]
    items: list[Billable]  # what each line bills, in line order


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
    invoices: list[PlannedInvoice] = field(default_factory=list)
    exceptions: list[RunException] = field(default_factory=list)

    def totals(self) -> dict[str, Decimal]:
        return _totals((planned.invoice.currency, planned.invoice.total) for planned in self.invoices)


def _totals(amounts: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    by_currency: dict[str, Decimal] = defaultdict(Decimal)
    for currency, total in amounts:
        by_currency[currency] += total
    return {currency: round_money(total, currency).amount for currency, total in sorted(by_currency.items())}


def plan_invoice(
    customer: Customer,
    items: Sequence[Billable],
    invoice_date: date,
    actor: User,
    entity: BillingEntity | None = None,
) -> PlannedInvoice:
    """Price a customer's pending work as one invoice in memory, refused as the run would refuse it: a
    blocking pre-issue check (credit hold, …), an item its source could not price, or an invoice that
    needs approval."""
    for item in items:
        if item.problem:
            raise InvalidInput(item.problem, field=item.problem_field or item.kind)
    invoice = document_for(
        customer=customer, entity=entity or get_entity(), actor=actor, issued_on=invoice_date
    )
    lines = build_lines(invoice, [item.line for item in items], is_new=True)
    taxes = calculate(invoice, lines)
    refuse_blocking(pre_issue_checks(invoice, lines))
    reason = approval_reason(invoice)
    if reason:
        raise WrongStatus(
            f"a bill run does not issue an invoice that needs approval: {reason}", field="approval"
        )
    return PlannedInvoice(customer, invoice, lines, taxes, list(items))


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
    with reference_data_cached():
        for customer in customers:
            try:
                preview.invoices.append(plan_invoice(customer, pending[customer.pk], on, actor, entity))
            except DomainError as exc:
                preview.exceptions.append(RunException(customer, exc.field or "", exc.message))
    return preview


@transaction.atomic(durable=True)
def _bill_chunk(run: BillRun, customer_ids: Sequence[int], actor: User) -> None:
    """Issue the invoices of a chunk of the run's customers at once, and list the customers it could not
    bill; a customer with nothing pending any more (billed by an earlier attempt) is skipped."""
    # locked in id order, as every chunk does: two chunks never wait for each other in a circle
    locked = Customer.objects.select_for_update(of=("self",)).select_related("terms").order_by("pk")
    customers = {customer.pk: customer for customer in locked.filter(pk__in=customer_ids)}
    prefetch_related_objects(list(customers.values()), "addresses")
    pending = billables.pending(run.period_end, customer_ids=customer_ids, lock=True)
    entity = get_entity()
    planned: list[PlannedInvoice] = []
    refused: list[BillRunException] = []
    with reference_data_cached():
        for customer_id in customer_ids:  # in account-number order: the invoices are numbered so
            if customer_id not in pending:
                continue
            customer = customers[customer_id]
            try:
                planned.append(plan_invoice(customer, pending[customer_id], run.invoice_date, actor, entity))
            except DomainError as exc:
                refused.append(
                    BillRunException(
                        run=run, customer=customer, field=exc.field or "", message=exc.message[:500]
                    )
                )
        issue_documents(
            [(plan.invoice, plan.lines, plan.taxes) for plan in planned],
            actor=actor,
            issued_on=run.invoice_date,
        )
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
    BillRunException.objects.filter(run=run, customer_id__in=customer_ids).delete()  # an earlier attempt's
    BillRunException.objects.bulk_create(refused)


def _bill_each(run: BillRun, customer_ids: Sequence[int], actor: User) -> None:
    """The chunk's customers one by one, each in its own transaction: one that fails is listed as an
    exception and the others are billed."""
    for customer_id in customer_ids:
        try:
            _bill_customer(run, customer_id, actor)
        except DomainError as exc:
            _record_exception(run, customer_id, exc)


@transaction.atomic(durable=True)
def _bill_customer(run: BillRun, customer_id: int, actor: User) -> Invoice | None:
    """Issue the customer's invoice of the run, or nothing if it has nothing pending any more (billed
    already by an earlier attempt of its partition, or by another run)."""
    customer = get_customer(customer_id, for_update=True)
    items = billables.pending(run.period_end, customer_ids=[customer.pk], lock=True).get(customer.pk, [])
    if not items:
        return None
    planned = plan_invoice(customer, items, run.invoice_date, actor)
    invoice = save_priced(planned.invoice, planned.lines, planned.taxes)
    issue_document(invoice, actor=actor, issued_on=run.invoice_date)
    BilledItem.objects.bulk_create(
        BilledItem(key=item.key, customer=customer, invoice=invoice, line_no=line.line_no, run=run)
        for item, line in zip(planned.items, invoice.lines.all(), strict=True)
    )
    billables.mark_billed(items)
    BillRunException.objects.filter(run=run, customer=customer).delete()  # listed by an earlier attempt
    return invoice


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
    issued = Invoice.objects.filter(pk__in=billed.values("invoice_id"))
    run.invoices_issued = issued.count()
    run.customers_due = billed.values("customer_id").distinct().count() + run.exceptions.count()
    amounts = issued.values("currency").annotate(total=Sum("total")).values_list("currency", "total")
    run.totals = {currency: str(total) for currency, total in _totals(amounts).items()}
    run.status, run.finished_at = BillRun.Status.DONE, timezone.now()
    run.save()
    record_event(
        actor=run.started_by,
        action="bill_run.finished",
        target=run,
        after={
            "invoices_issued": run.invoices_issued,
            "exceptions": run.exceptions.count(),
            "totals": run.totals,
        },
    )
