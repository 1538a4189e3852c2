"""Drafts: pricing from the catalog, discounts, tax and totals; every bad input refused, nothing changed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billops.audit.models import AuditEvent
from billops.catalog.models import CustomerPrice, PriceList, PriceListItem
from billops.core.errors import CurrencyMismatch, InvalidAmount, InvalidInput, NotFound, PermissionDenied
from billops.invoicing.errors import NotEditable
from billops.invoicing.models import InvoiceStatus
from billops.invoicing.services.drafts import (
    add_line,
    change_draft,
    change_line,
    create_draft,
    delete_draft,
    remove_line,
)
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import issue_invoice, submit_invoice
from tests.invoicing.factories import draft_for, make_customer
from tests.invoicing.state import invoicing_state

ON = date(2026, 3, 5)


def test_a_draft_is_priced_from_the_price_list_with_volume_breaks(clerk, customer):
    four = LineData(quantity="4", product_code="CONSULT")
    ten = LineData(quantity="10", product_code="CONSULT")
    draft = draft_for(customer, clerk, four, ten, issued_on=ON)
    first, second = draft.lines.order_by("line_no")
    assert (first.unit_price, first.price_source) == (Decimal(150), "price list STD-EUR")
    assert (second.unit_price, second.price_source) == (Decimal(135), "price list STD-EUR from 10")
    assert (draft.subtotal, draft.tax_total, draft.total) == (
        Decimal("1950.00"),
        Decimal("370.50"),
        Decimal("2320.50"),
    )
    assert draft.number is None and draft.status == InvoiceStatus.DRAFT
    event = AuditEvent.objects.get(action="invoice.draft_created")
    assert event.after["total"] == "2320.500000" or Decimal(event.after["total"]) == Decimal("2320.50")


def test_a_customer_rate_beats_the_price_list(clerk, supervisor, customer, catalog):
    CustomerPrice.objects.create(
        customer=customer, product=catalog["CONSULT"], currency="EUR", unit_price=Decimal("120.5"),
        valid_from=date(2026, 1, 1), contract_reference="K-7", created_by=supervisor,
    )  # fmt: skip
    draft = draft_for(customer, clerk, LineData(quantity="2", product_code="CONSULT"), issued_on=ON)
    line = draft.lines.get()
    assert (line.unit_price, line.price_source, line.net) == (
        Decimal("120.5"),
        "customer rate (K-7)",
        Decimal("241.00"),
    )


def test_line_and_invoice_discounts_come_off_in_order(clerk, customer):
    draft = draft_for(
        customer,
        clerk,
        LineData(quantity="1.5", unit_price="99.999999", tax_code="VAT-STD", description="Design",
                 discount_percent="10", discount_amount="5"),
        issued_on=ON,
        invoice_discount_percent="2.5",
    )  # fmt: skip
    line = draft.lines.get()
    # 1.5 x 99.999999 = 149.9999985; less 10 % = 134.99999865; less 5 = 129.99999865; less 2.5 % = 126.7499987
    assert line.net == Decimal("126.75")
    assert line.tax_amount == Decimal("24.08")
    assert (draft.discount_total, draft.total) == (Decimal("23.25"), Decimal("150.83"))


def test_per_invoice_tax_rounding_rounds_each_rate_once(clerk, customer, entity):
    entity.tax_rounding = "per_invoice"
    entity.save()
    lines = [
        LineData(quantity="1", unit_price="0.05", tax_code="VAT-STD", description=f"item {n}")
        for n in range(3)
    ]
    per_invoice = draft_for(customer, clerk, *lines, issued_on=ON)
    entity.tax_rounding = "per_line"
    entity.save()
    per_line = draft_for(customer, clerk, *lines, issued_on=ON)
    # 0.0095 per line rounds to 0.01 each (0.03); 0.15 x 19 % = 0.0285 rounds once to 0.03 as well, but
    # with 5 cents 0.0095 x 3 shows the split: each line carries its share and the shares add up
    assert per_line.tax_total == Decimal("0.03")
    assert per_invoice.tax_total == Decimal("0.03")
    assert sum(line.tax_amount for line in per_invoice.lines.all()) == per_invoice.tax_total
    odd = [
        LineData(quantity="1", unit_price="0.02", tax_code="VAT-STD", description=f"x {n}") for n in range(5)
    ]
    entity.tax_rounding = "per_invoice"
    entity.save()
    assert draft_for(customer, clerk, *odd, issued_on=ON).tax_total == Decimal("0.02")  # 0.10 x 19 % = 0.019
    entity.tax_rounding = "per_line"
    entity.save()
    assert draft_for(customer, clerk, *odd, issued_on=ON).tax_total == Decimal("0.00")  # 0.0038 each


def test_editing_lines_recalculates_and_audits(clerk, customer):
    draft = draft_for(customer, clerk, issued_on=ON)
    add_line(invoice_id=draft.pk, line=LineData(quantity="3", product_code="BOOK"), actor=clerk)
    change_line(
        invoice_id=draft.pk, line_no=1, line=LineData(quantity="1", product_code="CONSULT"), actor=clerk
    )
    remove_line(invoice_id=draft.pk, line_no=2, actor=clerk)
    draft.refresh_from_db()
    assert draft.total == Decimal("178.50")
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))[-4:]
    assert actions == [
        "invoice.draft_created",
        "invoice.line_added",
        "invoice.line_changed",
        "invoice.line_removed",
    ]


def test_changing_a_submitted_draft_withdraws_the_submission(clerk, customer):
    draft = draft_for(customer, clerk, issued_on=ON)
    submit_invoice(invoice_id=draft.pk, actor=clerk)
    changed = change_draft(invoice_id=draft.pk, actor=clerk, po_number="PO-9")
    assert (changed.status, changed.submitted_by_id, changed.po_number) == (InvoiceStatus.DRAFT, None, "PO-9")


def test_deleting_a_draft_leaves_no_number_and_an_event(clerk, customer):
    draft = draft_for(customer, clerk)
    delete_draft(invoice_id=draft.pk, actor=clerk)
    assert AuditEvent.objects.filter(action="invoice.draft_deleted", target_id=str(draft.pk)).count() == 1


BAD_LINES = [
    (LineData(quantity="-1", product_code="CONSULT"), InvalidAmount, "lines.0.quantity", "credit note"),
    (LineData(quantity="0", product_code="CONSULT"), InvalidAmount, "lines.0.quantity", "more than zero"),
    (
        LineData(quantity="1.00001", product_code="CONSULT"),
        InvalidAmount,
        "lines.0.quantity",
        "4 decimal places",
    ),
    (LineData(quantity=1.5, product_code="CONSULT"), InvalidAmount, "lines.0.quantity", "not a float"),
    (LineData(quantity="1e20", product_code="CONSULT"), InvalidAmount, "lines.0.quantity", "not a number"),
    (
        LineData(quantity="1", unit_price="1" * 30, tax_code="VAT-STD", description="x"),
        InvalidAmount,
        "lines.0.unit_price",
        "too large",
    ),
    (
        LineData(quantity="1", unit_price="1.1234567", tax_code="VAT-STD", description="x"),
        InvalidAmount,
        "lines.0.unit_price",
        "6 decimal places",
    ),
    (
        LineData(quantity="1", unit_price="-5", tax_code="VAT-STD", description="x"),
        InvalidAmount,
        "lines.0.unit_price",
        "negative",
    ),
    (
        LineData(quantity="1", unit_price="5", tax_code="NOPE", description="x"),
        NotFound,
        "lines.0.tax_code",
        "NOPE",
    ),
    (LineData(quantity="1", product_code="NOPE"), NotFound, "lines.0.product_code", "NOPE"),
    (
        LineData(quantity="1", unit_price="5", description="x"),
        InvalidInput,
        "lines.0.tax_code",
        "needs a tax code",
    ),
    (
        LineData(quantity="1", unit_price="5", tax_code="VAT-STD"),
        InvalidInput,
        "lines.0.description",
        "description",
    ),
    (
        LineData(quantity="1", product_code="CONSULT", discount_percent="101"),
        InvalidAmount,
        "lines.0.discount_percent",
        "between 0 and 100",
    ),
    (
        LineData(quantity="1", product_code="CONSULT", discount_amount="151"),
        InvalidAmount,
        "discount_amount",
        "more than the line's value",
    ),
    (
        LineData(
            quantity="1", product_code="CONSULT", service_start=date(2026, 3, 2), service_end=date(2026, 3, 1)
        ),
        InvalidInput,
        "lines.0.service_end",
        "ends before",
    ),
    (
        LineData(quantity="999999999999", unit_price="999999", tax_code="VAT-STD", description="x"),
        InvalidAmount,
        "lines",
        "too large",
    ),
]


@pytest.mark.parametrize(("line", "error", "field", "words"), BAD_LINES)
def test_a_bad_line_is_refused_and_nothing_changes(clerk, customer, line, error, field, words):
    before = invoicing_state()
    with pytest.raises(error) as refused:
        create_draft(customer_id=customer.pk, actor=clerk, lines=[line], issued_on=ON)
    assert refused.value.field == field
    assert words in refused.value.message
    assert invoicing_state() == before


def test_a_price_list_in_another_currency_is_refused(clerk, customer, catalog):
    from billops.catalog.models import CustomerPriceList

    usd = PriceList.objects.create(code="USD", name="USD", currency="USD", valid_from=date(2020, 1, 1))
    PriceListItem.objects.create(price_list=usd, product=catalog["CONSULT"], unit_price=Decimal(170))
    CustomerPriceList.objects.create(customer=customer, price_list=usd)
    before = invoicing_state()
    with pytest.raises(CurrencyMismatch) as refused:
        draft_for(customer, clerk, LineData(quantity="1", product_code="CONSULT"), issued_on=ON)
    assert refused.value.message == "the customer's price list USD is in USD, the invoice in EUR"
    assert invoicing_state() == before


def test_a_draft_in_another_currency_than_the_customer_is_refused(clerk, customer):
    with pytest.raises(CurrencyMismatch, match="billed in EUR, not USD"):
        create_draft(customer_id=customer.pk, actor=clerk, currency="USD")


def test_an_issued_invoice_is_never_edited(clerk, customer):
    invoice = issue_invoice(invoice_id=draft_for(customer, clerk, issued_on=ON).pk, actor=clerk)
    before = invoicing_state()
    for attempt in (
        lambda: change_draft(invoice_id=invoice.pk, actor=clerk, po_number="X"),
        lambda: add_line(
            invoice_id=invoice.pk, line=LineData(quantity="1", product_code="BOOK"), actor=clerk
        ),
        lambda: remove_line(invoice_id=invoice.pk, line_no=1, actor=clerk),
        lambda: delete_draft(invoice_id=invoice.pk, actor=clerk),
    ):
        with pytest.raises(NotEditable, match="can no longer be changed"):
            attempt()
    assert invoicing_state() == before


def test_roles_without_the_permission_cannot_draft(auditor, collector, customer):
    for user in (auditor, collector):
        with pytest.raises(PermissionDenied):
            draft_for(customer, user)


def test_a_closed_customer_takes_no_draft(clerk, supervisor, customer):
    make_customer(clerk)  # another, so the closed one is not the only one
    customer.status = "closed"
    customer.save()
    with pytest.raises(InvalidInput, match="is closed"):
        draft_for(customer, clerk)
