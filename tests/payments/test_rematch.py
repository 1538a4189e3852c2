"""The queue matched again: after each import (and on the clerk's request) the lines of earlier files
that wait are matched against what is open and known now; a line the engine is now sure of is posted,
the others get fresh suggestions; nothing changes when nothing would, and only those who apply cash may."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.core.errors import PermissionDenied
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.payments.models import BankLine
from billops.payments.services.applications import Allocation, apply_receipt
from billops.payments.services.bank_files import import_bank_file, import_statements
from billops.payments.services.queue import rematch_queue, resolve_line
from billops.payments.services.receipts import create_bank_account, post_receipt
from billops.payments.statements.camt import write_camt053
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, eur, unchanged

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
PAYER = "NL91ABNA0417164300"  # a payer's account nobody knows yet
MAY, JUNE = date(2026, 5, 12), date(2026, 6, 3)


@pytest.fixture
def invoices(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Invoice]:
    """A-1 with invoices of 119.00 and 238.00; C-1 (Carter Works Ltd) with 357.00."""
    set_business_date(on=date(2026, 6, 10), actor=make_user(Role.ADMIN))
    create_bank_account(code="MAIN", name="Main", currency="EUR", number=IBAN, actor=supervisor)
    a = make_customer(clerk, account_number="A-1", legal_name="Alder Trading Ltd")
    c = make_customer(clerk, account_number="C-1", legal_name="Carter Works Ltd")

    def invoice(customer: Any, price: str) -> Invoice:
        return invoice_now(
            customer_id=customer.pk, actor=clerk, issued_on=date(2026, 5, 2),
            lines=[LineData(quantity="1", description="Service", unit_price=price, tax_code="VAT-STD")],
        )  # fmt: skip

    return {"A1": invoice(a, "100"), "A2": invoice(a, "200"), "C1": invoice(c, "300")}


def entry(number: int, amount: str, on: date = MAY, **fields: Any) -> StatementLine:
    return StatementLine(line=number, booked_on=on, amount=Decimal(amount), currency="EUR",
                         bank_reference=f"{on:%m}-{number}", **fields)  # fmt: skip


def statement(lines: list[StatementLine], on: date) -> ParsedStatement:
    total = sum((line.amount for line in lines), Decimal(0))
    return ParsedStatement("camt.053", f"S-{on:%m}", IBAN, "EUR", Decimal(0), total, on, on, lines=lines)


def test_a_line_whose_payer_became_known_is_posted_after_the_next_import(
    invoices: dict[str, Invoice], clerk: User
) -> None:
    may = [
        entry(1, "119.00", payer_account=PAYER, payer_name="A. Alder"),  # nobody known: waits
        entry(2, "238.00", payer_account=PAYER, payer_name="A. Alder"),
    ]
    result = import_statements(data=b"may", file_name="may.xml", format="camt.053",
                               statements=[statement(may, MAY)], actor=clerk)  # fmt: skip
    assert (result.posted, result.parked) == (0, 2)
    first, second = BankLine.objects.order_by("line")
    assert first.reason == "no customer found"
    # the clerk says the second is A-1's, paying A2: its account is remembered for A-1
    resolve_line(line_id=second.pk, customer_id=invoices["A1"].customer_id, actor=clerk,
                 allocations=[Allocation(invoices["A2"].number or "")])  # fmt: skip
    june = write_camt053([statement([entry(1, "5.00", JUNE, payer_name="Someone")], JUNE)])
    imported = import_bank_file(data=june, file_name="june.xml", actor=clerk)
    assert (imported.posted, imported.parked, imported.earlier_posted) == (0, 1, 1)
    first.refresh_from_db()
    assert (first.status, first.evidence["score"], first.evidence["rule"]) == (
        "posted", 95, "customer by payer account, amount equal to one open invoice",
    )  # fmt: skip
    assert (first.suggestions, first.reason, first.resolved_by) == ([], "", clerk)
    assert first.receipt is not None and first.receipt.received_on == MAY
    invoices["A1"].refresh_from_db()
    assert (invoices["A1"].status, invoices["A1"].open_amount) == ("paid", Decimal(0))
    event = AuditEvent.objects.get(action="bank_lines.rematched")
    assert (event.actor, event.after) == (clerk, {"posted": [first.pk], "suggestions_changed": 0})
    all_ok()


def test_stale_suggestions_are_replaced_and_nothing_changes_when_nothing_would(
    invoices: dict[str, Invoice], clerk: User
) -> None:
    c1 = invoices["C1"]
    short = entry(1, "100.00", payer_name="Carter Works Ltd", remittance=f"Invoice {c1.number}")
    import_statements(data=b"may", file_name="may.xml", format="camt.053",
                      statements=[statement([short], MAY)], actor=clerk)  # fmt: skip
    line = BankLine.objects.get()
    assert [s["invoices"][0]["number"] for s in line.suggestions[:1]] == [c1.number]
    # C1 is paid by cheque meanwhile: the suggestion to apply the line to it is stale
    cheque = post_receipt(customer_id=c1.customer_id, bank_account="MAIN", method="cheque",
                          amount=eur("357.00"), actor=clerk, received_on=MAY)  # fmt: skip
    apply_receipt(receipt_id=cheque.pk, actor=clerk, allocations=[Allocation(c1.number or "")])
    assert rematch_queue(actor=clerk) == (0, 1)
    line.refresh_from_db()
    assert line.status == "parked"
    assert [(s["customer"], s["score"], s["invoices"]) for s in line.suggestions] == [
        ("C-1", 50, []),  # by its name now; nothing open of that amount: oldest first
    ]
    with unchanged():
        assert rematch_queue(actor=clerk) == (0, 0)  # nothing to change: no event either
    all_ok()


def test_only_those_who_apply_cash_match_the_queue_again(
    invoices: dict[str, Invoice], clerk: User, make_user: Callable[..., User]
) -> None:
    import_statements(data=b"may", file_name="may.xml", format="camt.053",
                      statements=[statement([entry(1, "42.00")], MAY)], actor=clerk)  # fmt: skip
    collector, auditor = make_user(Role.COLLECTOR), make_user(Role.AUDITOR)
    for user in (collector, auditor):
        with unchanged(), pytest.raises(PermissionDenied):
            rematch_queue(actor=user)
    client = Client()
    client.force_login(auditor)
    assert client.post(reverse("payments:rematch")).status_code == 403
    client.force_login(clerk)
    page = client.get(reverse("payments:queue")).content.decode()
    assert "Match again</button>" in page
    response = client.post(reverse("payments:rematch"))
    assert response.status_code == 302 and response["Location"] == reverse("payments:queue")
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Matched the queue again: 0 lines posted, 0 with new suggestions."
    ]
