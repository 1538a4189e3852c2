"""Staff pages for payments: receipts (recorded through the form, each error next to its field), a receipt's
page (applied oldest first or to named invoices, and unapplied), the matching queue (one click on a
suggestion, with htmx or without; naming the customer; dismissing), importing a bank file and the files'
pages, and a customer's cash. Every role reads them; only clerks and supervisors see and use the forms,
and a refused action changes nothing."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.core.money import Money
from billops.customers.models import Customer
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalEntry
from billops.payments.models import Application, BankLine, PayerAccount, Receipt, StatementFile
from billops.payments.services.applications import Allocation, apply_receipt
from billops.payments.services.bank_files import import_bank_file
from billops.payments.services.receipts import create_bank_account, post_receipt
from billops.payments.services.refunds import refund_receipt
from billops.payments.statements.camt import write_camt053
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, state

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
BOOKED = date(2026, 5, 12)
TODAY = date(2026, 5, 20)


# --- helpers ---------------------------------------------------------------------------------------


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def words(page: str) -> str:
    """The page's text as a reader sees it, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def row(page: str, marker: str) -> str:
    """The text of the table row holding `marker`, tags dropped and spaces collapsed."""
    for found in re.findall(r"<tr\b.*?</tr>", page, flags=re.S):
        if marker in found:
            return words(found)
    raise AssertionError(f"no row with {marker!r}")


def field_error(page: str, field_id: str) -> str:
    """The error list shown under the field with this id."""
    found = re.search(rf'<ul class="errorlist" id="{re.escape(field_id)}-errors">(.*?)</ul>', page, re.S)
    assert found, f"no error under {field_id}"
    return words(found[1])


def invoice(customer: Customer, clerk: User, price: str) -> Invoice:
    return invoice_now(
        customer_id=customer.pk, actor=clerk, issued_on=date(2026, 5, 2),
        lines=[LineData(quantity="1", description="Service", unit_price=price, tax_code="VAT-STD")],
    )  # fmt: skip


def line(number: int, amount: str, **fields: Any) -> StatementLine:
    values = {"value_on": BOOKED, "bank_reference": f"REF-{number}"} | fields
    return StatementLine(number, BOOKED, Decimal(amount), "EUR", **values)


def camt(*lines: StatementLine, opening: str = "1000.00", statement_id: str = "2026-05-12/1") -> bytes:
    closing = Decimal(opening) + sum((item.amount for item in lines if not item.is_pending), Decimal(0))
    return write_camt053(
        [ParsedStatement("camt.053", statement_id, IBAN, "EUR", Decimal(opening), closing, BOOKED, BOOKED,
                         list(lines))]
    )  # fmt: skip


@pytest.fixture
def book(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Any]:
    """Customers A-1, B-1, C-1 with invoices (VAT 19 %: 100 → 119.00, 200 → 238.00, 300 → 357.00) and
    the bank account MAIN in EUR; the business date is 2026-05-20."""
    set_business_date(on=TODAY, actor=make_user(Role.ADMIN))
    create_bank_account(code="MAIN", name="Main EUR", currency="EUR", number=IBAN, actor=supervisor)
    names = {"A": "Alpha Trading GmbH", "B": "Beta Works Ltd", "C": "Gamma Foods AG"}
    customers = {key: make_customer(clerk, account_number=f"{key}-1", legal_name=name, currency="EUR")
                 for key, name in names.items()}  # fmt: skip
    invoices = {
        "A1": invoice(customers["A"], clerk, "100"),
        "B1": invoice(customers["B"], clerk, "200"),
        "C1": invoice(customers["C"], clerk, "100"),
        "C2": invoice(customers["C"], clerk, "200"),
        "C3": invoice(customers["C"], clerk, "300"),
    }
    return {"customers": customers, "invoices": invoices}


def statement_lines(book: dict[str, Any]) -> list[StatementLine]:
    """119.00 from "ALPHA TRADING" (its name and one invoice's amount: 80, parked), 42.00 nobody knows
    (parked, no suggestion), a 2.50 bank fee (money out, parked), 238.00 naming B1 (100: posted)."""
    return [
        line(1, "119.00", payer_name="ALPHA TRADING", payer_account="DE02120300000000202051",
             remittance="thank you"),
        line(2, "42.00", payer_name="Someone", remittance="donation"),
        line(3, "-2.50", remittance="Account fee", bank_code="PMNT-CCRD-CHRG"),
        line(4, "238.00", payer_name="Beta Works", remittance=f"Invoice {book['invoices']['B1'].number}"),
    ]  # fmt: skip


@pytest.fixture
def queued(book: dict[str, Any], clerk: User) -> dict[str, Any]:
    """The statement above imported: lines 1 to 3 wait in the queue, line 4 is posted."""
    import_bank_file(data=camt(*statement_lines(book)), file_name="may.xml", actor=clerk)
    lines = {item.line: item for item in BankLine.objects.all()}
    return {**book, "lines": lines, "file": StatementFile.objects.get()}


@pytest.fixture
def receipt(book: dict[str, Any], clerk: User) -> Receipt:
    """500.00 from C-1 by cheque, not applied yet."""
    return post_receipt(
        customer_id=book["customers"]["C"].pk, bank_account="MAIN", method="cheque",
        amount=Money(Decimal("500.00"), "EUR"), received_on=date(2026, 5, 15), reference="CHQ 881",
        actor=clerk,
    )  # fmt: skip


ROLES = [Role.CLERK, Role.SUPERVISOR, Role.ADMIN, Role.COLLECTOR, Role.AUDITOR]
WRITERS = {Role.CLERK, Role.SUPERVISOR, Role.ADMIN}


# --- every page, every role ------------------------------------------------------------------------


def test_the_pages_need_a_signed_in_user(db: None) -> None:
    for url in (
        reverse("payments:receipts"), reverse("payments:receipt", args=[1]), reverse("payments:queue"),
        reverse("payments:import"), reverse("payments:files"), reverse("payments:file", args=[1]),
        reverse("payments:customer", args=[1]),
    ):  # fmt: skip
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    response = Client().post(reverse("payments:record_receipt"), {"customer": "A-1"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_opens_for_every_role_with_only_the_forms_it_may_use(
    queued: dict[str, Any], receipt: Receipt, clerk: User, make_user: Callable[..., User], role: str
) -> None:
    apply_receipt(
        receipt_id=receipt.pk, actor=clerk, allocations=[Allocation(queued["invoices"]["C1"].number)]
    )
    client = signed_in(make_user(role))
    writer = role in WRITERS

    receipts = client.get(reverse("payments:receipts"))
    assert receipts.status_code == 200
    assert ("Record a receipt" in text(receipts)) is writer
    assert (f'action="{reverse("payments:record_receipt")}"' in text(receipts)) is writer

    page = text(client.get(reverse("payments:receipt", args=[receipt.pk])))
    assert "Receipt" in page and "CHQ 881" in page
    assert ("Apply oldest first" in page) is writer
    assert ("Unapply" in page) is writer

    queue = client.get(reverse("payments:queue"))
    assert queue.status_code == 200
    page = text(queue)
    assert "ALPHA TRADING" in page and "Account fee" in page
    assert ("Apply line" in page) is writer
    assert ("Dismiss" in page) is writer
    assert ("Post to this customer" in page) is writer
    assert ("Import a bank file" in page) is writer

    files = text(client.get(reverse("payments:files")))
    assert "may.xml" in files and ("Import a bank file" in files) is writer
    file_page = client.get(reverse("payments:file", args=[queued["file"].pk]))
    assert file_page.status_code == 200

    customer = client.get(reverse("payments:customer", args=[queued["customers"]["C"].pk]))
    assert customer.status_code == 200

    imports = client.get(reverse("payments:import"))
    assert imports.status_code == (200 if writer else 403)
    assert ('type="file"' in text(imports)) is writer
    if not writer:
        assert "You may not import bank files: clerks and supervisors import them." in text(imports)


def test_payments_is_in_the_navigation_and_current_on_every_payments_page(clerk: User, book: Any) -> None:
    client = signed_in(clerk)
    assert client.get(reverse("payments:index"))["Location"] == reverse("payments:queue")
    for url in (reverse("payments:queue"), reverse("payments:receipts"), reverse("payments:files")):
        assert f'<a href="{reverse("payments:queue")}" aria-current="page">Payments</a>' in text(
            client.get(url)
        )
    assert 'aria-current="page">Payments<' not in text(client.get(reverse("billing:runs")))


def test_an_unknown_receipt_line_or_file_is_not_found(clerk: User) -> None:
    client = signed_in(clerk)
    for url in (
        reverse("payments:receipt", args=[999]), reverse("payments:file", args=[999]),
        reverse("payments:customer", args=[999]),
    ):  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("payments:dismiss_line", args=[999]), {"reason": "x"}).status_code == 404


# --- receipts --------------------------------------------------------------------------------------


def test_a_receipt_recorded_through_the_form_posts_once_and_opens_its_page(
    book: dict[str, Any], clerk: User
) -> None:
    client = signed_in(clerk)
    form = {
        "customer": "a-1", "bank_account": "MAIN", "method": "wire", "amount": "150.50", "currency": "",
        "received_on": "2026-05-18", "payer_name": "Alpha Trading", "reference": "TRF 2231",
        "idempotency_key": "web-test-1",
    }  # fmt: skip
    response = client.post(reverse("payments:record_receipt"), form)
    receipt = Receipt.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "payments:receipt", args=[receipt.pk]
    )
    assert (receipt.customer.account_number, receipt.amount, receipt.unapplied_amount, receipt.currency) == (
        "A-1", Decimal("150.50"), Decimal("150.50"), "EUR",
    )  # fmt: skip
    assert (receipt.method, receipt.received_on, receipt.reference) == ("wire", date(2026, 5, 18), "TRF 2231")
    assert receipt.journal_entry_id is not None
    assert AuditEvent.objects.filter(action="receipt.posted").count() == 1

    page = text(client.get(response["Location"]))
    assert f"Receipt {receipt.pk} recorded: 150.50 EUR from A-1, unapplied until it is applied." in page
    facts = words(page)
    assert "Amount 150.50 EUR Unapplied 150.50 EUR Method Wire transfer Bank account MAIN" in facts
    assert f'href="{reverse("ledger:entry", args=[receipt.journal_entry_id])}"' in page
    assert "From entered by hand" in facts

    again = client.post(reverse("payments:record_receipt"), form)  # a double click: the same key
    assert (
        again["Location"] == reverse("payments:receipt", args=[receipt.pk]) and Receipt.objects.count() == 1
    )
    changed = client.post(reverse("payments:record_receipt"), form | {"amount": "151.00"})  # back, changed
    assert changed.status_code == 200 and Receipt.objects.count() == 1
    reused = f"the idempotency key 'web-test-1' was used for receipt {receipt.pk} with another amount"
    assert reused in text(changed)
    assert 'name="idempotency_key" value="web-test-1"' not in text(changed)  # posting it again is on purpose
    listed = text(client.get(reverse("payments:receipts")))
    assert row(listed, f'id="receipt-{receipt.pk}"') == (
        f"{receipt.pk} 2026-05-18 A-1 Alpha Trading GmbH Wire transfer 150.50 EUR 150.50 EUR unapplied "
        "entered by hand"
    )
    all_ok()


def test_a_card_receipt_keeps_brand_last_four_and_processor_reference(
    book: dict[str, Any], clerk: User
) -> None:
    client = signed_in(clerk)
    response = client.post(reverse("payments:record_receipt"), {
        "customer": "B-1", "bank_account": "MAIN", "method": "card", "amount": "238", "card_brand": "VISA",
        "card_last4": "4242", "processor_reference": "ch_3PZ",
    })  # fmt: skip
    receipt = Receipt.objects.get()
    assert response["Location"] == reverse("payments:receipt", args=[receipt.pk])
    assert (receipt.card_brand, receipt.card_last4, receipt.processor_reference) == ("VISA", "4242", "ch_3PZ")
    assert receipt.received_on == TODAY  # no date given: today
    assert "VISA ending 4242 · processor reference ch_3PZ" in text(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "12,30"}, "amount", "amount '12,30' is not a number like 1234.50"),
        ({"amount": "abc"}, "amount", "amount 'abc' is not a number like 1234.50"),
        ({"amount": "10.001"}, "amount", "amount 10.001 has more decimal places than EUR allows (2)"),
        ({"amount": "0"}, "amount", "a receipt is more than zero; a returned payment is reversed"),
        ({"currency": "EURO"}, "currency", "'EURO' is not an ISO 4217 currency code"),
        ({"currency": "USD"}, "currency", "A-1 pays in EUR, not USD"),
        ({"customer": "Z-9"}, "customer", "there is no customer with account number 'Z-9'"),
        ({"customer": ""}, "customer", "give the customer's account number"),
        ({"received_on": "2026-06-01"}, "received_on", "a receipt cannot be dated after today (2026-05-20)"),
        ({"reference": "4111 1111 1111 1111"}, "reference", "reference looks like a card number"),
        ({"card_last4": "4242"}, "method", "card details belong to card payments, not to wire"),
    ],
)
def test_a_bad_receipt_is_shown_next_to_its_field_and_nothing_is_written(
    book: dict[str, Any], clerk: User, changes: dict[str, str], field: str, message: str
) -> None:
    form = {"customer": "A-1", "bank_account": "MAIN", "method": "wire", "amount": "100.00"} | changes
    before = state()
    response = signed_in(clerk).post(reverse("payments:record_receipt"), form)
    assert response.status_code == 200
    page = text(response)
    assert message in field_error(page, f"receiptform-{field}")
    assert f'value="{form["amount"]}"' in page  # what was typed is kept
    assert state() == before


def test_the_receipt_list_filters_by_customer_and_unapplied_and_pages(
    book: dict[str, Any], clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers = book["customers"]
    for key, amount in (("A", "119.00"), ("B", "50.00"), ("B", "60.00")):
        post_receipt(customer_id=customers[key].pk, bank_account="MAIN", method="wire",
                     amount=Money(Decimal(amount), "EUR"), actor=clerk)  # fmt: skip
    apply_receipt(receipt_id=Receipt.objects.get(customer=customers["A"]).pk, actor=clerk)  # A is applied
    client = signed_in(clerk)
    assert "3 receipts" in text(client.get(reverse("payments:receipts")))
    only_b = text(client.get(reverse("payments:receipts"), {"customer": "b-1"}))
    assert "2 receipts" in only_b and "Alpha Trading" not in only_b
    unapplied = text(client.get(reverse("payments:receipts"), {"unapplied": "1"}))
    assert "2 receipts" in unapplied and "Alpha Trading" not in unapplied
    unknown = text(client.get(reverse("payments:receipts"), {"customer": "Q-1"}))
    assert "there is no customer with account number 'Q-1'" in unknown and "0 receipts" in unknown
    monkeypatch.setattr("billops.payments.views.receipts.PAGE_SIZE", 2)
    first = text(client.get(reverse("payments:receipts"), {"unapplied": "1"}))
    assert "Page 1 of 1" in first
    paged = text(client.get(reverse("payments:receipts")))
    assert "Page 1 of 2 · 3 receipts" in paged and "?unapplied" not in paged


# --- a receipt's page: apply, unapply --------------------------------------------------------------


def test_applying_to_a_named_invoice_then_oldest_first_settles_exact_amounts(
    book: dict[str, Any], receipt: Receipt, clerk: User
) -> None:
    inv = book["invoices"]
    client = signed_in(clerk)
    url = reverse("payments:receipt", args=[receipt.pk])
    page = text(client.get(url))
    assert row(page, f'id="open-{inv["C2"].number}"') == f"{inv['C2'].number} 2026-06-01 238.00 EUR"

    named = {"how": "chosen", "invoice_1": "", "invoice_2": inv["C2"].number.lower(), "amount_2": "100.00"}
    response = client.post(reverse("payments:apply", args=[receipt.pk]), named)
    assert response["Location"] == url
    receipt.refresh_from_db()
    assert receipt.unapplied_amount == Decimal("400.00")
    assert Invoice.objects.get(pk=inv["C2"].pk).open_amount == Decimal("138.00")

    response = client.post(
        reverse("payments:apply", args=[receipt.pk]), {"how": "oldest", "invoice_1": "junk"}
    )
    assert response["Location"] == url
    receipt.refresh_from_db()
    opened = {key: Invoice.objects.get(pk=inv[key].pk) for key in ("C1", "C2", "C3")}
    # 400.00: C1 119.00, C2 the 138.00 left, C3 143.00 of 357.00
    assert [(i.status, i.open_amount) for i in opened.values()] == [
        ("paid", Decimal(0)), ("paid", Decimal(0)), ("partly_paid", Decimal("214.00")),
    ]  # fmt: skip
    assert receipt.unapplied_amount == Decimal(0)
    page = text(client.get(url))
    assert (
        f"Applied 400.00 EUR to {inv['C1'].number}, {inv['C2'].number}, {inv['C3'].number}; 0.00 EUR left"
        in page
    )
    assert "Apply oldest first" not in page  # nothing left to apply
    to_c3 = Application.objects.get(invoice=inv["C3"])
    assert row(page, f'id="application-{to_c3.pk}"') == (
        f"{inv['C3'].number} 143.00 EUR — 2026-05-20 by clerk #{to_c3.journal_entry_id} — Unapply"
    )
    assert "Unapplied 0.00 EUR" in words(page)
    all_ok()


@pytest.mark.parametrize(
    ("rows", "row_number", "message"),
    [
        ({"invoice_1": "C1", "amount_1": "5"}, 1, "'C1' is not an open invoice of this receipt's customer"),
        ({"invoice_2": "{C1}", "amount_2": "120.00"}, 2, "has 119.00 EUR open, not 120.00"),
        ({"invoice_1": "{C1}", "invoice_3": "{C1}"}, 3, "is named twice"),
        ({"invoice_1": "{C1}", "amount_1": "1.5x"}, 1, "amount '1.5x' is not a number like 1234.50"),
        ({}, 1, "name at least one invoice, or apply oldest first"),
    ],
)
def test_an_allocation_refused_is_shown_on_its_row_and_nothing_is_applied(
    book: dict[str, Any], receipt: Receipt, clerk: User, rows: dict[str, str], row_number: int, message: str
) -> None:
    number = book["invoices"]["C1"].number
    form = {"how": "chosen"} | {key: value.replace("{C1}", number) for key, value in rows.items()}
    before = state()
    response = signed_in(clerk).post(reverse("payments:apply", args=[receipt.pk]), form)
    assert response.status_code == 200
    assert message.replace("{C1}", number) in field_error(text(response), f"applyform-invoice_{row_number}")
    assert state() == before


def test_unapplying_asks_for_a_reason_and_opens_the_invoice_again(
    book: dict[str, Any], receipt: Receipt, clerk: User
) -> None:
    c1 = book["invoices"]["C1"]
    apply_receipt(receipt_id=receipt.pk, actor=clerk, allocations=[Allocation(c1.number)])
    application = Application.objects.get()
    client = signed_in(clerk)
    before = state()
    refused = client.post(reverse("payments:unapply", args=[application.pk]), {"reason": "  "})
    assert refused.status_code == 200
    assert (
        field_error(text(refused), f"unapply-{application.pk}-reason")
        == "say why the application is taken back"
    )
    assert state() == before

    done = client.post(reverse("payments:unapply", args=[application.pk]), {"reason": "wrong customer"})
    assert done["Location"] == reverse("payments:receipt", args=[receipt.pk])
    receipt.refresh_from_db()
    c1.refresh_from_db()
    assert (receipt.unapplied_amount, c1.open_amount, c1.status) == (
        Decimal("500.00"),
        Decimal("119.00"),
        "issued",
    )
    page = text(client.get(done["Location"]))
    assert f"Unapplied 119.00 EUR from {c1.number}: it is open again." in page
    assert row(page, f'id="application-{application.pk}"').endswith(
        "unapplied 2026-05-20 by clerk: wrong customer"
    )
    assert f'action="{reverse("payments:unapply", args=[application.pk])}"' not in page  # once only
    all_ok()


def test_a_customers_cash_page_shows_open_items_credits_and_applications(
    book: dict[str, Any], receipt: Receipt, clerk: User
) -> None:
    inv, customer = book["invoices"], book["customers"]["C"]
    apply_receipt(receipt_id=receipt.pk, actor=clerk, allocations=[Allocation(inv["C3"].number)])
    page = text(signed_in(clerk).get(reverse("payments:customer", args=[customer.pk])))
    assert "Open in all 357.00 EUR" in words(page)  # C1 119.00 + C2 238.00
    assert "Unapplied cash 143.00 EUR" in words(page)
    assert row(page, f'id="credit-{receipt.pk}"') == f"{receipt.pk} 2026-05-15 Cheque 500.00 EUR 143.00 EUR"
    application = Application.objects.get()
    assert row(page, f'id="application-{application.pk}"') == (
        f"2026-05-20 by clerk {receipt.pk} {inv['C3'].number} 357.00 EUR —"
    )
    assert f'href="{reverse("payments:customer", args=[customer.pk])}"' in text(
        signed_in(clerk).get(reverse("payments:receipt", args=[receipt.pk]))
    )


# --- the matching queue ----------------------------------------------------------------------------


def test_the_queue_lists_each_parked_line_oldest_first_with_its_ranked_suggestions(
    queued: dict[str, Any], clerk: User
) -> None:
    lines, a1 = queued["lines"], queued["invoices"]["A1"]
    page = text(signed_in(clerk).get(reverse("payments:queue")))
    assert "3 lines waiting" in page
    assert row(page, "ALPHA TRADING") == (
        "2026-05-12 119.00 EUR ALPHA TRADING DE02120300000000202051 thank you not sure enough to apply by "
        "itself may.xml line 1"
    )
    suggestions = re.findall(r'<tr class="suggestion">.*?</tr>', page.split('id="line-')[1], re.S)
    assert [words(s) for s in suggestions] == [
        f"A-1 80 customer by payer name, amount equal to one open invoice payer name: ALPHA TRADING "
        f"{a1.number} 119.00 EUR Apply",
        "A-1 50 customer by payer name; the amount matches no open invoices: oldest first payer name: "
        "ALPHA TRADING oldest first Apply",
    ]
    assert "No customer found: name it below." in page  # line 2
    fee = page[page.index(f'id="line-{lines[3].pk}"') :]
    fee = fee[: fee.index("</tbody>")]
    assert "money out" in fee and "Dismiss" in fee
    assert "Post to this customer" not in fee and 'name="suggestion"' not in fee  # only Dismiss for money out
    assert f'id="line-{lines[4].pk}"' not in page  # posted by itself


def test_one_click_on_a_suggestion_with_htmx_redraws_only_that_line_and_it_leaves_the_queue(
    queued: dict[str, Any], clerk: User
) -> None:
    first, a1 = queued["lines"][1], queued["invoices"]["A1"]
    client = signed_in(clerk)
    response = client.post(
        reverse("payments:resolve_line", args=[first.pk]), {"suggestion": "0", "page": "1"},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 200
    fragment = text(response)
    assert (
        fragment.startswith(f'<tbody id="line-{first.pk}" class="queue-line done">')
        and "<html" not in fragment
    )
    first.refresh_from_db()
    assert first.status == "posted" and first.receipt is not None
    assert f"Line 1 of may.xml posted as receipt {first.receipt_id} of 119.00 EUR from A-1." in fragment
    a1.refresh_from_db()
    assert (a1.status, a1.open_amount) == ("paid", Decimal(0))
    assert first.evidence["rule"] == "resolved by a clerk"
    assert PayerAccount.objects.get(number="DE02120300000000202051").customer.account_number == "A-1"
    page = text(client.get(reverse("payments:queue")))
    assert f'id="line-{first.pk}"' not in page and "2 lines waiting" in page
    all_ok()


def test_without_javascript_a_suggestion_posts_and_comes_back_to_the_queue(
    queued: dict[str, Any], clerk: User
) -> None:
    first = queued["lines"][1]
    client = signed_in(clerk)
    response = client.post(
        reverse("payments:resolve_line", args=[first.pk]), {"suggestion": "1", "page": "1"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("payments:queue") + "?page=1"
    first.refresh_from_db()
    receipt = first.receipt
    assert receipt is not None and receipt.unapplied_amount == Decimal(0)  # oldest first: A1 119.00
    page = text(client.get(response["Location"]))
    assert f"Line 1 of may.xml posted as receipt {receipt.pk} of 119.00 EUR from A-1." in page
    assert f'id="line-{first.pk}"' not in page
    all_ok()


def test_naming_the_customer_and_an_invoice_resolves_a_line_without_suggestions(
    queued: dict[str, Any], clerk: User
) -> None:
    second, c1 = queued["lines"][2], queued["invoices"]["C1"]
    client = signed_in(clerk)
    url = reverse("payments:resolve_line", args=[second.pk])
    before = state()
    unknown = client.post(url, {"customer": "X-1", "invoices": ""}, headers={"HX-Request": "true"})
    assert unknown.status_code == 200 and "<html" not in text(unknown)
    assert field_error(text(unknown), f"resolve-{second.pk}-customer") == (
        "there is no customer with account number 'X-1'"
    )
    wrong = client.post(url, {"customer": "C-1", "invoices": "INV-1999-000001"})  # the whole page, no htmx
    assert wrong.status_code == 200 and "<html" in text(wrong)
    assert "'INV-1999-000001' is not an open invoice" in field_error(
        text(wrong), f"resolve-{second.pk}-invoices"
    )
    assert state() == before

    response = client.post(url, {"customer": "c-1", "invoices": c1.number, "remember_payer": "on"})
    assert response["Location"] == reverse("payments:queue")
    second.refresh_from_db()
    c1.refresh_from_db()
    assert second.status == "posted" and second.receipt.customer.account_number == "C-1"
    assert (c1.status, c1.open_amount) == ("partly_paid", Decimal("77.00"))  # 119.00 - 42.00
    all_ok()


def test_dismissing_a_line_needs_a_reason_and_posts_nothing(queued: dict[str, Any], clerk: User) -> None:
    fee = queued["lines"][3]
    client = signed_in(clerk)
    url = reverse("payments:dismiss_line", args=[fee.pk])
    before = state()
    refused = client.post(url, {"reason": ""}, headers={"HX-Request": "true"})
    assert (
        field_error(text(refused), f"dismiss-{fee.pk}-reason")
        == "say why the line is not a customer's payment"
    )
    assert state() == before
    receipts, entries = Receipt.objects.count(), JournalEntry.objects.count()

    done = client.post(url, {"reason": "bank fee, booked by accounting"}, headers={"HX-Request": "true"})
    assert "Line 3 of may.xml dismissed: bank fee, booked by accounting." in text(done)
    fee.refresh_from_db()
    assert (fee.status, fee.reason) == ("rejected", "dismissed: bank fee, booked by accounting")
    assert (Receipt.objects.count(), JournalEntry.objects.count()) == (receipts, entries)
    again = client.post(url, {"reason": "twice"}, headers={"HX-Request": "true"})
    assert f"bank line {fee.pk} is rejected, not in the queue" in text(again)
    all_ok()


def test_money_out_cannot_be_posted_to_a_customer(queued: dict[str, Any], clerk: User) -> None:
    fee = queued["lines"][3]
    before = state()
    response = signed_in(clerk).post(reverse("payments:resolve_line", args=[fee.pk]), {"customer": "A-1"})
    assert "money out is not a customer's payment" in text(response)
    assert state() == before


# --- bank files ------------------------------------------------------------------------------------


def test_uploading_a_camt053_file_shows_what_became_of_each_line(book: dict[str, Any], clerk: User) -> None:
    data = camt(*statement_lines(book))
    client = signed_in(clerk)
    upload = SimpleUploadedFile("may.xml", data, content_type="application/xml")
    response = client.post(reverse("payments:import"), {"file": upload, "format": "", "bank_account": ""})
    assert response.status_code == 200
    page = text(response)
    file = StatementFile.objects.get()
    assert "Imported may.xml: 1 posted, 3 in the matching queue, 0 rejected." in page
    facts = words(page[page.index('id="import-result"') :])
    assert "Format camt.053 Bank account MAIN Main EUR Statements 2026-05-12/1" in facts
    assert "Lines read 4 Money in 399.00 EUR Money out 2.50 EUR Posted 1 In the matching queue 3" in facts
    b1 = book["invoices"]["B1"]
    posted = BankLine.objects.get(line=4)
    assert row(page, 'id="line-4"') == (
        f"4 2026-05-12 238.00 EUR Beta Works Invoice {b1.number} bank reference REF-4 Posted score 100 · "
        f"invoices named, amount equal to what they have open remittance: {b1.number} {b1.number} 238.00 EUR "
        f"{posted.receipt_id} B-1"
    )
    assert row(page, 'id="line-2"').endswith("In the matching queue no customer found in the queue")
    assert f'href="{reverse("payments:queue")}"' in page

    again = client.post(reverse("payments:import"), {"file": SimpleUploadedFile("renamed.xml", data)})
    assert "This file was imported before, as may.xml" in text(again)
    assert StatementFile.objects.count() == 1 and file.lines.count() == 4
    all_ok()


def test_a_refused_file_shows_the_message_naming_the_line_and_writes_nothing(
    book: dict[str, Any], clerk: User
) -> None:
    broken = camt(*statement_lines(book)).replace(b"1396.50", b"1396.05")
    assert broken != camt(*statement_lines(book))
    before = state()
    response = signed_in(clerk).post(
        reverse("payments:import"), {"file": SimpleUploadedFile("may.xml", broken)}
    )
    assert response.status_code == 200
    shown = field_error(text(response), "importform-file")
    assert "out of balance" in shown
    assert state() == before and StatementFile.objects.count() == 0


def test_a_csv_file_needs_its_bank_account_and_no_file_is_asked_for(
    book: dict[str, Any], clerk: User
) -> None:
    client = signed_in(clerk)
    none = client.post(reverse("payments:import"), {"format": ""})
    assert field_error(text(none), "importform-file") == "choose the bank file to import"
    csv = client.post(
        reverse("payments:import"), {"file": SimpleUploadedFile("x.csv", b"a;b\n1;2\n"), "format": "csv"}
    )
    assert "name the bank account" in field_error(text(csv), "importform-bank_account")
    assert StatementFile.objects.count() == 0


def test_the_file_list_and_a_files_page_show_its_lines_evidence_and_receipts(
    queued: dict[str, Any], clerk: User, auditor: User
) -> None:
    file = queued["file"]
    client = signed_in(auditor)
    listed = text(client.get(reverse("payments:files")))
    assert row(listed, f'id="file-{file.pk}"').startswith("may.xml camt.053 MAIN ")
    assert row(listed, f'id="file-{file.pk}"').endswith("4 399.00 EUR 2.50 EUR 1 3 0")
    page = text(client.get(reverse("payments:file", args=[file.pk])))
    posted = queued["lines"][4]
    assert (
        f'<a href="{reverse("payments:receipt", args=[posted.receipt_id])}">{posted.receipt_id}</a>' in page
    )
    assert "money out: a returned payment, a refund or a bank fee; a clerk decides" in row(
        page, 'id="line-3"'
    )


# --- refusals --------------------------------------------------------------------------------------


def test_a_collector_posting_any_form_is_refused_and_nothing_changes(
    queued: dict[str, Any], receipt: Receipt, clerk: User, collector: User
) -> None:
    apply_receipt(
        receipt_id=receipt.pk, actor=clerk, allocations=[Allocation(queued["invoices"]["C1"].number)]
    )
    application = Application.objects.get(receipt=receipt)
    first = queued["lines"][1]
    client = signed_in(collector)
    before = state()
    posts = [
        (reverse("payments:record_receipt"),
         {"customer": "A-1", "bank_account": "MAIN", "method": "wire", "amount": "10.00"},
         "the collector role may not do payments.post"),
        (reverse("payments:apply", args=[receipt.pk]), {"how": "oldest"},
         "the collector role may not do payments.apply"),
        (reverse("payments:unapply", args=[application.pk]), {"reason": "no"},
         "the collector role may not do payments.apply"),
        (reverse("payments:resolve_line", args=[first.pk]), {"suggestion": "0"},
         "the collector role may not do payments.apply"),
        (reverse("payments:resolve_line", args=[first.pk]), {"customer": "A-1"},
         "the collector role may not do payments.apply"),
        (reverse("payments:dismiss_line", args=[first.pk]), {"reason": "not ours"},
         "the collector role may not do payments.apply"),
        (reverse("payments:import"), {"file": SimpleUploadedFile("june.xml", b"<?xml")},
         "You may not import bank files"),
    ]  # fmt: skip
    for url, form, message in posts:
        response = client.post(url, form)
        assert response.status_code == 403, url
        assert message in text(response), url
    htmx = client.post(reverse("payments:resolve_line", args=[first.pk]), {"suggestion": "0"},
                       headers={"HX-Request": "true"})  # fmt: skip
    assert htmx.status_code == 403 and "<html" not in text(htmx)
    assert state() == before


def test_a_returned_payment_is_reversed_from_its_page_and_everything_it_paid_is_open_again(
    book: dict[str, Any], receipt: Receipt, clerk: User
) -> None:
    c1 = book["invoices"]["C1"]
    apply_receipt(receipt_id=receipt.pk, actor=clerk, allocations=[Allocation(c1.number)])
    client = signed_in(clerk)
    url = reverse("payments:receipt", args=[receipt.pk])
    page = text(client.get(url))
    assert "Payment returned by the bank" in page and "Refund the credit" not in page  # clerks do not refund
    before = state()
    refused = client.post(reverse("payments:reverse", args=[receipt.pk]), {"return_code": "BOUNCED"})
    assert refused.status_code == 200 and "is not a return reason code" in field_error(
        text(refused), "returnform-return_code"
    )
    assert state() == before
    done = client.post(
        reverse("payments:reverse", args=[receipt.pk]), {"return_code": "AM04", "reason": "bank"}
    )
    assert done["Location"] == url
    receipt.refresh_from_db()
    c1.refresh_from_db()
    assert (receipt.status, receipt.return_code, c1.status, c1.open_amount) == (
        "reversed", "AM04", "issued", Decimal("119.00"),
    )  # fmt: skip
    assert "Payment returned by the bank" not in text(client.get(url))
    all_ok()


def test_a_supervisor_refunds_part_of_the_credit_from_the_receipts_page(
    receipt: Receipt, supervisor: User
) -> None:
    client = signed_in(supervisor)
    url = reverse("payments:refund", args=[receipt.pk])
    before = state()
    too_much = client.post(url, {"amount": "500.01", "method": "wire", "reason": "overpaid"})
    assert too_much.status_code == 200 and "cannot be refunded" in field_error(
        text(too_much), "refundform-amount"
    )
    assert state() == before
    done = client.post(url, {"amount": "100.00", "method": "wire", "reason": "overpaid", "reference": "R-1"})
    assert done["Location"] == reverse("payments:receipt", args=[receipt.pk])
    receipt.refresh_from_db()
    assert receipt.unapplied_amount == Decimal("400.00")
    refund = receipt.refunds.get()
    assert (refund.amount, refund.method, refund.reference, refund.created_by) == (
        Decimal("100.00"), "wire", "R-1", supervisor,
    )  # fmt: skip
    all_ok()


def test_money_out_that_is_a_returned_receipt_is_resolved_from_the_queue(
    book: dict[str, Any], clerk: User
) -> None:
    c1 = book["invoices"]["C1"]
    receipt = post_receipt(
        customer_id=book["customers"]["C"].pk, bank_account="MAIN", method="direct_debit",
        amount=Money(Decimal("500.00"), "EUR"), received_on=date(2026, 5, 10), actor=clerk,
    )  # fmt: skip
    apply_receipt(receipt_id=receipt.pk, actor=clerk, allocations=[Allocation(c1.number)])
    import_bank_file(data=camt(line(1, "-500.00", remittance="RETURN")), file_name="ret.xml", actor=clerk)
    returned = BankLine.objects.get(file__file_name="ret.xml")
    client = signed_in(clerk)
    page = text(client.get(reverse("payments:queue")))
    assert "A receipt came back" in page and "A refund we paid" in page
    url = reverse("payments:return_line", args=[returned.pk])
    before = state()
    refused = client.post(url, {"receipt": "", "return_code": "AM04"}, headers={"HX-Request": "true"})
    assert field_error(text(refused), f"return-{returned.pk}-receipt") == "give the receipt's number"
    assert state() == before
    done = client.post(
        url, {"receipt": str(receipt.pk), "return_code": "AM04"}, headers={"HX-Request": "true"}
    )
    assert f"Line 1 of ret.xml: receipt {receipt.pk} returned." in text(done)
    receipt.refresh_from_db()
    c1.refresh_from_db()
    assert (receipt.status, c1.status, BankLine.objects.get(pk=returned.pk).status) == (
        "reversed",
        "issued",
        "posted",
    )
    all_ok()


def test_money_out_that_is_a_refund_already_paid_is_booked_from_the_queue(
    book: dict[str, Any], receipt: Receipt, clerk: User, supervisor: User
) -> None:
    refund = refund_receipt(
        receipt_id=receipt.pk, amount=Money(Decimal("50.00"), "EUR"), method="wire", reason="overpaid",
        actor=supervisor,
    )  # fmt: skip
    import_bank_file(data=camt(line(1, "-50.00", remittance="REFUND")), file_name="out.xml", actor=clerk)
    out = BankLine.objects.get(file__file_name="out.xml")
    entries = JournalEntry.objects.count()
    done = signed_in(clerk).post(reverse("payments:refund_line", args=[out.pk]), {"refund": str(refund.pk)})
    assert done["Location"].startswith(reverse("payments:queue"))
    out.refresh_from_db()
    assert (out.status, out.refund_id, JournalEntry.objects.count()) == ("posted", refund.pk, entries)
    all_ok()
