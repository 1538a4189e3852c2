"""PostgreSQL as the second line of defence: triggers refuse changes to posted rows, and a posting that
races a period close lands before the close or is refused, never inside the closed period."""

import threading
import time
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from billops.access.models import Role
from billops.ledger.accounts import BANK, REVENUE
from billops.ledger.errors import PeriodClosed
from billops.ledger.models import AccountingPeriod, JournalEntry, JournalLine, PeriodStatus
from billops.ledger.posting import credit, debit
from billops.ledger.selectors import verify_running_balances
from billops.ledger.services import close_period, post_manual_entry
from tests.ledger.factories import book_state, eur, post

pytestmark = pytest.mark.postgresql


def refused_by_the_database(sql, params):
    with (
        pytest.raises(IntegrityError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_raw_update_and_delete_of_posted_rows_are_refused_by_the_trigger(supervisor):
    entry = post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")))
    line = JournalLine.objects.filter(entry=entry).first()
    before = book_state()
    refused_by_the_database("UPDATE ledger_journalline SET debit = debit + 1 WHERE id = %s", [line.id])
    refused_by_the_database("UPDATE ledger_journalentry SET memo = 'edited' WHERE id = %s", [entry.id])
    refused_by_the_database("DELETE FROM ledger_journalline WHERE entry_id = %s", [entry.id])
    refused_by_the_database("DELETE FROM ledger_journalentry WHERE id = %s", [entry.id])
    assert book_state() == before


@pytest.mark.django_db(transaction=True)
def test_a_posting_racing_a_close_is_before_the_close_or_refused(make_user):
    supervisor = make_user(Role.SUPERVISOR)
    outcomes = []
    for month in range(1, 9):
        start = date(2025, month, 1)
        seed = post(supervisor, debit(BANK, eur("1.00")), credit(REVENUE, eur("1.00")), on=start)
        barrier = threading.Barrier(2)
        result = {}

        def posting(start=start, barrier=barrier, result=result):
            try:
                barrier.wait()
                result["entry"] = post_manual_entry(
                    on=start.replace(day=20),
                    lines=[debit(BANK, eur("2.00")), credit(REVENUE, eur("2.00"))],
                    memo="racing the close",
                    actor=supervisor,
                )
            except PeriodClosed as exc:
                result["refused"] = exc
            finally:
                connection.close()

        def closing(start=start, barrier=barrier, result=result, head_start=month % 2 * 0.003):
            try:
                barrier.wait()
                time.sleep(head_start)  # every other month the posting gets a head start: both orders happen
                result["period"] = close_period(start_on=start, actor=supervisor)
            finally:
                connection.close()

        threads = [threading.Thread(target=posting), threading.Thread(target=closing)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        period = AccountingPeriod.objects.get(start_on=start)
        assert period.status == PeriodStatus.CLOSED
        in_period = list(JournalEntry.objects.filter(period=period).order_by("id"))
        if "entry" in result:
            outcomes.append("posted first")
            assert [e.id for e in in_period] == [seed.id, result["entry"].id]
            assert result["entry"].posted_at < period.closed_at
        else:
            outcomes.append("refused")
            assert isinstance(result.get("refused"), PeriodClosed), result
            assert [e.id for e in in_period] == [seed.id]
        assert all(e.posted_at < period.closed_at for e in in_period)
    assert len(outcomes) == 8
    assert verify_running_balances() == []
