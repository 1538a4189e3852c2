"""Contracts: a clerk records a customer's contract (term, billing frequency, PO, prices, minimum
commitment, yearly escalation, renewal) and its subscriptions join it. Every write is audited.

When a bill run passes a contract's end, the contract renews for its renewal term if it renews by itself,
and otherwise ends with its subscriptions (`settle_contract_terms`, called as the run opens). Billing
never waits for that: a contract that renews by itself bills on, one that does not bills nothing after
its end (`billables.contract_last_day`), so a run's preview is the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.billing.models import Contract, ContractPrice, Plan, Subscription
from billops.billing.services.billables import contract_last_day
from billops.billing.services.common import customer_taking_work
from billops.billing.services.subscriptions import INTERVALS, end_subscription
from billops.catalog.selectors import get_product
from billops.core.calendars import add_months
from billops.core.errors import CurrencyMismatch, Duplicate, InvalidInput, NotFound
from billops.core.money import Rounding, round_money
from billops.customers.selectors import get_customer
from billops.invoicing.errors import WrongStatus
from billops.invoicing.services.lines import clean_document_date, clean_percent, clean_price, clean_text

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ContractPriceData:
    plan_code: str
    unit_price: Any  # per interval and unit, before escalation


def contract_state(contract: Contract) -> dict[str, Any]:
    return {
        "number": contract.number, "customer": contract.customer.account_number,
        "start_date": contract.start_date, "end_date": contract.end_date, "term_months": contract.term_months,
        "frequency_months": contract.frequency_months, "po_number": contract.po_number,
        "auto_renew": contract.auto_renew, "renewal_term_months": contract.renewal_term_months,
        "notice_days": contract.notice_days, "minimum_amount": contract.minimum_amount,
        "escalation_percent": contract.escalation_percent, "status": contract.status,
    }  # fmt: skip


def _months(value: Any, field: str, frequency: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 120:
        raise InvalidInput(f"{field} is a number of months from 1 to 120", field=field)
    if value % frequency:
        raise InvalidInput(
            f"{field} is a whole number of billing periods ({frequency} months each)", field=field
        )
    return value


def _prices(prices: Sequence[ContractPriceData], currency: str, frequency: int) -> list[tuple[Plan, Decimal]]:
    found: dict[str, tuple[Plan, Decimal]] = {}
    for index, price in enumerate(prices):
        field = f"prices.{index}"
        code = clean_text(price.plan_code, f"{field}.plan_code", limit=30, required=True).upper()
        plan = Plan.objects.filter(code=code).first()
        if plan is None:
            raise NotFound(f"there is no plan {code!r}", field=f"{field}.plan_code")
        if code in found:
            raise InvalidInput(f"{plan} is priced twice", field=f"{field}.plan_code")
        if plan.currency != currency:
            raise CurrencyMismatch(
                f"{plan} is in {plan.currency}, the contract in {currency}", field=f"{field}.plan_code"
            )
        if plan.interval_months != frequency:
            raise InvalidInput(
                f"{plan} is billed {plan.get_interval_months_display()}, the contract every "
                f"{frequency} months",
                field=f"{field}.plan_code",
            )
        found[code] = (plan, clean_price(price.unit_price, f"{field}.unit_price"))
    return list(found.values())


@transaction.atomic(durable=True)
def create_contract(
    *,
    customer_id: int,
    number: str,
    term_months: int,
    frequency: str,
    actor: User,
    start_date: date | None = None,
    po_number: str = "",
    auto_renew: bool = False,
    renewal_term_months: int | None = None,
    notice_days: int = 0,
    minimum_amount: Any = "0",
    commitment_product_code: str = "",
    escalation_percent: Any = "0",
    prices: Sequence[ContractPriceData] = (),
) -> Contract:
    """A contract from `start_date` (left out: today) for `term_months`, billed every month, quarter or
    year; it renews for `renewal_term_months` (left out: the term) when `auto_renew`."""
    require_permission(actor, "billing.capture")
    customer = customer_taking_work(customer_id)
    number = clean_text(number, "number", limit=30, required=True).upper()
    if frequency not in INTERVALS:
        raise InvalidInput(f"the frequency is month, quarter or year, not {frequency!r}", field="frequency")
    months = int(INTERVALS[frequency])
    start = clean_document_date(start_date, "start_date") or clock.today()
    term = _months(term_months, "term_months", months)
    renewal = _months(
        term if renewal_term_months is None else renewal_term_months, "renewal_term_months", months
    )
    if not isinstance(notice_days, int) or isinstance(notice_days, bool) or not 0 <= notice_days <= 365:
        raise InvalidInput("notice_days is a number of days from 0 to 365", field="notice_days")
    minimum = round_money(
        clean_price(minimum_amount, "minimum_amount"),
        customer.currency,
        Rounding.EXACT,
        field="minimum_amount",
    ).amount
    product = None
    if minimum:
        if not commitment_product_code:
            raise InvalidInput(
                "a minimum commitment needs the product its true-up sells", field="commitment_product_code"
            )
        product = get_product(commitment_product_code)
    cleaned_prices = _prices(prices, customer.currency, months)
    contract = Contract(
        customer=customer, number=number, start_date=start, term_months=term,
        end_date=add_months(start, term) - ONE_DAY, frequency_months=months,
        po_number=clean_text(po_number, "po_number", limit=60), auto_renew=bool(auto_renew),
        renewal_term_months=renewal, notice_days=notice_days, currency=customer.currency,
        minimum_amount=minimum, commitment_product=product,
        escalation_percent=clean_percent(escalation_percent, "escalation_percent"), created_by=actor,
    )  # fmt: skip
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError:
        raise Duplicate(f"there is a contract {number} already", field="number") from None
    ContractPrice.objects.bulk_create(
        ContractPrice(contract=contract, plan=plan, unit_price=price) for plan, price in cleaned_prices
    )
    record_event(
        actor=actor,
        action="contract.created",
        target=contract,
        after={**contract_state(contract), "prices": [[plan.code, price] for plan, price in cleaned_prices]},
    )
    return contract


def _locked_contract(number: str) -> Contract:
    found = (
        Contract.objects.filter(number=number.strip().upper()).values_list("customer_id", flat=True).first()
    )
    if found is None:
        raise NotFound(f"there is no contract {number!r}", field="number")
    get_customer(found, for_update=True)  # the customer first, as bill runs lock it
    return (
        Contract.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(number=number.strip().upper())
    )


def _renew(contract: Contract, actor: User | None, months: int) -> None:
    before = contract.end_date
    contract.end_date = add_months(before + ONE_DAY, months) - ONE_DAY
    contract.save(update_fields=["end_date"])
    record_event(
        actor=actor,
        action="contract.renewed",
        target=contract,
        before={"end_date": before},
        after={"end_date": contract.end_date, "months": months},
    )


@transaction.atomic(durable=True)
def renew_contract(*, number: str, actor: User) -> Contract:
    """Renew a running contract for its renewal term now, whether or not it renews by itself."""
    require_permission(actor, "billing.capture")
    contract = _locked_contract(number)
    if contract.status != Contract.Status.ACTIVE:
        raise WrongStatus(f"{contract} is {contract.status}: sign a new contract instead", field="status")
    _renew(contract, actor, contract.renewal_term_months)
    return contract


@transaction.atomic(durable=True)
def cancel_contract(
    *, number: str, reason: str, actor: User, on: date | None = None, at_term_end: bool = False
) -> Contract:
    """End the contract with its subscriptions on `on` (its last day; left out: today), crediting what
    was invoiced after it; or, `at_term_end`, give notice: it will not renew (refused after the notice
    period began)."""
    require_permission(actor, "billing.capture")
    reason = clean_text(reason, "reason", limit=300, required=True)
    contract = _locked_contract(number)
    if contract.status != Contract.Status.ACTIVE:
        raise WrongStatus(f"{contract} is {contract.status} already", field="status")
    before = contract_state(contract)
    if at_term_end:
        deadline = contract.end_date - timedelta(days=contract.notice_days)
        if clock.today() > deadline:
            raise InvalidInput(
                f"notice for {contract} was due by {deadline.isoformat()}; it renews on "
                f"{(contract.end_date + ONE_DAY).isoformat()}",
                field="at_term_end",
            )
        last_day = contract.end_date
    else:
        last_day = clean_document_date(on, "on") or clock.today()
        if not contract.start_date <= last_day:
            raise InvalidInput(f"{contract} starts on {contract.start_date.isoformat()}", field="on")
    _end_subscriptions(contract, last_day, reason, actor)
    contract.auto_renew, contract.cancel_reason = False, reason
    if not at_term_end:
        contract.status, contract.end_date = Contract.Status.CANCELLED, min(last_day, contract.end_date)
    contract.save(update_fields=["auto_renew", "cancel_reason", "status", "end_date"])
    record_event(
        actor=actor,
        action="contract.cancelled",
        target=contract,
        before=before,
        after={**contract_state(contract), "reason": reason},
    )
    return contract


def _end_subscriptions(contract: Contract, last_day: date, reason: str, actor: User) -> None:
    """Each subscription of the contract running after `last_day` ends then, with a credit for what was
    invoiced after it; one not started by then is cancelled unbilled."""
    running = contract.subscriptions.select_for_update(of=("self",)).select_related(
        "plan", "contract", "customer"
    )
    for subscription in running.exclude(status=Subscription.Status.CANCELLED).order_by("pk"):
        if subscription.start_date > last_day:
            _close(subscription, None, reason, actor)
        elif last_day < min(subscription.end_date or date.max, contract_last_day(contract) or date.max):
            end_subscription(subscription, last_day=last_day, reason=reason, actor=actor)


def _close(subscription: Subscription, end_date: date | None, reason: str, actor: User | None) -> None:
    """Record that a subscription ended with its contract; billing stopped there already."""
    subscription.status, subscription.end_date = Subscription.Status.CANCELLED, end_date
    subscription.cancel_reason, subscription.cancelled_by = reason, actor
    subscription.cancelled_at = timezone.now()
    subscription.save(update_fields=["status", "end_date", "cancel_reason", "cancelled_by", "cancelled_at"])
    record_event(
        actor=actor,
        action="subscription.cancelled",
        target=subscription,
        before={"status": "active"},
        after={"status": subscription.status, "end_date": end_date, "reason": reason},
    )


def settle_contract_terms(*, up_to: date, actor: User | None) -> None:
    """Renew each running contract whose term ended by `up_to` and renews by itself (term after term
    until it covers `up_to`); end the others with their subscriptions. A building block of bill runs."""
    due = Contract.objects.select_for_update(of=("self",)).select_related("customer")
    for contract in due.filter(status=Contract.Status.ACTIVE, end_date__lte=up_to).order_by("pk"):
        if contract.auto_renew:
            while contract.end_date <= up_to:
                _renew(contract, actor, contract.renewal_term_months)
            continue
        reason = f"{contract} ended"
        for subscription in contract.subscriptions.exclude(status=Subscription.Status.CANCELLED).order_by(
            "pk"
        ):
            started = subscription.start_date <= contract.end_date
            _close(
                subscription,
                min(subscription.end_date or date.max, contract.end_date) if started else None,
                reason,
                actor,
            )
        contract.status = Contract.Status.ENDED
        contract.save(update_fields=["status"])
        record_event(
            actor=actor,
            action="contract.ended",
            target=contract,
            before={"status": "active"},
            after={"status": contract.status, "end_date": contract.end_date},
        )
