"""Reading the book: trial balance and balances as of any date, the journal, and the integrity checks."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billops.core.errors import NotFound
from billops.ledger.accounts import (
    BANK,
    OPENING_BALANCE_EQUITY,
    RECEIVABLES,
    REVENUE,
    TAX_PAYABLE,
    UNAPPLIED_CASH,
)
from billops.ledger.models import AccountDayBalance, JournalLine
from billops.ledger.posting import credit, debit
from billops.ledger.selectors import (
    account_balance,
    account_balances,
    balances_by_currency,
    current_open_period,
    entry_audit_event,
    entry_totals,
    get_entry,
    list_entries,
    list_periods,
    receivables_by_customer,
    trial_balance,
    unbalanced_entries,
    verify_entry_digests,
    verify_running_balances,
)
from billops.ledger.services import close_period, reverse_entry
from tests.conftest import tamper
from tests.ledger.factories import eur, money, post, post_document, post_in_transaction


@pytest.fixture
def book(supervisor):
    """Three months of activity for two customers, in EUR and JPY: one manual entry, then invoices and
    payments posted the way their documents' services post them (only those touch receivables and unapplied
    cash)."""
    return {
        "opening": post(
            supervisor,
            debit(BANK, eur("1000.00")),
            credit(OPENING_BALANCE_EQUITY, eur("1000.00")),
            on=date(2025, 1, 2),
        ),
        "invoice": post_document(
            supervisor,
            debit(RECEIVABLES, eur("119.00"), customer_id=1),
            credit(REVENUE, eur("100.00")),
            credit(TAX_PAYABLE, eur("19.00")),
            on=date(2025, 1, 31),
            source=("tests.invoice", "1"),
            action="tests.invoice_issued",
        ),
        "payment": post_document(
            supervisor,
            debit(BANK, eur("119.00")),
            credit(RECEIVABLES, eur("119.00"), customer_id=1),
            on=date(2025, 2, 14),
            source=("tests.payment", "1"),
        ),
        "yen": post_document(
            supervisor,
            debit(RECEIVABLES, money("5000", "JPY"), customer_id=2),
            credit(REVENUE, money("5000", "JPY")),
            on=date(2025, 3, 1),
            source=("tests.invoice", "2"),
            action="tests.invoice_issued",
        ),
        "prepayment": post_document(
            supervisor,
            debit(BANK, eur("50.00")),
            credit(UNAPPLIED_CASH, eur("50.00"), customer_id=2),
            on=date(2025, 3, 3),
            source=("tests.payment", "2"),
        ),
    }


def rows_of(report):
    return [
        (row.account.code, row.currency, row.debit.amount, row.credit.amount, row.balance.amount)
        for row in report.rows
    ]


def totals_of(report):
    return [(total.currency, total.debit.amount, total.credit.amount) for total in report.totals]


def test_trial_balance_as_of_past_dates(book):
    before_anything = trial_balance(as_of=date(2025, 1, 1))
    assert (before_anything.rows, before_anything.totals) == ([], [])

    january = trial_balance(as_of=date(2025, 1, 31))
    assert rows_of(january) == [
        ("1000", "EUR", Decimal("1000.00"), Decimal("0.00"), Decimal("1000.00")),
        ("1200", "EUR", Decimal("119.00"), Decimal("0.00"), Decimal("119.00")),
        ("2200", "EUR", Decimal("0.00"), Decimal("19.00"), Decimal("-19.00")),
        ("3900", "EUR", Decimal("0.00"), Decimal("1000.00"), Decimal("-1000.00")),
        ("4000", "EUR", Decimal("0.00"), Decimal("100.00"), Decimal("-100.00")),
    ]
    assert totals_of(january) == [("EUR", Decimal("1119.00"), Decimal("1119.00"))]
    assert january.is_balanced

    february = trial_balance(as_of=date(2025, 2, 28))
    assert ("1200", "EUR", Decimal("119.00"), Decimal("119.00"), Decimal("0.00")) in rows_of(february)
    assert totals_of(february) == [("EUR", Decimal("1238.00"), Decimal("1238.00"))]

    later = trial_balance(as_of=date(2025, 12, 31))
    assert totals_of(later) == [
        ("EUR", Decimal("1288.00"), Decimal("1288.00")),
        ("JPY", Decimal("5000"), Decimal("5000")),
    ]
    assert [row for row in rows_of(later) if row[1] == "JPY"] == [
        ("1200", "JPY", Decimal("5000"), Decimal("0"), Decimal("5000")),
        ("4000", "JPY", Decimal("0"), Decimal("5000"), Decimal("-5000")),
    ]
    assert [total.rows for total in later.totals][1] == [row for row in later.rows if row.currency == "JPY"]
    assert totals_of(trial_balance(as_of=date(2025, 12, 31), currency="JPY")) == [
        ("JPY", Decimal("5000"), Decimal("5000"))
    ]


def test_account_balance_as_of_each_day(book):
    def bank(on):
        return account_balance(account=BANK, currency="EUR", as_of=on)

    assert bank(date(2025, 1, 1)) == eur("0")
    assert bank(date(2025, 1, 2)) == eur("1000.00")
    assert bank(date(2025, 2, 13)) == eur("1000.00")
    assert bank(date(2025, 2, 14)) == eur("1119.00")
    assert bank(date(2025, 3, 3)) == eur("1169.00")
    assert str(bank(date(2025, 3, 3))) == "1169.00 EUR"
    assert account_balance(account="4000", currency="JPY", as_of=date(2025, 3, 1)) == money("-5000", "JPY")
    assert account_balances(account=RECEIVABLES, as_of=date(2025, 3, 31)) == [
        eur("0.00"),
        money("5000", "JPY"),
    ]


def test_receivables_by_customer(book):
    assert receivables_by_customer() == {(1, "EUR"): Decimal("0.00"), (2, "JPY"): Decimal("5000")}
    assert receivables_by_customer(as_of=date(2025, 2, 1)) == {(1, "EUR"): Decimal("119.00")}
    assert receivables_by_customer(currency="USD") == {}
    assert balances_by_currency(account=RECEIVABLES) == {"EUR": Decimal("0.00"), "JPY": Decimal("5000")}
    assert balances_by_currency(account=BANK, as_of=date(2025, 1, 31)) == {"EUR": Decimal("1000.00")}


def test_list_entries_filters_and_orders_newest_first(book):
    ids = {name: entry.id for name, entry in book.items()}
    assert [e.id for e in list_entries()] == [
        ids["prepayment"], ids["yen"], ids["payment"], ids["invoice"], ids["opening"]
    ]  # fmt: skip
    assert [e.id for e in list_entries(account="1200")] == [ids["yen"], ids["payment"], ids["invoice"]]
    assert [e.id for e in list_entries(customer_id=2)] == [ids["prepayment"], ids["yen"]]
    assert [e.id for e in list_entries(posted_from=date(2025, 2, 1), posted_to=date(2025, 3, 1))] == [
        ids["yen"], ids["payment"]
    ]  # fmt: skip
    assert [e.id for e in list_entries(memo="TEST")] == sorted(ids.values(), reverse=True)
    assert [e.id for e in list_entries(source_type="tests.invoice")] == [ids["yen"], ids["invoice"]]
    assert [e.id for e in list_entries(source_type="tests.payment", source_id="2")] == [ids["prepayment"]]
    assert list(list_entries(source_type="tests.document")) == []


def test_get_entry_with_lines_totals_and_its_audit_event(book, supervisor):
    entry = get_entry(book["invoice"].id)
    assert [line.line_no for line in entry.lines.all()] == [1, 2, 3]
    assert entry_totals(entry) == [eur("119.00")]
    event = entry_audit_event(entry)
    assert (event.action, event.journal_entry_id) == ("tests.invoice_issued", entry.id)
    manual = get_entry(book["opening"].id)
    assert entry_totals(manual) == [eur("1000.00")]
    assert (entry_audit_event(manual).action, entry_audit_event(manual).journal_entry_id) == (
        "ledger.entry_posted", manual.id
    )  # fmt: skip
    with pytest.raises(NotFound, match=f"there is no journal entry {entry.id + 100}"):
        get_entry(entry.id + 100)


def test_periods_list_and_the_current_open_period(supervisor):
    assert current_open_period() is None
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")), on=last_month)
    post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")), on=today)
    assert current_open_period().start_on == today.replace(day=1)
    assert [p.start_on for p in list_periods()] == [today.replace(day=1), last_month]
    close_period(start_on=last_month, actor=supervisor)
    assert current_open_period().start_on == today.replace(day=1)


# integrity checks for `billops check`


def test_a_clean_book_passes_every_check(book, supervisor):
    reverse_entry(entry_id=book["opening"].id, on=date(2025, 3, 5), reason="wrong bank", actor=supervisor)
    post_in_transaction(supervisor, debit(BANK, eur("0.10")), credit(REVENUE, eur("0.10")))
    post_in_transaction(supervisor, debit(BANK, eur("0.20")), credit(REVENUE, eur("0.20")))
    assert AccountDayBalance.objects.count() == 15  # one per account, currency and day
    assert verify_running_balances() == []
    assert verify_entry_digests() == []
    assert unbalanced_entries() == []


def test_a_changed_line_is_caught_by_digest_balance_and_running_balance_checks(book):
    line = JournalLine.objects.get(entry=book["invoice"], line_no=2)
    tamper("UPDATE ledger_journalline SET credit = %s WHERE id = %s", [Decimal("90.00"), line.id])
    assert verify_entry_digests() == [book["invoice"].pk]
    assert unbalanced_entries() == [(book["invoice"].id, eur("10.00"))]
    assert verify_running_balances() == [
        "account 4000 EUR on 2025-01-31: running balance 0.00 EUR debit / 100.00 EUR credit, "
        "journal lines 0.00 EUR / 90.00 EUR"
    ]


def test_a_deleted_line_is_caught_by_every_check(book):
    line = JournalLine.objects.get(entry=book["payment"], line_no=2)
    tamper("DELETE FROM ledger_journalline WHERE id = %s", [line.id])
    assert verify_entry_digests() == [book["payment"].pk]
    assert unbalanced_entries() == [(book["payment"].id, eur("119.00"))]
    assert verify_running_balances() == [
        "account 1200 EUR on 2025-02-14: running balance 0.00 EUR debit / 119.00 EUR credit, "
        "journal lines 0.00 EUR / 0.00 EUR"
    ]


def test_a_changed_entry_date_is_caught_by_its_digest(book):
    tamper(
        "UPDATE ledger_journalentry SET posted_on = %s WHERE id = %s", [date(2025, 1, 3), book["opening"].id]
    )
    assert verify_entry_digests() == [book["opening"].pk]


def test_a_changed_running_balance_is_caught(book):
    tamper(
        "UPDATE ledger_accountdaybalance SET credit_total = credit_total + 1 WHERE posted_on = %s",
        [date(2025, 1, 2)],
    )
    assert verify_running_balances() == [
        "account 1000 EUR on 2025-01-02: running balance 1000.00 EUR debit / 1.00 EUR credit, "
        "journal lines 1000.00 EUR / 0.00 EUR",
        "account 3900 EUR on 2025-01-02: running balance 0.00 EUR debit / 1001.00 EUR credit, "
        "journal lines 0.00 EUR / 1000.00 EUR",
    ]
