"""Payment plans: a customer's open invoices paid off in instalments, agreed by a collector, checked daily.

The instalments always add up to the plan's total: the invoices' open amounts, plus the fee and interest
charged on a debit note of the plan's own (which the plan covers too). Amounts are split with the one split
function of `core.money`; a cent left over goes to the latest instalment that can take it (with equal
instalments, the last). What the customer pays on the covered invoices after the plan was agreed counts
for the instalments in the order they fall due; an instalment not paid by its due date plus the grace days
is missed, and the plan defaults after its number of missed instalments — dunning then resumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.catalog.validation import clean_rate, clean_text
from billops.collections.models import Instalment, PaymentPlan, PlanItem
from billops.collections.selectors.plans import allocate_to_instalments, settled_towards
from billops.collections.services.accounts import profile_of
from billops.collections.services.dunning_notices import (
    FEE_PRODUCT,
    INTEREST_PRODUCT,
    charge_on_debit_note,
    require_products,
)
from billops.core.calendars import add_months
from billops.core.errors import Conflict, InvalidAmount, InvalidInput, NotFound
from billops.core.money import Money, money, round_money, split, sum_money, to_decimal
from billops.customers.models import Customer
from billops.customers.selectors import get_customer
from billops.invoicing.models import DocumentType, Invoice, InvoiceStatus
from billops.invoicing.selectors import OPEN_STATUSES
from billops.invoicing.services.lines import LineData

MOST_INSTALMENTS = 60
MOST_GRACE_DAYS = 60
DAYS_A_YEAR = Decimal(365)
Status = PaymentPlan.Status


@dataclass(frozen=True, slots=True)
class EqualInstalments:
    """`count` instalments of the same amount, the first on `first_due_on`, then every `every` days or
    months (a month later on the same day, or the month's last day when it is shorter)."""

    count: int
    first_due_on: date
    every: int = 1
    unit: str = "months"  # or "days"


@dataclass(frozen=True, slots=True)
class CustomInstalment:
    """One instalment as agreed: its day and an amount, or a percent of the plan (not both)."""

    due_on: date
    amount: Any = None  # decimal text; the amounts add up to what the invoices have open
    percent: Any = None  # the percents add up to 100


Schedule = EqualInstalments | Sequence[CustomInstalment]


def split_to_last(total: Money, weights: Sequence[int | Decimal]) -> list[Money]:
    """`core.money.split` with the leftover cents given to the latest parts among equal remainders, so
    that 1000.00 in three gives 333.33, 333.33 and 333.34."""
    return list(reversed(split(total, list(reversed(weights)))))


def _equal(schedule: EqualInstalments, today: date) -> tuple[list[date], list[int | Decimal]]:
    if isinstance(schedule.count, bool) or not 1 <= schedule.count <= MOST_INSTALMENTS:
        raise InvalidInput(f"a plan has 1 to {MOST_INSTALMENTS} instalments", field="instalments.count")
    if schedule.unit not in ("days", "months"):
        raise InvalidInput("instalments fall due every so many days or months", field="instalments.unit")
    if not 1 <= schedule.every <= (365 if schedule.unit == "days" else 12):
        raise InvalidInput(
            f"every {schedule.every} {schedule.unit} is not a schedule", field="instalments.every"
        )
    if schedule.first_due_on < today:
        raise InvalidInput(
            f"the first instalment falls due today or later, not on {schedule.first_due_on.isoformat()}",
            field="instalments.first_due_on",
        )
    step = schedule.every
    days = [
        add_months(schedule.first_due_on, index * step)
        if schedule.unit == "months"
        else schedule.first_due_on + timedelta(days=index * step)
        for index in range(schedule.count)
    ]
    return days, [1] * schedule.count


def _custom(
    schedule: Sequence[CustomInstalment], today: date, owed: Money
) -> tuple[list[date], list[int | Decimal]]:
    if not 1 <= len(schedule) <= MOST_INSTALMENTS:
        raise InvalidInput(f"a plan has 1 to {MOST_INSTALMENTS} instalments", field="instalments")
    by_amount = schedule[0].amount is not None
    weights: list[Decimal] = []
    for index, part in enumerate(schedule):
        field = f"instalments.{index}"
        if part.due_on < today:
            raise InvalidInput(
                f"instalment {index + 1} falls due today or later, not on {part.due_on.isoformat()}",
                field=f"{field}.due_on",
            )
        if index and part.due_on <= schedule[index - 1].due_on:
            raise InvalidInput(
                f"instalment {index + 1} falls due after instalment {index} "
                f"({schedule[index - 1].due_on.isoformat()})",
                field=f"{field}.due_on",
            )
        if (part.amount is None) == (part.percent is None) or (part.amount is not None) != by_amount:
            raise InvalidInput(
                "give every instalment an amount, or every instalment a percent", field=f"{field}.amount"
            )
        if by_amount:
            weight = money(part.amount, owed.currency, field=f"{field}.amount").amount
        else:
            weight = to_decimal(part.percent, field=f"{field}.percent")
        if weight <= 0:
            what = "amount" if by_amount else "percent"
            raise InvalidAmount(f"instalment {index + 1} is more than zero", field=f"{field}.{what}")
        weights.append(weight)
    total = sum(weights, Decimal(0))
    if by_amount and total != owed.amount:
        raise InvalidAmount(
            f"the instalments add up to {round_money(total, owed.currency)}, not to the {owed} the invoices "
            "have open",
            field="instalments",
        )
    if not by_amount and total != 100:
        raise InvalidAmount(f"the percents add up to {total}, not to 100", field="instalments")
    return [part.due_on for part in schedule], list(weights)


def plan_interest(
    principal: Money, weights: Sequence[int | Decimal], days: Sequence[date], rate: Decimal, start: date
) -> Money:
    """Simple interest on what is left of `principal` between the instalments: each instalment's share of
    it is charged `rate` % a year from the day before (the plan's start for the first) to its due date."""
    if not rate:
        return Money.zero(principal.currency)
    parts = split_to_last(principal, weights)
    left, since, interest = principal.amount, start, Decimal(0)
    for part, due_on in zip(parts, days, strict=True):
        interest += left * rate / 100 * (due_on - since).days / DAYS_A_YEAR
        left, since = left - part.amount, due_on
    return round_money(interest, principal.currency)


def _open_invoices(customer: Customer, invoice_ids: Sequence[int]) -> list[Invoice]:
    wanted = list(dict.fromkeys(invoice_ids))
    if not wanted:
        raise InvalidInput("name the invoices the plan covers", field="invoice_ids")
    found = {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update(of=("self",))
        .select_related("entity")
        .filter(
            pk__in=wanted,
            customer=customer,
            document_type__in=(DocumentType.INVOICE, DocumentType.DEBIT_NOTE),
            status__in=OPEN_STATUSES,
            open_amount__gt=0,
        )
    }
    for invoice_id in wanted:
        if invoice_id not in found:
            raise NotFound(
                f"{customer.account_number} has no open invoice {invoice_id} to put on a plan",
                field="invoice_ids",
            )
    taken = (
        PlanItem.objects.filter(invoice_id__in=wanted, plan__status=Status.ACTIVE)
        .select_related("invoice")
        .first()
    )
    if taken is not None:
        raise Conflict(
            f"{taken.invoice.number} is on active payment plan {taken.plan_id} already", field="invoice_ids"
        )
    return [found[invoice_id] for invoice_id in wanted]


def _charges(
    customer: Customer, invoices: list[Invoice], fee: Money, interest: Money, today: date, actor: User
) -> Invoice | None:
    if fee.is_zero() and interest.is_zero():
        return None
    products = [code for code, amount in ((FEE_PRODUCT, fee), (INTEREST_PRODUCT, interest)) if amount.amount]
    require_products(products, field="fee")
    numbers = ", ".join(str(invoice.number) for invoice in invoices)
    lines = [
        LineData(quantity="1", product_code=code, unit_price=amount.amount, description=text)
        for code, amount, text in (
            (FEE_PRODUCT, fee, f"Payment plan fee for {numbers}"),
            (INTEREST_PRODUCT, interest, f"Interest on the payment plan for {numbers}"),
        )
        if amount.amount
    ]
    note = charge_on_debit_note(
        customer=customer, entity=invoices[0].entity, lines=lines, on=today, actor=actor,
        reason=f"Payment plan for {numbers}", reference="payment plan",
    )  # fmt: skip
    if note.status != InvoiceStatus.ISSUED:
        raise Conflict(
            f"the plan's fee and interest cannot be charged in one step ({customer.account_number} is on "
            "credit hold, or its documents need approval): agree the plan without them, or lift the hold",
            field="fee",
        )
    return note


@transaction.atomic(durable=True)
def create_payment_plan(
    *,
    customer_id: int,
    invoice_ids: Sequence[int],
    instalments: Schedule,
    actor: User,
    fee: Any = None,
    interest_rate: Any = None,
    grace_days: int = 0,
    missed_to_default: int = 1,
) -> PaymentPlan:
    """Agree a payment plan for some of a customer's open invoices; its fee and interest are charged on a
    debit note that the plan covers too. The customer is not dunned while the plan is active."""
    require_permission(actor, "collections.work")
    customer = get_customer(customer_id, for_update=True)
    today = clock.today()
    invoices = _open_invoices(customer, invoice_ids)
    currency = customer.currency
    owed = round_money(
        sum_money((Money(invoice.open_amount, invoice.currency) for invoice in invoices), currency)
    )
    charged_fee = money(fee if fee not in (None, "") else "0", currency, field="fee")
    if charged_fee.amount < 0:
        raise InvalidAmount("a fee is zero or more", field="fee")
    rate = clean_rate(interest_rate if interest_rate not in (None, "") else "0", "interest_rate")
    if isinstance(grace_days, bool) or not 0 <= grace_days <= MOST_GRACE_DAYS:
        raise InvalidInput(f"grace days are 0 to {MOST_GRACE_DAYS}", field="grace_days")
    if isinstance(missed_to_default, bool) or not 1 <= missed_to_default <= MOST_INSTALMENTS:
        raise InvalidInput("a plan defaults after 1 or more missed instalments", field="missed_to_default")
    if isinstance(instalments, EqualInstalments):
        days, weights = _equal(instalments, today)
    else:
        days, weights = _custom(instalments, today, owed)
    if missed_to_default > len(days):
        raise InvalidInput(
            f"the plan has {len(days)} instalments; it cannot default after {missed_to_default} missed",
            field="missed_to_default",
        )
    interest = plan_interest(owed, weights, days, rate, today)
    note = _charges(customer, invoices, charged_fee, interest, today, actor)
    total = owed + (Money(note.total, currency) if note is not None else Money.zero(currency))
    plan = PaymentPlan.objects.create(
        customer=customer, currency=currency, total=total.amount, fee=charged_fee.amount, interest_rate=rate,
        interest=interest.amount, charges_note=note, starts_on=today, grace_days=grace_days,
        missed_to_default=missed_to_default, created_by=actor,
    )  # fmt: skip
    covered = [*invoices, note] if note is not None else invoices
    PlanItem.objects.bulk_create(
        PlanItem(plan=plan, invoice=invoice, currency=currency, amount=invoice.open_amount)
        for invoice in covered
    )
    parts = split_to_last(total, weights)
    Instalment.objects.bulk_create(
        Instalment(plan=plan, number=number, due_on=due_on, currency=currency, amount=part.amount)
        for number, (due_on, part) in enumerate(zip(days, parts, strict=True), start=1)
    )
    record_event(
        actor=actor,
        action="payment_plan.created",
        target=plan,
        after={
            "customer": customer.account_number, "currency": currency, "total": total.amount,
            "invoices": {str(invoice.number): invoice.open_amount for invoice in covered},
            "fee": charged_fee.amount, "interest_rate": rate, "interest": interest.amount,
            "charges_note": note.number if note is not None else None,
            "instalments": [[due_on, part.amount] for due_on, part in zip(days, parts, strict=True)],
            "grace_days": grace_days, "missed_to_default": missed_to_default,
        },
    )  # fmt: skip
    return plan


def _locked_active(plan_id: int) -> PaymentPlan:
    customer_id = PaymentPlan.objects.filter(pk=plan_id).values_list("customer_id", flat=True).first()
    if customer_id is None:
        raise NotFound(f"there is no payment plan {plan_id}", field="plan_id")
    get_customer(customer_id, for_update=True)  # the customer first, as every service that moves money
    plan = PaymentPlan.objects.select_for_update().select_related("customer").get(pk=plan_id)
    if plan.status != Status.ACTIVE:
        raise Conflict(f"payment plan {plan_id} is {plan.status} since {plan.decided_on}", field="status")
    return plan


@transaction.atomic(durable=True)
def cancel_payment_plan(*, plan_id: int, reason: str, actor: User) -> PaymentPlan:
    """End an active plan by agreement (or a mistake); dunning resumes. Its fee's debit note stays issued:
    a credit note takes it back if that was agreed too."""
    require_permission(actor, "collections.work")
    reason = clean_text(reason, "reason", limit=300, required=True)
    plan = _locked_active(plan_id)
    plan.status, plan.decided_on, plan.cancel_reason = Status.CANCELLED, clock.today(), reason
    plan.save(update_fields=["status", "decided_on", "cancel_reason"])
    record_event(actor=actor, action="payment_plan.cancelled", target=plan, after={"reason": reason})
    return plan


def _instalment_status(instalment: Instalment, paid: Decimal, on: date, grace_days: int) -> str:
    if instalment.status == Instalment.Status.MISSED:
        return Instalment.Status.MISSED  # paid late or not, it was missed
    if paid >= instalment.amount:
        return Instalment.Status.PAID
    if (on - instalment.due_on).days > grace_days:
        return Instalment.Status.MISSED
    return Instalment.Status.DUE


def _evaluate(plan: PaymentPlan, on: date, actor: User | None, counts: dict[str, int]) -> None:
    instalments = list(plan.instalments.select_for_update().order_by("number"))
    settled = min(settled_towards(plan), plan.total)
    parts = allocate_to_instalments([instalment.amount for instalment in instalments], settled)
    for instalment, paid in zip(instalments, parts, strict=True):
        status = _instalment_status(instalment, paid, on, plan.grace_days)
        if (status, paid) == (instalment.status, instalment.paid_amount):
            continue
        changed = status != instalment.status
        instalment.status, instalment.paid_amount = status, paid
        instalment.save(update_fields=["status", "paid_amount"])
        if changed and status != Instalment.Status.DUE:
            counts[status] += 1
            record_event(
                actor=actor,
                action=f"payment_plan.instalment_{status}",
                target=plan,
                after={"instalment": instalment.number, "due_on": instalment.due_on,
                       "amount": instalment.amount, "paid": paid, "on": on},
            )  # fmt: skip
    missed = sum(1 for instalment in instalments if instalment.status == Instalment.Status.MISSED)
    if missed >= plan.missed_to_default:
        plan.status = Status.DEFAULTED
        profile = profile_of(plan.customer)
        profile.next_action_on = on
        profile.next_action = f"Payment plan {plan.pk} defaulted: call"
        profile.save(update_fields=["next_action_on", "next_action"])
    elif settled >= plan.total:
        plan.status = Status.COMPLETED
    else:
        return
    plan.decided_on = on
    plan.save(update_fields=["status", "decided_on"])
    counts[plan.status] += 1
    record_event(
        actor=actor,
        action=f"payment_plan.{plan.status}",
        target=plan,
        after={"missed": missed, "paid": settled, "total": plan.total, "on": on},
    )


@transaction.atomic(durable=True)
def evaluate_payment_plans(*, on: date | None = None, actor: User | None = None) -> dict[str, int]:
    """Check the active plans as of a day (the daily job): what is paid towards each instalment, which are
    paid and which missed; default a plan at its number of missed instalments (dunning resumes), or
    complete it once all is paid."""
    if actor is not None:
        require_permission(actor, "collections.work")
    on = on or clock.today()
    counts = {"evaluated": 0, "paid": 0, "missed": 0, "completed": 0, "defaulted": 0}
    for plan_id in (
        PaymentPlan.objects.filter(status=Status.ACTIVE)
        .order_by("customer_id", "pk")
        .values_list("pk", flat=True)
    ):
        plan = _locked_active(plan_id)
        counts["evaluated"] += 1
        _evaluate(plan, on, actor, counts)
    return counts
