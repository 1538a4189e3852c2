"""Under real concurrency (PostgreSQL, committed transactions): the same remittance deduction imported twice
at once opens one case, and two cases racing for one invoice never dispute more than it has open."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billops.disputes.errors import OverDisputed
from billops.disputes.models import DisputeCase
from billops.disputes.services import open_deduction_case, open_dispute
from tests.conftest import race

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_one_deduction_imported_twice_at_once_opens_one_case(clerk, invoice):
    results, errors = race(
        2, lambda _: open_deduction_case(invoice_id=invoice.pk, amount="17.85", reference="RA-7", actor=clerk)
    )
    assert errors == []
    assert len({case.pk for case in results}) == 1
    assert DisputeCase.objects.count() == 1


def test_two_cases_racing_never_dispute_more_than_is_open(clerk, collector, invoice):
    people = [clerk, collector]
    results, errors = race(
        2, lambda i: open_dispute(invoice_id=invoice.pk, reason="price", amount="300.00", actor=people[i])
    )
    assert (len(results), [type(error) for error in errors]) == (1, [OverDisputed])
    assert DisputeCase.objects.get().amount == Decimal("300.00")
