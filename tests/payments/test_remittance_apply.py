"""A remittance advice applied to its receipt: each invoice paid by the amount the advice says, in one
entry and one transaction; deductions stay open on their invoices and are listed (within the write-off
tolerance they are written off: test_write_offs.py);
every refusal names its row and changes nothing; the same through `billops apply-remittance` and
POST /api/v1/payments/receipts/{id}/remittance."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.cli.main import main
from billops.core.errors import (
    Conflict,
    CurrencyMismatch,
    DomainError,
    Duplicate,
    InvalidAmount,
    NotFound,
    PermissionDenied,
)
from billops.customers.models import Customer
from billops.customers.services import post_opening_balance
from billops.disputes.models import DisputeCase
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalLine
from billops.payments.models import Receipt
from billops.payments.remittance import RemittanceAdvice, RemittanceLine, RemittanceRejected
from billops.payments.services.applications import Allocation, apply_receipt
from billops.payments.services.receipts import create_bank_account, post_receipt
from billops.payments.services.remittances import apply_remittance, read_remittance
from billops.payments.services.returns import reverse_receipt
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, eur, state, unchanged

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)


@pytest.fixture
def book(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Any]:
    """C-1 with an opening balance of 50.00 and three invoices of 119.00, 238.00 and 357.00; C-2 with one
    of 119.00; a EUR bank account."""
    set_business_date(on=TODAY, actor=make_user(Role.ADMIN))
    customer = make_customer(clerk, account_number="C-1")
    other = make_customer(clerk, account_number="C-2")
    post_opening_balance(
        customer_id=customer.pk, amount=eur("50.00"), balance_on=date(2026, 3, 31), reference="OLD-1",
        actor=supervisor,
    )  # fmt: skip
    invoices = [
        invoice_now(
            customer_id=owner.pk, actor=clerk, issued_on=date(2026, 4, day),
            lines=[LineData(quantity=str(day), description="Service", unit_price="100", tax_code="VAT-STD")],
        )
        for owner, day in ((customer, 1), (customer, 2), (customer, 3), (other, 1))
    ]  # fmt: skip
    create_bank_account(
        code="main-eur", name="Main EUR", currency="EUR", number="DE89 3704 0044 0532 0130 00",
        actor=supervisor,
    )  # fmt: skip
    return {"customer": customer, "invoices": invoices[:3], "other": invoices[3]}


def receive(clerk: User, customer: Customer, amount: str) -> Receipt:
    return post_receipt(
        customer_id=customer.pk, amount=eur(amount), actor=clerk, bank_account="MAIN-EUR", method="wire",
        received_on=date(2026, 5, 4),
    )  # fmt: skip


def advice(
    *lines: tuple[str, str, str, str], currency: str = "EUR", total: str | None = None
) -> RemittanceAdvice:
    """An advice of (invoice number, paid, deduction, reason) lines on rows 2, 3, …"""
    return RemittanceAdvice(
        payer="C-1 Ltd", payment_reference="PAY-77", currency=currency,
        total=Decimal(total) if total is not None else None,
        lines=[
            RemittanceLine(row, number, Decimal(paid), Decimal(deduction), reason)
            for row, (number, paid, deduction, reason) in enumerate(lines, start=2)
        ],
        format="csv",
    )  # fmt: skip


def the_usual(invoices: list[Invoice]) -> RemittanceAdvice:
    """119.00 paid in full, 200.00 of 238.00 with 38.00 kept back for damage, 300.00 of 357.00."""
    first, second, third = (invoice.number or "" for invoice in invoices)
    return advice(
        (first, "119.00", "0", ""), (second, "200.00", "38.00", "damaged"), (third, "300.00", "0", "")
    )


def test_an_advice_pays_each_invoice_its_amount_and_leaves_the_deduction_open(
    book: dict[str, Any], clerk: User
) -> None:
    customer, invoices = book["customer"], book["invoices"]
    first, second, third = invoices
    receipt = receive(clerk, customer, "650.00")

    result = apply_remittance(receipt_id=receipt.pk, advice=the_usual(invoices), actor=clerk)

    statuses = {pk: (status, amount) for pk, status, amount in state()["invoices"]}
    assert statuses == {
        first.pk: ("paid", Decimal("0.00")),
        second.pk: ("partly_paid", Decimal("38.00")),  # the deduction: open, not written off
        third.pk: ("partly_paid", Decimal("57.00")),
        book["other"].pk: ("issued", Decimal("119.00")),
    }
    receipt.refresh_from_db()
    assert receipt.unapplied_amount == Decimal("31.00")
    assert customer.opening_balances.get().open_amount == Decimal("50.00")  # not named: untouched
    assert [(a.invoice_id, a.amount) for a in result.applications] == [
        (first.pk, Decimal("119.00")),
        (second.pk, Decimal("200.00")),
        (third.pk, Decimal("300.00")),
    ]
    assert [(row.place, row.invoice_number, row.paid, row.deduction, row.open_amount, row.status)
            for row in result.rows] == [
        ("row 2", first.number, Decimal("119.00"), Decimal("0.00"), Decimal("0.00"), "paid"),
        ("row 3", second.number, Decimal("200.00"), Decimal("38.00"), Decimal("38.00"), "partly_paid"),
        ("row 4", third.number, Decimal("300.00"), Decimal("0.00"), Decimal("57.00"), "partly_paid"),
    ]  # fmt: skip
    assert [(row.invoice_number, row.deduction, row.reason) for row in result.deductions] == [
        (second.number, Decimal("38.00"), "damaged")
    ]
    case = DisputeCase.objects.get()  # the deduction left open is a dispute case to follow up
    assert (case.invoice, case.amount, case.source, case.source_reference, case.status, case.opened_by) == (
        second, Decimal("38.00"), "remittance_deduction", "PAY-77 row 3", "open", clerk,
    )  # fmt: skip
    assert (result.paid_total, result.deduction_total, result.unapplied_amount) == (
        Decimal("619.00"),
        Decimal("38.00"),
        Decimal("31.00"),
    )
    entry = result.applications[0].journal_entry
    lines = JournalLine.objects.filter(entry=entry).order_by("line_no")
    assert list(lines.values_list("account__code", "debit", "credit")) == [
        ("2100", Decimal("119.00"), Decimal(0)), ("1200", Decimal(0), Decimal("119.00")),
        ("2100", Decimal("200.00"), Decimal(0)), ("1200", Decimal(0), Decimal("200.00")),
        ("2100", Decimal("300.00"), Decimal(0)), ("1200", Decimal(0), Decimal("300.00")),
    ]  # fmt: skip
    applied = AuditEvent.objects.get(action="receipt.applied")
    assert applied.after["how"] == "chosen"
    event = AuditEvent.objects.get(action="receipt.remittance_applied")
    assert (event.actor, event.target_id, applied.journal_entry_id) == (clerk, str(receipt.pk), entry.pk)
    assert event.after == {
        "format": "csv",
        "payer": "C-1 Ltd",
        "digest": the_usual(invoices).digest(),
        "payment_reference": "PAY-77",
        "rows": [
            {
                "row": 2,
                "invoice": first.number,
                "paid": "119.00",
                "deduction": "0.00",
                "written_off": "0.00",
                "reason": "",
            },
            {
                "row": 3,
                "invoice": second.number,
                "paid": "200.00",
                "deduction": "38.00",
                "written_off": "0.00",
                "reason": "damaged",
            },
            {
                "row": 4,
                "invoice": third.number,
                "paid": "300.00",
                "deduction": "0.00",
                "written_off": "0.00",
                "reason": "",
            },
        ],
        "deductions_written_off": "0.00",
        "deductions_left_open": "38.00",
        "unapplied_amount": "31.00",
        "journal_entry": entry.pk,
    }
    all_ok()


def test_an_820_is_applied_with_its_discount_and_adjustments_left_open(
    book: dict[str, Any], clerk: User
) -> None:
    customer, (first, second, _) = book["customer"], book["invoices"]
    receipt = receive(clerk, customer, "300.00")
    body = [
        "GS*RA*C1*BILLOPS*20260504*1200*7*X*004010",
        "ST*820*0042",
        "BPR*C*300.00*C*ACH*CTX",
        "TRN*1*ACH-991",
        "CUR*PR*EUR",
        "N1*PR*C-1 LTD",
        "ENT*1",
        f"RMR*IV*{first.number}*PI*119.00*119.00",
        f"RMR*IV*{second.number.lower()}*PI*181.00*238.00*2.38",
        "ADX*-54.62*CS",
        "SE*10*0042",
        "GE*1*7",
        "IEA*1*000000012",
    ]
    header = (
        "ISA*00*          *00*          *ZZ*C1             *ZZ*BILLOPS        *260504*1200*U*00401*000000012"
        "*0*P*>~"
    )
    data = (header + "~".join(body) + "~").encode()

    result = apply_remittance(receipt_id=receipt.pk, advice=read_remittance(data, "advice.txt"), actor=clerk)

    rows = [
        (row.place, row.paid, row.deduction, row.reason, row.open_amount, row.status) for row in result.rows
    ]
    assert rows == [
        ("segment 9 (RMR)", Decimal("119.00"), Decimal("0.00"), "", Decimal("0.00"), "paid"),
        ("segment 10 (RMR)", Decimal("181.00"), Decimal("57.00"), "discount 2.38; adjustment CS 54.62",
         Decimal("57.00"), "partly_paid"),
    ]  # fmt: skip
    receipt.refresh_from_db()
    assert receipt.unapplied_amount == Decimal("0.00")
    event = AuditEvent.objects.get(action="receipt.remittance_applied")
    assert (event.after["format"], event.after["payer"], event.after["payment_reference"]) == (
        "x12-820",
        "C-1 LTD",
        "ACH-991",
    )
    all_ok()


def refusal(receipt: Receipt, actor: User, remittance: RemittanceAdvice) -> DomainError:
    with unchanged(), pytest.raises(DomainError) as caught:
        apply_remittance(receipt_id=receipt.pk, advice=remittance, actor=actor)
    return caught.value


def test_every_refusal_names_what_is_wrong_and_changes_nothing(book: dict[str, Any], clerk: User) -> None:
    customer, invoices = book["customer"], book["invoices"]
    first, second, third = (invoice.number or "" for invoice in invoices)
    receipt = receive(clerk, customer, "300.00")
    pk = receipt.pk
    cases: list[tuple[RemittanceAdvice, type[DomainError], str]] = [
        (
            advice((first, "119.00", "0", ""), currency="USD"),
            CurrencyMismatch,
            f"the remittance advice is in USD, receipt {pk} in EUR",
        ),
        (
            advice((first, "119.00", "0", ""), (second, "238.00", "0", "")),
            InvalidAmount,
            f"the remittance advice pays 357.00 EUR, but receipt {pk} has 300.00 EUR unapplied",
        ),
        (
            advice((first, "119.00", "0", ""), ("INV-9", "1.00", "0", "")),
            RemittanceRejected,
            "row 3: 'INV-9' is not an open invoice of C-1",
        ),
        (
            advice((book["other"].number, "119.00", "0", "")),
            RemittanceRejected,
            f"row 2: {book['other'].number!r} is not an open invoice of C-1",
        ),
        (
            advice((first, "120.00", "0", "")),
            RemittanceRejected,
            f"row 2: {first} has 119.00 EUR open; the advice pays 120.00",
        ),
        (
            advice((first, "19.00", "0", ""), (second, "200.00", "40.00", "damaged")),
            RemittanceRejected,
            f"row 3: {second} has 238.00 EUR open; the advice pays 200.00 and keeps back 40.00",
        ),
        (
            advice((first, "10.005", "0", ""), currency=""),
            RemittanceRejected,
            "row 2: the amount paid 10.005 has more decimal places than EUR allows (2)",
        ),
        (
            advice((first, "119.00", "0", ""), (third, "100.00", "0", ""), total="220.00"),
            RemittanceRejected,
            "the invoice lines pay 219.00 EUR but the advice states a total of 220.00 EUR (a difference of "
            "1.00)",
        ),
        (
            advice((first, "0", "119.00", "disputed")),
            InvalidAmount,
            "the remittance advice pays nothing on any invoice",
        ),
    ]
    for remittance, kind, message in cases:
        error = refusal(receipt, clerk, remittance)
        assert (type(error), error.message) == (kind, message)

    returned = receive(clerk, customer, "500.00")
    reverse_receipt(receipt_id=returned.pk, return_code="AM04", actor=clerk, on=date(2026, 5, 15))
    error = refusal(returned, clerk, advice((first, "119.00", "0", "")))
    assert (type(error), error.message) == (
        Conflict,
        f"receipt {returned.pk} is reversed; nothing of it is applied",
    )

    other = receive(clerk, customer, "119.00")
    apply_receipt(receipt_id=other.pk, actor=clerk, allocations=[Allocation(first)])
    error = refusal(receipt, clerk, advice((second, "10.00", "0", ""), (first, "119.00", "0", "")))
    assert (error.message, error.details["row"]) == (
        f"row 3: {first!r} is not an open invoice of C-1 (it is paid)",
        3,
    )
    all_ok()


def test_who_may_not_apply_cash_is_refused_and_an_unknown_receipt_is_not_found(
    book: dict[str, Any], clerk: User, collector: User, auditor: User
) -> None:
    receipt = receive(clerk, book["customer"], "650.00")
    for who in (collector, auditor):
        assert isinstance(refusal(receipt, who, the_usual(book["invoices"])), PermissionDenied)
    with unchanged(), pytest.raises(NotFound, match="there is no receipt 999"):
        apply_remittance(receipt_id=999, advice=the_usual(book["invoices"]), actor=clerk)


# --- the command and the API -----------------------------------------------------------------------------


def usual_csv(invoices: list[Invoice]) -> bytes:
    first, second, third = (invoice.number or "" for invoice in invoices)
    return (
        "Invoice Number;Amount Paid;Deduction;Reason\n"
        f"{first};119,00;;\n{second};200,00;38,00;damaged\n{third};300,00;;\n"
    ).encode()


def test_the_command_applies_a_file_and_prints_rows_deductions_and_what_is_left(
    book: dict[str, Any], clerk: User, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, third = (invoice.number for invoice in book["invoices"])
    receipt = receive(clerk, book["customer"], "650.00")
    path = tmp_path / "advice.csv"
    path.write_bytes(usual_csv(book["invoices"]))

    assert main(["apply-remittance", str(receipt.pk), str(path), "--user", "clerk"]) == 0

    assert capsys.readouterr().out == (
        f"applied advice.csv (csv) to receipt {receipt.pk} of C-1: 3 invoices, 619.00 EUR paid\n"
        f"  row 2: {first} paid 119.00, now paid with 0.00 open\n"
        f"  row 3: {second} paid 200.00, now partly paid with 38.00 open\n"
        f"  row 4: {third} paid 300.00, now partly paid with 57.00 open\n"
        "deductions left open, not written off (38.00 EUR):\n"
        f"  {second}: 38.00 (damaged)\n"
        f"receipt {receipt.pk}: 31.00 EUR left unapplied\n"
    )
    all_ok()


def test_the_command_refuses_a_bad_file_and_changes_nothing(
    book: dict[str, Any], clerk: User, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receipt = receive(clerk, book["customer"], "650.00")
    path = tmp_path / "advice.csv"
    path.write_bytes(b"invoice_number,amount_paid\nINV-9,10.00\n")
    with unchanged():
        assert main(["apply-remittance", str(receipt.pk), str(path), "--user", "clerk"]) == 1
        assert main(["apply-remittance", str(receipt.pk), str(tmp_path / "none.csv"), "--user", "clerk"]) == 1
    assert capsys.readouterr().err == (
        "error: row 2: 'INV-9' is not an open invoice of C-1 (file)\n"
        f"error: {tmp_path / 'none.csv'} is not a file (file)\n"
    )


def workbook(invoices: list[Invoice]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    first, second, third = (invoice.number for invoice in invoices)
    for row in (["Invoice", "Invoice Number", "Amount Paid", "Deduction", "Reason", "Currency"],
                [date(2026, 4, 1), first, 119, None, None, "EUR"],
                [date(2026, 4, 2), second, 200, 38, "damaged", "EUR"],
                [date(2026, 4, 3), third, 300.0, None, None, "EUR"]):  # fmt: skip
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_api_applies_an_uploaded_workbook_and_lists_the_deductions(
    book: dict[str, Any], clerk: User, api_as: Any
) -> None:
    first, second, third = (invoice.number for invoice in book["invoices"])
    receipt = receive(clerk, book["customer"], "650.00")
    api = api_as(clerk)
    upload = SimpleUploadedFile("advice.xlsx", workbook(book["invoices"]))

    reply = api.client.post(f"/api/v1/payments/receipts/{receipt.pk}/remittance", {"file": upload})

    assert reply.status_code == 200, reply.json()
    assert reply.json() == {
        "receipt_id": receipt.pk,
        "currency": "EUR",
        "format": "xlsx",
        "payer": "",
        "payment_reference": "",
        "rows": [
            {"row": 2, "place": "row 2", "invoice_number": first, "paid": "119.00", "deduction": "0.00",
             "written_off": "0.00", "reason": "", "open_amount": "0.00", "status": "paid"},
            {"row": 3, "place": "row 3", "invoice_number": second, "paid": "200.00", "deduction": "38.00",
             "written_off": "0.00", "reason": "damaged", "open_amount": "38.00", "status": "partly_paid"},
            {"row": 4, "place": "row 4", "invoice_number": third, "paid": "300.00", "deduction": "0.00",
             "written_off": "0.00", "reason": "", "open_amount": "57.00", "status": "partly_paid"},
        ],
        "deductions_written_off": "0.00",
        "deductions_left_open": "38.00",
        "unapplied_amount": "31.00",
    }  # fmt: skip
    all_ok()


def test_the_api_refuses_a_bad_file_a_collector_and_an_unknown_receipt_and_writes_nothing(
    book: dict[str, Any], clerk: User, collector: User, api_as: Any
) -> None:
    receipt = receive(clerk, book["customer"], "650.00")
    url = f"/api/v1/payments/receipts/{receipt.pk}/remittance"
    good = usual_csv(book["invoices"])
    api, refused = api_as(clerk), api_as(collector)
    with unchanged():
        bad = api.client.post(
            url, {"file": SimpleUploadedFile("advice.csv", b"invoice_number;amount_paid\nX;1.5\n")}
        )
        assert (bad.status_code, bad.json()) == (
            400,
            {
                "code": "remittance_rejected",
                "message": "row 2, column 'amount_paid': '1.5' is not an amount like 1234,50 (a ',' before "
                "the cents in a ';'-separated file, no thousands separators)",
                "field": "file",
            },
        )
        forbidden = refused.client.post(url, {"file": SimpleUploadedFile("advice.csv", good)})
        assert (forbidden.status_code, forbidden.json()["code"]) == (403, "permission_denied")
        missing = api.client.post(
            "/api/v1/payments/receipts/999/remittance", {"file": SimpleUploadedFile("advice.csv", good)}
        )
        assert (missing.status_code, missing.json()["message"]) == (404, "there is no receipt 999")


def test_the_same_advice_again_in_any_format_is_refused_naming_where_it_went(
    book: dict[str, Any], clerk: User
) -> None:
    customer, invoices = book["customer"], book["invoices"]
    first, second, third = (invoice.number or "" for invoice in invoices)
    receipt = receive(clerk, customer, "650.00")
    apply_remittance(receipt_id=receipt.pk, advice=the_usual(invoices), actor=clerk)
    another = receive(clerk, customer, "650.00")
    # the same content with its rows in another order, from another format: the same payment
    again = advice((third, "300.00", "0", ""), (first, "119.00", "0", ""), (second, "200.00", "38.00", "x"))
    again = replace(again, format="xlsx", payer="")
    for repeated in (the_usual(invoices), again):
        with unchanged(), pytest.raises(Duplicate) as refused:
            apply_remittance(receipt_id=another.pk, advice=repeated, actor=clerk)
        assert refused.value.field == "file"
        assert refused.value.message == (
            f"this remittance advice was applied before, to receipt {receipt.pk} on "
            f"{datetime.now(UTC):%Y-%m-%d} by clerk; nothing is applied again"
        )
    # what differs in what was paid is another advice: applied as usual
    other = advice((second, "38.00", "0", ""))
    assert apply_remittance(receipt_id=another.pk, advice=other, actor=clerk).paid_total == Decimal("38.00")
    all_ok()
