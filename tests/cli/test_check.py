"""`billops check` over a real database: a book built through the services passes every invariant, and
each kind of tampering behind the services' back is named by the invariant it breaks."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.cli.invariants import check_all
from billops.cli.main import main
from billops.core.money import Money
from billops.customers import services as customer_services
from billops.customers.models import Customer, OpeningBalance
from billops.ledger.accounts import BANK, REVENUE
from billops.ledger.models import JournalEntry, JournalLine
from billops.ledger.posting import credit, debit
from billops.ledger.services import close_period, post_manual_entry, reverse_entry
from tests.conftest import tamper
from tests.customers.factories import create_customer

pytestmark = pytest.mark.django_db

CUT_OVER = date(2025, 12, 31)


def money(text: str, currency: str) -> Money:
    return Money(Decimal(text), currency)


@dataclass
class Book:
    acme: Customer
    bolt: Customer
    crown: Customer
    acme_opening: OpeningBalance
    bolt_credit: OpeningBalance
    crown_opening: OpeningBalance
    manual: JournalEntry
    reversal: JournalEntry


@pytest.fixture
def book(clerk: User, supervisor: User) -> Book:
    """Three customers (two in EUR, one in GBP), three opening balances (one a credit), a manual entry and
    its reversal, and December 2025 closed."""
    acme = create_customer(clerk, account_number="ACME", currency="EUR")
    bolt = create_customer(clerk, account_number="BOLT", currency="EUR")
    crown = create_customer(clerk, account_number="CROWN", currency="GBP", country="GB")

    def opening(customer: Customer, amount: Money, reference: str) -> OpeningBalance:
        return customer_services.post_opening_balance(
            customer_id=customer.pk, amount=amount, balance_on=CUT_OVER, reference=reference, actor=supervisor
        )

    acme_opening = opening(acme, money("1000.00", "EUR"), "LEGACY-1")
    bolt_credit = opening(bolt, money("-250.50", "EUR"), "LEGACY-2")
    crown_opening = opening(crown, money("99.99", "GBP"), "LEGACY-3")
    close_period(start_on=date(2025, 12, 1), actor=supervisor)
    manual = post_manual_entry(
        on=date(2026, 1, 5),
        lines=[debit(BANK, money("300.00", "EUR")), credit(REVENUE, money("300.00", "EUR"))],
        memo="cash sale booked by hand",
        actor=supervisor,
    )
    reversal = reverse_entry(entry_id=manual.pk, on=date(2026, 1, 6), reason="booked twice", actor=supervisor)
    return Book(acme, bolt, crown, acme_opening, bolt_credit, crown_opening, manual, reversal)


def failing(report: dict[str, Any]) -> dict[str, list[str]]:
    """The problems of each failing invariant."""
    return {name: result["problems"] for name, result in report["invariants"].items() if not result["ok"]}


def line_of(entry_id: int | None, account_code: str) -> JournalLine:
    return JournalLine.objects.get(entry_id=entry_id, account__code=account_code)


def event_of(entry_id: int | None) -> AuditEvent:
    return AuditEvent.objects.get(journal_entry_id=entry_id)


def check_json(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["check", "--json"])
    return code, json.loads(capsys.readouterr().out)


def check_fails(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """Run `billops check --json` on a tampered book: it must exit 3; the report it printed."""
    code, report = check_json(capsys)
    assert code == 3
    return report


def digest_broken(entry_id: int | None) -> str:
    return f"journal entry {entry_id} was changed after posting (its digest no longer matches)"


# --- a sound book --------------------------------------------------------------------------------------


def test_a_book_built_through_the_services_passes_every_invariant(book: Book) -> None:
    report = check_all()

    assert failing(report) == {}
    assert report["counts"] == {
        "customers": 3,
        "opening_balances": 3,
        "invoices_issued": 0,
        "credit_notes": 0,
        "debit_notes": 0,
        "documents_void": 0,
        "users": 2,
        "api_tokens": 0,
        "accounts": 11,
        "periods_open": 1,
        "periods_closed": 1,
        "journal_entries": 5,
        "journal_lines": 10,
        # 2 users, 3 customers, 3 opening balances, 1 close, 1 manual entry, 1 reversal
        "audit_events": 11,
        "receipts": 0,
        "receipts_reversed": 0,
        "applications": 0,
        "applications_written_off": 0,
        "refunds": 0,
        "bank_files": 0,
        "bank_lines_posted": 0,
        "bank_lines_parked": 0,
        "bank_lines_rejected": 0,
        "bill_runs": 0,
        "run_drafts_to_review": 0,
        "billed_subscription_periods": 0,
        "billed_usage": 0,
        "billed_deliveries": 0,
        "billed_charges": 0,
        "billed_time_entries": 0,
        "billed_expenses": 0,
        # collections, disputes and approvals: none in this book
        **dict.fromkeys(
            [
                "collectors_assigned",
                "activities",
                "promises_open",
                "promises_kept",
                "promises_broken",
                "promises_cancelled",
                "dunning_runs",
                "dunning_notices",
                "dunning_fee_notes",
                "payment_plans_active",
                "payment_plans_completed",
                "payment_plans_defaulted",
                "payment_plans_cancelled",
                "write_offs",
                "write_off_recoveries",
                "disputes_open",
                "disputes_investigating",
                "disputes_resolved_credit",
                "disputes_resolved_rebill",
                "disputes_rejected",
                "disputes_withdrawn",
                "approvals_pending",
                "approvals_approved",
                "approvals_rejected",
                "approvals_cancelled",
            ],
            0,
        ),
    }
    invariants = report["invariants"]
    assert invariants["I1"]["per_currency"] == {
        "EUR": {"debit": "1850.50", "credit": "1850.50"},
        "GBP": {"debit": "99.99", "credit": "99.99"},
    }
    assert (invariants["I2"]["receivables"], invariants["I2"]["open_items"]) == (
        {"EUR": "749.50", "GBP": "99.99"},
        {"EUR": "749.50", "GBP": "99.99"},
    )
    assert (invariants["I4"]["audit_events"], invariants["I4"]["last_seq"]) == (11, 11)
    assert invariants["I4"]["last_hash"] == AuditEvent.objects.get(seq=11).hash
    assert (invariants["I5"]["journal_entries"], invariants["I5"]["money_events"]) == (5, 5)
    for result in invariants.values():
        assert (result["problems"], result["problem_count"]) == ([], 0)


def test_an_empty_database_passes_every_invariant(db: None) -> None:
    report = check_all()
    assert failing(report) == {}
    assert report["counts"]["journal_entries"] == report["counts"]["audit_events"] == 0


def test_check_json_prints_the_report_and_exits_0(book: Book, capsys: pytest.CaptureFixture[str]) -> None:
    code, printed = check_json(capsys)

    assert code == 0
    assert sorted(printed) == ["counts", "invariants"]
    assert sorted(printed["invariants"]) == ["I1", "I2", "I3", "I4", "I5"]
    assert all(result["ok"] for result in printed["invariants"].values())
    assert printed["counts"]["journal_entries"] == 5
    assert printed == json.loads(json.dumps(check_all()))


@pytest.fixture
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich fits the table to the terminal; one row per line here


def test_check_prints_a_table_and_exits_0(
    book: Book, wide_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check"])

    out = capsys.readouterr().out
    assert code == 0
    assert "billops check" in out
    for name in ("I1", "I2", "I3", "I4", "I5"):
        assert re.search(rf"│ {name}\s+│ ok\s+│", out), out
    assert "FAILED" not in out
    assert "journal_entries: 5, journal_lines: 10," in " ".join(out.split())  # however rich wraps it


def test_check_prints_the_failed_invariant_and_exits_3(
    book: Book, wide_terminal: None, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(
        "UPDATE customers_openingbalance SET open_amount = %s WHERE id = %s",
        [Decimal("1.00"), book.acme_opening.pk],
    )

    code = main(["check"])

    out = capsys.readouterr().out
    assert code == 3
    assert re.search(
        r"│ I2\s+│ FAILED \(3\)\s+│ EUR: open items -249.50 ≠ receivables account 1200 749.50", out
    ), out
    assert "opening balance LEGACY-1: 1000.00 in its history ≠ 1.00 open" in " ".join(out.split())
    assert re.search(r"│ I1\s+│ ok\s+│", out), out


# --- tampering, one fault per test ---------------------------------------------------------------------


def test_every_changed_entry_is_named_not_only_the_first(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    # memos are covered by the digest but not by the balances: only I4 can see these changes
    first, second = book.acme_opening.journal_entry_id, book.manual.pk
    tamper("UPDATE ledger_journalline SET memo = 'edited' WHERE entry_id IN (%s, %s)", [first, second])

    report = check_fails(capsys)

    assert failing(report) == {"I4": [digest_broken(first), digest_broken(second)]}
    assert report["invariants"]["I4"]["problem_count"] == 2


def test_a_changed_debit_unbalances_the_entry_and_breaks_its_digest(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    entry_id = book.acme_opening.journal_entry_id
    tamper(
        "UPDATE ledger_journalline SET debit = %s WHERE id = %s",
        [Decimal("1100.00"), line_of(entry_id, "1200").pk],
    )

    report = check_fails(capsys)

    problems = failing(report)
    assert sorted(problems) == ["I1", "I2", "I4"]
    assert problems["I1"] == [
        "EUR: posted debits 1950.50 EUR ≠ credits 1850.50 EUR",
        f"journal entry {entry_id} does not balance: 100.00 EUR",
        "account 1200 EUR on 2025-12-31: running balance 1000.00 EUR debit / 250.50 EUR credit, "
        "journal lines 1100.00 EUR / 250.50 EUR",
    ]
    assert problems["I4"] == [digest_broken(entry_id)]
    assert report["invariants"]["I1"]["problem_count"] == 3


def test_a_deleted_line_unbalances_the_entry_and_breaks_its_digest(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    entry_id = book.acme_opening.journal_entry_id
    tamper("DELETE FROM ledger_journalline WHERE id = %s", [line_of(entry_id, "3900").pk])

    report = check_fails(capsys)

    assert failing(report) == {
        "I1": [
            "EUR: posted debits 1850.50 EUR ≠ credits 850.50 EUR",
            f"journal entry {entry_id} does not balance: 1000.00 EUR",
            "account 3900 EUR on 2025-12-31: running balance 250.50 EUR debit / 1000.00 EUR credit, "
            "journal lines 250.50 EUR / 0.00 EUR",
        ],
        "I4": [digest_broken(entry_id)],
    }


def test_a_changed_open_amount_no_longer_matches_the_control_account(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(
        "UPDATE customers_openingbalance SET open_amount = %s WHERE id = %s",
        [Decimal("900.00"), book.acme_opening.pk],
    )

    report = check_fails(capsys)

    assert failing(report) == {
        "I2": [
            "EUR: open items 649.50 ≠ receivables account 1200 749.50",
            f"customer {book.acme.pk} EUR: open items 900.00 ≠ receivables lines 1000.00",
            "opening balance LEGACY-1: 1000.00 in its history ≠ 900.00 open",
        ]
    }
    assert report["invariants"]["I2"]["open_items"] == {"EUR": "649.50", "GBP": "99.99"}


def test_a_receivables_line_without_a_customer_is_named(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    entry_id = book.crown_opening.journal_entry_id
    tamper("UPDATE ledger_journalline SET customer_id = NULL WHERE id = %s", [line_of(entry_id, "1200").pk])

    report = check_fails(capsys)

    assert failing(report) == {
        "I2": [
            f"customer {book.crown.pk} GBP: open items 99.99 ≠ receivables lines 0.00",
            f"journal entry {entry_id} line 1 posts to receivables 1200 without a customer",
        ],
        "I4": [digest_broken(entry_id)],
    }


def test_a_receivables_line_inserted_without_a_customer_is_named(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    entry_id = book.manual.pk
    receivables = line_of(book.acme_opening.journal_entry_id, "1200").account_id
    tamper(
        "INSERT INTO ledger_journalline"
        " (entry_id, line_no, account_id, currency, debit, credit, customer_id, memo)"
        " VALUES (%s, 3, %s, 'EUR', 5, 0, NULL, '')",
        [entry_id, receivables],
    )

    report = check_fails(capsys)

    problems = failing(report)
    assert sorted(problems) == ["I1", "I2", "I4"]
    assert f"journal entry {entry_id} line 3 posts to receivables 1200 without a customer" in problems["I2"]
    assert f"journal entry {entry_id} does not balance: 5.00 EUR" in problems["I1"]


def test_an_edited_audit_event_breaks_the_chain_at_its_seq(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    event = event_of(book.bolt_credit.journal_entry_id)
    tamper(
        "UPDATE audit_auditevent SET after = %s WHERE seq = %s",
        [json.dumps({**event.after, "amount": "-25.05"}), event.seq],
    )

    report = check_fails(capsys)

    assert failing(report) == {"I4": [f"audit chain: event #{event.seq} was changed"]}


def test_a_deleted_audit_event_breaks_the_chain(book: Book, capsys: pytest.CaptureFixture[str]) -> None:
    created = AuditEvent.objects.get(action="customers.created", target_id=str(book.bolt.pk))
    tamper("DELETE FROM audit_auditevent WHERE seq = %s", [created.seq])

    report = check_fails(capsys)

    assert failing(report) == {"I4": [f"audit chain: event #{created.seq} is missing (deleted)"]}
    assert report["counts"]["audit_events"] == 10


def test_an_entry_whose_audit_event_lost_it_is_named(book: Book, capsys: pytest.CaptureFixture[str]) -> None:
    entry_id = book.crown_opening.journal_entry_id
    event = event_of(entry_id)
    tamper("UPDATE audit_auditevent SET journal_entry_id = NULL WHERE seq = %s", [event.seq])

    report = check_fails(capsys)

    problems = failing(report)
    assert sorted(problems) == ["I4", "I5"]
    assert problems["I5"] == [
        f"journal entry {entry_id} has no audit event",
        f"audit event #{event.seq} (customers.opening_balance_posted) moved money without a journal entry",
    ]
    assert problems["I4"] == [f"audit chain: event #{event.seq} was changed"]


def test_a_changed_running_balance_is_named(book: Book, capsys: pytest.CaptureFixture[str]) -> None:
    tamper(
        "UPDATE ledger_accountdaybalance SET debit_total = debit_total + 1"
        " WHERE posted_on = %s AND currency = 'GBP' AND debit_total > 0",
        [CUT_OVER],
    )

    report = check_fails(capsys)

    problems = failing(report)
    assert sorted(problems) == ["I1", "I2"]
    assert problems["I1"] == [
        "the trial balance from running balances does not net to zero",
        "account 1200 GBP on 2025-12-31: running balance 100.99 GBP debit / 0.00 GBP credit, "
        "journal lines 99.99 GBP / 0.00 GBP",
    ]
    # the control account is read from the running balances, the subledger from the open items
    assert problems["I2"] == ["GBP: open items 99.99 ≠ receivables account 1200 100.99"]


def test_an_audit_event_naming_a_missing_entry_is_named(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    created = AuditEvent.objects.get(action="customers.created", target_id=str(book.bolt.pk))
    tamper("UPDATE audit_auditevent SET journal_entry_id = %s WHERE seq = %s", [987_654, created.seq])

    report = check_fails(capsys)

    assert failing(report)["I5"] == [
        f"audit event #{created.seq} names journal entry 987654, which does not exist"
    ]


def test_an_opening_balance_without_its_journal_entry_is_named(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper("UPDATE customers_openingbalance SET journal_entry_id = NULL WHERE id = %s", [book.bolt_credit.pk])

    report = check_fails(capsys)

    assert failing(report) == {"I5": ["opening balance 'LEGACY-2' of BOLT has no journal entry"]}


def test_an_opening_balance_pointing_at_another_entry_is_named(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper(
        "UPDATE customers_openingbalance SET journal_entry_id = %s WHERE id = %s",
        [book.manual.pk, book.bolt_credit.pk],
    )

    report = check_fails(capsys)

    assert failing(report) == {
        "I5": [
            f"opening balance 'LEGACY-2' of BOLT names journal entry {book.manual.pk}, "
            "which posted something else"
        ]
    }
