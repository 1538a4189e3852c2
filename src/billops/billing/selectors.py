"""Reads of billable work for the API and the pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum

from billops.access.models import User
from billops.billing.models import (
    BilledItem,
    BillRun,
    BillRunDraft,
    BillRunException,
    BillRunPartition,
    Charge,
    Contract,
    Delivery,
    OrderLine,
    Plan,
    PlanPhase,
    SalesOrder,
    Subscription,
    SubscriptionChange,
)
from billops.billing.services import billables
from billops.billing.services.planning import price_work
from billops.core.errors import NotFound
from billops.core.money import Money, round_money
from billops.customers.models import Customer
from billops.invoicing.models import Invoice
from billops.invoicing.selectors import get_entity


def list_charges(
    *, customer_id: int | None = None, status: str = "", up_to: date | None = None
) -> QuerySet[Charge]:
    """Charges, newest first; `up_to` keeps those dated on or before the day (what a run of it would bill)."""
    charges = Charge.objects.select_related("customer", "product", "tax_code", "created_by", "cancelled_by")
    if customer_id is not None:
        charges = charges.filter(customer_id=customer_id)
    if status:
        charges = charges.filter(status=status)
    if up_to is not None:
        charges = charges.filter(charge_date__lte=up_to)
    return charges


def get_charge(charge_id: int) -> Charge:
    charge = list_charges().filter(pk=charge_id).first()
    if charge is None:
        raise NotFound(f"there is no charge {charge_id}", field="charge_id")
    return charge


def list_orders(*, customer_id: int | None = None, status: str = "") -> QuerySet[SalesOrder]:
    """Orders, newest first, each with its lines."""
    orders = SalesOrder.objects.select_related("customer", "created_by").prefetch_related(
        Prefetch("lines", OrderLine.objects.select_related("product", "tax_code").order_by("line_no"))
    )
    if customer_id is not None:
        orders = orders.filter(customer_id=customer_id)
    if status:
        orders = orders.filter(status=status)
    return orders


def get_order(number: str) -> SalesOrder:
    order = list_orders().filter(number=number.strip().upper()).first()
    if order is None:
        raise NotFound(f"there is no order {number!r}", field="order_number")
    return order


def list_deliveries(
    *, customer_id: int | None = None, status: str = "", up_to: date | None = None
) -> QuerySet[Delivery]:
    """Deliveries, newest first; `up_to` keeps those delivered on or before the day."""
    deliveries = Delivery.objects.select_related("line__order", "line__product", "customer", "created_by")
    if customer_id is not None:
        deliveries = deliveries.filter(customer_id=customer_id)
    if status:
        deliveries = deliveries.filter(status=status)
    if up_to is not None:
        deliveries = deliveries.filter(delivered_on__lte=up_to)
    return deliveries


def list_bill_runs() -> QuerySet[BillRun]:
    """Bill runs, newest first, with who started each and its number of exceptions (`exception_count`)."""
    return (
        BillRun.objects.select_related("started_by")
        .annotate(exception_count=Count("exceptions"))
        .order_by("-started_at", "-id")
    )


def get_bill_run(run_id: int) -> BillRun:
    run = list_bill_runs().filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"there is no bill run {run_id}", field="run_id")
    return run


def list_run_partitions(run: BillRun) -> QuerySet[BillRunPartition]:
    return BillRunPartition.objects.filter(run=run).order_by("number")


def list_run_exceptions(run: BillRun) -> QuerySet[BillRunException]:
    """The customers the run could not bill, by account number."""
    return (
        BillRunException.objects.filter(run=run)
        .select_related("customer")
        .order_by("customer__account_number")
    )


def list_run_invoices(run: BillRun) -> QuerySet[Invoice]:
    """The invoices the run issued, each once (a billed item is a line), in number order; a draft it left
    is listed once it is issued."""
    billed = BilledItem.objects.filter(run=run).values("invoice_id")
    return (
        Invoice.objects.filter(pk__in=billed, number__isnull=False)
        .select_related("customer")
        .order_by("number")
    )


def list_run_drafts(run: BillRun) -> QuerySet[BillRunDraft]:
    """The invoices the run left as drafts for review, by account number, with what became of each."""
    return (
        BillRunDraft.objects.filter(run=run)
        .select_related("customer", "invoice")
        .order_by("customer__account_number", "pk")
    )


def billed_by_previous_month(*, period_start: date) -> dict[Customer, Money]:
    """What the finished runs of the month before `period_start` issued to each customer: the total of
    their invoices to it, by account number (a second run of a month adds what it billed new)."""
    if period_start == date.min:  # there is no month before 0001-01
        return {}
    runs = BillRun.objects.filter(status=BillRun.Status.DONE, period_end=period_start - timedelta(days=1))
    issued = BilledItem.objects.filter(run__in=runs).values("invoice_id")
    sums = (
        Invoice.objects.filter(pk__in=issued)
        .values("customer_id", "currency")
        .annotate(total=Sum("total"))
        .values_list("customer_id", "currency", "total")
    )
    by_customer = {customer_id: round_money(total, currency) for customer_id, currency, total in sums}
    customers = Customer.objects.filter(pk__in=by_customer).order_by("account_number")
    return {customer: by_customer[customer.pk] for customer in customers}


def list_plans() -> QuerySet[Plan]:
    return Plan.objects.select_related("product").prefetch_related(
        Prefetch("phases", PlanPhase.objects.select_related("plan").order_by("position"))
    )


def get_plan(code: str) -> Plan:
    plan = list_plans().filter(code=code.strip().upper()).first()
    if plan is None:
        raise NotFound(f"there is no plan {code!r}", field="code")
    return plan


def list_subscriptions(*, customer_id: int | None = None, status: str = "") -> QuerySet[Subscription]:
    subscriptions = Subscription.objects.select_related("customer", "plan", "created_by")
    if customer_id is not None:
        subscriptions = subscriptions.filter(customer_id=customer_id)
    if status:
        subscriptions = subscriptions.filter(status=status)
    return subscriptions


def get_subscription(subscription_id: int) -> Subscription:
    subscription = list_subscriptions().filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound(f"there is no subscription {subscription_id}", field="subscription_id")
    return subscription


def list_contracts(*, customer_id: int | None = None, status: str = "") -> QuerySet[Contract]:
    contracts = Contract.objects.select_related(
        "customer", "commitment_product", "created_by"
    ).prefetch_related("prices__plan")
    if customer_id is not None:
        contracts = contracts.filter(customer_id=customer_id)
    if status:
        contracts = contracts.filter(status=status)
    return contracts


def get_contract(number: str) -> Contract:
    contract = list_contracts().filter(number=number.strip().upper()).first()
    if contract is None:
        raise NotFound(f"there is no contract {number!r}", field="number")
    return contract


def list_changes(subscription_id: int) -> QuerySet[SubscriptionChange]:
    """A subscription's changes in the order they take effect."""
    return SubscriptionChange.objects.select_related("old_plan", "new_plan", "created_by").filter(
        subscription_id=subscription_id
    )


@dataclass(frozen=True, slots=True)
class Unbilled:
    """Work done for a customer and not billed yet, priced as the next run would bill it (tax included)."""

    amount: Decimal  # in the customer's currency
    items: int
    unpriced: int  # items that cannot be priced yet (no rate, …): not in `amount`


def unbilled_work(customer: Customer, on: date, actor: User) -> Unbilled:
    """The customer's work pending by `on`, priced in memory; writes nothing."""
    items = billables.pending(on, customer_ids=[customer.pk]).get(customer.pk, [])
    priceable = [item for item in items if not item.problem]
    amount = Decimal(0)
    if priceable:
        invoice, _, _ = price_work(customer, priceable, on, actor, get_entity())
        amount = invoice.total
    return Unbilled(amount=amount, items=len(items), unpriced=len(items) - len(priceable))
