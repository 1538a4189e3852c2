"""What bill runs bill: each kind of billable work that is pending up to a day, as invoice lines.

Each item has a key (`charge:12`, `delivery:7`, `subscription:3:2026-04-15`) that the run records once
billed: the database refuses the same key twice. Charges and deliveries say themselves whether they are
billed; a subscription's period is pending until its key is recorded.

Charges, deliveries and subscriptions are built in. Other apps add their kind of work (usage, time and
expense) with `register_source` from their `AppConfig.ready()`: a function listing what is pending and
one marking items billed, called inside the billing transaction.

A run of the month ending on `up_to` bills subscription periods in arrears once they have ended by
then, and in advance once they start by the end of the following month: the March run (invoices dated
1 April) bills April's and the rest of March's advance fees, and the periods that ended in March.
Free trial periods make no line.

A period is billed as its subscription's history says when it is billed: cut at each change into it
(`subscription:3:2026-04-15` from its start, `subscription:3:2026-04-15:<change>` from a change), each
part prorated by actual days. A change into a period billed already is settled by the change itself (a
credit note) and a prorated charge, `subscription_change:<change>:<period start>`, registered as a
source in `apps.py`. A contract period that ended below its minimum commitment adds a true-up,
`contract_trueup:<contract>:<period start>`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol, TypeVar

from django.db.models import Prefetch, Q, QuerySet

from billops.billing.models import (
    BilledItem,
    Charge,
    Contract,
    ContractPrice,
    Delivery,
    Plan,
    PlanPhase,
    ProratedCharge,
    Subscription,
    SubscriptionChange,
)
from billops.billing.periods import Period, Phase, periods, phase_of
from billops.catalog.display import plain_decimal, price_text
from billops.core.calendars import add_months, month_end, month_start
from billops.core.money import round_money
from billops.invoicing.services.lines import LineData

REFERENCE_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Billable:
    kind: str  # "charge", "delivery", "subscription", or a registered source's kind
    id: int
    customer_id: int
    on: date  # the day the work was done: an invoice lists its lines in this order
    line: LineData

    period: date | None = None  # a period's start (subscriptions, usage)
    part: str = ""  # tells apart items of one id and period, e.g. a later adjustment ("2")
    # what its source needs to mark it billed (e.g. the last usage event priced); not part of the key
    source_ref: object = None
    # why it cannot be billed (no rate for a timekeeper, …): the run lists its customer as an exception
    problem: str = ""
    problem_field: str = ""
    # items of different groups ("matter M-2026-001", "contract K-7") go on separate invoices for the
    # customers invoiced per matter or contract; the group is that invoice's reference
    group: str = ""

    @property
    def key(self) -> str:
        period = f":{self.period.isoformat()}" if self.period else ""
        return f"{self.kind}:{self.id}{period}" + (f":{self.part}" if self.part else "")


@dataclass(frozen=True, slots=True)
class BilledKey:
    """A billed item's key read back: what a source needs to make the item pending again."""

    kind: str
    id: int
    period: date | None
    part: str

    @classmethod
    def parse(cls, key: str) -> BilledKey:
        kind, item_id, *rest = key.split(":")
        period = date.fromisoformat(rest[0]) if rest else None
        return cls(kind, int(item_id), period, rest[1] if len(rest) > 1 else "")


# pending(up_to, customer_ids or None for all, lock) → the source's pending items
PendingFunction = Callable[[date, Collection[int] | None, bool], Iterable[Billable]]
MarkBilledFunction = Callable[[Sequence[Billable]], None]
ReleaseFunction = Callable[[Sequence[BilledKey]], None]


@dataclass(frozen=True, slots=True)
class Source:
    pending: PendingFunction
    mark_billed: MarkBilledFunction
    release: ReleaseFunction


SOURCES: dict[str, Source] = {}


def register_source(
    kind: str, pending: PendingFunction, mark_billed: MarkBilledFunction, release: ReleaseFunction
) -> None:
    """Let bill runs bill another kind of work. `pending` lists the items not yet billed up to a day
    (for some customers, or all); with `lock` it is inside the billing transaction and must keep other
    runs off the rows it read. `mark_billed` is called in the same transaction once the items are on
    an invoice (issued, or a draft a run left for review); `release` makes billed items pending again
    when such a draft is deleted."""
    SOURCES[kind] = Source(pending, mark_billed, release)


def _charge(charge: Charge) -> Billable:
    """A charge at the price it was captured with."""
    line = LineData(
        quantity=charge.quantity, description=charge.description,
        product_code=charge.product.code if charge.product else "", unit=charge.unit,
        unit_price=charge.unit_price, tax_code=charge.tax_code.code, service_start=charge.service_start,
        service_end=charge.service_end, reference=charge.reference,
    )  # fmt: skip
    return Billable("charge", charge.pk, charge.customer_id, charge.charge_date, line)


def _delivery(delivery: Delivery) -> Billable:
    """What a delivery delivered, at its order line's price, referring to the order, PO and delivery note."""
    order_line, order = delivery.line, delivery.line.order
    references = [
        f"order {order.number}",
        f"PO {order.po_number}" if order.po_number else "",
        delivery.reference,
    ]
    line = LineData(
        quantity=delivery.quantity, description=order_line.description, product_code=order_line.product.code,
        unit=order_line.unit, unit_price=order_line.unit_price, tax_code=order_line.tax_code.code,
        service_start=delivery.delivered_on, service_end=delivery.delivered_on,
        reference=" · ".join(text for text in references if text)[:REFERENCE_LENGTH],
    )  # fmt: skip
    return Billable("delivery", delivery.pk, delivery.customer_id, delivery.delivered_on, line)


# --- subscriptions: their history, their periods cut at each change, and their prices ----------------

ONE_DAY = timedelta(days=1)


def share_amount(
    unit_price: Decimal, quantity: Decimal, days: int, days_in_period: int, currency: str
) -> Decimal:
    """The net of `days` of a period of `days_in_period` days (actual days, both ends counted): unit
    price x quantity x days ÷ days in the period, rounded half up to the currency's minor unit once."""
    return round_money(unit_price * quantity * days / days_in_period, currency).amount


def anniversaries(start: date, day: date) -> int:
    """How many anniversaries of `start` fall on or before `day` (29 February's is 28 February)."""
    years = day.year - start.year
    if years > 0 and add_months(start, 12 * years) > day:
        years -= 1
    return max(years, 0)


def escalated(price: Decimal, percent: Decimal, years: int, currency: str) -> Decimal:
    """The price after `years` yearly escalations by `percent`, rounded to the currency after each one
    (without escalation, a price keeps its places)."""
    for _ in range(years if percent else 0):
        price = round_money(price * (1 + percent / 100), currency).amount
    return price


def contract_group(contract: Contract | None) -> str:
    """The invoice a contract's work goes on for a customer invoiced per matter or contract."""
    return f"contract {contract.number}" if contract else ""


def contract_last_day(contract: Contract) -> date | None:
    """The last day a contract bills: none while it renews by itself, one term after the other."""
    if contract.status == Contract.Status.ACTIVE and contract.auto_renew:
        return None
    return contract.end_date


def contract_periods(contract: Contract, up_to: date) -> list[tuple[date, date]]:
    """The contract's billing periods that ended by `up_to` within its term (the true-up's periods)."""
    last = contract_last_day(contract)
    found: list[tuple[date, date]] = []
    index = 0
    while True:
        start = add_months(contract.start_date, index * contract.frequency_months)
        end = add_months(contract.start_date, (index + 1) * contract.frequency_months) - ONE_DAY
        if end > up_to or (last is not None and end > last):
            return found
        found.append((start, end))
        index += 1


@dataclass(frozen=True, slots=True)
class State:
    """What a subscription runs at from a day on, until the next change."""

    since: date
    plan: Plan
    quantity: Decimal
    running: bool  # False while paused, and after a cancellation
    change_id: int | None = None  # the change that brought it; None: the subscription's start


@dataclass(frozen=True, slots=True)
class Share:
    """The days of one period spent in one state."""

    state: State
    period: Period
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def days_in_period(self) -> int:
        return (self.period.end - self.period.start).days + 1


class SubscriptionBook:
    """What splits and prices the periods of some subscriptions, read in a fixed number of queries: their
    changes, every plan they held (phases, product, tax code) and their contracts' prices."""

    def __init__(self, scope: QuerySet[Subscription]) -> None:
        self.subscriptions = list(scope.select_related("contract"))
        ids = scope.values("pk")  # subqueries, whatever the number of subscriptions
        self.changes: dict[int, list[SubscriptionChange]] = defaultdict(list)
        for change in SubscriptionChange.objects.filter(subscription_id__in=ids).order_by(
            "effective_on", "pk"
        ):
            self.changes[change.subscription_id].append(change)
        plan_ids = {subscription.plan_id for subscription in self.subscriptions} | {
            plan_id
            for changes in self.changes.values()
            for change in changes
            for plan_id in (change.old_plan_id, change.new_plan_id)
        }
        plans = Plan.objects.select_related("product__tax_code").prefetch_related(
            Prefetch("phases", PlanPhase.objects.order_by("position"))
        )
        self.plans = {plan.pk: plan for plan in plans.filter(pk__in=plan_ids)}
        self.phases = {
            plan.pk: [Phase(phase.kind, phase.periods, phase.unit_price) for phase in plan.phases.all()]
            for plan in self.plans.values()
        }
        prices = ContractPrice.objects.filter(contract_id__in=scope.values("contract_id"))
        self.contract_prices = {(price.contract_id, price.plan_id): price.unit_price for price in prices}

    def states(self, subscription: Subscription) -> list[State]:
        """The subscription's states in date order, from its start."""
        changes = self.changes[subscription.pk]
        first_plan, first_quantity = (
            (changes[0].old_plan_id, changes[0].old_quantity)
            if changes
            else (subscription.plan_id, subscription.quantity)
        )
        states = [State(subscription.start_date, self.plans[first_plan], first_quantity, True)]
        for change in changes:
            running = {
                SubscriptionChange.Kind.PAUSE: False, SubscriptionChange.Kind.CANCEL: False,
                SubscriptionChange.Kind.RESUME: True,
            }.get(SubscriptionChange.Kind(change.kind), states[-1].running)  # fmt: skip
            states.append(
                State(
                    change.effective_on,
                    self.plans[change.new_plan_id],
                    change.new_quantity,
                    running,
                    change.pk,
                )
            )
        return states

    def last_day(self, subscription: Subscription) -> date | None:
        """The subscription's last day of service, or its contract's when that comes first."""
        days = [
            subscription.end_date,
            contract_last_day(subscription.contract) if subscription.contract else None,
        ]
        known = [day for day in days if day is not None]
        return min(known) if known else None

    def periods(self, subscription: Subscription, until: date) -> Iterator[Period]:
        """Its periods starting by `until` and by its last day; each plan it holds has its interval."""
        plan = self.plans[subscription.plan_id]
        return periods(
            start=subscription.start_date, interval_months=plan.interval_months, phases=self.phases[plan.pk],
            until=until, end=self.last_day(subscription),
        )  # fmt: skip

    def shares(self, subscription: Subscription, period: Period) -> list[Share]:
        """The period cut at each change into it, up to the subscription's last day."""
        states, last = self.states(subscription), self.last_day(subscription)
        end = min(period.end, last) if last else period.end
        found = []
        for index, state in enumerate(states):
            until = states[index + 1].since - ONE_DAY if index + 1 < len(states) else end
            first, final = max(state.since, period.start), min(until, end)
            if first <= final:
                found.append(Share(state, period, first, final))
        return found

    def unit_price(self, subscription: Subscription, plan: Plan, period: Period) -> Decimal:
        """The price per unit of a whole period on the plan: a trial's 0, else the contract's price or the
        phase's, escalated on each anniversary of the contract."""
        phase = phase_of(self.phases[plan.pk], period.index)
        if phase.kind == PlanPhase.Kind.TRIAL:
            return Decimal(0)
        contract = subscription.contract
        if contract is None:
            return phase.unit_price
        price = self.contract_prices.get((contract.pk, plan.pk), phase.unit_price)
        years = anniversaries(contract.start_date, period.start)
        return escalated(price, contract.escalation_percent, years, contract.currency)

    def net(self, subscription: Subscription, share: Share, state: State | None = None) -> Decimal:
        """The share's net in `state` (left out: its own); 0 while not running."""
        state = state or share.state
        if not state.running:
            return Decimal(0)
        price = self.unit_price(subscription, state.plan, share.period)
        return share_amount(price, state.quantity, share.days, share.days_in_period, state.plan.currency)

    def key(self, subscription: Subscription, share: Share) -> str:
        return self._billable(subscription, share, LineData(quantity=1)).key

    def period_key(self, subscription: Subscription, period: Period) -> str:
        """The key of the period's part from its start (as `key` makes it): the first of its keys."""
        return f"subscription:{subscription.pk}:{period.start.isoformat()}"

    def describe(self, subscription: Subscription, share: Share, state: State | None = None) -> str:
        """`Pro seats, introductory price: 3 x 20.00 for 17 of 31 days` (a whole period: the plan's name)."""
        state = state or share.state
        kind = phase_of(self.phases[state.plan.pk], share.period.index).kind
        phase = "" if kind == PlanPhase.Kind.EVERGREEN else f", {kind} price"
        if share.days == share.days_in_period:
            return f"{state.plan.name}{phase}"
        price = self.unit_price(subscription, state.plan, share.period)
        return (
            f"{state.plan.name}{phase}: {plain_decimal(state.quantity)} x {plain_decimal(price, 2)} "
            f"for {share.days} of {share.days_in_period} days"
        )

    def line(self, subscription: Subscription, share: Share) -> Billable:
        """A whole period bills quantity x unit price; a part of one bills its net as one amount."""
        state, whole = share.state, share.days == share.days_in_period
        product = state.plan.product
        line = LineData(
            quantity=state.quantity if whole else 1, description=self.describe(subscription, share),
            product_code=product.code, tax_code=product.tax_code.code,
            unit_price=self.unit_price(subscription, state.plan, share.period) if whole
            else self.net(subscription, share),
            service_start=share.start, service_end=share.end, reference=_po(subscription),
        )  # fmt: skip
        return self._billable(subscription, share, line)

    def _billable(self, subscription: Subscription, share: Share, line: LineData) -> Billable:
        # the part from the period's start has the period's key; a part from a change into it, the change's
        part = "" if share.start == share.period.start else str(share.state.change_id)
        return Billable(
            "subscription", subscription.pk, subscription.customer_id, share.start, line, share.period.start,
            part, group=contract_group(subscription.contract),
        )  # fmt: skip


def _advance_until(up_to: date) -> date:
    """The last day a period may start on to be billed in advance by the run of the month ending `up_to`."""
    return month_end(add_months(month_start(up_to), 1))


def _subscription_periods(up_to: date, customer_ids: Collection[int] | None) -> list[Billable]:
    """The periods of every subscription due by the run of the month ending `up_to` and not yet billed,
    each cut at the changes into it, and the contracts' true-ups of the periods that ended by then."""
    advance_until = _advance_until(up_to)
    subscriptions = Subscription.objects.filter(
        ~Q(status=Subscription.Status.CANCELLED) | Q(end_date__isnull=False), start_date__lte=advance_until
    )
    if customer_ids is not None:
        subscriptions = subscriptions.filter(customer_id__in=customer_ids)
    book = SubscriptionBook(subscriptions)
    # what was billed before: a period billed needs no lines built (unless a contract's true-up needs it)
    billed_before = BilledItem.objects.filter(key__startswith="subscription:")
    if customer_ids is not None:
        billed_before = billed_before.filter(customer_id__in=customer_ids)
    billed_keys = set(billed_before.values_list("key", flat=True))
    due: list[
        tuple[list[str], list[Billable]]
    ] = []  # each period: the keys it may be billed under, its lines
    fees: dict[tuple[int, date], Decimal] = defaultdict(Decimal)  # (contract, period start) -> net
    for subscription in book.subscriptions:
        advance = book.plans[subscription.plan_id].timing == Plan.Timing.ADVANCE
        for period in book.periods(subscription, until=advance_until if advance else up_to):
            if not subscription.contract_id and book.period_key(subscription, period) in billed_keys:
                continue  # billed: the key of its part from the start, which every period has
            shares = book.shares(subscription, period)
            if not advance and shares[-1].end > up_to:
                continue  # in arrears: billed once served
            keys = [book.key(subscription, share) for share in shares]
            if not subscription.contract_id and not billed_keys.isdisjoint(keys):
                continue
            lines = [book.line(subscription, share) for share in shares if book.net(subscription, share)]
            if subscription.contract_id:
                fees[subscription.contract_id, period.start] += sum(
                    (book.net(subscription, share) for share in shares), Decimal(0)
                )
            due.append((keys, lines))
    trueups = _trueups(up_to, customer_ids, fees)
    # the subscription keys billed were read above; only the true-ups' are left to look up
    trueup_keys = [item.key for item in trueups]
    billed = billed_keys | set(BilledItem.objects.filter(key__in=trueup_keys).values_list("key", flat=True))
    # a period billed in part is billed: a later change into it is settled by a credit and a prorated charge
    found = [line for keys, lines in due if billed.isdisjoint(keys) for line in lines]
    return found + [item for item in trueups if item.key not in billed]


def _trueups(
    up_to: date, customer_ids: Collection[int] | None, fees: dict[tuple[int, date], Decimal]
) -> list[Billable]:
    """A line for the shortfall of each contract period that ended by `up_to` below its minimum."""
    contracts = Contract.objects.select_related("commitment_product").filter(
        minimum_amount__gt=0, start_date__lte=up_to
    )
    if customer_ids is not None:
        contracts = contracts.filter(customer_id__in=customer_ids)
    found = []
    for contract in contracts:
        for start, end in contract_periods(contract, up_to):
            billed = fees.get((contract.pk, start), Decimal(0))
            if billed >= contract.minimum_amount:
                continue
            line = LineData(
                quantity=1, unit_price=contract.minimum_amount - billed,
                product_code=contract.commitment_product.code if contract.commitment_product else "",
                description=f"Minimum commitment of contract {contract.number}: "
                f"{price_text(billed, contract.currency)} billed of "
                f"{price_text(contract.minimum_amount, contract.currency)} {contract.currency}",
                service_start=start, service_end=end,
                reference=f"PO {contract.po_number}" if contract.po_number else "",
            )  # fmt: skip
            found.append(
                Billable(
                    "contract_trueup", contract.pk, contract.customer_id, end, line, start,
                    group=contract_group(contract),
                )
            )  # fmt: skip
    return found


def pending_prorated_charges(up_to: date, customer_ids: Collection[int] | None, lock: bool) -> list[Billable]:
    """The prorated charges of changes into invoiced periods, billed by the next run that reaches them."""
    charges = ProratedCharge.objects.filter(
        status=ProratedCharge.Status.PENDING, service_start__lte=_advance_until(up_to)
    )
    if customer_ids is not None:
        charges = charges.filter(customer_id__in=customer_ids)
    if lock:
        charges = charges.select_for_update(of=("self",))
    found = []
    for charge in charges.select_related("plan__product__tax_code", "subscription__contract"):
        line = LineData(
            quantity=1, unit_price=charge.amount, description=charge.description,
            product_code=charge.plan.product.code, tax_code=charge.plan.product.tax_code.code,
            service_start=charge.service_start, service_end=charge.service_end,
            reference=_po(charge.subscription),
        )  # fmt: skip
        found.append(
            Billable(
                "subscription_change", charge.change_id, charge.customer_id, charge.service_start, line,
                charge.period_start, source_ref=charge.pk, group=contract_group(charge.subscription.contract),
            )
        )  # fmt: skip
    return found


def mark_prorated_charges_billed(items: Sequence[Billable]) -> None:
    ProratedCharge.objects.filter(pk__in=[item.source_ref for item in items]).update(
        status=ProratedCharge.Status.BILLED
    )


def release_prorated_charges(keys: Sequence[BilledKey]) -> None:
    """Pending again: the prorated charge of each change for each period."""
    found = Q(pk__in=[])
    for key in keys:
        found |= Q(change_id=key.id, period_start=key.period)
    ProratedCharge.objects.filter(found).update(status=ProratedCharge.Status.PENDING)


def _po(subscription: Subscription) -> str:
    return f"PO {subscription.po_number}" if subscription.po_number else ""


def pending(
    up_to: date, *, customer_ids: Collection[int] | None = None, lock: bool = False
) -> dict[int, list[Billable]]:
    """Each customer's work pending by the run of the month ending `up_to`, oldest first. `lock` (with
    `customer_ids`, inside the billing transaction) keeps other runs off its charges and deliveries until
    the transaction ends; a subscription period has no row to lock: the customer's row lock, taken first
    by every run, and its billed-item key guard it."""
    charges = Charge.objects.filter(status=Charge.Status.PENDING, charge_date__lte=up_to)
    deliveries = Delivery.objects.filter(status=Delivery.Status.PENDING, delivered_on__lte=up_to)
    if customer_ids is not None:
        charges, deliveries = (
            charges.filter(customer_id__in=customer_ids),
            deliveries.filter(customer_id__in=customer_ids),
        )
    if lock:
        charges, deliveries = (
            charges.select_for_update(of=("self",)),
            deliveries.select_for_update(of=("self",)),
        )
    found: list[Billable] = [
        *_subscription_periods(up_to, customer_ids),
        *(_charge(charge) for charge in charges.select_related("product", "tax_code")),
        *(
            _delivery(delivery)
            for delivery in deliveries.select_related("line__order", "line__product", "line__tax_code")
        ),
    ]
    for source in SOURCES.values():
        found.extend(source.pending(up_to, customer_ids, lock))
    by_customer: dict[int, list[Billable]] = defaultdict(list)
    for item in sorted(found, key=lambda item: (item.on, item.kind, item.id, item.key)):
        by_customer[item.customer_id].append(item)
    return by_customer


class _Kinded(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def id(self) -> int: ...


K = TypeVar("K", bound=_Kinded)


def _by_kind(items: Iterable[K], built_in_status: str) -> dict[str, list[K]]:
    """The items by kind, with the built-in kinds' charges and deliveries set to `built_in_status` (they
    say themselves whether they are billed)."""
    by_kind: dict[str, list[K]] = defaultdict(list)
    for item in items:
        by_kind[item.kind].append(item)
    Charge.objects.filter(pk__in=[item.id for item in by_kind["charge"]]).update(status=built_in_status)
    Delivery.objects.filter(pk__in=[item.id for item in by_kind["delivery"]]).update(status=built_in_status)
    return by_kind


def mark_billed(items: Sequence[Billable]) -> None:
    """The items are on an invoice: pending no more (a subscription period by its billed-item key)."""
    by_kind = _by_kind(items, Charge.Status.BILLED)
    for kind, source in SOURCES.items():
        if by_kind[kind]:
            source.mark_billed(by_kind[kind])


def release(keys: Sequence[str]) -> None:
    """The billed items of a deleted draft are pending again. A subscription period or a true-up is
    pending once its billed-item record is gone (the caller deletes it); the others are marked."""
    by_kind = _by_kind((BilledKey.parse(key) for key in keys), Charge.Status.PENDING)
    for kind, source in SOURCES.items():
        if by_kind[kind]:
            source.release(by_kind[kind])
