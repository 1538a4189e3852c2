"""The demo company's year of invoicing, built through the same services a clerk uses.

A billing entity, tax codes with the shipped EU VAT and US sales tax tables, products and price lists,
then, month by month from January to this month: two or three invoices per active customer, a few
credit notes (whole and per line), a few voids, and each finished month closed. The current month keeps
some drafts and invoices waiting for approval, so every page has something to show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rich.progress import Progress

from billops.access.models import User
from billops.catalog.services.prices import create_price_list, set_list_price
from billops.catalog.services.products import create_product
from billops.catalog.services.tax_codes import import_tax_rates, seed_tax_codes, shipped_rate_files
from billops.core.calendars import add_months, month_end
from billops.customers.models import Customer
from billops.invoicing.models import InvoiceStatus
from billops.invoicing.services.corrections import CreditLine, issue_credit_note, void_invoice
from billops.invoicing.services.drafts import create_draft
from billops.invoicing.services.entities import create_billing_entity, set_approval_threshold
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now, submit_invoice
from billops.ledger.services import close_period

FIRST_MONTH = date(2026, 1, 1)
APPROVAL_FROM = Decimal(20_000)  # per currency: invoices at or above this need a second person

# code, name, unit, tax code, prices per currency (EUR, GBP, CHF, USD)
PRODUCTS = [
    ("SAAS-SEAT", "Billops Cloud seat licence", "seat", "VAT-STD", ("39.00", "34.00", "41.00", "42.00")),
    ("SUPPORT", "Premium support plan", "month", "VAT-STD", ("450.00", "390.00", "470.00", "490.00")),
    ("CONSULT", "Implementation consulting", "hour", "VAT-STD", ("150.00", "130.00", "160.00", "165.00")),
    ("TRAINING", "On-site training day", "day", "VAT-STD", ("1200.00", "1050.00", "1250.00", "1300.00")),
    ("HANDBOOK", "Billing operations handbook", "each", "VAT-RED", ("29.90", "25.90", "31.90", "32.90")),
]  # fmt: skip
CURRENCIES = ("EUR", "GBP", "CHF", "USD")
CONSULTING_VOLUME_BREAK = ("20", "0.9")  # from 20 hours on a line, 10 % off the hourly rate


@dataclass
class DemoInvoicing:
    """What the demo built, for its summary."""

    invoices: int = 0
    credit_notes: int = 0
    voids: int = 0
    drafts: int = 0
    awaiting_approval: int = 0
    months_closed: list[str] = field(default_factory=list)


def _set_up_catalog(supervisor: User) -> None:
    seed_tax_codes(actor=None)
    for name, content in shipped_rate_files():
        import_tax_rates(content=content, filename=name, actor=None)
    for code, name, unit, tax_code, _ in PRODUCTS:
        create_product(
            code=code, name=name, unit=unit, tax_code=tax_code, revenue_account="4000", description=name,
            actor=supervisor,
        )  # fmt: skip
    for index, currency in enumerate(CURRENCIES):
        create_price_list(
            code=f"STD-{currency}", name=f"Standard prices {currency}", currency=currency,
            valid_from=date(2025, 1, 1), is_default=True, actor=supervisor,
        )  # fmt: skip
        for code, _, _, _, prices in PRODUCTS:
            set_list_price(
                price_list_code=f"STD-{currency}",
                product_code=code,
                unit_price=prices[index],
                actor=supervisor,
            )
        minimum, factor = CONSULTING_VOLUME_BREAK
        hourly = Decimal(PRODUCTS[2][4][index]) * Decimal(factor)
        set_list_price(
            price_list_code=f"STD-{currency}", product_code="CONSULT", unit_price=str(hourly),
            min_quantity=minimum, actor=supervisor,
        )  # fmt: skip


def _set_up_entity(admin: User) -> None:
    create_billing_entity(
        actor=None, code="MAIN", legal_name="Billops Demo GmbH", address_lines="Torstraße 140",
        postal_code="10119", city="Berlin", country="DE", vat_id="DE136695976", tax_id="",
        email="billing@billops.example", phone="+49 30 1234567", bank_account_holder="Billops Demo GmbH",
        bank_name="Commerzbank Berlin", iban="DE89370400440532013000", bic="COBADEFFXXX",
    )  # fmt: skip
    for currency in CURRENCIES:
        set_approval_threshold(entity_code="MAIN", currency=currency, amount=str(APPROVAL_FROM), actor=admin)


def _lines(rng: random.Random, month: date, kind: int) -> list[LineData]:
    """A licence invoice, a services invoice or a goods invoice, with the month as service period."""
    start, end = month, month_end(month)
    if kind == 0:
        seats = str(rng.choice([3, 5, 8, 12, 20, 40]))
        lines = [LineData(quantity=seats, product_code="SAAS-SEAT", service_start=start, service_end=end)]
        if rng.random() < 0.4:
            lines.append(LineData(quantity="1", product_code="SUPPORT", service_start=start, service_end=end))
        return lines
    if kind == 1:
        hours = Decimal(rng.randint(4, 120)) / 2
        lines = [
            LineData(
                quantity=str(hours), product_code="CONSULT", reference=f"Project {rng.randint(100, 999)}"
            )
        ]
        if rng.random() < 0.15:
            lines.append(
                LineData(quantity=str(rng.randint(1, 3)), product_code="TRAINING", discount_percent="10")
            )
        return lines
    return [LineData(quantity=str(rng.randint(1, 25)), product_code="HANDBOOK")]


def _invoice_month(
    rng: random.Random,
    month: date,
    today: date,
    customers: list[Customer],
    clerk: User,
    result: DemoInvoicing,
) -> list[int]:
    issued = []
    last_day = today.day if month == today.replace(day=1) else 28  # nothing is dated in the future
    for customer in customers:
        for kind in rng.sample([0, 1, 2], k=2 + (rng.random() < 0.5)):
            on = month.replace(day=rng.randint(1, last_day))
            invoice = invoice_now(
                customer_id=customer.pk, lines=_lines(rng, month, kind), actor=clerk, issued_on=on,
                po_number=f"PO-{rng.randint(10000, 99999)}" if rng.random() < 0.3 else "",
            )  # fmt: skip
            issued.append(invoice.pk)
            result.invoices += 1
    return issued


def _correct_month(
    rng: random.Random, month: date, today: date, issued: list[int], clerk: User, result: DemoInvoicing
) -> None:
    """About 2 % of the month's invoices get a credit note, about 1 % are voided; dated at the month end."""
    chosen = rng.sample(issued, k=min(len(issued), max(2, len(issued) * 3 // 100)))
    on = min(month_end(month), today)
    for number, invoice_id in enumerate(chosen):
        if number % 3 == 0:
            issue_credit_note(invoice_id=invoice_id, reason="Order cancelled", actor=clerk, issued_on=on)
            result.credit_notes += 1
        elif number % 3 == 1:
            void_invoice(
                invoice_id=invoice_id, reason="Issued to the wrong customer", actor=clerk, voided_on=on
            )
            result.voids += 1
        else:
            issue_credit_note(
                invoice_id=invoice_id, reason="Goodwill: service outage", actor=clerk, issued_on=on,
                lines=[CreditLine(1, amount="25.00")],
            )  # fmt: skip
            result.credit_notes += 1


def _leave_work_in_progress(
    rng: random.Random, today: date, customers: list[Customer], clerk: User, result: DemoInvoicing
) -> None:
    """Drafts still being prepared, and large invoices waiting for a supervisor's approval."""
    for customer in rng.sample(customers, k=min(12, len(customers))):
        create_draft(customer_id=customer.pk, actor=clerk, lines=_lines(rng, today.replace(day=1), 1))
        result.drafts += 1
    for customer in rng.sample(customers, k=min(5, len(customers))):
        large = [
            LineData(quantity="160", product_code="CONSULT"),
            LineData(quantity="6", product_code="TRAINING"),
        ]
        draft = create_draft(customer_id=customer.pk, actor=clerk, lines=large)
        if submit_invoice(invoice_id=draft.pk, actor=clerk).status == InvoiceStatus.SUBMITTED:
            result.awaiting_approval += 1


def build_demo_invoicing(
    *,
    rng: random.Random,
    users: dict[str, User],
    customer_ids: list[int],
    today: date,
    months: int,
    progress: Progress,
) -> DemoInvoicing:
    """Invoicing since January (or the last `months` months) for the active customers not on credit hold."""
    clerk, supervisor = users["clerk"], users["supervisor"]
    _set_up_entity(users["admin"])
    _set_up_catalog(supervisor)
    customers = list(
        Customer.objects.filter(
            pk__in=customer_ids, status=Customer.Status.ACTIVE, credit_hold=False
        ).order_by("pk")
    )
    result = DemoInvoicing()
    invoiced_months = []
    this_month = today.replace(day=1)
    month = max(FIRST_MONTH, add_months(this_month, 1 - months)) if months else FIRST_MONTH
    while month <= this_month:
        invoiced_months.append(month)
        month = add_months(month, 1)
    task = progress.add_task("Issuing a year of invoices", total=len(invoiced_months))
    for month in invoiced_months:
        issued = _invoice_month(rng, month, today, customers, clerk, result)
        _correct_month(rng, month, today, issued, clerk, result)
        if add_months(month, 2) <= today.replace(day=1):  # the last two months stay open
            close_period(start_on=month, actor=supervisor)
            result.months_closed.append(f"{month:%Y-%m}")
        progress.advance(task)
    _leave_work_in_progress(rng, today, customers, clerk, result)
    return result
