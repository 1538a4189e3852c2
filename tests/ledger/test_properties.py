"""Properties of the book: balanced entries keep the trial balance at zero per currency; unbalanced ones
are refused and change nothing."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from billops.access.models import Role
from billops.access.services import create_user
from billops.core.currencies import minor_units
from billops.core.money import Money
from billops.ledger.errors import UnbalancedEntry
from billops.ledger.posting import Line
from billops.ledger.selectors import (
    trial_balance,
    unbalanced_entries,
    verify_entry_digests,
    verify_running_balances,
)
from billops.ledger.services import post_manual_entry
from tests.ledger.factories import book_state

# every account of the default chart but receivables (1200) and unapplied cash (2100): a manual entry may
# not post to a subledger's control account
CODES = ["1000", "1100", "2200", "3900", "4000", "4900", "6900", "9999"]
CURRENCIES = ["EUR", "JPY", "KWD"]
FAR_FUTURE = date(2030, 12, 31)


def amount(units: int, currency: str) -> Money:
    return Money(Decimal(units).scaleb(-minor_units(currency)), currency)


@st.composite
def balanced_lines(draw) -> list[Line]:
    """One or two currencies; in each, some debits and some credits with equal sums (in minor units)."""
    lines: list[Line] = []
    for currency in draw(st.lists(st.sampled_from(CURRENCIES), min_size=1, max_size=2, unique=True)):
        debits = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=3))
        credits = draw(st.lists(st.integers(1, 10**9), min_size=1, max_size=3))
        gap = sum(debits) - sum(credits)
        if gap > 0:
            credits.append(gap)
        elif gap < 0:
            debits.append(-gap)
        for side, parts in (("debit", debits), ("credit", credits)):
            for units in parts:
                account = draw(st.sampled_from(CODES))
                customer = draw(st.none() | st.integers(1, 50))
                lines.append(
                    Line(account=account, money=amount(units, currency), side=side, customer_id=customer)
                )
    return draw(st.permutations(lines))


posting_dates = st.integers(0, 364).map(lambda days: date(2025, 1, 1) + timedelta(days=days))


class LedgerProperties(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.supervisor = create_user(
            username="prop-supervisor",
            password="x",
            role=Role.SUPERVISOR,
            actor=None,
            check_password_strength=False,
        )

    @settings(max_examples=25, deadline=None)
    @given(entries=st.lists(st.tuples(balanced_lines(), posting_dates), min_size=1, max_size=4))
    def test_balanced_entries_keep_the_trial_balance_at_zero_per_currency(self, entries) -> None:
        posted: dict[str, Decimal] = defaultdict(Decimal)
        for lines, on in entries:
            post_manual_entry(on=on, lines=lines, memo="property", actor=self.supervisor)
            for line in lines:
                if line.side == "debit":
                    posted[line.money.currency] += line.money.amount

        report = trial_balance(as_of=FAR_FUTURE)
        assert report.is_balanced
        assert {total.currency: total.debit.amount for total in report.totals} == dict(posted)
        assert {total.currency: total.credit.amount for total in report.totals} == dict(posted)
        for total in report.totals:
            assert sum((row.balance for row in total.rows), Money.zero(total.currency)).is_zero()
        first_day = min(on for _, on in entries)
        assert trial_balance(as_of=first_day - timedelta(days=1)).rows == []
        assert verify_running_balances() == []
        assert verify_entry_digests() == []
        assert unbalanced_entries() == []

    @settings(max_examples=25, deadline=None)
    @given(lines=balanced_lines(), on=posting_dates, data=st.data())
    def test_unbalanced_entries_are_refused_and_change_nothing(self, lines, on, data) -> None:
        index = data.draw(st.integers(0, len(lines) - 1))
        victim = lines[index]
        units = int(victim.money.amount.scaleb(minor_units(victim.money.currency)))
        delta = data.draw(st.integers(-(units - 1), 10**6).filter(lambda d: d != 0))
        changed = Line(
            account=victim.account,
            money=amount(units + delta, victim.money.currency),
            side=victim.side,
            customer_id=victim.customer_id,
        )
        unbalanced = [*lines[:index], changed, *lines[index + 1 :]]

        before = book_state()
        with self.assertRaises(UnbalancedEntry) as refused:
            post_manual_entry(on=on, lines=unbalanced, memo="property", actor=self.supervisor)
        heavier = (
            "debits exceed credits" if (delta > 0) == (victim.side == "debit") else "credits exceed debits"
        )
        residual = amount(abs(delta), victim.money.currency)
        assert f"{heavier} by {residual}" in refused.exception.message
        assert book_state() == before
