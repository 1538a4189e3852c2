"""Plans and subscriptions: a supervisor sets up a plan (a product every interval, in phases); a clerk
subscribes a customer to it, changes its quantity or plan from a date, pauses and resumes it, and cancels
it at the end of a term or at once. Bill runs bill each period once. Every write is audited.

A change into a period already invoiced is settled at once: a credit note credits the old plan and
quantity's share of the rest of the period on the invoice line that billed it, and a prorated charge for
the new share waits for the next run. A change into a period not invoiced yet needs nothing: the run
bills the period cut at the change (see `billables.SubscriptionBook`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.billing.models import (
    BilledItem,
    Contract,
    Plan,
    PlanPhase,
    ProratedCharge,
    Subscription,
    SubscriptionChange,
)
from billops.billing.periods import Phase, periods
from billops.billing.services.billables import ONE_DAY, Share, State, SubscriptionBook, contract_last_day
from billops.billing.services.common import customer_taking_work
from billops.catalog.selectors import get_product
from billops.core.calendars import add_months
from billops.core.currencies import validate_currency
from billops.core.errors import CurrencyMismatch, Duplicate, InvalidInput, NotFound
from billops.core.money import round_money
from billops.customers.selectors import get_customer
from billops.invoicing.errors import WrongStatus
from billops.invoicing.models import EDITABLE_STATUSES, Invoice, InvoiceStatus
from billops.invoicing.selectors import get_invoice
from billops.invoicing.services.corrections import CreditLine, credit_document
from billops.invoicing.services.lines import clean_document_date, clean_price, clean_quantity, clean_text

INTERVALS = {"month": Plan.Interval.MONTH, "quarter": Plan.Interval.QUARTER, "year": Plan.Interval.YEAR}


@dataclass(frozen=True, slots=True)
class PhaseData:
    kind: str
    unit_price: Any
    periods: int | None = None  # None: the last phase, which lasts


def phases_of(plan: Plan) -> list[Phase]:
    return [Phase(phase.kind, phase.periods, phase.unit_price) for phase in plan.phases.order_by("position")]


def _clean_phases(phases: Sequence[PhaseData]) -> list[Phase]:
    if not phases:
        raise InvalidInput("a plan needs at least one phase", field="phases")
    cleaned = []
    for index, phase in enumerate(phases):
        field, last = f"phases.{index}", index == len(phases) - 1
        if phase.kind not in PlanPhase.Kind.values:
            raise InvalidInput(
                f"a phase is one of {', '.join(PlanPhase.Kind.values)}, not {phase.kind!r}",
                field=f"{field}.kind",
            )
        if last != (phase.periods is None):
            what = (
                "the last phase lasts: leave its periods out"
                if last
                else "only the last phase lasts: give its periods"
            )
            raise InvalidInput(what, field=f"{field}.periods")
        if phase.periods is not None and not 1 <= phase.periods <= 120:
            raise InvalidInput("a phase lasts 1 to 120 periods", field=f"{field}.periods")
        price = clean_price(phase.unit_price, f"{field}.unit_price")
        if (phase.kind == PlanPhase.Kind.TRIAL) != (price == 0):
            raise InvalidInput("a trial is free, and only a trial is", field=f"{field}.unit_price")
        cleaned.append(Phase(phase.kind, phase.periods, price))
    return cleaned


@transaction.atomic(durable=True)
def create_plan(
    *,
    code: str,
    name: str,
    product_code: str,
    currency: str,
    interval: str,
    timing: str,
    phases: Sequence[PhaseData],
    actor: User,
) -> Plan:
    """A plan selling the product every interval (month, quarter, year), billed in advance or in arrears."""
    require_permission(actor, "catalog.manage")
    code = clean_text(code, "code", limit=30, required=True).upper()
    if interval not in INTERVALS:
        raise InvalidInput(f"the interval is month, quarter or year, not {interval!r}", field="interval")
    if timing not in Plan.Timing.values:
        raise InvalidInput(f"a plan bills in advance or in arrears, not {timing!r}", field="timing")
    cleaned = _clean_phases(phases)
    product = get_product(product_code)
    plan = Plan(
        code=code, name=clean_text(name, "name", limit=200, required=True), product=product,
        currency=validate_currency(currency), interval_months=INTERVALS[interval], timing=timing,
        created_by=actor,
    )  # fmt: skip
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise Duplicate(f"there is a plan {code} already", field="code") from None
    PlanPhase.objects.bulk_create(
        PlanPhase(
            plan=plan, position=position, kind=phase.kind, periods=phase.periods, unit_price=phase.unit_price
        )
        for position, phase in enumerate(cleaned, start=1)
    )
    record_event(
        actor=actor,
        action="plan.created",
        target=plan,
        after={
            "code": code, "product": product.code, "currency": plan.currency, "interval": interval,
            "timing": timing, "phases": [[p.kind, p.periods, p.unit_price] for p in cleaned],
        },
    )  # fmt: skip
    return plan


@transaction.atomic(durable=True)
def subscribe(
    *,
    customer_id: int,
    plan_code: str,
    quantity: Any,
    actor: User,
    start_date: date | None = None,
    po_number: str = "",
    contract_number: str = "",
) -> Subscription:
    """Subscribe the customer to the plan from `start_date` (left out: today); periods run from that day.
    On a contract, it takes the contract's prices and PO, and ends with it."""
    require_permission(actor, "billing.capture")
    customer = customer_taking_work(customer_id)
    plan = Plan.objects.filter(code=plan_code.strip().upper()).first()
    if plan is None:
        raise NotFound(f"there is no plan {plan_code!r}", field="plan_code")
    if not plan.is_active:
        raise InvalidInput(f"{plan} takes no new subscriptions", field="plan_code")
    if plan.currency != customer.currency:
        raise CurrencyMismatch(
            f"{plan} is in {plan.currency}, {customer.account_number} is billed in {customer.currency}",
            field="plan_code",
        )
    start = clean_document_date(start_date, "start_date") or clock.today()
    contract = _contract_taking(contract_number, customer.pk, plan, start) if contract_number else None
    subscription = Subscription.objects.create(
        customer=customer, plan=plan, quantity=clean_quantity(quantity), created_by=actor, start_date=start,
        po_number=clean_text(po_number, "po_number", limit=60) or (contract.po_number if contract else ""),
        contract=contract,
    )  # fmt: skip
    record_event(
        actor=actor,
        action="subscription.created",
        target=subscription,
        after={
            "customer": customer.account_number, "plan": plan.code, "quantity": subscription.quantity,
            "start_date": subscription.start_date, "contract": contract.number if contract else None,
        },
    )  # fmt: skip
    return subscription


def contract_taking_work(number: str, on: date) -> Contract:
    """The contract `number` for work on `on`, refused once it ended: no work is captured on an ended
    contract (for the capture services)."""
    contract = Contract.objects.filter(number=number.strip().upper()).first()
    if contract is None:
        raise NotFound(f"there is no contract {number!r}", field="contract_number")
    last = contract_last_day(contract)
    if contract.status != Contract.Status.ACTIVE or (last is not None and on > last):
        raise WrongStatus(
            f"{contract} ended on {contract.end_date.isoformat()}: it takes no new work",
            field="contract_number",
        )
    return contract


def _contract_taking(number: str, customer_id: int, plan: Plan, start: date) -> Contract:
    """The contract a new subscription joins: the customer's, running on the start date, billed at the
    plan's interval, and the subscription starting on one of its billing dates, so that the contract's
    periods and the subscription's coincide."""
    contract = contract_taking_work(number, start)
    if contract.customer_id != customer_id:
        raise InvalidInput(f"{contract} is another customer's", field="contract_number")
    if start < contract.start_date:
        raise InvalidInput(f"{contract} starts on {contract.start_date.isoformat()}", field="start_date")
    if plan.interval_months != contract.frequency_months:
        raise InvalidInput(
            f"{contract} bills {contract.get_frequency_months_display()}, {plan} "
            f"{plan.get_interval_months_display()}",
            field="plan_code",
        )
    months = (start.year - contract.start_date.year) * 12 + start.month - contract.start_date.month
    if months % contract.frequency_months or add_months(contract.start_date, months) != start:
        raise InvalidInput(
            f"a subscription on {contract} starts on one of its billing dates (from "
            f"{contract.start_date.isoformat()}, every {contract.frequency_months} months)",
            field="start_date",
        )
    return contract


@transaction.atomic(durable=True)
def cancel_at_term_end(
    *, subscription_id: int, reason: str, actor: User, on: date | None = None
) -> Subscription:
    """End the subscription with the period that holds `on` (left out: today): it is billed to then."""
    require_permission(actor, "billing.capture")
    reason = clean_text(reason, "reason", limit=300, required=True)
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        raise NotFound(f"there is no subscription {subscription_id}", field="subscription_id")
    if subscription.status != Subscription.Status.ACTIVE:
        raise WrongStatus(f"{subscription} is {subscription.status} already", field="status")
    day = clean_document_date(on, "on") or clock.today()
    held = list(
        periods(
            start=subscription.start_date, interval_months=subscription.plan.interval_months,
            phases=phases_of(subscription.plan), until=day,
        )
    )  # fmt: skip
    end = held[-1].end if held else None  # cancelled before it started: never billed
    subscription.status, subscription.end_date, subscription.cancel_reason = (
        Subscription.Status.CANCELLED,
        end,
        reason,
    )
    subscription.cancelled_by, subscription.cancelled_at = actor, timezone.now()
    subscription.save(update_fields=["status", "end_date", "cancel_reason", "cancelled_by", "cancelled_at"])
    record_event(
        actor=actor,
        action="subscription.cancelled",
        target=subscription,
        before={"status": "active"},
        after={"status": subscription.status, "end_date": end, "reason": reason},
    )
    return subscription


# --- changes from a date ----------------------------------------------------------------------------------

Kind = SubscriptionChange.Kind


def _locked_subscription(subscription_id: int) -> Subscription:
    """The subscription, its customer locked first as a bill run locks it, so that no run bills it while
    it changes."""
    found = Subscription.objects.filter(pk=subscription_id).values_list("customer_id", flat=True).first()
    if found is None:
        raise NotFound(f"there is no subscription {subscription_id}", field="subscription_id")
    get_customer(found, for_update=True)
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan", "contract", "customer")
        .get(pk=subscription_id)
    )


def _book(subscription: Subscription) -> SubscriptionBook:
    return SubscriptionBook(Subscription.objects.filter(pk=subscription.pk))


def _clean_effective_on(subscription: Subscription, book: SubscriptionBook, day: date, field: str) -> None:
    """Refused before the start, after the last day of service, and before the last change."""
    if day < subscription.start_date:
        raise InvalidInput(
            f"{subscription} starts on {subscription.start_date.isoformat()}; a change cannot come before",
            field=field,
        )
    last = book.last_day(subscription)
    if last is not None and day > last:
        raise InvalidInput(f"{subscription} ends on {last.isoformat()}; nothing changes after", field=field)
    changes = book.changes[subscription.pk]
    if changes and day < changes[-1].effective_on:
        raise InvalidInput(
            f"{subscription} changed from {changes[-1].effective_on.isoformat()}; a later change cannot be "
            "dated before it",
            field=field,
        )


def _change(
    subscription: Subscription, *, kind: str, effective_on: date, actor: User, reason: str,
    new_plan: Plan | None = None, new_quantity: Decimal | None = None, status: str = "",
    action: str = "subscription.changed",
) -> SubscriptionChange:  # fmt: skip
    """Record the change, settle the invoiced periods it reaches and audit it; the caller checked it."""
    change = SubscriptionChange.objects.create(
        subscription=subscription, kind=kind, effective_on=effective_on, old_plan=subscription.plan,
        new_plan=new_plan or subscription.plan, old_quantity=subscription.quantity,
        new_quantity=new_quantity or subscription.quantity, reason=reason, created_by=actor,
    )  # fmt: skip
    notes, charges = _settle_invoiced(subscription, change, actor)
    credited = [[note.number, round_money(note.subtotal, note.currency).amount] for note in notes]
    before = {
        "plan": subscription.plan.code,
        "quantity": subscription.quantity,
        "status": subscription.status,
    }
    subscription.plan, subscription.quantity = change.new_plan, change.new_quantity
    subscription.status = status or subscription.status
    fields = ["plan", "quantity", "status"]
    if kind == Kind.CANCEL:
        subscription.end_date, subscription.cancel_reason = effective_on - ONE_DAY, reason
        subscription.cancelled_by, subscription.cancelled_at = actor, timezone.now()
        fields += ["end_date", "cancel_reason", "cancelled_by", "cancelled_at"]
    subscription.save(update_fields=fields)
    record_event(
        actor=actor,
        action=action,
        target=subscription,
        before=before,
        after={
            "change_id": change.pk, "kind": kind, "effective_on": effective_on, "plan": change.new_plan.code,
            "quantity": change.new_quantity, "status": subscription.status, "reason": reason,
            "credit_notes": credited,
            "prorated_charges": [[charge.period_start, charge.amount] for charge in charges],
        },
    )  # fmt: skip
    return change


def _settle_invoiced(
    subscription: Subscription, change: SubscriptionChange, actor: User
) -> tuple[list[Invoice], list[ProratedCharge]]:
    """For each period already invoiced that the change reaches: credit the old state's share from the
    change (or the whole period after it) on the line that billed it, and charge the new state's share
    with a prorated charge for the next run. A prorated charge not billed yet is cut short instead."""
    book = _book(subscription)
    states = book.states(subscription)
    old, new = states[-2], states[-1]
    split_keys = BilledItem.objects.filter(key__startswith=f"subscription:{subscription.pk}:")
    invoiced = {key: (invoice_id, line_no) for key, invoice_id, line_no in split_keys.values_list(
        "key", "invoice_id", "line_no"
    )}  # fmt: skip
    rows = list(ProratedCharge.objects.filter(subscription=subscription).exclude(change=change))
    row_keys = {row.pk: f"subscription_change:{row.change_id}:{row.period_start.isoformat()}" for row in rows}
    invoiced |= {
        key: (invoice_id, line_no)
        for key, invoice_id, line_no in BilledItem.objects.filter(key__in=row_keys.values()).values_list(
            "key", "invoice_id", "line_no"
        )
    }
    billed_periods = {
        date.fromisoformat(key.split(":")[2]) for key in invoiced if key.startswith("subscription:")
    }
    if not billed_periods:
        return [], []
    change_days = {state.change_id: state.since for state in states}
    credits: dict[int, list[CreditLine]] = defaultdict(list)
    charges = []
    for period in book.periods(subscription, until=max(billed_periods)):
        if period.start not in billed_periods or period.end < change.effective_on:
            continue
        share = Share(old, period, max(change.effective_on, period.start), period.end)
        # the pieces that bill the period: its parts (from its start or a change) and the prorated charges
        pieces: list[tuple[date, int, str | ProratedCharge]] = [
            (change_days[int(key.split(":")[3])] if key.count(":") == 3 else period.start, 0, key)
            for key in invoiced
            if key.startswith(f"subscription:{subscription.pk}:{period.start.isoformat()}")
        ]
        pieces += [
            (row.service_start, row.change_id, row) for row in rows if row.period_start == period.start
        ]
        covering = max(
            (piece for piece in pieces if piece[0] <= share.start), key=lambda p: p[:2], default=None
        )
        piece = covering[2] if covering else None
        if isinstance(piece, ProratedCharge) and piece.status == ProratedCharge.Status.PENDING:
            # not billed yet: it ends where this change starts, and nothing of it needs a credit
            _cut_short(book, subscription, piece, old, until=share.start - ONE_DAY)
        elif piece is not None:
            amount = book.net(subscription, share)
            invoice_id, line_no = invoiced[piece if isinstance(piece, str) else row_keys[piece.pk]]
            if amount:
                credits[invoice_id].append(CreditLine(line_no, amount=amount))
        charge = book.net(subscription, share, new)
        if charge:
            charges.append(
                ProratedCharge.objects.create(
                    change=change, subscription=subscription, customer_id=subscription.customer_id,
                    period_start=period.start, service_start=share.start, service_end=share.end,
                    plan=new.plan, quantity=new.quantity, amount=charge,
                    description=book.describe(subscription, share, new),
                )
            )  # fmt: skip
    return _credit(subscription, change, credits, actor), charges


def _cut_short(
    book: SubscriptionBook, subscription: Subscription, row: ProratedCharge, state: State, until: date
) -> None:
    """A prorated charge not billed yet ends the day before a later change into its period."""
    period = next(
        p for p in book.periods(subscription, until=row.period_start) if p.start == row.period_start
    )
    share = Share(state, period, row.service_start, max(until, row.service_start))
    if until < row.service_start or not book.net(subscription, share):
        row.delete()
        return
    row.service_end, row.amount = until, book.net(subscription, share)
    row.description = book.describe(subscription, share)
    row.save(update_fields=["service_end", "amount", "description"])


def _credit(
    subscription: Subscription, change: SubscriptionChange, credits: dict[int, list[CreditLine]], actor: User
) -> list[Invoice]:
    """One credit note per invoice, dated today, crediting each line its exact share."""
    if credits:
        require_permission(actor, "invoicing.credit")
    reason = f"{change.kind} change of {subscription} from {change.effective_on.isoformat()}"
    notes = []
    for invoice_id, lines in sorted(credits.items()):
        invoice = get_invoice(invoice_id, for_update=True)
        if invoice.status == InvoiceStatus.VOID:
            raise WrongStatus(
                f"{invoice}, which billed {subscription}, is void: nothing on it is credited", field="status"
            )
        if invoice.status in EDITABLE_STATUSES:
            raise WrongStatus(
                f"{invoice}, which billed {subscription}, is a bill run's draft under review: issue it, or "
                "delete it so the next run bills the period as changed, then make the change",
                field="status",
            )
        notes.append(
            credit_document(invoice, reason=reason, actor=actor, lines=lines, issued_on=clock.today())
        )
    return notes


def _running(subscription: Subscription) -> None:
    if subscription.status == Subscription.Status.CANCELLED:
        raise WrongStatus(f"{subscription} is cancelled; it changes no more", field="status")
    if subscription.status == Subscription.Status.PAUSED:
        raise WrongStatus(f"{subscription} is paused; resume it first", field="status")


@transaction.atomic(durable=True)
def change_subscription(
    *,
    subscription_id: int,
    actor: User,
    effective_on: date | None = None,
    quantity: Any = None,
    plan_code: str = "",
    reason: str = "",
) -> SubscriptionChange:
    """Run the subscription at a new quantity and/or plan from `effective_on` (left out: today; it may be
    back-dated into an invoiced period). The new plan has the same currency, interval and timing, so that
    the periods stay the same periods."""
    require_permission(actor, "billing.capture")
    subscription = _locked_subscription(subscription_id)
    _running(subscription)
    day = clean_document_date(effective_on, "effective_on") or clock.today()
    _clean_effective_on(subscription, _book(subscription), day, "effective_on")
    new_quantity = subscription.quantity if quantity is None else clean_quantity(quantity)
    new_plan = subscription.plan if not plan_code else _plan_to_change_to(subscription, plan_code)
    if (new_plan, new_quantity) == (subscription.plan, subscription.quantity):
        raise InvalidInput(
            f"{subscription} is on {subscription.plan} for {subscription.quantity} already: give a new plan "
            "or quantity",
            field="quantity" if not plan_code else "plan_code",
        )
    kind = Kind.PLAN if new_plan != subscription.plan else Kind.QUANTITY
    return _change(
        subscription, kind=kind, effective_on=day, actor=actor, new_plan=new_plan, new_quantity=new_quantity,
        reason=clean_text(reason, "reason", limit=300),
    )  # fmt: skip


def _plan_to_change_to(subscription: Subscription, plan_code: str) -> Plan:
    plan = Plan.objects.filter(code=plan_code.strip().upper()).first()
    if plan is None:
        raise NotFound(f"there is no plan {plan_code!r}", field="plan_code")
    if not plan.is_active:
        raise InvalidInput(f"{plan} takes no new subscriptions", field="plan_code")
    old = subscription.plan
    if plan.currency != old.currency:
        raise CurrencyMismatch(
            f"{plan} is in {plan.currency}, {subscription} in {old.currency}", field="plan_code"
        )
    if (plan.interval_months, plan.timing) != (old.interval_months, old.timing):
        raise InvalidInput(
            f"{plan} is billed {plan.get_interval_months_display()} {plan.get_timing_display()}, {old} "
            f"{old.get_interval_months_display()} {old.get_timing_display()}: a change keeps the periods, so "
            "cancel and subscribe anew",
            field="plan_code",
        )
    return plan


@transaction.atomic(durable=True)
def pause_subscription(
    *, subscription_id: int, actor: User, effective_on: date | None = None, reason: str = ""
) -> SubscriptionChange:
    """Stop billing from `effective_on` (left out: today) until it is resumed; an invoiced share after
    it is credited. Its periods keep their dates."""
    require_permission(actor, "billing.capture")
    subscription = _locked_subscription(subscription_id)
    _running(subscription)
    day = clean_document_date(effective_on, "effective_on") or clock.today()
    _clean_effective_on(subscription, _book(subscription), day, "effective_on")
    return _change(
        subscription, kind=Kind.PAUSE, effective_on=day, actor=actor, status=Subscription.Status.PAUSED,
        reason=clean_text(reason, "reason", limit=300), action="subscription.paused",
    )  # fmt: skip


@transaction.atomic(durable=True)
def resume_subscription(
    *, subscription_id: int, actor: User, effective_on: date | None = None, reason: str = ""
) -> SubscriptionChange:
    """Bill again from `effective_on` (left out: today): the periods keep their anchor, and the period
    holding that day is billed for its share from it."""
    require_permission(actor, "billing.capture")
    subscription = _locked_subscription(subscription_id)
    if subscription.status != Subscription.Status.PAUSED:
        raise WrongStatus(f"{subscription} is {subscription.status}, not paused", field="status")
    day = clean_document_date(effective_on, "effective_on") or clock.today()
    _clean_effective_on(subscription, _book(subscription), day, "effective_on")
    return _change(
        subscription, kind=Kind.RESUME, effective_on=day, actor=actor, status=Subscription.Status.ACTIVE,
        reason=clean_text(reason, "reason", limit=300), action="subscription.resumed",
    )  # fmt: skip


def end_subscription(
    subscription: Subscription, *, last_day: date, reason: str, actor: User
) -> SubscriptionChange:
    """End a locked subscription after `last_day` and credit what was invoiced beyond it; a building block
    of `cancel_immediately` and of cancelling a contract."""
    if subscription.status == Subscription.Status.CANCELLED:
        raise WrongStatus(f"{subscription} is cancelled already", field="status")
    book = _book(subscription)
    last = book.last_day(subscription)
    if last is not None and last_day >= last:
        raise InvalidInput(f"{subscription} ends on {last.isoformat()} already", field="on")
    _clean_effective_on(subscription, book, last_day + ONE_DAY, "on")
    return _change(
        subscription, kind=Kind.CANCEL, effective_on=last_day + ONE_DAY, actor=actor, reason=reason,
        status=Subscription.Status.CANCELLED, action="subscription.cancelled",
    )  # fmt: skip


@transaction.atomic(durable=True)
def cancel_immediately(
    *, subscription_id: int, reason: str, actor: User, on: date | None = None
) -> SubscriptionChange:
    """End the subscription on `on` (its last day of service; left out: today): nothing after it is billed,
    and what was invoiced for the days after it is credited at once by a credit note."""
    require_permission(actor, "billing.capture")
    reason = clean_text(reason, "reason", limit=300, required=True)
    subscription = _locked_subscription(subscription_id)
    day = clean_document_date(on, "on") or clock.today()
    if day < subscription.start_date:
        raise InvalidInput(
            f"{subscription} starts on {subscription.start_date.isoformat()}: cancel it at term end, and "
            "it is never billed",
            field="on",
        )
    return end_subscription(subscription, last_day=day, reason=reason, actor=actor)
