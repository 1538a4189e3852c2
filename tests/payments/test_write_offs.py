"""Short payments written off: within the currency's tolerance (the lower of an amount and a percent of the
invoice's total) the difference closes the invoice with the payment, posted to payment differences, by a
bank line naming it, a clerk applying cash or a remittance deduction; beyond it only a supervisor writes
off; unapplying and a returned payment take the write-off back; bad tolerances and bad write-offs are
refused naming their field and change nothing."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.cli.main import main
from billops.core.errors import DomainError, InvalidAmount, PermissionDenied, UnknownCurrency
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.models import JournalLine
from billops.payments.models import Application, BankLine, WriteOffTolerance
from billops.payments.remittance import RemittanceAdvice, RemittanceLine
from billops.payments.services.applications import Allocation, apply_receipt, unapply_application
from billops.payments.services.bank_files import import_statements
from billops.payments.services.receipts import create_bank_account, post_receipt
from billops.payments.services.remittances import apply_remittance
from billops.payments.services.returns import reverse_receipt
from billops.payments.services.tolerances import set_write_off_tolerance, write_off_limit
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, eur, unchanged

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
TODAY = date(2026, 5, 20)
PAYMENT_DIFFERENCES = "6910"


@pytest.fixture
def book(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Invoice]:
    """C-1 with invoices of 119.00 and 1 190.00 (VAT 19 %); EUR tolerance 5.00 or 1 %."""
    set_business_date(on=TODAY, actor=make_user(Role.ADMIN))
    create_bank_account(code="MAIN", name="Main", currency="EUR", number=IBAN, actor=supervisor)
    customer = make_customer(clerk, account_number="C-1")
    set_write_off_tolerance(currency="EUR", max_amount="5.00", max_percent="1", actor=supervisor)

    def invoice(price: str) -> Invoice:
        return invoice_now(
            customer_id=customer.pk, actor=clerk, issued_on=date(2026, 5, 2),
            lines=[LineData(quantity="1", description="Service", unit_price=price, tax_code="VAT-STD")],
        )  # fmt: skip

    return {"small": invoice("100"), "large": invoice("1000")}


def entry_lines(entry_id: int | None) -> list[tuple[str, Decimal, Decimal]]:
    lines = JournalLine.objects.filter(entry_id=entry_id).order_by("line_no")
    return list(lines.values_list("account__code", "debit", "credit"))


def receipt_of(invoice: Invoice, amount: str, clerk: User) -> Any:
    return post_receipt(customer_id=invoice.customer_id, bank_account="MAIN", method="wire",
                        amount=eur(amount), actor=clerk, received_on=TODAY)  # fmt: skip


def paid(invoice: Invoice) -> tuple[str, Decimal]:
    invoice.refresh_from_db()
    return invoice.status, invoice.open_amount


def test_the_limit_is_the_lower_of_the_amount_and_the_percent_of_the_total(book: dict[str, Invoice]) -> None:
    tolerance = WriteOffTolerance.objects.get(currency="EUR")
    assert write_off_limit(tolerance, Decimal("119.00")) == Decimal("1.19")  # 1 % is less than 5.00
    assert write_off_limit(tolerance, Decimal("1190.00")) == Decimal("5.00")  # 1 % = 11.90: 5.00 is less
    assert write_off_limit(tolerance, Decimal("33.33")) == Decimal("0.33")  # rounded down, never up
    assert write_off_limit(None, Decimal("1190.00")) == Decimal(0)  # no tolerance: nothing by itself
    event = AuditEvent.objects.get(action="payments.tolerance_set")
    assert (event.actor_label, event.before, event.after) == (
        "supervisor", None, {"currency": "EUR", "max_amount": "5.00", "max_percent": "1.00"},
    )  # fmt: skip


def test_a_bank_line_short_within_the_tolerance_closes_the_invoice_and_posts_the_difference(
    book: dict[str, Invoice], clerk: User
) -> None:
    small, large = book["small"], book["large"]
    lines = [
        StatementLine(line=1, booked_on=TODAY, amount=Decimal("118.40"), currency="EUR", bank_reference="R1",
                      remittance=f"Invoice {small.number}"),  # 0.60 short: within 1.19
        StatementLine(line=2, booked_on=TODAY, amount=Decimal("1184.00"), currency="EUR",
                      bank_reference="R2", remittance=f"Invoice {large.number}"),  # 6.00 short: beyond 5.00
    ]  # fmt: skip
    statement = ParsedStatement("camt.053", "S-1", IBAN, "EUR", None, None, lines=lines)
    result = import_statements(data=b"may", file_name="may.xml", format="camt.053", statements=[statement],
                               actor=clerk)  # fmt: skip
    assert (result.posted, result.parked) == (1, 1)
    first, second = BankLine.objects.order_by("line")
    assert (first.evidence["score"], first.evidence["rule"]) == (
        90, "invoices named, short within the write-off tolerance: the rest written off",
    )  # fmt: skip
    assert first.evidence["invoices"] == [
        {"number": small.number, "amount": "118.400000", "discount": "0", "write_off": "0.600000"}
    ]
    assert paid(small) == ("paid", Decimal(0))
    application = Application.objects.get()
    assert (application.amount, application.written_off) == (Decimal("118.40"), Decimal("0.60"))
    assert entry_lines(application.journal_entry_id) == [
        ("2100", Decimal("118.40"), Decimal(0)),
        ("1200", Decimal(0), Decimal("118.40")),
        (PAYMENT_DIFFERENCES, Decimal("0.60"), Decimal(0)),
        ("1200", Decimal(0), Decimal("0.60")),
    ]
    event = AuditEvent.objects.get(action="receipt.applied")
    assert event.after["applied"] == [
        {"item": small.number, "amount": "118.40", "discount": "0.00", "written_off": "0.60"}
    ]
    # beyond the tolerance the line waits for a clerk, the short payment its suggestion
    assert (second.status, second.suggestions[0]["score"]) == ("parked", 70)
    assert paid(large) == ("issued", Decimal("1190.00"))
    all_ok()


def test_without_a_tolerance_nothing_is_written_off_by_itself(book: dict[str, Invoice], clerk: User) -> None:
    WriteOffTolerance.objects.all().delete()
    small = book["small"]
    line = StatementLine(line=1, booked_on=TODAY, amount=Decimal("118.99"), currency="EUR",
                         bank_reference="R1", remittance=f"Invoice {small.number}")  # fmt: skip
    statement = ParsedStatement("camt.053", "S-1", IBAN, "EUR", None, None, lines=[line])
    result = import_statements(data=b"may", file_name="may.xml", format="camt.053", statements=[statement],
                               actor=clerk)  # fmt: skip
    assert (result.posted, result.parked) == (0, 1)
    with pytest.raises(PermissionDenied, match="more than the write-off tolerance on") as refused:
        apply_receipt(receipt_id=receipt_of(small, "118.99", clerk).pk, actor=clerk,
                      allocations=[Allocation(small.number or "", write_off=Decimal("0.01"))])  # fmt: skip
    assert refused.value.field == "allocations[1]"


def test_a_clerk_writes_off_within_the_tolerance_and_only_a_supervisor_beyond_it(
    book: dict[str, Invoice], clerk: User, supervisor: User
) -> None:
    large = book["large"]
    receipt = receipt_of(large, "1180.00", clerk)  # 10.00 short: beyond 5.00
    asked = [Allocation(large.number or "", write_off=Decimal("10.00"))]
    with unchanged(), pytest.raises(PermissionDenied) as refused:
        apply_receipt(receipt_id=receipt.pk, actor=clerk, allocations=asked)
    assert refused.value.field == "allocations[1]"
    assert refused.value.message == (
        f"10.00 EUR is more than the write-off tolerance on {large.number} (5.00 EUR); "
        "a supervisor writes it off"
    )
    [application] = apply_receipt(receipt_id=receipt.pk, actor=supervisor, allocations=asked)
    assert (application.amount, application.written_off) == (Decimal("1180.00"), Decimal("10.00"))
    assert paid(large) == ("paid", Decimal(0))
    small = book["small"]
    [within] = apply_receipt(
        receipt_id=receipt_of(small, "118.00", clerk).pk, actor=clerk,
        allocations=[Allocation(small.number or "", write_off=Decimal("1.00"))],
    )  # fmt: skip
    assert (within.written_off, paid(small)) == (Decimal("1.00"), ("paid", Decimal(0)))
    all_ok()


@pytest.mark.parametrize(
    ("write_off", "message"),
    [
        (
            "0.50",
            "a write-off closes the invoice: {number} would have 1.00 EUR open after the payment, not 0.50",
        ),
        (
            "1.50",
            "a write-off closes the invoice: {number} would have 1.00 EUR open after the payment, not 1.50",
        ),
        ("-1.00", "the write-off on {number} must not be negative"),
        ("0.001", "{number}: write-off 0.001 has more decimal places than EUR allows (2)"),
    ],
)
def test_a_write_off_that_does_not_close_the_invoice_exactly_is_refused_and_changes_nothing(
    book: dict[str, Invoice], clerk: User, write_off: str, message: str
) -> None:
    small = book["small"]
    receipt = receipt_of(small, "118.00", clerk)
    with unchanged(), pytest.raises(InvalidAmount) as refused:
        apply_receipt(receipt_id=receipt.pk, actor=clerk,
                      allocations=[Allocation(small.number or "", write_off=Decimal(write_off))])  # fmt: skip
    assert refused.value.field == "allocations[1]"
    assert message.format(number=small.number) in refused.value.message


def test_unapplying_or_a_returned_payment_takes_the_write_off_back(
    book: dict[str, Invoice], clerk: User
) -> None:
    small, large = book["small"], book["large"]
    first = receipt_of(small, "118.40", clerk)
    written_off = [Allocation(small.number or "", write_off=Decimal("0.60"))]
    [application] = apply_receipt(receipt_id=first.pk, actor=clerk, allocations=written_off)
    back = unapply_application(application_id=application.pk, reason="wrong customer", actor=clerk)
    assert paid(small) == ("issued", Decimal("119.00"))
    assert entry_lines(back.unapply_entry_id) == [
        ("2100", Decimal(0), Decimal("118.40")),
        ("1200", Decimal("118.40"), Decimal(0)),
        (PAYMENT_DIFFERENCES, Decimal(0), Decimal("0.60")),
        ("1200", Decimal("0.60"), Decimal(0)),
    ]
    second = receipt_of(large, "1186.00", clerk)
    apply_receipt(receipt_id=second.pk, actor=clerk,
                  allocations=[Allocation(large.number or "", write_off=Decimal("4.00"))])  # fmt: skip
    returned = reverse_receipt(receipt_id=second.pk, return_code="AM04", actor=clerk)
    assert paid(large) == ("issued", Decimal("1190.00"))
    assert entry_lines(returned.reversal_entry_id) == [
        ("1200", Decimal("1190.00"), Decimal(0)),
        ("1100", Decimal(0), Decimal("1186.00")),
        (PAYMENT_DIFFERENCES, Decimal(0), Decimal("4.00")),
    ]
    differences = JournalLine.objects.filter(account__code=PAYMENT_DIFFERENCES)
    assert sum(line.debit - line.credit for line in differences) == 0
    all_ok()


def test_a_remittance_deduction_within_the_tolerance_is_written_off_and_one_beyond_it_stays_open(
    book: dict[str, Invoice], clerk: User
) -> None:
    small, large = book["small"], book["large"]
    receipt = receipt_of(small, "1298.80", clerk)
    advice = RemittanceAdvice(
        payer="C-1", payment_reference="PAY-1", currency="EUR", total=None, format="csv",
        lines=[
            RemittanceLine(1, small.number or "", Decimal("118.80"), Decimal("0.20"), "bank fee"),
            RemittanceLine(2, large.number or "", Decimal("1180.00"), Decimal("10.00"), "damaged goods"),
        ],
    )  # fmt: skip
    result = apply_remittance(receipt_id=receipt.pk, advice=advice, actor=clerk)
    assert [(row.invoice_number, row.written_off, row.left_open, row.status) for row in result.rows] == [
        (small.number, Decimal("0.20"), Decimal(0), "paid"),
        (large.number, Decimal(0), Decimal("10.00"), "partly_paid"),
    ]
    assert (result.written_off_total, result.deduction_total) == (Decimal("0.20"), Decimal("10.00"))
    event = AuditEvent.objects.get(action="receipt.remittance_applied")
    assert (event.after["deductions_written_off"], event.after["deductions_left_open"]) == ("0.20", "10.00")
    assert paid(large) == ("partly_paid", Decimal("10.00"))
    all_ok()


@pytest.mark.parametrize(
    ("currency", "amount", "percent", "error", "field"),
    [
        ("EUR", "-1", "1", InvalidAmount, "max_amount"),
        ("EUR", "5.001", "1", InvalidAmount, "max_amount"),
        ("EUR", "5", "101", InvalidAmount, "max_percent"),
        ("EUR", "5", "0.125", InvalidAmount, "max_percent"),
        ("EUR", "five", "1", InvalidAmount, "max_amount"),
        ("XXY", "5", "1", UnknownCurrency, "currency"),
    ],
)
def test_a_bad_tolerance_is_refused_naming_its_field(
    book: dict[str, Invoice],
    supervisor: User,
    currency: str,
    amount: str,
    percent: str,
    error: type[DomainError],
    field: str,
) -> None:
    with unchanged(), pytest.raises(error) as refused:
        set_write_off_tolerance(currency=currency, max_amount=amount, max_percent=percent, actor=supervisor)
    assert refused.value.field == field
    assert WriteOffTolerance.objects.get().max_amount == Decimal("5.00")


def test_only_a_supervisor_sets_the_tolerance_and_the_cli_shows_it(
    book: dict[str, Invoice], clerk: User, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(PermissionDenied):
        set_write_off_tolerance(currency="EUR", max_amount="50", max_percent="10", actor=clerk)
    assert main(["write-off-tolerance", "CHF", "--max-amount", "2", "--max-percent", "0.5",
                 "--user", "supervisor"]) == 0  # fmt: skip
    shown = capsys.readouterr().out.splitlines()
    assert shown[0].startswith("CHF: up to 2.00 and 0.50 % of the invoice's total (set by supervisor ")
    assert shown[1].startswith("EUR: up to 5.00 and 1.00 % of the invoice's total (set by supervisor ")
    assert main(["write-off-tolerance", "EUR", "--max-amount", "50", "--max-percent", "10",
                 "--user", "clerk"]) == 1  # fmt: skip
    assert WriteOffTolerance.objects.get(currency="EUR").max_amount == Decimal("5.00")


def test_the_api_sets_the_tolerance_and_applies_with_a_write_off(
    book: dict[str, Invoice], api_as: Any, clerk: User, supervisor: User
) -> None:
    set_it = api_as(supervisor).client.put(
        "/api/v1/payments/write-off-tolerances/gbp", json.dumps({"max_amount": "3.00", "max_percent": "2"}),
        content_type="application/json",
    )  # fmt: skip
    assert set_it.status_code == 200, set_it.json()
    assert {key: set_it.json()[key] for key in ("currency", "max_amount", "max_percent", "updated_by")} == {
        "currency": "GBP", "max_amount": "3.00", "max_percent": "2.00", "updated_by": "supervisor",
    }  # fmt: skip
    refused = api_as(clerk).client.put(
        "/api/v1/payments/write-off-tolerances/EUR", json.dumps({"max_amount": "99", "max_percent": "50"}),
        content_type="application/json",
    )  # fmt: skip
    assert refused.status_code == 403
    listed = api_as(clerk).get("/payments/write-off-tolerances")
    assert [(t["currency"], t["max_amount"]) for t in listed.json()] == [("EUR", "5.00"), ("GBP", "3.00")]
    small = book["small"]
    receipt = receipt_of(small, "118.50", clerk)
    applied = api_as(clerk).post(
        f"/payments/receipts/{receipt.pk}/apply",
        {"allocations": [{"invoice_number": small.number, "write_off": "0.50"}]},
    )
    assert applied.status_code == 200, applied.json()
    [application] = applied.json()["applications"]
    assert (application["amount"], application["discount"], application["written_off"]) == (
        "118.50", "0.00", "0.50",
    )  # fmt: skip
    assert paid(small) == ("paid", Decimal(0))
    all_ok()


def test_the_pages_write_off_on_the_receipt_and_in_the_matching_queue(
    book: dict[str, Invoice], clerk: User
) -> None:
    small, large = book["small"], book["large"]
    client = Client()
    client.force_login(clerk)
    receipt = receipt_of(small, "118.70", clerk)
    form = {"how": "chosen", "invoice_1": small.number, "write_off_1": "0.30"}
    response = client.post(reverse("payments:apply", args=[receipt.pk]), form)
    assert response.status_code == 302
    page = html.unescape(client.get(reverse("payments:receipt", args=[receipt.pk])).content.decode())
    assert "written off 0.30" in " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert paid(small) == ("paid", Decimal(0))
    # a line 2.00 short of the large invoice (within 5.00) that names no invoice waits in the queue: the
    # clerk names the invoice and writes the rest off
    line = StatementLine(line=1, booked_on=TODAY, amount=Decimal("1188.00"), currency="EUR",
                         bank_reference="R9", remittance="our payment")  # fmt: skip
    statement = ParsedStatement("camt.053", "S-9", IBAN, "EUR", None, None, lines=[line])
    import_statements(data=b"june", file_name="june.xml", format="camt.053", statements=[statement],
                      actor=clerk)  # fmt: skip
    parked = BankLine.objects.get(bank_reference="R9")
    assert parked.status == "parked"
    url = reverse("payments:resolve_line", args=[parked.pk])
    response = client.post(url, {"customer": "C-1", "invoices": large.number, "write_off": "2.00"})
    assert response.status_code == 302
    parked.refresh_from_db()
    assert parked.evidence["invoices"] == [{"number": large.number, "amount": None, "write_off": "2.00"}]
    assert paid(large) == ("paid", Decimal(0))
    assert Application.objects.get(invoice=large).written_off == Decimal("2.00")
    all_ok()
