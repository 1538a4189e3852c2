"""Posting entries: exact lines, running balances, one audit event; and every way a posting is refused."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from billops.audit.models import AuditEvent
from billops.core.errors import InvalidAmount, InvalidInput, NotFound, PermissionDenied, UnknownCurrency
from billops.core.money import Money
from billops.ledger.accounts import (
    BANK,
    BANK_CLEARING,
    OPENING_BALANCE_EQUITY,
    RECEIVABLES,
    REVENUE,
    SUSPENSE,
    TAX_PAYABLE,
    UNAPPLIED_CASH,
)
from billops.ledger.errors import (
    EntryImmutable,
    InactiveAccount,
    PeriodClosed,
    SubledgerAccount,
    UnbalancedEntry,
)
from billops.ledger.models import AccountDayBalance, AccountingPeriod, JournalEntry, JournalLine, PeriodStatus
from billops.ledger.posting import credit, debit, entry_digest, post_entry
from billops.ledger.selectors import control_account, get_account
from billops.ledger.services import close_period, post_manual_entry
from tests.ledger.factories import AccountFactory, book_state, eur, money, post, post_in_transaction

ON = date(2025, 3, 14)


def lines_of(entry):
    return [
        (line.line_no, line.account.code, line.currency, line.debit, line.credit, line.customer_id, line.memo)
        for line in entry.lines.select_related("account").order_by("line_no")
    ]


def day_balances():
    return sorted(
        (row.account.code, row.currency, row.posted_on, row.debit_total, row.credit_total)
        for row in AccountDayBalance.objects.select_related("account")
    )


@contextmanager
def book_unchanged() -> Iterator[None]:
    """`with book_unchanged(): ...` asserts the block changed nothing a posting could change."""
    before = book_state()
    yield
    assert book_state() == before


def test_balanced_entry_posts_exact_lines_day_balances_and_one_audit_event(supervisor):
    events_before = AuditEvent.objects.count()
    entry = post(
        supervisor,
        debit(BANK, eur("119.00"), customer_id=7, memo="cash sale 1"),
        credit(REVENUE, eur("100.00")),
        credit(TAX_PAYABLE, eur("19.00")),
        memo="cash sale booked by hand",
    )

    entry.refresh_from_db()
    assert (entry.posted_on, entry.memo, entry.posted_by, entry.source_type, entry.source_id) == (
        ON, "cash sale booked by hand", supervisor, "", ""
    )  # fmt: skip
    assert entry.period.start_on == date(2025, 3, 1)
    assert entry.period.end_on == date(2025, 3, 31)
    assert entry.period.status == PeriodStatus.OPEN
    assert lines_of(entry) == [
        (1, "1000", "EUR", Decimal("119.00"), Decimal(0), 7, "cash sale 1"),
        (2, "4000", "EUR", Decimal(0), Decimal("100.00"), None, ""),
        (3, "2200", "EUR", Decimal(0), Decimal("19.00"), None, ""),
    ]
    assert day_balances() == [
        ("1000", "EUR", ON, Decimal("119.00"), Decimal(0)),
        ("2200", "EUR", ON, Decimal(0), Decimal("19.00")),
        ("4000", "EUR", ON, Decimal(0), Decimal("100.00")),
    ]
    assert entry.digest == entry_digest(entry, entry.lines.all())
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.get(journal_entry_id=entry.id)
    assert (event.action, event.actor, event.target_type, event.target_id) == (
        "ledger.entry_posted", supervisor, "ledger.journalentry", str(entry.id)
    )  # fmt: skip
    assert event.after["lines"] == [
        {
            "account": "1000",
            "currency": "EUR",
            "debit": "119.00",
            "credit": "0",
            "customer_id": 7,
            "memo": "cash sale 1",
        },
        {
            "account": "4000",
            "currency": "EUR",
            "debit": "0",
            "credit": "100.00",
            "customer_id": None,
            "memo": "",
        },
        {
            "account": "2200",
            "currency": "EUR",
            "debit": "0",
            "credit": "19.00",
            "customer_id": None,
            "memo": "",
        },
    ]


def test_second_posting_on_the_same_day_adds_to_the_day_balance(supervisor):
    post(supervisor, debit(BANK, eur("10.10")), credit(REVENUE, eur("10.10")))
    post(supervisor, debit(BANK, eur("0.20")), credit(REVENUE, eur("0.20")))
    post(supervisor, debit(BANK, eur("5.00")), credit(REVENUE, eur("5.00")), on=date(2025, 3, 15))
    assert day_balances() == [
        ("1000", "EUR", ON, Decimal("10.30"), Decimal(0)),
        ("1000", "EUR", date(2025, 3, 15), Decimal("5.00"), Decimal(0)),
        ("4000", "EUR", ON, Decimal(0), Decimal("10.30")),
        ("4000", "EUR", date(2025, 3, 15), Decimal(0), Decimal("5.00")),
    ]


def test_building_block_posts_in_the_callers_transaction_with_its_source(supervisor):
    events_before = AuditEvent.objects.count()
    entry = post_in_transaction(
        supervisor, debit(BANK, eur("1.00")), credit(OPENING_BALANCE_EQUITY, eur("1.00"))
    )
    assert (entry.source_type, entry.source_id) == ("tests.document", "1")
    assert (
        AuditEvent.objects.count() == events_before
    )  # the calling service records the event, not post_entry


def test_unbalanced_entry_is_refused_with_the_residual_named_and_nothing_written(supervisor):
    with book_unchanged(), pytest.raises(UnbalancedEntry) as refused:
        post(supervisor, debit(BANK, eur("100.01")), credit(REVENUE, eur("100.00")))
    assert refused.value.message == "the entry does not balance: debits exceed credits by 0.01 EUR"
    assert refused.value.field == "lines"
    assert refused.value.http_status == 400


def test_each_currency_must_balance_on_its_own(supervisor):
    with book_unchanged(), pytest.raises(UnbalancedEntry) as refused:
        post(
            supervisor,
            debit(BANK, eur("10.00")),
            credit(REVENUE, money("10", "JPY")),
            debit(BANK, money("1.000", "KWD")),
            credit(REVENUE, money("1.250", "KWD")),
        )
    assert refused.value.message == (
        "the entry does not balance: debits exceed credits by 10.00 EUR; "
        "credits exceed debits by 10 JPY; credits exceed debits by 0.250 KWD"
    )


def test_multi_currency_entry_balanced_per_currency_posts(supervisor):
    entry = post(
        supervisor,
        debit(BANK, eur("10.00")),
        credit(REVENUE, eur("10.00")),
        debit(BANK, money("1500", "JPY")),
        credit(REVENUE, money("1500", "JPY")),
    )
    assert [(code, cur, d, c) for _, code, cur, d, c, _, _ in lines_of(entry)] == [
        ("1000", "EUR", Decimal("10.00"), Decimal(0)),
        ("4000", "EUR", Decimal(0), Decimal("10.00")),
        ("1000", "JPY", Decimal("1500"), Decimal(0)),
        ("4000", "JPY", Decimal(0), Decimal("1500")),
    ]


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("10.005", "EUR", "line 1: debit 10.005 has more decimal places than EUR allows (2)"),
        ("1.5", "JPY", "line 1: debit 1.5 has more decimal places than JPY allows (0)"),
        ("0.0001", "KWD", "line 1: debit 0.0001 has more decimal places than KWD allows (3)"),
    ],
)
def test_more_decimals_than_the_currency_allows_is_refused(supervisor, amount, currency, message):
    with book_unchanged(), pytest.raises(InvalidAmount) as refused:
        post(supervisor, debit(BANK, money(amount, currency)), credit(REVENUE, money(amount, currency)))
    assert (refused.value.message, refused.value.field) == (message, "lines.0.debit")


@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_zero_and_negative_amounts_are_refused(supervisor, amount):
    with book_unchanged(), pytest.raises(InvalidAmount) as refused:
        post(supervisor, debit(BANK, eur("5.00")), credit(REVENUE, eur(amount)))
    assert refused.value.field == "lines.1.credit"
    assert refused.value.message == f"line 2: the credit must be more than zero, got {amount} EUR"


def test_unknown_currency_and_float_amounts_never_become_money():
    with pytest.raises(UnknownCurrency, match="'EURO' is not an ISO 4217 currency code"):
        Money(Decimal("1.00"), "EURO")
    with pytest.raises(TypeError, match="Money needs a Decimal, got float"):
        Money(10.1, "EUR")  # type: ignore[arg-type]


def test_entry_with_fewer_than_two_lines_is_refused(supervisor):
    with book_unchanged(), pytest.raises(InvalidInput) as refused:
        post(supervisor, debit(BANK, eur("0.00")))
    assert (refused.value.message, refused.value.field) == (
        "a journal entry needs at least two lines, got 1",
        "lines",
    )


def test_inactive_and_unknown_accounts_are_refused(supervisor):
    AccountFactory(code="5500", name="Old expenses", is_active=False)
    with book_unchanged(), pytest.raises(InactiveAccount) as refused:
        post(supervisor, debit("5500", eur("1.00")), credit(REVENUE, eur("1.00")))
    assert refused.value.message == "line 1: account 5500 Old expenses is inactive and takes no postings"
    assert refused.value.field == "lines.0.account"
    with book_unchanged(), pytest.raises(NotFound) as missing:
        post(supervisor, debit(BANK, eur("1.00")), credit("7777", eur("1.00")))
    assert (missing.value.message, missing.value.field) == (
        "there is no account with code '7777'",
        "lines.1.account",
    )


def test_lines_accept_an_account_a_purpose_or_a_code(supervisor):
    entry = post(
        supervisor,
        debit(get_account("1000"), eur("3.00")),
        credit(control_account(REVENUE), eur("1.00")),
        credit("4000", eur("2.00")),
    )
    assert [code for _, code, *_ in lines_of(entry)] == ["1000", "4000", "4000"]


@pytest.fixture
def march_closed(supervisor):
    """An entry in March 2025, then March closed."""
    post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")))
    close_period(start_on=date(2025, 3, 1), actor=supervisor)


def test_posting_into_a_closed_period_is_refused_and_writes_nothing(supervisor, march_closed):
    with book_unchanged(), pytest.raises(PeriodClosed) as refused:
        post(supervisor, debit(BANK, eur("2.00")), credit(REVENUE, eur("2.00")), on=date(2025, 3, 31))
    assert refused.value.message == (
        "cannot post on 2025-03-31: the period March 2025 is closed; a supervisor can reopen it"
    )
    assert (refused.value.field, refused.value.http_status, refused.value.code) == (
        "posted_on",
        409,
        "period_closed",
    )


def test_posting_before_a_closed_period_is_refused_even_without_a_period_row(supervisor, march_closed):
    with book_unchanged(), pytest.raises(PeriodClosed) as refused:
        post(supervisor, debit(BANK, eur("2.00")), credit(REVENUE, eur("2.00")), on=date(2025, 1, 15))
    assert refused.value.message == (
        "cannot post on 2025-01-15: March 2025 is already closed and nothing may be posted before a closed "
        "period; a supervisor can reopen March 2025"
    )
    assert not AccountingPeriod.objects.filter(start_on=date(2025, 1, 1)).exists()


def test_posting_after_a_closed_period_opens_the_next_month(supervisor, march_closed):
    entry = post(supervisor, debit(BANK, eur("2.00")), credit(REVENUE, eur("2.00")), on=date(2025, 4, 1))
    assert (entry.period.start_on, entry.period.end_on, entry.period.status) == (
        date(2025, 4, 1), date(2025, 4, 30), PeriodStatus.OPEN
    )  # fmt: skip


def test_manual_entries_need_the_permission_and_a_memo(clerk, auditor, supervisor):
    for user in (clerk, auditor):
        with book_unchanged(), pytest.raises(PermissionDenied):
            post(user, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")))
    with book_unchanged(), pytest.raises(InvalidInput) as refused:
        post_manual_entry(
            on=ON, lines=[debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00"))], memo=" ", actor=supervisor
        )
    assert refused.value.field == "memo"


SUBLEDGER_MESSAGE = (
    "account {} is kept by a subledger; post to it through a customer document "
    "(an opening balance, an invoice, a payment), not a manual entry"
)


@pytest.mark.parametrize(
    ("account", "named"),
    [
        (RECEIVABLES, "1200 (Accounts receivable)"),
        ("1200", "1200 (Accounts receivable)"),
        (UNAPPLIED_CASH, "2100 (Unapplied cash)"),
        ("2100", "2100 (Unapplied cash)"),
    ],
)
def test_a_manual_entry_on_a_subledger_account_is_refused_naming_the_line(supervisor, account, named):
    with book_unchanged(), pytest.raises(SubledgerAccount) as refused:
        post(
            supervisor,
            debit(BANK, eur("119.00")),
            credit(REVENUE, eur("100.00")),
            credit(account, eur("19.00"), customer_id=7),
        )
    assert refused.value.message == SUBLEDGER_MESSAGE.format(named)
    assert refused.value.field == "lines.2.account"
    assert (refused.value.code, refused.value.http_status) == ("subledger_account", 400)


def test_the_first_subledger_line_is_named_however_the_account_is_given(supervisor):
    with book_unchanged(), pytest.raises(SubledgerAccount) as refused:
        post(
            supervisor,
            debit(control_account(RECEIVABLES), eur("50.00"), customer_id=7),
            credit(control_account(UNAPPLIED_CASH), eur("50.00"), customer_id=7),
        )
    assert (refused.value.message, refused.value.field) == (
        SUBLEDGER_MESSAGE.format("1200 (Accounts receivable)"),
        "lines.0.account",
    )
    assert JournalEntry.objects.count() == 0
    assert AuditEvent.objects.filter(action="ledger.entry_posted").count() == 0


def test_a_manual_entry_without_subledger_accounts_still_posts_to_any_other_account(supervisor):
    events_before = AuditEvent.objects.count()
    entry = post(
        supervisor,
        debit(SUSPENSE, eur("30.00"), customer_id=7),
        debit(BANK_CLEARING, eur("20.00")),
        credit(BANK, eur("10.00")),
        credit(OPENING_BALANCE_EQUITY, eur("40.00")),
        memo="clear suspense",
    )
    assert [line[:5] for line in lines_of(entry)] == [
        (1, "9999", "EUR", Decimal("30.00"), Decimal(0)),
        (2, "1100", "EUR", Decimal("20.00"), Decimal(0)),
        (3, "1000", "EUR", Decimal(0), Decimal("10.00")),
        (4, "3900", "EUR", Decimal(0), Decimal("40.00")),
    ]
    assert AuditEvent.objects.count() == events_before + 1
    assert AuditEvent.objects.get(journal_entry_id=entry.id).action == "ledger.entry_posted"


def test_the_building_block_still_posts_to_subledger_accounts_for_documents(supervisor):
    entry = post_in_transaction(
        supervisor,
        debit(RECEIVABLES, eur("119.00"), customer_id=7),
        credit(REVENUE, eur("119.00")),
    )
    assert lines_of(entry)[0] == (1, "1200", "EUR", Decimal("119.00"), Decimal(0), 7, "")
    assert (entry.source_type, entry.source_id) == ("tests.document", "1")


def test_the_orm_refuses_to_edit_or_delete_a_posted_entry(supervisor):
    entry = post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")))
    with book_unchanged():
        entry.memo = "changed"
        with pytest.raises(EntryImmutable):
            entry.save()
        line = JournalLine.objects.filter(entry=entry).first()
        line.debit = Decimal("2.00")
        with pytest.raises(EntryImmutable):
            line.save()
        with pytest.raises(EntryImmutable):
            JournalLine.objects.filter(entry=entry).update(debit=Decimal("5.00"))
        with pytest.raises(EntryImmutable):
            JournalEntry.objects.filter(pk=entry.pk).delete()
        with pytest.raises(EntryImmutable):
            entry.delete()


def test_a_refused_posting_inside_a_service_rolls_back_the_services_other_writes(supervisor):
    # a business service that wrote something, then had its entry refused: nothing of it stays
    with book_unchanged(), pytest.raises(UnbalancedEntry), transaction.atomic():
        AccountFactory(code="5600")
        post_entry(on=ON, lines=[debit(BANK, eur("1.00")), credit(REVENUE, eur("2.00"))], actor=supervisor)
