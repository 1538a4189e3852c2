"""The demo company's billable work, captured through the services as the clerk would, month by month.

Set up once, on the first day of the demo's first month: plans (seats, a starter plan with a free trial
and an introductory price, quarterly support in advance, hosting in arrears), subscriptions for most
active customers, and usage metrics with charges for a good share of them. Then each month:

- mid-month: new sign-ups to the starter plan, a few cancellations at term end, new sales orders with
  a first partial delivery, and last month's usage that arrives late (after its run: the next run bills
  an adjustment line);
- at the month's end (or today, in the current month): the month's usage events in batches, the rest of
  earlier orders delivered, one-off consulting charges.

Time and expense, for the firm's legal clients, is in `demo_time`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from billops.access.models import User
from billops.billing.services.charges import create_charge
from billops.billing.services.orders import create_order, record_delivery
from billops.billing.services.subscriptions import PhaseData, cancel_at_term_end, create_plan, subscribe
from billops.cli.demo_invoices import CURRENCIES, list_price
from billops.core.calendars import month_end
from billops.customers.models import Customer
from billops.invoicing.services.lines import LineData
from billops.usage.imports import EventData
from billops.usage.services.charges import create_metric, create_usage_charge
from billops.usage.services.ingestion import MAX_EVENTS, ingest_events

SEATS = [3, 5, 8, 12, 20, 40]

# code, name, product, interval, timing, phases: (kind, periods, factor of the product's list price)
PLANS: list[tuple[str, str, str, str, str, list[tuple[str, int | None, str]]]] = [
    ("SEATS", "Billops Cloud seats", "SAAS-SEAT", "month", "advance", [("evergreen", None, "1")]),
    (
        "STARTER", "Billops Cloud starter seats", "SAAS-SEAT", "month", "advance",
        [("trial", 1, "0"), ("introductory", 2, "0.5"), ("evergreen", None, "1")],
    ),
    ("SUPPORT-Q", "Premium support, quarterly", "SUPPORT", "quarter", "advance", [("evergreen", None, "3")]),
    ("HOSTING", "Managed hosting", "HOSTING", "month", "arrears", [("evergreen", None, "1")]),
]  # fmt: skip

# code, name, unit, aggregation, field, product, charge model, its terms
METRICS: list[tuple[str, str, str, str, str, str, str, dict[str, Any]]] = [
    (
        "API-CALLS", "API calls", "calls", "sum", "calls", "API-USAGE", "graduated",
        {"tiers": [
            {"up_to": "10000", "unit_price": "0", "flat_fee": "0"},
            {"up_to": "250000", "unit_price": "0.002", "flat_fee": "0"},
            {"up_to": None, "unit_price": "0.0012", "flat_fee": "25"},
        ]},
    ),
    (
        "STORAGE-GB", "Storage", "GB", "max", "gb", "STORAGE", "package",
        {"package_size": "50", "package_price": "9.00"},
    ),
    (
        "ACTIVE-USERS", "Active users", "users", "unique_count", "user", "USERS", "per_unit",
        {"unit_price": "4.00"},
    ),
]  # fmt: skip

SHARE_ESTABLISHED = 0.85  # of the active customers: subscribed from the first month; the rest sign up later
SHARE_USAGE = 0.4  # of the established: usage charges
LATE_USAGE = 0.15  # of the API charges: an event of last month that arrives after its run
CANCELLED_PER_MONTH = 0.01  # of the seats subscriptions: cancelled at term end
ORDERS_PER_MONTH = 0.05  # of the customers taking work
CHARGES_PER_MONTH = 0.08


def timestamp(day: date, hour: int) -> str:
    """An event time in the business time zone, as a sender without an offset writes it."""
    return f"{day.isoformat()}T{hour:02d}:00:00"


@dataclass
class UsageCustomer:
    customer: Customer
    metrics: list[str]
    calls: int  # a month's API calls, roughly
    gigabytes: int
    users: int


@dataclass
class WorkFigures:
    subscriptions: int = 0
    cancelled: int = 0
    usage_charges: int = 0
    usage_events: int = 0
    late_events: int = 0
    orders: int = 0
    deliveries: int = 0
    charges: int = 0


@dataclass
class DemoWork:
    """What the year captures, and the state it carries from one month to the next."""

    rng: random.Random
    clerk: User
    supervisor: User
    active: list[Customer]  # every active customer; those on credit hold too
    taking_work: list[Customer]  # active and not on credit hold: orders and charges
    figures: WorkFigures = field(default_factory=WorkFigures)
    seats: list[int] = field(default_factory=list)  # the seats subscriptions still running
    newcomers: list[Customer] = field(default_factory=list)  # to sign up in the months to come
    usage: list[UsageCustomer] = field(default_factory=list)
    # what earlier months' orders still have to deliver: order number, line, quantity
    undelivered: list[tuple[str, int, Decimal]] = field(default_factory=list)
    ordered: list[tuple[str, int, Decimal]] = field(
        default_factory=list
    )  # this month's: delivered next month

    def set_up(self, first_month: date, months: int) -> None:
        """Plans, metrics, the established customers' subscriptions and usage charges, from `first_month`."""
        self._plans()
        for code, name, unit, aggregation, metric_field, *_ in METRICS:
            create_metric(
                code=code, name=name, unit=unit, aggregation=aggregation, field=metric_field,
                actor=self.supervisor,
            )  # fmt: skip
        customers = list(self.active)
        self.rng.shuffle(customers)
        cut = round(len(customers) * SHARE_ESTABLISHED) if months > 1 else len(customers)
        established, self.newcomers = sorted(customers[:cut], key=_number), customers[cut:]
        for customer in established:
            self._subscribe(customer, "SEATS", self.rng.choice(SEATS), first_month)
            if self.rng.random() < 0.3:
                self._subscribe(customer, "SUPPORT-Q", 1, first_month)
            if self.rng.random() < 0.2:
                self._subscribe(customer, "HOSTING", self.rng.randint(1, 3), first_month)
            if self.rng.random() < SHARE_USAGE:
                self._charge_usage(customer, first_month)

    def _plans(self) -> None:
        for currency in CURRENCIES:
            for code, name, product, interval, timing, phases in PLANS:
                price = list_price(product, currency)
                priced = [PhaseData(kind, price * Decimal(share), periods) for kind, periods, share in phases]
                create_plan(
                    code=f"{code}-{currency}", name=name, product_code=product, currency=currency,
                    interval=interval, timing=timing, phases=priced, actor=self.supervisor,
                )  # fmt: skip

    def _subscribe(self, customer: Customer, plan: str, quantity: int, start: date) -> None:
        subscription = subscribe(
            customer_id=customer.pk, plan_code=f"{plan}-{customer.currency}", quantity=quantity,
            actor=self.clerk, start_date=start,
        )  # fmt: skip
        self.figures.subscriptions += 1
        if plan in ("SEATS", "STARTER"):
            self.seats.append(subscription.pk)

    def _charge_usage(self, customer: Customer, start: date) -> None:
        metrics = ["API-CALLS"] + [code for code, share in (("STORAGE-GB", 0.6), ("ACTIVE-USERS", 0.4))
                                   if self.rng.random() < share]  # fmt: skip
        for code, _, _, _, _, product, model, terms in METRICS:
            if code in metrics:
                create_usage_charge(
                    customer_id=customer.pk, metric_code=code, product_code=product, model=model,
                    actor=self.clerk, start_date=start, **terms,
                )  # fmt: skip
                self.figures.usage_charges += 1
        self.usage.append(
            UsageCustomer(
                customer, metrics, calls=self.rng.randint(20, 400) * 1000,
                gigabytes=self.rng.randint(40, 900), users=self.rng.randint(3, 25),
            )
        )  # fmt: skip

    # --- mid-month ------------------------------------------------------------------------------------

    def open_month(self, month: date, on: date, months_left: int, previous: date | None) -> None:
        """Sign-ups, cancellations at term end, new orders with a first delivery; last month's late usage."""
        signing = self.newcomers[: -(-len(self.newcomers) // months_left)] if months_left else []
        self.newcomers = self.newcomers[len(signing) :]
        for customer in sorted(signing, key=_number):
            self._subscribe(customer, "STARTER", self.rng.choice(SEATS[:4]), on)
        for subscription_id in self.rng.sample(self.seats, k=round(len(self.seats) * CANCELLED_PER_MONTH)):
            cancel_at_term_end(
                subscription_id=subscription_id, reason="Moved to a competitor", actor=self.clerk, on=on
            )
            self.seats.remove(subscription_id)
            self.figures.cancelled += 1
        ordering = self.rng.sample(self.taking_work, k=round(len(self.taking_work) * ORDERS_PER_MONTH))
        for number, customer in enumerate(sorted(ordering, key=_number), start=1):
            self._order(customer, f"SO-{month:%Y%m}-{number:03d}", on)
        if previous is not None:
            self._send_late_usage(previous)

    def _order(self, customer: Customer, number: str, on: date) -> None:
        handbooks = self.rng.randint(10, 60)
        lines = [LineData(quantity=handbooks, product_code="HANDBOOK")]
        if self.rng.random() < 0.5:
            lines.append(LineData(quantity=self.rng.randint(2, 4), product_code="TRAINING"))
        po = f"PO-{self.rng.randint(10000, 99999)}" if self.rng.random() < 0.5 else ""
        create_order(customer_id=customer.pk, number=number, lines=lines, actor=self.clerk, order_date=on,
                     po_number=po)  # fmt: skip
        self.figures.orders += 1
        first = handbooks // 2  # the rest goes out later: a partial delivery
        self._deliver(number, 1, Decimal(first), on, "DN-1")
        self.ordered.append((number, 1, Decimal(handbooks - first)))
        if len(lines) > 1:
            self.ordered.append((number, 2, Decimal(lines[1].quantity)))

    def _deliver(self, number: str, line_no: int, quantity: Decimal, on: date, reference: str) -> None:
        record_delivery(
            order_number=number, line_no=line_no, quantity=quantity, actor=self.clerk, delivered_on=on,
            reference=reference,
        )  # fmt: skip
        self.figures.deliveries += 1

    def _send_late_usage(self, previous: date) -> None:
        """An API-calls event of last month's last evening, arriving after its run billed the month."""
        late_day = month_end(previous)
        events = [
            EventData(
                event_id=f"API-CALLS-{previous:%Y%m}-late",
                customer=usage.customer.account_number,
                metric="API-CALLS",
                timestamp=timestamp(late_day, 23),
                properties={"calls": str(self.rng.randint(1, 20) * 1000)},
            )
            for usage in self.usage
            if self.rng.random() < LATE_USAGE
        ]
        self._ingest(events)
        self.figures.late_events += len(events)

    # --- month end ------------------------------------------------------------------------------------

    def close_month(self, month: date, until: date) -> None:
        """The month's usage up to `until`, earlier orders delivered in full, one-off charges."""
        events = [event for usage in self.usage for event in self._usage_events(usage, month, until)]
        self._ingest(events)
        self.figures.usage_events += len(events)
        for number, line_no, quantity in self.undelivered:
            self._deliver(number, line_no, quantity, until, "DN-2")
        self.undelivered, self.ordered = self.ordered, []
        charged = self.rng.sample(self.taking_work, k=round(len(self.taking_work) * CHARGES_PER_MONTH))
        for customer in sorted(charged, key=_number):
            create_charge(
                customer_id=customer.pk, product_code="CONSULT", actor=self.clerk,
                quantity=Decimal(self.rng.randint(4, 48)) / 2,
                charge_date=month.replace(day=self.rng.randint(1, until.day)),
                reference=f"Ticket {self.rng.randint(1000, 9999)}",
            )  # fmt: skip
            self.figures.charges += 1

    def _usage_events(self, usage: UsageCustomer, month: date, until: date) -> list[EventData]:
        number = usage.customer.account_number
        days = [day for day in (7, 14, 21, 28) if day <= until.day] or [until.day]
        found = []
        for day in days:
            calls = round(usage.calls * self.rng.uniform(0.8, 1.2) / 4)
            on = timestamp(month.replace(day=day), 18)
            found.append(
                EventData(
                    f"API-CALLS-{month:%Y%m}{day:02d}", number, "API-CALLS", on, None, {"calls": str(calls)}
                )
            )
        if "STORAGE-GB" in usage.metrics:
            usage.gigabytes = round(usage.gigabytes * self.rng.uniform(0.95, 1.1))  # storage grows
            for day in sorted({1, min(15, until.day), until.day}):
                reading = {"gb": f"{usage.gigabytes * self.rng.uniform(0.9, 1):.1f}"}
                on = timestamp(month.replace(day=day), 2)
                found.append(
                    EventData(f"STORAGE-GB-{month:%Y%m}{day:02d}", number, "STORAGE-GB", on, None, reading)
                )
        if "ACTIVE-USERS" in usage.metrics:
            for user in range(1, usage.users + self.rng.randint(-2, 2) + 1):
                on = timestamp(month.replace(day=self.rng.randint(1, until.day)), 9)
                found.append(
                    EventData(f"login-{month:%Y%m}-{user}", number, "ACTIVE-USERS", on, f"user{user}")
                )
        return found

    def _ingest(self, events: Sequence[EventData]) -> None:
        for start in range(0, len(events), MAX_EVENTS):
            ingest_events(events=events[start : start + MAX_EVENTS], actor=self.clerk)


def _number(customer: Customer) -> str:
    return customer.account_number
