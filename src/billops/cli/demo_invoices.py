"""The demo company's invoicing: its billing entity and catalog, the corrections a clerk makes to what a
bill run issued (credit notes, whole and per line, and voids), and the current month's work in progress
(drafts still being prepared, large invoices waiting for a supervisor's approval).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from billops.access.models import User
from billops.catalog.services.prices import create_price_list, set_list_price
from billops.catalog.services.products import create_product
from billops.catalog.services.tax_codes import import_tax_rates, seed_tax_codes, shipped_rate_files
from billops.customers.models import Customer
from billops.invoicing.models import InvoiceLine, InvoiceStatus
from billops.invoicing.services.corrections import CreditLine, issue_credit_note, void_invoice
from billops.invoicing.services.drafts import create_draft
from billops.invoicing.services.entities import create_billing_entity, set_approval_threshold
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import submit_invoice

APPROVAL_FROM = Decimal(20_000)  # per currency: invoices at or above this need a second person
GOODWILL = Decimal("25.00")  # a per-line credit; a line worth less than twice that is credited whole

# code, name, unit, tax code, prices per currency (EUR, GBP, CHF, USD)
PRODUCTS = [
    ("SAAS-SEAT", "Billops Cloud seat licence", "seat", "VAT-STD", ("39.00", "34.00", "41.00", "42.00")),
    ("SUPPORT", "Premium support plan", "month", "VAT-STD", ("450.00", "390.00", "470.00", "490.00")),
    ("HOSTING", "Managed hosting", "month", "VAT-STD", ("180.00", "160.00", "190.00", "195.00")),
    ("CONSULT", "Implementation consulting", "hour", "VAT-STD", ("150.00", "130.00", "160.00", "165.00")),
    ("TRAINING", "On-site training day", "day", "VAT-STD", ("1200.00", "1050.00", "1250.00", "1300.00")),
    ("HANDBOOK", "Billing operations handbook", "each", "VAT-RED", ("29.90", "25.90", "31.90", "32.90")),
    ("API-USAGE", "API usage", "call", "VAT-STD", ("0.002", "0.002", "0.002", "0.002")),
    ("STORAGE", "Cloud storage", "GB", "VAT-STD", ("0.18", "0.18", "0.18", "0.18")),
    ("USERS", "Active users", "user", "VAT-STD", ("4.00", "4.00", "4.00", "4.00")),
    ("LEGAL-FEES", "Professional fees", "hour", "VAT-STD", ("300.00", "260.00", "320.00", "330.00")),
    ("DISBURSE", "Disbursements", "each", "VAT-STD", ("1.00", "1.00", "1.00", "1.00")),
]  # fmt: skip
CURRENCIES = ("EUR", "GBP", "CHF", "USD")
CONSULTING_VOLUME_BREAK = ("20", "0.9")  # from 20 hours on a line, 10 % off the hourly rate


def list_price(product_code: str, currency: str) -> Decimal:
    """The demo's standard price of a product in a currency."""
    prices = next(prices for code, *_, prices in PRODUCTS if code == product_code)
    return Decimal(prices[CURRENCIES.index(currency)])


def set_up_invoicing(admin: User, supervisor: User) -> None:
    """The billing entity with its approval thresholds, the tax codes and rates, products and prices."""
    _set_up_entity(admin)
    _set_up_catalog(supervisor)


def _set_up_catalog(supervisor: User) -> None:
    seed_tax_codes(actor=None)
    for name, content in shipped_rate_files():
        import_tax_rates(content=content, filename=name, actor=None)
    for code, name, unit, tax_code, _ in PRODUCTS:
        create_product(
            code=code, name=name, unit=unit, tax_code=tax_code, revenue_account="4000", description=name,
            actor=supervisor,
        )  # fmt: skip
    for currency in CURRENCIES:
        create_price_list(
            code=f"STD-{currency}", name=f"Standard prices {currency}", currency=currency,
            valid_from=date(2025, 1, 1), is_default=True, actor=supervisor,
        )  # fmt: skip
        for code, *_ in PRODUCTS:
            set_list_price(
                price_list_code=f"STD-{currency}",
                product_code=code,
                unit_price=list_price(code, currency),
                actor=supervisor,
            )
        minimum, factor = CONSULTING_VOLUME_BREAK
        hourly = list_price("CONSULT", currency) * Decimal(factor)
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


def correct_run(rng: random.Random, invoice_ids: Sequence[int], on: date, clerk: User) -> tuple[int, int]:
    """About 2 % of a run's invoices get a credit note, whole or for one line, about 1 % are voided; dated
    `on`. Returns (credit notes, voids)."""
    chosen = rng.sample(list(invoice_ids), k=min(len(invoice_ids), max(2, len(invoice_ids) * 3 // 100)))
    credit_notes = voids = 0
    for number, invoice_id in enumerate(chosen):
        if number % 3 == 0:
            issue_credit_note(invoice_id=invoice_id, reason="Order cancelled", actor=clerk, issued_on=on)
            credit_notes += 1
        elif number % 3 == 1:
            void_invoice(invoice_id=invoice_id, reason="Billed before the service went live", actor=clerk,
                         voided_on=on)  # fmt: skip
            voids += 1
        else:
            issue_credit_note(
                invoice_id=invoice_id, reason="Goodwill: service outage", actor=clerk, issued_on=on,
                lines=[_goodwill(invoice_id)],
            )  # fmt: skip
            credit_notes += 1
    return credit_notes, voids


def _goodwill(invoice_id: int) -> CreditLine:
    """A fixed amount off the invoice's largest line, or that whole line when it is small."""
    lines = InvoiceLine.objects.filter(invoice_id=invoice_id).order_by("-net", "line_no")
    line_no, net = lines.values_list("line_no", "net")[0]
    return CreditLine(line_no, amount=GOODWILL) if net >= 2 * GOODWILL else CreditLine(line_no)


def _consulting(rng: random.Random) -> list[LineData]:
    hours = Decimal(rng.randint(4, 120)) / 2
    lines = [LineData(quantity=hours, product_code="CONSULT", reference=f"Project {rng.randint(100, 999)}")]
    if rng.random() < 0.15:
        lines.append(LineData(quantity=rng.randint(1, 3), product_code="TRAINING", discount_percent="10"))
    return lines


def leave_work_in_progress(rng: random.Random, customers: Sequence[Customer], clerk: User) -> tuple[int, int]:
    """Drafts still being prepared, and large invoices waiting for a supervisor's approval, dated by the
    business date. Returns (drafts, awaiting approval)."""
    for customer in rng.sample(list(customers), k=min(12, len(customers))):
        create_draft(customer_id=customer.pk, actor=clerk, lines=_consulting(rng))
    awaiting = 0
    for customer in rng.sample(list(customers), k=min(5, len(customers))):
        large = [
            LineData(quantity="160", product_code="CONSULT"),
            LineData(quantity="6", product_code="TRAINING"),
        ]
        draft = create_draft(customer_id=customer.pk, actor=clerk, lines=large)
        if submit_invoice(invoice_id=draft.pk, actor=clerk).status == InvoiceStatus.SUBMITTED:
            awaiting += 1
    return min(12, len(customers)), awaiting
