"""Reads: the worklist and its filters, a customer's open cases, the disputed amount per invoice that
dunning leaves out, and the dispute-resolution-time KPI."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billops.access.models import Role
from billops.access.services import set_business_date
from billops.core.errors import InvalidInput, NotFound
from billops.disputes import selectors
from billops.disputes.models import DisputeCase
from billops.disputes.services import (
    LineClaim,
    assign_dispute,
    open_dispute,
    reject_dispute,
    resolve_by_credit,
    start_investigation,
    withdraw_dispute,
)
from tests.invoicing.factories import make_customer


def test_disputed_amounts_count_only_cases_still_being_worked(clerk, invoice, other_invoice):
    open_dispute(invoice_id=invoice.pk, reason="price", amount="10.00", actor=clerk)
    investigated = open_dispute(invoice_id=invoice.pk, reason="tax", amount="0.05", actor=clerk)
    start_investigation(case_id=investigated.pk, actor=clerk)
    rejected = open_dispute(invoice_id=invoice.pk, reason="price", amount="100.00", actor=clerk)
    reject_dispute(case_id=rejected.pk, root_cause="customer_error", note="n", actor=clerk)
    credited = open_dispute(invoice_id=other_invoice.pk, reason="price", amount="20.00", actor=clerk)
    resolve_by_credit(case_id=credited.pk, root_cause="pricing_error", note="n", actor=clerk)
    # all that is left of line 3 (178.50): the 20.00 credit took 5.80 of it, in proportion
    open_dispute(invoice_id=other_invoice.pk, reason="quality", lines=[LineClaim(line_no=3)], actor=clerk)
    assert selectors.disputed_amounts([invoice.pk, other_invoice.pk, 999999]) == {
        invoice.pk: Decimal("10.05"), other_invoice.pk: Decimal("172.70"),
    }  # fmt: skip
    assert selectors.disputed_amounts([]) == {}
    assert selectors.disputed_on(invoice) == Decimal("10.05")


def test_the_worklist_filters_by_status_owner_customer_and_sla(clerk, collector, make_user, invoice):
    soon = open_dispute(
        invoice_id=invoice.pk, reason="tax", amount="1", actor=clerk, sla_due_on=date(2026, 3, 12)
    )
    later = open_dispute(invoice_id=invoice.pk, reason="price", amount="2", actor=clerk)
    assign_dispute(case_id=later.pk, owner_id=collector.pk, actor=clerk)
    done = open_dispute(
        invoice_id=invoice.pk, reason="price", amount="3", actor=clerk, sla_due_on=date(2026, 3, 11)
    )
    withdraw_dispute(case_id=done.pk, note="n", actor=clerk)
    stranger = make_customer(clerk, account_number="C-2")

    def ids(**filters):
        return [case.pk for case in selectors.list_cases(**filters)]

    assert ids() == [done.pk, soon.pk, later.pk]  # the ones due first
    assert ids(status="active") == [soon.pk, later.pk]
    assert ids(status="withdrawn") == [done.pk]
    assert ids(owner_id=collector.pk) == [later.pk]
    assert ids(unassigned=True, status="active") == [soon.pk]
    assert ids(customer_id=stranger.pk) == []
    assert [c.pk for c in selectors.open_cases_for_customer(invoice.customer_id)] == [soon.pk, later.pk]
    assert ids(overdue_sla=True) == []
    set_business_date(on=date(2026, 3, 13), actor=make_user(Role.ADMIN))
    assert ids(overdue_sla=True) == [soon.pk]  # the withdrawn one is decided, not overdue
    assert (selectors.is_overdue(soon), selectors.is_overdue(selectors.get_case(done.pk))) == (True, False)
    with pytest.raises(InvalidInput) as refused:
        ids(status="closed")
    assert refused.value.field == "status"
    with pytest.raises(NotFound):
        selectors.get_case(999999)


def _decided_at(case: DisputeCase, opened: datetime, resolved: datetime) -> None:
    # the KPI measures real time, which a test cannot wait for: the timestamps are set as they would be
    DisputeCase.objects.filter(pk=case.pk).update(opened_at=opened, resolved_at=resolved)


def test_resolution_times_measure_opening_to_decision_in_a_window(clerk, invoice):
    start = timezone.make_aware(datetime(2026, 3, 1, 9, 0))
    cases = [open_dispute(invoice_id=invoice.pk, reason="price", amount="1", actor=clerk) for _ in range(4)]
    for case in cases[:3]:
        reject_dispute(case_id=case.pk, root_cause="other", note="n", actor=clerk)
    _decided_at(cases[0], start, start + timedelta(days=2))  # decided on 3 March
    _decided_at(cases[1], start, start + timedelta(days=5, hours=12))  # 6 March
    _decided_at(cases[2], start, start + timedelta(days=30))  # 31 March: outside the window
    times = selectors.resolution_times(date(2026, 3, 3), date(2026, 3, 6))
    assert [(t.case_id, t.status, t.seconds) for t in times.cases] == [
        (cases[0].pk, "rejected", 2 * 86400), (cases[1].pk, "rejected", 5 * 86400 + 12 * 3600),
    ]  # fmt: skip
    assert (times.count, times.average_days, times.average_seconds) == (2, Decimal("3.75"), 324000)
    empty = selectors.resolution_times(date(2026, 1, 1), date(2026, 1, 31))
    assert (empty.count, empty.average_days, empty.average_seconds) == (0, None, None)
    with pytest.raises(InvalidInput):
        selectors.resolution_times(date(2026, 3, 6), date(2026, 3, 3))
