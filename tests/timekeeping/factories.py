"""A small law firm's time billing, built through the services as a clerk and a supervisor would: the
catalog's products for fees and expenses, timekeepers, a customer with a matter, default rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from billops.access.models import User
from billops.catalog.models import Product, TaxCode
from billops.customers.models import Customer
from billops.ledger.accounts import REVENUE, control_account
from billops.timekeeping.models import Expense, Matter, TimeEntry, Timekeeper
from billops.timekeeping.services import approval, entries, setup
from tests.invoicing.factories import make_customer

OPENED = date(2026, 1, 5)


def make_products() -> None:
    """Legal fees and disbursements, both at the standard VAT rate (the catalog fixture's VAT-STD)."""
    standard = TaxCode.objects.get(code="VAT-STD")
    for code, name, unit in (("FEES", "Legal fees", "hour"), ("DISB", "Disbursements", "each")):
        Product.objects.create(
            code=code, name=name, unit=unit, revenue_account=control_account(REVENUE), tax_code=standard
        )


def make_matter(actor: User, customer: Customer, number: str, **fields: Any) -> Matter:
    values = {"name": f"{customer.account_number} v. Acme", "fee_product_code": "FEES",
              "expense_product_code": "DISB", "opened_on": OPENED}  # fmt: skip
    return setup.open_matter(customer_id=customer.pk, number=number, actor=actor, **{**values, **fields})


@dataclass
class Firm:
    clerk: User
    supervisor: User
    customer: Customer
    matter: Matter
    partner: Timekeeper  # JD
    associate: Timekeeper  # AS
    paralegal: Timekeeper  # PL, no rate of their own or of their role


def make_firm(clerk: User, supervisor: User) -> Firm:
    make_products()
    customer = make_customer(clerk, account_number="LAW-1")
    firm = Firm(
        clerk=clerk,
        supervisor=supervisor,
        customer=customer,
        matter=make_matter(clerk, customer, "M-001"),
        partner=setup.create_timekeeper(code="jd", name="Jane Doe", role="partner", actor=clerk),
        associate=setup.create_timekeeper(code="AS", name="Al Smith", role="associate", actor=clerk),
        paralegal=setup.create_timekeeper(code="PL", name="Pat Lee", role="paralegal", actor=clerk),
    )
    for role, rate in (("partner", "400"), ("associate", "250")):
        setup.set_rate(role=role, hourly_rate=rate, currency="EUR", valid_from=OPENED, actor=supervisor)
    return firm


def record(
    firm: Firm, hours: str, on: date, *, timekeeper: Timekeeper | None = None, **fields: Any
) -> TimeEntry:
    return entries.record_time(
        timekeeper_code=(timekeeper or firm.partner).code, matter_id=fields.pop("matter_id", firm.matter.pk),
        worked_on=on, hours=hours, narrative=fields.pop("narrative", "Reviewed the complaint"),
        actor=fields.pop("actor", firm.clerk), **fields,
    )  # fmt: skip


def approved(firm: Firm, hours: str, on: date, **fields: Any) -> TimeEntry:
    """An entry recorded by the clerk, submitted, and approved by the supervisor."""
    entry = record(firm, hours, on, **fields)
    approval.submit_time_entry(entry_id=entry.pk, actor=firm.clerk)
    return approval.approve_time_entry(entry_id=entry.pk, actor=firm.supervisor)


def approved_expense(firm: Firm, on: date, **fields: Any) -> Expense:
    values = {"description": "Court filing fee", "quantity": "1", "unit_cost": "100", "expense_code": "E112",
              "matter_id": firm.matter.pk, **fields}  # fmt: skip
    expense = entries.record_expense(incurred_on=on, actor=firm.clerk, **values)
    approval.submit_expense(expense_id=expense.pk, actor=firm.clerk)
    return approval.approve_expense(expense_id=expense.pk, actor=firm.supervisor)
