"""How a bill run turns one customer's pending work into invoices, in memory: the preview and the run
both call `plan_customer`, so the run issues exactly what the preview showed.

- **Grouping.** A customer invoiced per customer gets one invoice; one invoiced per matter or contract
  (`Customer.run_invoice_per`) gets one per group of its work (`Billable.group`: "matter M-2026-001",
  "contract K-7"), the group as the invoice's reference, work of no group on an invoice of its own
  first. If one of them cannot be billed, none is: the customer is the run's exception.
- **Issued or left as a draft.** Each invoice is issued, unless it is left for review
  (`BillRunDraft.Reason`): the customer's setting (`run_creates_drafts`), an invoice that needs a second
  person's approval (submitted for it), or a total far above the customer's usual amount (held).
- **The usual amount** is the median total of the customer's last 6 issued invoices in that currency,
  given at least 3 of them; an invoice above `BILLOPS_BILL_RUN_HOLD_FACTOR` (3 by default; 0 holds
  nothing) times it is held.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from billops.access.models import User
from billops.billing.models import BillRunDraft
from billops.billing.services.billables import Billable
from billops.core.errors import InvalidInput
from billops.core.money import round_money
from billops.customers.models import Customer
from billops.invoicing.models import (
    BillingEntity,
    DocumentType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTax,
)
from billops.invoicing.services.drafts import build_lines, document_for
from billops.invoicing.services.lines import calculate
from billops.invoicing.services.workflow import approval_reason, pre_issue_checks, refuse_blocking

USUAL_INVOICES = 6  # the usual amount is the median of this many latest invoices…
USUAL_AT_LEAST = 3  # …and is known once a customer has this many
USUAL_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID, InvoiceStatus.PAID)

# the usual amount of each customer and currency
UsualAmounts = dict[tuple[int, str], "Usual"]


@dataclass(frozen=True, slots=True)
class Usual:
    amount: Decimal  # the median total
    invoices: int  # of this many invoices


@dataclass
class PlannedInvoice:
    """One invoice as the run would make it: priced, taxed, not written; issued unless `draft_reason`."""

    customer: Customer
    invoice: Invoice
    lines: list[InvoiceLine]
    taxes: list[InvoiceTax]
    items: list[Billable]  # what each line bills, in line order
    draft_reason: str = ""  # a BillRunDraft.Reason when the run leaves it as a draft for review
    draft_message: str = ""  # why, in words: the approval rule, or the usual amount it is far above


def plan_invoice(
    customer: Customer,
    items: Sequence[Billable],
    invoice_date: date,
    actor: User,
    entity: BillingEntity,
    reference: str = "",
) -> PlannedInvoice:
    """Price work as one invoice in memory, refused as the run would refuse it: a blocking pre-issue
    check (credit hold, …) or an item its source could not price. One that needs approval is planned
    as a draft submitted for it."""
    for item in items:
        if item.problem:
            raise InvalidInput(item.problem, field=item.problem_field or item.kind)
    invoice, lines, taxes = price_work(customer, items, invoice_date, actor, entity, reference)
    refuse_blocking(pre_issue_checks(invoice, lines))
    planned = PlannedInvoice(customer, invoice, lines, taxes, list(items))
    reason = approval_reason(invoice)
    if reason:
        planned.draft_reason, planned.draft_message = BillRunDraft.Reason.APPROVAL, reason
    return planned


def price_work(
    customer: Customer,
    items: Sequence[Billable],
    invoice_date: date,
    actor: User,
    entity: BillingEntity,
    reference: str = "",
) -> tuple[Invoice, list[InvoiceLine], list[InvoiceTax]]:
    """Work priced as one invoice in memory, with its lines and tax, checking nothing else; what a run
    would bill, and what credit management counts as unbilled."""
    invoice = document_for(
        customer=customer, entity=entity, actor=actor, issued_on=invoice_date, reference=reference
    )
    lines = build_lines(invoice, [item.line for item in items], is_new=True)
    return invoice, lines, calculate(invoice, lines)


def groups(customer: Customer, items: Sequence[Billable]) -> list[tuple[str, list[Billable]]]:
    """The customer's work split into its invoices, each with its reference: work of no group first, then
    each group by name; the items keep their order."""
    if customer.run_invoice_per == Customer.InvoicePer.CUSTOMER:
        return [("", list(items))]
    by_group: dict[str, list[Billable]] = defaultdict(list)
    for item in items:
        by_group[item.group].append(item)
    return sorted(by_group.items())


def plan_customer(
    customer: Customer,
    items: Sequence[Billable],
    invoice_date: date,
    actor: User,
    entity: BillingEntity,
    usual: UsualAmounts,
) -> list[PlannedInvoice]:
    """The customer's invoices of the run, each marked issued or left as a draft and why."""
    planned = [
        plan_invoice(customer, group_items, invoice_date, actor, entity, reference=group)
        for group, group_items in groups(customer, items)
    ]
    for plan in planned:
        _decide(plan, usual.get((customer.pk, plan.invoice.currency)))
    return planned


def _decide(plan: PlannedInvoice, usual: Usual | None) -> None:
    """Leave the invoice as a draft when the customer asks for that or its total is far above usual."""
    if plan.customer.run_creates_drafts:
        plan.draft_reason, plan.draft_message = BillRunDraft.Reason.CUSTOMER_SETTING, ""
        return
    factor = settings.BILL_RUN_HOLD_FACTOR
    total, currency = plan.invoice.total, plan.invoice.currency
    if factor and usual is not None and total > factor * usual.amount:
        plan.draft_reason = BillRunDraft.Reason.UNUSUAL_AMOUNT
        plan.draft_message = (
            f"{round_money(total, currency).amount} {currency} is more than {factor} times the usual "
            f"{round_money(usual.amount, currency).amount} {currency} (the median of its last "
            f"{usual.invoices} invoices)"
        )


def usual_amounts(customer_ids: Collection[int]) -> UsualAmounts:
    """The usual invoice total of each of these customers, per currency: the median of its latest issued
    invoices. One query; nothing when holding is turned off."""
    if not settings.BILL_RUN_HOLD_FACTOR:
        return {}
    latest = (
        Invoice.objects.filter(
            customer_id__in=customer_ids, document_type=DocumentType.INVOICE, status__in=USUAL_STATUSES
        )
        .annotate(
            recency=Window(
                RowNumber(),
                partition_by=[F("customer_id"), F("currency")],
                order_by=[F("issued_on").desc(), F("pk").desc()],
            )
        )
        .filter(recency__lte=USUAL_INVOICES)
        .values_list("customer_id", "currency", "total")
    )
    totals: dict[tuple[int, str], list[Decimal]] = defaultdict(list)
    for customer_id, currency, total in latest:
        totals[customer_id, currency].append(total)
    return {
        key: Usual(statistics.median(amounts), len(amounts))
        for key, amounts in totals.items()
        if len(amounts) >= USUAL_AT_LEAST
    }
