"""Planning a dunning run: which invoices reached which level on a day, what each customer's notice asks
for and charges, and who is left out and why. The preview shows this plan; the run sends it.

An invoice or debit note is dunned while it is issued, past due and has something open. It goes up one
level at a time: it reaches the next level it has not had when its days past due are at least that
level's days and, after an earlier level, at least the days between the two levels have passed since that
earlier notice. So a policy of 10, 30 and 60 days keeps 20 and 30 days between the notices however late
dunning starts, and no level (and no escalation) is skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet

from billops.collections.hooks import disputed_amounts
from billops.collections.models import (
    CollectionProfile,
    DunningLevel,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    NoticeItem,
)
from billops.collections.selectors.plans import customers_with_active_plans
from billops.collections.selectors.promises import customers_with_open_promises
from billops.core.errors import DomainError, NotFound
from billops.core.money import round_money
from billops.customers.models import Customer
from billops.delivery.services import default_recipients
from billops.invoicing.models import DocumentType, Invoice
from billops.invoicing.selectors import OPEN_STATUSES

DUNNED_TYPES = (DocumentType.INVOICE, DocumentType.DEBIT_NOTE)
DAYS_A_YEAR = Decimal(365)  # simple interest counts actual days over a 365-day year
Escalation = DunningLevel.Escalation


@dataclass(frozen=True, slots=True)
class PlannedItem:
    """One invoice at the level it reached, with what is asked for and the interest on it."""

    invoice: Invoice
    level: DunningLevel
    days_overdue: int
    open_amount: Decimal
    disputed_amount: Decimal
    amount: Decimal  # open less disputed
    interest: Decimal = Decimal(0)
    interest_from: date | None = None
    interest_to: date | None = None

    @property
    def interest_days(self) -> int:
        return (self.interest_to - self.interest_from).days if self.interest_from and self.interest_to else 0


@dataclass(frozen=True, slots=True)
class PlannedNotice:
    """What one customer is sent: its items, the notice's level (the highest of theirs) and charges."""

    customer: Customer
    profile: CollectionProfile | None
    policy: DunningPolicy
    level: DunningLevel
    channel: str  # the level's, or a letter when the customer cannot be e-mailed
    items: tuple[PlannedItem, ...]
    overdue_total: Decimal
    fee: Decimal
    interest: Decimal
    escalation: str  # what the notice does to the account; "none" when the level's is in place already

    @property
    def currency(self) -> str:
        return self.policy.currency

    @property
    def charges(self) -> Decimal:
        return self.fee + self.interest


@dataclass(frozen=True, slots=True)
class Skipped:
    """A customer with something to dun that the run leaves alone, and why."""

    customer: Customer
    reason: str


@dataclass
class DunningPlan:
    run_on: date
    policy: DunningPolicy | None  # the run's scope; None = every policy
    notices: list[PlannedNotice] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return sum(len(notice.items) for notice in self.notices)


@dataclass
class _History:
    """An invoice's earlier notices: the levels it had, when, and the last day interest was charged to."""

    levels: dict[int, date] = field(default_factory=dict)  # level id -> the run's day
    interest_to: date | None = None


def overdue_documents(run_on: date) -> QuerySet[Invoice]:
    """Issued invoices and debit notes past due on `run_on` with something still open."""
    return Invoice.objects.filter(
        document_type__in=DUNNED_TYPES, status__in=OPEN_STATUSES, open_amount__gt=0, due_on__lt=run_on
    )


def policy_of(
    profile: CollectionProfile | None, defaults: dict[str, DunningPolicy], currency: str
) -> DunningPolicy | None:
    """The customer's own policy, or the default of its currency."""
    if profile is not None and profile.dunning_policy_id is not None:
        return profile.dunning_policy
    return defaults.get(currency)


def _histories(run_on: date) -> dict[int, _History]:
    """The earlier notices of every document past due on `run_on` (a subquery: no list of ids to send)."""
    histories: dict[int, _History] = defaultdict(_History)
    rows = NoticeItem.objects.filter(invoice__in=overdue_documents(run_on).values("pk")).values_list(
        "invoice_id", "level_id", "notice__run__run_on", "interest_to"
    )
    for invoice_id, level_id, run_on, interest_to in rows:
        history = histories[invoice_id]
        history.levels[level_id] = run_on
        if interest_to and (history.interest_to is None or interest_to > history.interest_to):
            history.interest_to = interest_to
    return histories


def next_level(
    levels: Sequence[DunningLevel], history: _History, days: int, run_on: date
) -> DunningLevel | None:
    """The level an invoice `days` past due reaches on `run_on`, or None (see the module's docstring)."""
    had = [level for level in levels if level.pk in history.levels]
    upcoming = next((level for level in levels if level.pk not in history.levels), None)
    if upcoming is None or days < upcoming.days_after_due:
        return None
    earlier = [level for level in had if level.number < upcoming.number]
    if earlier:
        last = max(earlier, key=lambda level: level.number)
        if (run_on - history.levels[last.pk]).days < upcoming.days_after_due - last.days_after_due:
            return None
    return upcoming


def interest_on(amount: Decimal, rate: Decimal, start: date, end: date, currency: str) -> Decimal:
    """Simple interest: amount x rate % x days / 365, rounded to the currency."""
    days = (end - start).days
    if days <= 0 or rate <= 0:
        return Decimal(0)
    return round_money(amount * rate / 100 * days / DAYS_A_YEAR, currency).amount


def _planned_item(
    invoice: Invoice, level: DunningLevel, history: _History, disputed: Decimal, run_on: date
) -> PlannedItem | None:
    currency = invoice.currency
    open_amount = round_money(invoice.open_amount, currency).amount
    held = min(round_money(disputed, currency).amount, open_amount)
    amount = open_amount - held
    if amount <= 0:  # all of it is disputed
        return None
    assert invoice.due_on is not None  # an issued document has one
    days = (run_on - invoice.due_on).days
    start = max(invoice.due_on, history.interest_to or invoice.due_on)
    interest = interest_on(amount, level.interest_rate, start, run_on, currency)
    return PlannedItem(
        invoice=invoice, level=level, days_overdue=days, open_amount=open_amount,
        disputed_amount=held, amount=amount, interest=interest,
        interest_from=start if interest else None, interest_to=run_on if interest else None,
    )  # fmt: skip


def fee_for(level: DunningLevel, total: Decimal, currency: str) -> Decimal:
    """The level's fixed fee, or its percentage of what the notice asks for, rounded to the currency."""
    if level.fee_amount:
        return round_money(level.fee_amount, currency).amount
    return round_money(total * level.fee_percent / 100, currency).amount if level.fee_percent else Decimal(0)


def _escalation(level: DunningLevel, customer: Customer, profile: CollectionProfile | None) -> str:
    if level.escalation == Escalation.CREDIT_HOLD and customer.credit_hold:
        return Escalation.NONE
    if level.escalation == Escalation.COLLECTION_AGENCY and profile and profile.with_agency_on:
        return Escalation.NONE
    return level.escalation


def channel_for(level: DunningLevel, customer: Customer) -> str:
    """The level's channel; a customer that takes no e-mail, or has no address for it, gets a letter."""
    if level.channel != DunningLevel.Channel.EMAIL:
        return level.channel
    try:
        default_recipients(customer)
    except DomainError:  # NoRecipients: by post, or nobody to write to
        return DunningLevel.Channel.LETTER
    return DunningLevel.Channel.EMAIL


def _reason_left_out(
    customer: Customer, profile: CollectionProfile | None, promised: set[int], planned: set[int]
) -> str:
    if profile is not None and profile.dunning_excluded:
        return f"excluded from dunning: {profile.dunning_exclusion_reason}"
    if customer.pk in promised:
        return "has an open promise to pay"
    if customer.pk in planned:
        return "has an active payment plan"
    return ""


def plan_dunning(*, run_on: date, policy: DunningPolicy | None = None) -> DunningPlan:
    """What a run on `run_on` would send (for the customers of `policy`, or all); reads only."""
    plan = DunningPlan(run_on=run_on, policy=policy)
    documents: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in overdue_documents(run_on).select_related("entity").order_by("due_on", "number"):
        documents[invoice.customer_id].append(invoice)
    if not documents:
        return plan
    customers = Customer.objects.in_bulk(list(documents))
    profiles = {
        profile.customer_id: profile
        for profile in CollectionProfile.objects.select_related("dunning_policy").filter(
            customer_id__in=list(documents)
        )
    }
    levels: dict[int, list[DunningLevel]] = defaultdict(list)
    for level in DunningLevel.objects.select_related("policy").order_by("policy_id", "number"):
        levels[level.policy_id].append(level)
    defaults = {p.currency: p for p in DunningPolicy.objects.filter(is_default=True)}
    promised = customers_with_open_promises(documents)
    planned = customers_with_active_plans(documents)
    considered: dict[int, DunningPolicy] = {}
    for customer_id in sorted(documents, key=lambda pk: customers[pk].account_number):
        customer, profile = customers[customer_id], profiles.get(customer_id)
        chosen = policy_of(profile, defaults, customer.currency)
        if policy is not None and (chosen is None or chosen.pk != policy.pk):
            continue
        reason = _reason_left_out(customer, profile, promised, planned)
        if not reason and chosen is None:
            reason = f"no dunning policy for {customer.currency}: make one the default of the currency"
        elif not reason and chosen is not None and chosen.currency != customer.currency:
            reason = f"its policy {chosen.code} is in {chosen.currency}, its invoices in {customer.currency}"
        if reason:
            plan.skipped.append(Skipped(customer, reason))
            continue
        assert chosen is not None
        considered[customer_id] = chosen
    invoice_ids = [invoice.pk for pk in considered for invoice in documents[pk]]
    histories = _histories(run_on)
    disputed = disputed_amounts(invoice_ids) if invoice_ids else {}
    for customer_id, chosen in considered.items():
        customer, profile = customers[customer_id], profiles.get(customer_id)
        items = []
        for invoice in documents[customer_id]:
            assert invoice.due_on is not None
            history = histories.get(invoice.pk, _History())
            reached = next_level(levels[chosen.pk], history, (run_on - invoice.due_on).days, run_on)
            if reached is None:
                continue
            item = _planned_item(invoice, reached, history, disputed.get(invoice.pk, Decimal(0)), run_on)
            if item is not None:
                items.append(item)
        if not items:
            continue
        total = sum((item.amount for item in items), Decimal(0))
        if total < chosen.minimum_amount:
            asked, least = (
                round_money(total, chosen.currency),
                round_money(chosen.minimum_amount, chosen.currency),
            )
            plan.skipped.append(
                Skipped(customer, f"asks for {asked}, less than the policy's minimum of {least}")
            )
            continue
        top = max((item.level for item in items), key=lambda level: level.number)
        plan.notices.append(
            PlannedNotice(
                customer=customer, profile=profile, policy=chosen, level=top,
                channel=channel_for(top, customer),
                items=tuple(items), overdue_total=total, fee=fee_for(top, total, chosen.currency),
                interest=sum((item.interest for item in items), Decimal(0)),
                escalation=_escalation(top, customer, profile),
            )
        )  # fmt: skip
    return plan


def candidate_customer_ids(run_on: date) -> list[int]:
    """The customers with something past due on `run_on`, ascending: a run locks them in this order."""
    return sorted(set(overdue_documents(run_on).values_list("customer_id", flat=True)))


# --- reads for the pages and the API ------------------------------------------------------------------


def list_policies() -> QuerySet[DunningPolicy]:
    """Every dunning policy with its levels, by currency and code."""
    return (
        DunningPolicy.objects.prefetch_related("levels")
        .select_related("updated_by")
        .order_by("currency", "code")
    )


def get_policy(code: str) -> DunningPolicy:
    """The policy with this code (any case), or NotFound."""
    found = list_policies().filter(code=code.strip().upper()).first()
    if found is None:
        raise NotFound(f"there is no dunning policy {code!r}", field="policy_code")
    return found


def list_runs() -> QuerySet[DunningRun]:
    """Dunning runs, latest first."""
    return DunningRun.objects.select_related("policy", "started_by").order_by("-run_on", "-id")


def get_run(run_id: int) -> DunningRun:
    found = list_runs().filter(pk=run_id).first()
    if found is None:
        raise NotFound(f"there is no dunning run {run_id}", field="run_id")
    return found


def list_notices(
    *, customer_id: int | None = None, run_id: int | None = None, level: int | None = None
) -> QuerySet[DunningNotice]:
    """Notices latest first, without their PDFs; each filter left out matches all."""
    notices = (
        DunningNotice.objects.select_related(
            "customer", "level", "level__policy", "run", "debit_note", "delivery"
        )
        .defer("pdf")
        .order_by("-run__run_on", "-id")
    )
    if customer_id is not None:
        notices = notices.filter(customer_id=customer_id)
    if run_id is not None:
        notices = notices.filter(run_id=run_id)
    if level is not None:
        notices = notices.filter(level__number=level)
    return notices


def get_notice(notice_id: int) -> DunningNotice:
    """One notice with its items, or NotFound."""
    found = (
        DunningNotice.objects.select_related(
            "customer", "level", "level__policy", "run", "debit_note", "delivery"
        )
        .prefetch_related("items__invoice", "items__level")
        .filter(pk=notice_id)
        .first()
    )
    if found is None:
        raise NotFound(f"there is no dunning notice {notice_id}", field="notice_id")
    return found


def dunning_settings(customer_id: int) -> CollectionProfile | None:
    """The customer's collections profile with its dunning policy; None when it has none yet."""
    return CollectionProfile.objects.select_related("dunning_policy").filter(customer_id=customer_id).first()
