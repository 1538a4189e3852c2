"""A customer invoiced per matter or contract gets one invoice per matter and per contract from a bill
run, the group as its reference, work of no group on an invoice of its own; numbered in that order; if
one group cannot be billed, none is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.billing.models import BilledItem
from billops.billing.services.charges import create_charge
from billops.billing.services.contracts import create_contract
from billops.billing.services.execution import start_run
from billops.billing.services.runs import preview_run
from billops.billing.services.subscriptions import PhaseData, create_plan, subscribe
from billops.cli.invariants import check_all
from billops.customers.models import Customer
from billops.invoicing.models import Invoice
from billops.timekeeping.models import Matter
from tests.billing.test_runs import preview_rows, written_rows
from tests.timekeeping.factories import Firm, approved, make_firm, make_matter

pytestmark = pytest.mark.django_db

MARCH, APRIL_FIRST = "2026-03", date(2026, 4, 1)


@pytest.fixture
def firm(clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any) -> Firm:
    """LAW-1 with two matters (M-001, M-002) and March work on each, a consulting charge of no matter, and
    seats on its contract K-1."""
    set_business_date(on=date(2026, 4, 15), actor=make_user(Role.ADMIN))
    firm = make_firm(clerk, supervisor)
    second = make_matter(clerk, firm.customer, "M-002", po_number="PO-2")
    approved(firm, "2.0", date(2026, 3, 3), matter_id=second.pk, narrative="Second matter")
    approved(firm, "1.0", date(2026, 3, 4))
    approved(firm, "0.5", date(2026, 3, 5), timekeeper=firm.associate)
    create_charge(
        customer_id=firm.customer.pk, product_code="CONSULT", quantity="1", actor=clerk,
        charge_date=date(2026, 3, 6),
    )  # fmt: skip
    create_plan(
        code="SEATS", name="Seats", product_code="LICENSE", currency="EUR", interval="month",
        timing="arrears", phases=[PhaseData("evergreen", "30")], actor=supervisor,
    )  # fmt: skip
    create_contract(
        actor=clerk, customer_id=firm.customer.pk, number="K-1", start_date=date(2026, 3, 1), term_months=12,
        frequency="month",
    )  # fmt: skip
    subscribe(
        customer_id=firm.customer.pk, plan_code="SEATS", quantity="2", actor=clerk, contract_number="K-1",
        start_date=date(2026, 3, 1),
    )  # fmt: skip
    return firm


def per_group(customer: Customer) -> None:
    Customer.objects.filter(pk=customer.pk).update(run_invoice_per=Customer.InvoicePer.MATTER_OR_CONTRACT)


def invoices_of(run_id: int) -> list[tuple[Any, ...]]:
    """Each invoice of the run in number order: number, reference, its lines' descriptions, total."""
    invoices = Invoice.objects.filter(pk__in=BilledItem.objects.filter(run_id=run_id).values("invoice_id"))
    return [
        (
            invoice.number,
            invoice.reference,
            [line.description for line in invoice.lines.order_by("line_no")],
            invoice.total,
        )
        for invoice in invoices.order_by("sequence_no")
    ]


def test_one_invoice_per_matter_and_contract_in_group_order_as_previewed(firm: Firm) -> None:
    per_group(firm.customer)
    preview = preview_run(period=MARCH, actor=firm.clerk, invoice_date=APRIL_FIRST)
    assert [planned.invoice.reference for planned in preview.invoices] == [
        "",
        "contract K-1",
        "matter M-001",
        "matter M-002",
    ]
    assert preview.customers_due == 1 and preview.exceptions == []
    run = start_run(period=MARCH, actor=firm.clerk, invoice_date=APRIL_FIRST)
    assert written_rows(run) == preview_rows(preview)
    assert invoices_of(run.pk) == [
        ("INV-2026-000001", "", ["Consulting"], Decimal("178.50")),
        ("INV-2026-000002", "contract K-1", ["Seats"], Decimal("71.40")),
        (
            "INV-2026-000003",
            "matter M-001",
            ["2026-03-04 JD: Reviewed the complaint", "2026-03-05 AS: Reviewed the complaint"],
            Decimal("624.75"),  # (400 + 125) x 1.19
        ),
        ("INV-2026-000004", "matter M-002", ["2026-03-03 JD: Second matter"], Decimal("952.00")),
    ]
    assert (run.customers_due, run.invoices_issued, run.totals) == (1, 4, {"EUR": "1826.65"})
    # each item is billed once, on its group's invoice
    on = dict(BilledItem.objects.values_list("key", "invoice__reference"))
    assert sorted(on.values()) == ["", "contract K-1", "matter M-001", "matter M-001", "matter M-002"]
    report = check_all()
    assert all(item["ok"] for item in report["invariants"].values()), report


def test_a_customer_invoiced_per_customer_gets_all_its_work_on_one_invoice(firm: Firm) -> None:
    run = start_run(period=MARCH, actor=firm.clerk, invoice_date=APRIL_FIRST)
    [(number, reference, lines, total)] = invoices_of(run.pk)
    assert (number, reference, len(lines), total) == ("INV-2026-000001", "", 5, Decimal("1826.65"))


def test_one_group_that_cannot_be_billed_makes_the_whole_customer_an_exception(firm: Firm) -> None:
    per_group(firm.customer)
    # the paralegal has no rate: matter M-002 cannot be priced, so none of the customer's invoices is made
    second = Matter.objects.get(number="M-002")
    approved(firm, "1.0", date(2026, 3, 9), timekeeper=firm.paralegal, matter_id=second.pk)
    preview = preview_run(period=MARCH, actor=firm.clerk, invoice_date=APRIL_FIRST)
    assert preview.invoices == []
    assert [(e.customer, e.field) for e in preview.exceptions] == [(firm.customer, "rate")]
    run = start_run(period=MARCH, actor=firm.clerk, invoice_date=APRIL_FIRST)
    assert (run.invoices_issued, run.drafts_created, run.exceptions.count()) == (0, 0, 1)
    assert "no hourly rate for timekeeper PL on matter M-002" in run.exceptions.get().message
    assert not Invoice.objects.exists() and not BilledItem.objects.exists()
