"""`billops demo`'s year: billable work captured and billed month by month through real bill runs, with
the business date moved through the year as a demo system allows.

For each month from the first to the last finished one, the admin moves the clock:

1. to the 15th: sign-ups and cancellations, sales orders, last month's late usage, the trainee's rate,
   and the clerk's corrections of what last month's run issued (credit notes, voids);
2. to the month's last day: the month's usage, deliveries, one-off charges, time and expenses, approved
   by the supervisor;
3. to the 1st of the next month: the clerk runs the month's bill run (invoices dated that day), and the
   supervisor closes the month.

The current month gets its work up to today, not billed, its time waiting for approval, drafts and
invoices awaiting approval. At the end the clock is reset, so the demo system runs on the real date.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from rich.progress import Progress

from billops.access.models import User
from billops.access.services import reset_business_date, set_business_date
from billops.billing.models import BilledItem, BillRun
from billops.billing.services.execution import start_run
from billops.cli.demo_cash import CashFigures, DemoCash
from billops.cli.demo_collections import CollectionsFigures, DemoCollections
from billops.cli.demo_invoices import correct_run, leave_work_in_progress, set_up_invoicing
from billops.cli.demo_time import LEGAL_CLIENTS, DemoTime, TimeFigures
from billops.cli.demo_work import DemoWork, WorkFigures
from billops.core.calendars import add_months, month_end
from billops.customers.models import Customer
from billops.invoicing.models import InvoiceStatus
from billops.invoicing.selectors import get_invoice
from billops.invoicing.services.workflow import approve_invoice, issue_invoice, submit_invoice
from billops.ledger.services import close_period

FIRST_MONTH = date(2026, 1, 1)
MID_MONTH = 15
DUNNING_MONTHS = 2  # the months the demo's dunning runs: this one and the one before
# billed-item kinds (the key's first part) and how the summary names them
KINDS = {
    "subscription": "subscriptions",
    "usage": "usage",
    "delivery": "order deliveries",
    "charge": "one-off charges",
    "time": "time",
    "expense": "expenses",
}


@dataclass
class DemoYear:
    """What the year built, for the demo's summary."""

    runs: int = 0
    invoices: int = 0  # issued by the bill runs
    run_exceptions: int = 0  # customers a run could not bill, summed over the runs
    run_drafts: int = 0  # invoices a run left as drafts for review (held, or needing approval)
    drafts_issued: int = 0  # of those, reviewed and issued in the month after their run
    cash: CashFigures = field(default_factory=CashFigures)
    invoices_by_kind: dict[str, int] = field(default_factory=dict)  # invoices billing each kind of work
    credit_notes: int = 0
    voids: int = 0
    drafts: int = 0
    awaiting_approval: int = 0
    months_closed: list[str] = field(default_factory=list)
    work: WorkFigures = field(default_factory=WorkFigures)
    time: TimeFigures = field(default_factory=TimeFigures)
    collections: CollectionsFigures = field(default_factory=CollectionsFigures)


def demo_months(today: date, months: int) -> list[date]:
    """The first day of each month the demo builds: since January 2026, or the last `months` months."""
    this_month = today.replace(day=1)
    month = max(FIRST_MONTH, add_months(this_month, 1 - months)) if months else FIRST_MONTH
    found = []
    while month <= this_month:
        found.append(month)
        month = add_months(month, 1)
    return found


def build_demo_year(
    *,
    rng: random.Random,
    users: dict[str, User],
    customer_ids: list[int],
    today: date,
    months: int,
    progress: Progress,
) -> DemoYear:
    """Capture and bill the demo's months for its active customers; the clock is reset even on failure."""
    admin, clerk, supervisor = users["admin"], users["clerk"], users["supervisor"]
    set_up_invoicing(admin, supervisor)
    cash = DemoCash(rng, clerk, supervisor)
    active = list(
        Customer.objects.filter(pk__in=customer_ids, status=Customer.Status.ACTIVE).order_by("account_number")
    )
    taking_work = [customer for customer in active if not customer.credit_hold]
    calendar = demo_months(today, months)
    finished = calendar[:-1]
    trainee_month = finished[len(finished) // 2 - 1] if len(finished) >= 2 else None
    work = DemoWork(rng, clerk, supervisor, active, taking_work)
    time = DemoTime(rng, clerk, supervisor)
    collections = DemoCollections(rng, users, active)
    year = DemoYear(work=work.figures, time=time.figures, collections=collections.figures)
    task = progress.add_task("Billing the year month by month", total=len(calendar))
    try:
        set_business_date(on=calendar[0], actor=admin)
        work.set_up(calendar[0], len(calendar))
        monthly = [customer for customer in taking_work if customer.cycle == Customer.Cycle.MONTHLY]
        time.set_up(rng.sample(monthly, k=min(LEGAL_CLIENTS, len(monthly))), calendar[0])
        last_run: BillRun | None = None
        for index, month in enumerate(calendar):
            current = month not in finished
            mid = month.replace(day=min(MID_MONTH, today.day) if current else MID_MONTH)
            set_business_date(on=mid, actor=admin)
            work.open_month(month, mid, len(calendar) - index, calendar[index - 1] if index else None)
            if month == trainee_month:
                time.trainee_joins(mid)
            elif index and calendar[index - 1] == trainee_month:
                time.set_trainee_rate()
            if last_run is not None:
                if not current:  # the last run's drafts are left for the demo's clerk to review
                    year.drafts_issued += review_drafts(last_run, clerk, supervisor)
                credit_notes, voids = correct_run(rng, _invoices_of(last_run), mid, clerk)
                year.credit_notes, year.voids = year.credit_notes + credit_notes, year.voids + voids
                cash.receive(_invoices_of(last_run), mid, last=current)
                collections.month(mid, dun=index >= len(calendar) - DUNNING_MONTHS)
            end = today if current else month_end(month)
            set_business_date(on=end, actor=admin)
            work.close_month(month, end)
            collections.month_end(end)
            time.record_month(month, end, approve=not current)
            if not current:
                last_run = _bill_month(month, admin, clerk, supervisor, year)
            progress.advance(task)
        year.drafts, year.awaiting_approval = leave_work_in_progress(rng, taking_work, clerk)
        collections.finish(today)
    finally:
        reset_business_date(actor=admin)
    year.cash = cash.figures
    year.invoices_by_kind = {
        kind: BilledItem.objects.filter(key__startswith=f"{kind}:", invoice__number__isnull=False)
        .values("invoice_id")
        .distinct()
        .count()
        for kind in KINDS
    }
    return year


def _bill_month(month: date, admin: User, clerk: User, supervisor: User, year: DemoYear) -> BillRun:
    """On the next month's first day: the month's run as the clerk, then the month closed."""
    next_month = add_months(month, 1)
    set_business_date(on=next_month, actor=admin)
    run = start_run(period=f"{month:%Y-%m}", actor=clerk, invoice_date=next_month)
    year.runs += 1
    year.invoices += run.invoices_issued
    year.run_exceptions += run.exceptions.count()
    year.run_drafts += run.drafts_created
    close_period(start_on=month, actor=supervisor)
    year.months_closed.append(f"{month:%Y-%m}")
    return run


def review_drafts(run: BillRun, clerk: User, supervisor: User) -> int:
    """The clerk reviews the drafts the run left and issues each: submitted, approved by the supervisor
    when it needs approval, then issued with its planned date. Returns how many."""
    issued = 0
    for invoice_id in run.drafts.filter(invoice__isnull=False).values_list("invoice_id", flat=True):
        invoice = get_invoice(invoice_id)
        if invoice.status == InvoiceStatus.DRAFT:
            invoice = submit_invoice(invoice_id=invoice_id, actor=clerk)
        if invoice.status == InvoiceStatus.SUBMITTED:
            approve_invoice(invoice_id=invoice_id, actor=supervisor)
        issue_invoice(invoice_id=invoice_id, actor=clerk)
        issued += 1
    return issued


def _invoices_of(run: BillRun) -> list[int]:
    """The invoices the run issued (not the drafts it left for review)."""
    billed = BilledItem.objects.filter(run=run, invoice__number__isnull=False)
    return sorted(set(billed.values_list("invoice_id", flat=True)))
