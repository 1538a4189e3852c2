"""The demo firm's time and expense: a handful of legal clients with a matter each (some under UTBMS
billing guidelines), timekeepers with default rates per role, and each month's time entries and expenses
recorded by the clerk and approved by the supervisor, as the services would have it.

A trainee joins one month without a rate (their role has no default rate): that month's run lists their
client as an exception; the supervisor then sets the trainee's rate from their first day, and the next
run bills the two months together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billops.access.models import User
from billops.cli.demo_invoices import CURRENCIES
from billops.customers.models import Customer
from billops.customers.services import change_customer
from billops.timekeeping.models import Matter
from billops.timekeeping.services.approval import (
    approve_expense,
    approve_time_entry,
    submit_expense,
    submit_time_entry,
)
from billops.timekeeping.services.entries import record_expense, record_time
from billops.timekeeping.services.setup import create_timekeeper, open_matter, set_rate

LEGAL_CLIENTS = 5
TIMEKEEPERS = [
    ("AP", "Anna Pohl", "partner", "450"),
    ("MC", "Marc Caron", "counsel", "380"),
    ("JL", "Julia Lind", "associate", "260"),
    ("RP", "Rita Patel", "paralegal", "140"),
]  # code, name, role, default hourly rate of the role (in every currency)
TRAINEE = ("TN", "Tom Novak", "other", "95")  # no role rate: the first month's run lists an exception
MATTERS = ["Supply contract dispute", "Trademark opposition", "Employment claim", "Lease termination",
           "Product liability defence"]  # fmt: skip
TASKS = ["L110", "L120", "L210", "L240", "L310", "L320", "L330"]
ACTIVITIES = ["A101", "A102", "A103", "A104", "A105", "A106"]
NARRATIVES = [
    "Reviewed the opposing party's submission",
    "Call with the client on strategy",
    "Drafted the statement of claim",
    "Research on limitation periods",
    "Prepared the document production",
    "Revised the witness statement",
    "Attended the case management conference",
]
# UTBMS expense code, description, (lowest, highest) quantity, unit cost, markup percent
EXPENSES = [
    ("E101", "Copies", (50, 400), "0.15", "10"),
    ("E107", "Courier to court", (1, 2), "45.00", "0"),
    ("E112", "Court filing fee", (1, 1), "120.00", "0"),
]


@dataclass
class TimeFigures:
    entries: int = 0
    expenses: int = 0
    approved: int = 0
    trainee_month: str = ""


@dataclass
class DemoTime:
    rng: random.Random
    clerk: User
    supervisor: User
    figures: TimeFigures = field(default_factory=TimeFigures)
    matters: list[Matter] = field(default_factory=list)
    trainee_from: date | None = None

    def set_up(self, clients: list[Customer], opened_on: date) -> None:
        """Timekeepers, each role's default rate in every currency, one matter per client; every other
        client is invoiced per matter (its matter's work apart from its other work)."""
        for code, name, role, rate in TIMEKEEPERS:
            create_timekeeper(code=code, name=name, role=role, actor=self.clerk)
            for currency in CURRENCIES:
                set_rate(role=role, hourly_rate=rate, currency=currency, valid_from=opened_on,
                         actor=self.supervisor)  # fmt: skip
        for number, customer in enumerate(clients, start=1):
            self.matters.append(
                open_matter(
                    customer_id=customer.pk,
                    number=f"M-{opened_on.year}-{number:03d}",
                    name=MATTERS[(number - 1) % len(MATTERS)],
                    fee_product_code="LEGAL-FEES",
                    expense_product_code="DISBURSE",
                    actor=self.clerk,
                    opened_on=opened_on,
                    utbms_required=number % 2 == 1,
                    po_number=f"LIT-{number:04d}" if number % 3 else "",
                )
            )
            if number % 2 == 0:
                per_matter = {"run_invoice_per": Customer.InvoicePer.MATTER_OR_CONTRACT}
                change_customer(customer_id=customer.pk, changes=per_matter, actor=self.clerk)

    def trainee_joins(self, on: date) -> None:
        code, name, role, _ = TRAINEE
        create_timekeeper(code=code, name=name, role=role, actor=self.clerk)
        self.trainee_from = on
        self.figures.trainee_month = f"{on:%Y-%m}"

    def set_trainee_rate(self) -> None:
        """The rate the trainee lacked, from their first day: the next run bills their time."""
        if self.trainee_from is None or not self.matters:
            return
        code, _, _, rate = TRAINEE
        set_rate(timekeeper_code=code, hourly_rate=rate, currency=self.matters[0].customer.currency,
                 valid_from=self.trainee_from, actor=self.supervisor)  # fmt: skip

    def record_month(self, month: date, until: date, *, approve: bool) -> None:
        """The month's time and expenses up to `until`, submitted; approved by the supervisor unless the
        month is still running (then they wait for approval)."""
        for index, matter in enumerate(self.matters):
            keepers = [code for code, *_ in TIMEKEEPERS]
            if index == 0 and self.trainee_from and self.trainee_from < month:
                keepers.append(TRAINEE[0])  # from the month after they joined
            for _ in range(self.rng.randint(3, 6)):
                codes = ("", "")
                if matter.utbms_required:
                    codes = (self.rng.choice(TASKS), self.rng.choice(ACTIVITIES))
                entry = record_time(
                    timekeeper_code=self.rng.choice(keepers), matter_id=matter.pk,
                    worked_on=month.replace(day=self.rng.randint(1, until.day)),
                    hours=Decimal(self.rng.randint(3, 50)) / 10, narrative=self.rng.choice(NARRATIVES),
                    actor=self.clerk, task_code=codes[0], activity_code=codes[1],
                )  # fmt: skip
                submit_time_entry(entry_id=entry.pk, actor=self.clerk)
                if approve:
                    approve_time_entry(entry_id=entry.pk, actor=self.supervisor)
                    self.figures.approved += 1
                self.figures.entries += 1
            if index == 0 and self.trainee_from and month <= self.trainee_from <= until:
                self._trainee_entry(matter, self.trainee_from, approve)
            self._expense(matter, month, until, approve)

    def _trainee_entry(self, matter: Matter, day: date, approve: bool) -> None:
        """The trainee's first day: time with no rate yet."""
        codes = ("L140", "A104") if matter.utbms_required else ("", "")
        entry = record_time(
            timekeeper_code=TRAINEE[0], matter_id=matter.pk, worked_on=day, hours="3.5",
            narrative="Indexed the case file", actor=self.clerk, task_code=codes[0], activity_code=codes[1],
        )  # fmt: skip
        submit_time_entry(entry_id=entry.pk, actor=self.clerk)
        if approve:
            approve_time_entry(entry_id=entry.pk, actor=self.supervisor)
            self.figures.approved += 1
        self.figures.entries += 1

    def _expense(self, matter: Matter, month: date, until: date, approve: bool) -> None:
        code, description, (lowest, highest), cost, markup = self.rng.choice(EXPENSES)
        expense = record_expense(
            matter_id=matter.pk, incurred_on=month.replace(day=self.rng.randint(1, until.day)),
            description=description, quantity=self.rng.randint(lowest, highest), unit_cost=cost,
            markup_percent=markup, expense_code=code, actor=self.clerk,
        )  # fmt: skip
        submit_expense(expense_id=expense.pk, actor=self.clerk)
        if approve:
            approve_expense(expense_id=expense.pk, actor=self.supervisor)
            self.figures.approved += 1
        self.figures.expenses += 1
