"""Reversals, the period close, and the chart of accounts: each audited, each refused cleanly."""

from datetime import date
from decimal import Decimal

import pytest

from billops.audit.models import AuditEvent
from billops.core.errors import Duplicate, InvalidInput, NotFound, PermissionDenied
from billops.customers.services import post_opening_balance
from billops.ledger.accounts import BANK, RECEIVABLES, REVENUE, TAX_PAYABLE
from billops.ledger.errors import (
    AccountInUse,
    AlreadyReversed,
    CannotReverseReversal,
    DocumentEntry,
    PeriodClosed,
    PeriodStateConflict,
)
from billops.ledger.models import Account, AccountingPeriod, JournalEntry, JournalLine, PeriodStatus
from billops.ledger.posting import credit, debit
from billops.ledger.selectors import account_balance, verify_entry_digests
from billops.ledger.services import (
    change_account,
    close_period,
    create_account,
    reopen_period,
    reverse_entry,
)
from tests.customers.factories import create_customer
from tests.ledger.factories import AccountFactory, book_state, eur, post, post_in_transaction

MARCH, APRIL = date(2025, 3, 1), date(2025, 4, 1)


def sided_lines(entry):
    return [
        (line.account.code, line.currency, line.debit, line.credit, line.customer_id, line.memo)
        for line in entry.lines.select_related("account").order_by("line_no")
    ]


@pytest.fixture
def cash_sale(supervisor):
    """A manual entry (only manual entries are reversed through the ledger), one line naming a customer."""
    return post(
        supervisor,
        debit(BANK, eur("119.00"), memo="cash sale 7"),
        credit(REVENUE, eur("100.00"), customer_id=42, memo="fee"),
        credit(TAX_PAYABLE, eur("19.00")),
        on=date(2025, 3, 10),
    )


# reversals


def test_reversal_swaps_every_line_links_the_original_and_is_audited(supervisor, cash_sale):
    reversal = reverse_entry(
        entry_id=cash_sale.id, on=date(2025, 3, 20), reason="booked twice", actor=supervisor
    )

    assert reversal.reversal_of == cash_sale
    assert cash_sale.reversal == reversal
    assert (reversal.posted_on, reversal.memo, reversal.source_type, reversal.source_id) == (
        date(2025, 3, 20),
        f"Reversal of entry {cash_sale.id}: booked twice",
        "",
        "",
    )
    assert sided_lines(reversal) == [
        ("1000", "EUR", Decimal(0), Decimal("119.00"), None, "cash sale 7"),
        ("4000", "EUR", Decimal("100.00"), Decimal(0), 42, "fee"),
        ("2200", "EUR", Decimal("19.00"), Decimal(0), None, ""),
    ]
    assert sided_lines(cash_sale) == [
        ("1000", "EUR", Decimal("119.00"), Decimal(0), None, "cash sale 7"),
        ("4000", "EUR", Decimal(0), Decimal("100.00"), 42, "fee"),
        ("2200", "EUR", Decimal(0), Decimal("19.00"), None, ""),
    ]
    for account in (BANK, REVENUE, TAX_PAYABLE):
        assert account_balance(account=account, currency="EUR", as_of=date(2025, 3, 31)).amount == Decimal(
            "0.00"
        )
    assert account_balance(account=BANK, currency="EUR", as_of=date(2025, 3, 19)).amount == Decimal("119.00")
    event = AuditEvent.objects.get(journal_entry_id=reversal.id)
    assert (event.action, event.actor, event.target_id) == (
        "ledger.entry_reversed",
        supervisor,
        str(reversal.id),
    )
    assert (event.after["reason"], event.after["reversal_of"]) == ("booked twice", cash_sale.id)
    assert verify_entry_digests() == []


def test_reversing_an_entry_a_document_posted_is_refused_and_changes_nothing(clerk, supervisor):
    customer = create_customer(clerk, account_number="ACME", currency="EUR")
    balance = post_opening_balance(
        customer_id=customer.pk,
        amount=eur("1000.00"),
        balance_on=date(2025, 3, 10),
        reference="LEGACY-1",
        actor=supervisor,
    )
    entry_id = balance.journal_entry_id
    before = book_state()
    counts = (JournalEntry.objects.count(), JournalLine.objects.count(), AuditEvent.objects.count())
    assert counts == (1, 2, 4)  # 2 users, the customer, the opening balance

    with pytest.raises(DocumentEntry) as refused:
        reverse_entry(entry_id=entry_id, on=date(2025, 3, 20), reason="typed twice", actor=supervisor)

    assert refused.value.message == (
        f"entry {entry_id} was posted by customers.openingbalance {balance.pk}; "
        "correct that document instead of reversing its entry"
    )
    assert (refused.value.code, refused.value.http_status, refused.value.field) == (
        "document_entry", 409, "entry_id"
    )  # fmt: skip
    assert book_state() == before
    assert (JournalEntry.objects.count(), JournalLine.objects.count(), AuditEvent.objects.count()) == counts
    assert not JournalEntry.objects.filter(reversal_of_id=entry_id).exists()
    assert account_balance(account=RECEIVABLES, currency="EUR", as_of=date(2025, 3, 31)) == eur("1000.00")
    balance.refresh_from_db()
    assert balance.open_amount == Decimal("1000.00")


def test_reversing_an_entry_of_any_document_is_refused(supervisor):
    entry = post_in_transaction(supervisor, debit(BANK, eur("5.00")), credit(REVENUE, eur("5.00")))
    before = book_state()
    with pytest.raises(DocumentEntry) as refused:
        reverse_entry(entry_id=entry.id, on=entry.posted_on, reason="wrong bank", actor=supervisor)
    assert refused.value.message == (
        f"entry {entry.id} was posted by tests.document 1; "
        "correct that document instead of reversing its entry"
    )
    assert book_state() == before


def test_second_reversal_is_refused_and_changes_nothing(supervisor, cash_sale):
    reversal = reverse_entry(
        entry_id=cash_sale.id, on=date(2025, 3, 20), reason="booked twice", actor=supervisor
    )
    before = book_state()
    with pytest.raises(AlreadyReversed) as refused:
        reverse_entry(entry_id=cash_sale.id, on=date(2025, 3, 21), reason="again", actor=supervisor)
    assert refused.value.message == f"entry {cash_sale.id} was already reversed by entry {reversal.id}"
    assert refused.value.http_status == 409
    with pytest.raises(CannotReverseReversal) as refused_too:
        reverse_entry(entry_id=reversal.id, on=date(2025, 3, 21), reason="undo the undo", actor=supervisor)
    assert refused_too.value.message == (
        f"entry {reversal.id} is itself the reversal of entry {cash_sale.id}; "
        "post a new entry instead of reversing it"
    )
    assert book_state() == before


def test_reversal_needs_permission_a_reason_an_entry_and_an_open_date(clerk, supervisor, cash_sale):
    before = book_state()
    with pytest.raises(PermissionDenied):
        reverse_entry(entry_id=cash_sale.id, on=date(2025, 3, 20), reason="x", actor=clerk)
    with pytest.raises(InvalidInput) as no_reason:
        reverse_entry(entry_id=cash_sale.id, on=date(2025, 3, 20), reason="  ", actor=supervisor)
    assert no_reason.value.field == "reason"
    with pytest.raises(NotFound):
        reverse_entry(entry_id=cash_sale.id + 1000, on=date(2025, 3, 20), reason="x", actor=supervisor)
    with pytest.raises(InvalidInput) as too_early:
        reverse_entry(entry_id=cash_sale.id, on=date(2025, 3, 9), reason="x", actor=supervisor)
    assert too_early.value.message == "a reversal cannot be dated before the entry it reverses (2025-03-10)"
    assert book_state() == before  # none of the four refusals wrote anything
    close_period(start_on=MARCH, actor=supervisor)
    before = book_state()
    with pytest.raises(PeriodClosed):
        reverse_entry(entry_id=cash_sale.id, on=date(2025, 3, 20), reason="too late", actor=supervisor)
    assert book_state() == before
    reversal = reverse_entry(
        entry_id=cash_sale.id, on=date(2025, 4, 2), reason="next month", actor=supervisor
    )
    assert reversal.period.start_on == APRIL


# periods


def test_close_period_is_audited_and_records_who_and_when(supervisor, cash_sale):
    period = close_period(start_on=MARCH, actor=supervisor)
    period.refresh_from_db()
    assert (period.status, period.closed_by) == (PeriodStatus.CLOSED, supervisor)
    assert period.closed_at is not None
    event = AuditEvent.objects.filter(action="ledger.period_closed").get()
    assert (event.actor, event.target_type, event.target_id) == (
        supervisor,
        "ledger.accountingperiod",
        str(period.id),
    )
    assert (event.before["status"], event.after["status"]) == ("open", "closed")
    assert event.journal_entry_id is None


def test_closing_a_month_without_postings_creates_it_closed(supervisor):
    period = close_period(start_on=date(2025, 5, 1), actor=supervisor)
    assert (period.start_on, period.end_on, period.status) == (date(2025, 5, 1), date(2025, 5, 31), "closed")


def test_close_is_refused_when_closed_out_of_order_already_closed_or_not_a_month_start(supervisor, cash_sale):
    post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")), on=date(2025, 4, 3))
    before = book_state()
    with pytest.raises(PeriodStateConflict) as out_of_order:
        close_period(start_on=APRIL, actor=supervisor)
    assert out_of_order.value.message == "close March 2025 before April 2025: periods close in order"
    with pytest.raises(InvalidInput) as mid_month:
        close_period(start_on=date(2025, 3, 15), actor=supervisor)
    assert (mid_month.value.message, mid_month.value.field) == (
        "a period starts on the 1st of a month, not 2025-03-15", "start_on"
    )  # fmt: skip
    assert book_state() == before
    close_period(start_on=MARCH, actor=supervisor)
    before = book_state()
    with pytest.raises(PeriodStateConflict, match="the period March 2025 is already closed"):
        close_period(start_on=MARCH, actor=supervisor)
    assert book_state() == before


def test_clerk_and_auditor_cannot_close_or_reopen(clerk, auditor, supervisor, cash_sale):
    before = book_state()
    for user in (clerk, auditor):
        with pytest.raises(PermissionDenied) as refused:
            close_period(start_on=MARCH, actor=user)
        assert refused.value.http_status == 403
    assert book_state() == before
    close_period(start_on=MARCH, actor=supervisor)
    before = book_state()
    for user in (clerk, auditor):
        with pytest.raises(PermissionDenied):
            reopen_period(start_on=MARCH, reason="fix", actor=user)
    assert book_state() == before


def test_reopen_is_audited_with_its_reason_and_postings_flow_again(supervisor, cash_sale):
    close_period(start_on=MARCH, actor=supervisor)
    period = reopen_period(start_on=MARCH, reason="late supplier credit", actor=supervisor)
    period.refresh_from_db()
    assert (period.status, period.reopened_by) == (PeriodStatus.OPEN, supervisor)
    assert period.reopened_at is not None and period.closed_at is not None
    event = AuditEvent.objects.filter(action="ledger.period_reopened").get()
    assert (event.actor, event.target_id) == (supervisor, str(period.id))
    assert (event.before["status"], event.after["status"], event.after["reason"]) == (
        "closed", "open", "late supplier credit"
    )  # fmt: skip
    entry = post(supervisor, debit(BANK, eur("3.00")), credit(REVENUE, eur("3.00")), on=date(2025, 3, 31))
    assert entry.period == period


def test_reopen_needs_a_reason_a_period_and_a_closed_one(supervisor, cash_sale):
    before = book_state()
    with pytest.raises(PeriodStateConflict, match="the period March 2025 is already open"):
        reopen_period(start_on=MARCH, reason="why not", actor=supervisor)
    with pytest.raises(NotFound):
        reopen_period(start_on=date(2024, 1, 1), reason="why not", actor=supervisor)
    close_period(start_on=MARCH, actor=supervisor)
    before = book_state()
    with pytest.raises(InvalidInput) as refused:
        reopen_period(start_on=MARCH, reason="", actor=supervisor)
    assert (refused.value.message, refused.value.field) == (
        "a reason for reopening the period is required",
        "reason",
    )
    assert book_state() == before
    assert AccountingPeriod.objects.get(start_on=MARCH).status == PeriodStatus.CLOSED


# accounts


def test_create_account_is_audited(supervisor):
    account = create_account(code="1010", name="Second bank", type="asset", actor=supervisor)
    assert (account.code, account.name, account.type, account.purpose, account.is_active) == (
        "1010", "Second bank", "asset", "", True
    )  # fmt: skip
    event = AuditEvent.objects.filter(action="ledger.account_created").get()
    assert (event.actor, event.target_id) == (supervisor, str(account.id))
    assert event.after == {
        "code": "1010",
        "name": "Second bank",
        "type": "asset",
        "purpose": "",
        "is_active": True,
    }


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"code": "1000"}, Duplicate, "code"),
        ({"purpose": RECEIVABLES}, Duplicate, "purpose"),
        ({"purpose": "petty_cash"}, InvalidInput, "purpose"),
        ({"type": "income"}, InvalidInput, "type"),
        ({"code": "12 00"}, InvalidInput, "code"),
        ({"name": " "}, InvalidInput, "name"),
    ],
)
def test_create_account_refuses_bad_or_duplicate_data(supervisor, fields, error, field):
    before = book_state()
    with pytest.raises(error) as refused:
        create_account(**{"code": "1300", "name": "Other", "type": "asset", **fields}, actor=supervisor)
    assert refused.value.field == field
    assert book_state() == before


def test_create_account_needs_the_permission(clerk):
    with pytest.raises(PermissionDenied):
        create_account(code="1300", name="Other", type="asset", actor=clerk)
    assert not Account.objects.filter(code="1300").exists()


def test_deactivating_an_account_with_a_balance_or_a_purpose_is_refused(supervisor):
    AccountFactory(code="5100", name="Travel")
    post(supervisor, debit("5100", eur("8.00")), credit(BANK, eur("8.00")))
    before = book_state()
    with pytest.raises(AccountInUse, match="still has a balance"):
        change_account(code="5100", is_active=False, actor=supervisor)
    with pytest.raises(AccountInUse, match="is the Accounts receivable account and must stay active"):
        change_account(code="1200", is_active=False, actor=supervisor)
    assert book_state() == before
    post(supervisor, debit(BANK, eur("8.00")), credit("5100", eur("8.00")))
    account = change_account(code="5100", is_active=False, name="Travel (old)", actor=supervisor)
    assert (account.is_active, account.name) == (False, "Travel (old)")
    event = AuditEvent.objects.filter(action="ledger.account_changed").get()
    assert (event.before, event.after) == (
        {"code": "5100", "name": "Travel", "type": "expense", "purpose": "", "is_active": True},
        {"code": "5100", "name": "Travel (old)", "type": "expense", "purpose": "", "is_active": False},
    )
