"""Importing a bank file: each line posted (matched with its evidence), parked in the matching queue with
suggestions, or rejected with its reason; a file imported once; a clerk resolves the queue in one action
and the payer's account is remembered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.audit.models import AuditEvent
from billops.cli.invariants import check_all
from billops.core.errors import Conflict, CurrencyMismatch, InvalidInput, PermissionDenied
from billops.invoicing.models import Invoice
from billops.invoicing.rendering.reference import creditor_reference
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.ledger.services import close_period
from billops.payments.models import Application, BankLine, PayerAccount, Receipt, StatementFile
from billops.payments.services.applications import Allocation
from billops.payments.services.bank_files import import_statements
from billops.payments.services.queue import dismiss_line, resolve_line
from billops.payments.services.receipts import create_bank_account
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.invoicing.factories import make_customer
from tests.payments.books import all_ok, unchanged

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
BOOKED = date(2026, 5, 12)


def invoice(customer: Any, clerk: User, price: str) -> Invoice:
    return invoice_now(
        customer_id=customer.pk, actor=clerk, issued_on=date(2026, 5, 2),
        lines=[LineData(quantity="1", description="Service", unit_price=price, tax_code="VAT-STD")],
    )  # fmt: skip


@pytest.fixture
def book(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> dict[str, Any]:
    """Customers A, B, C, D each with invoices (VAT 19 %: 100 → 119.00, 200 → 238.00, 300 → 357.00)."""
    set_business_date(on=date(2026, 5, 20), actor=make_user(Role.ADMIN))
    create_bank_account(code="MAIN", name="Main EUR", currency="EUR", number=IBAN, actor=supervisor)
    customers = {name: make_customer(clerk, account_number=f"{name}-1") for name in "ABCD"}
    invoices = {
        "A1": invoice(customers["A"], clerk, "100"),
        "B1": invoice(customers["B"], clerk, "200"),
        "C1": invoice(customers["C"], clerk, "100"),
        "C2": invoice(customers["C"], clerk, "200"),
        "C3": invoice(customers["C"], clerk, "300"),
        "D1": invoice(customers["D"], clerk, "300"),
    }
    PayerAccount.objects.create(number="GB33BUKB20201555555555", customer=customers["B"], confirmed_by=clerk)
    return {"customers": customers, "invoices": invoices}


def line(number: int, amount: str, **fields: Any) -> StatementLine:
    values = {"booked_on": BOOKED, "currency": "EUR", "bank_reference": f"REF-{number}"} | fields
    return StatementLine(line=number, amount=Decimal(amount), **values)


def statement(*lines: StatementLine, account: str = IBAN, currency: str = "EUR") -> ParsedStatement:
    return ParsedStatement("camt.053", "STMT-1", account, currency, None, None, lines=list(lines))


def run(data: bytes, lines: list[StatementLine], actor: User, name: str = "may.xml") -> Any:
    return import_statements(
        data=data, file_name=name, format="camt.053", statements=[statement(*lines)], actor=actor
    )


@pytest.mark.parametrize("chunk_lines", [1000, 2])  # the whole file at once, or posted two lines at a time
def test_each_line_is_posted_with_its_evidence_parked_with_suggestions_or_rejected(
    book: dict[str, Any], clerk: User, settings: Any, chunk_lines: int
) -> None:
    settings.BANK_IMPORT_CHUNK_LINES = chunk_lines
    inv, customers = book["invoices"], book["customers"]
    lines = [
        line(1, "119.00", remittance=f"Payment {inv['A1'].number} thank you"),  # named, exact: 100
        line(2, "238.00", payer_account="GB33BUKB20201555555555"),  # known account, one invoice: 95
        line(3, "595.00", remittance=f"ref {creditor_reference('C-1')}"),  # C's RF, C2 + C3: 90
        line(4, "357.00", payer_name=customers["D"].legal_name.upper()),  # by name, one invoice: 80
        line(5, "100.00", remittance=f"INV {inv['C1'].number}"),  # named, short: 70
        line(6, "42.00", remittance="donation"),  # nothing known
        line(7, "50.00", is_pending=True),
        line(8, "-12.50", remittance="bank charges"),
    ]
    result = run(b"file-1", lines, clerk)
    assert (result.already_imported, result.posted, result.parked, result.rejected) == (False, 3, 4, 1)
    rows = {row.line: row for row in BankLine.objects.all()}
    assert [(n, rows[n].status, rows[n].evidence.get("score")) for n in (1, 2, 3)] == [
        (1, "posted", 100), (2, "posted", 95), (3, "posted", 90),
    ]  # fmt: skip
    assert rows[1].evidence["rule"] == "invoices named, amount equal to what they have open"
    assert rows[1].evidence["fields"] == {"remittance": inv["A1"].number}
    assert rows[3].evidence["invoices"] == [
        {"number": inv["C2"].number, "amount": "238.000000", "discount": "0"},
        {"number": inv["C3"].number, "amount": "357.000000", "discount": "0"},
    ]
    paid = dict(Invoice.objects.values_list("pk", "status"))
    assert [paid[inv[key].pk] for key in ("A1", "B1", "C1", "C2", "C3", "D1")] == [
        "paid", "paid", "issued", "paid", "paid", "issued",
    ]  # fmt: skip
    assert rows[4].status == "parked" and rows[4].suggestions[0]["score"] == 80
    assert (
        rows[4].suggestions[0]["customer"] == "D-1" and rows[4].reason == "not sure enough to apply by itself"
    )
    assert rows[5].suggestions[0]["rule"] == "invoices named, amount below what they have open"
    assert (rows[6].reason, rows[6].suggestions) == ("no customer found", [])
    assert (rows[7].status, rows[7].reason) == (
        "rejected",
        "not booked at the bank (pending, for information or future): posted once a statement books it",
    )
    assert rows[8].status == "parked" and rows[8].reason.startswith("money out")
    file = StatementFile.objects.get()
    assert (file.lines_read, file.total_in, file.total_out) == (8, Decimal("1501.00"), Decimal("12.50"))
    receipts = Receipt.objects.order_by("pk")
    assert [(r.customer.account_number, r.amount, r.unapplied_amount) for r in receipts] == [
        ("A-1", Decimal("119.00"), 0), ("B-1", Decimal("238.00"), 0), ("C-1", Decimal("595.00"), 0),
    ]  # fmt: skip
    assert [row.receipt_id for row in (rows[1], rows[2], rows[3])] == [r.pk for r in receipts]
    applications = Application.objects.order_by("pk")
    assert [(a.receipt.customer.account_number, a.invoice.number, a.amount) for a in applications] == [
        ("A-1", inv["A1"].number, Decimal("119.00")), ("B-1", inv["B1"].number, Decimal("238.00")),
        ("C-1", inv["C2"].number, Decimal("238.00")), ("C-1", inv["C3"].number, Decimal("357.00")),
    ]  # fmt: skip
    # each receipt's two entries (received, applied) paired with their events
    for action in ("receipt.posted", "receipt.applied"):
        events = AuditEvent.objects.filter(action=action).order_by("seq")
        assert [event.target_id for event in events] == [str(r.pk) for r in receipts]
    posted_entries = AuditEvent.objects.filter(action="receipt.posted").values_list("journal_entry_id")
    assert {entry for (entry,) in posted_entries} == {r.journal_entry_id for r in receipts}
    event = AuditEvent.objects.get(action="bank_file.imported")
    assert (event.after["posted"], event.after["parked"], event.after["rejected"]) == (3, 4, 1)
    report = check_all()
    assert report["invariants"]["I3"]["ok"] and report["invariants"]["I3"]["posted"] == 3
    all_ok()


def test_the_same_file_again_renamed_or_not_is_not_read_twice(book: dict[str, Any], clerk: User) -> None:
    inv = book["invoices"]
    lines = [line(1, "119.00", remittance=inv["A1"].number)]
    run(b"the-bytes", lines, clerk)
    again = run(b"the-bytes", lines, clerk, name="renamed.xml")
    assert (again.already_imported, again.posted, again.file.file_name) == (True, 1, "may.xml")
    assert (StatementFile.objects.count(), BankLine.objects.count(), Receipt.objects.count()) == (1, 1, 1)


def test_a_line_imported_before_is_rejected_and_a_pending_one_is_read_once_booked(
    book: dict[str, Any], clerk: User
) -> None:
    inv = book["invoices"]
    run(b"first", [line(1, "119.00", remittance=inv["A1"].number), line(2, "238.00", is_pending=True)], clerk)
    booked = line(2, "238.00", payer_account="GB33BUKB20201555555555")
    second = run(b"second", [line(1, "119.00", remittance=inv["A1"].number), booked], clerk, name="may-2.xml")
    assert (second.posted, second.rejected) == (1, 1)
    duplicate = BankLine.objects.get(file=second.file, line=1)
    assert (duplicate.status, duplicate.reason) == ("rejected", "imported before: may.xml line 1")
    assert BankLine.objects.get(file=second.file, line=2).status == "posted"
    assert Receipt.objects.count() == 2
    all_ok()


def test_a_clerk_resolves_a_parked_line_and_the_payers_account_is_matched_next_time(
    book: dict[str, Any], clerk: User
) -> None:
    customers, inv = book["customers"], book["invoices"]
    run(b"one", [line(1, "357.00", payer_name="Someone Else", payer_account="NL91ABNA0417164300")], clerk)
    parked = BankLine.objects.get()
    assert parked.status == "parked"
    resolved = resolve_line(
        line_id=parked.pk,
        customer_id=customers["D"].pk,
        actor=clerk,
        allocations=[Allocation(inv["D1"].number)],
    )
    assert (resolved.status, resolved.receipt.customer, resolved.resolved_by) == (
        "posted",
        customers["D"],
        clerk,
    )
    assert Invoice.objects.get(pk=inv["D1"].pk).status == "paid"
    assert PayerAccount.objects.get(number="NL91ABNA0417164300").customer == customers["D"]
    with pytest.raises(Conflict, match="not in the queue"):
        resolve_line(line_id=parked.pk, customer_id=customers["D"].pk, actor=clerk)
    # the next payment from that account is the customer's, by the account alone: oldest first, 50
    run(b"two", [line(2, "10.00", payer_account="NL91ABNA0417164300")], clerk, name="next.xml")
    nxt = BankLine.objects.get(line=2)
    assert nxt.suggestions[0]["customer"] == "D-1" and nxt.suggestions[0]["rule"].startswith(
        "customer by payer account"
    )
    all_ok()


def test_money_out_is_dismissed_with_a_reason_and_posts_nothing(book: dict[str, Any], clerk: User) -> None:
    run(b"fees", [line(1, "-12.50", remittance="bank charges")], clerk)
    row = BankLine.objects.get()
    with pytest.raises(InvalidInput, match="money out is not a customer's payment"):
        resolve_line(line_id=row.pk, customer_id=book["customers"]["A"].pk, actor=clerk)
    dismissed = dismiss_line(line_id=row.pk, reason="monthly bank fee", actor=clerk)
    assert (dismissed.status, dismissed.reason) == ("rejected", "dismissed: monthly bank fee")
    assert not Receipt.objects.exists()
    all_ok()


def test_a_file_for_another_account_or_currency_or_by_the_wrong_role_writes_nothing(
    book: dict[str, Any], clerk: User, collector: User
) -> None:
    one = [line(1, "10.00")]
    with pytest.raises(
        InvalidInput, match="is for account FR7630006000011234567890189, which is not one of our bank"
    ):
        import_statements(data=b"x", file_name="x", format="camt.053", actor=clerk,
                          statements=[statement(*one, account="FR7630006000011234567890189")])  # fmt: skip
    dollars = statement(line(1, "10.00", currency="USD"), currency="USD")
    with pytest.raises(CurrencyMismatch, match="bank account MAIN holds EUR"):
        import_statements(data=b"y", file_name="y", format="camt.053", actor=clerk, statements=[dollars])
    with pytest.raises(PermissionDenied):
        run(b"z", one, collector)
    assert not StatementFile.objects.exists() and not BankLine.objects.exists()


def test_a_line_resolved_after_its_month_closed_is_received_then_and_posted_now(
    book: dict[str, Any], clerk: User, supervisor: User, make_user: Callable[..., User]
) -> None:
    customers, inv = book["customers"], book["invoices"]
    run(b"april", [line(1, "357.00", payer_name="Nobody Known", booked_on=date(2026, 4, 28))], clerk)
    close_period(start_on=date(2026, 3, 1), actor=supervisor)
    close_period(start_on=date(2026, 4, 1), actor=supervisor)
    parked = BankLine.objects.get()
    resolved = resolve_line(
        line_id=parked.pk,
        customer_id=customers["D"].pk,
        actor=clerk,
        allocations=[Allocation(inv["D1"].number)],
    )
    receipt = resolved.receipt
    assert receipt.received_on == date(2026, 4, 28)  # the customer paid then
    assert receipt.journal_entry.posted_on == date(2026, 5, 20)  # April is closed: it posts today
    assert Application.objects.get(receipt=receipt).applied_on == date(2026, 5, 20)
    all_ok()


def test_an_invoice_paid_twice_in_one_file_is_matched_once_and_the_second_payment_waits(
    book: dict[str, Any], clerk: User
) -> None:
    inv = book["invoices"]
    twice = [line(1, "119.00", remittance=inv["A1"].number), line(2, "119.00", remittance=inv["A1"].number)]
    result = run(b"twice", twice, clerk)
    assert (result.posted, result.parked) == (1, 1)
    second = BankLine.objects.get(line=2)
    assert (second.status, second.reason) == ("parked", "no customer found")
    all_ok()


def test_a_payer_name_like_one_customers_name_is_suggested_and_never_applied_by_itself(
    book: dict[str, Any], clerk: User
) -> None:
    müller = make_customer(clerk, account_number="M-1", legal_name="Müller Handels GmbH")
    make_customer(clerk, account_number="S-1", legal_name="Schmidt Bau AG")
    make_customer(clerk, account_number="S-2", legal_name="Schmitt Bau AG")  # two alike: tells nothing
    paid = invoice(müller, clerk, "100")  # 119.00
    lines = [
        line(1, "119.00", payer_name="MUELLER HANDELS"),  # the umlaut spelt out, legal form left out
        line(2, "119.00", payer_name="Muller Handels GmbH"),  # the umlaut dropped
        line(3, "50.00", payer_name="Schmit Bau"),  # like both Schmidt and Schmitt
        line(4, "50.00", payer_name="Handels Meier"),  # shares a word only
    ]
    result = run(b"file-names", lines, clerk)
    assert (result.posted, result.parked) == (0, 4)
    rows = {row.line: row for row in BankLine.objects.all()}
    for number in (1, 2):
        best = rows[number].suggestions[0]
        assert (best["customer"], best["score"], best["rule"]) == (
            "M-1", 65, "customer by similar payer name, amount equal to one open invoice",
        )  # fmt: skip
        assert best["invoices"][0]["number"] == paid.number
    assert rows[1].suggestions[0]["fields"] == {"similar payer name": "MUELLER HANDELS ~ Müller Handels GmbH"}
    assert (rows[3].suggestions, rows[4].suggestions) == ([], [])
    assert rows[3].reason == "no customer found"


def test_a_matched_line_that_cannot_be_posted_refuses_the_file_naming_the_line(
    book: dict[str, Any], clerk: User
) -> None:
    inv = book["invoices"]
    lines = [
        line(1, "119.00", remittance=f"Invoice {inv['A1'].number}"),
        line(2, "238.00", booked_on=date(2026, 5, 21), remittance=f"Invoice {inv['B1'].number}"),  # tomorrow
    ]
    with unchanged(), pytest.raises(InvalidInput) as refused:
        run(b"file-future", lines, clerk)
    assert (refused.value.field, refused.value.message) == (
        "file", "line 2: a receipt cannot be dated after today (2026-05-20)",
    )  # fmt: skip
