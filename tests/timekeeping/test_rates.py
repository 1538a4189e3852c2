"""Hourly rates: the most specific rate valid on an entry's date bills it, in the customer's currency;
a new rate ends the one it replaces; overlaps, wrong currencies and wrong scopes are refused."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.audit.models import AuditEvent
from billops.core.errors import CurrencyMismatch, InvalidInput, PermissionDenied
from billops.timekeeping.models import Rate, TimeEntry
from billops.timekeeping.pricing import RateBook
from billops.timekeeping.selectors import prebill
from billops.timekeeping.services.setup import set_rate
from tests.invoicing.factories import make_customer
from tests.timekeeping.factories import Firm, make_matter, record

pytestmark = pytest.mark.django_db


def rate_of(entry: TimeEntry) -> Decimal | None:
    entry = TimeEntry.objects.select_related("timekeeper").get(pk=entry.pk)
    rate = RateBook.load(up_to=entry.worked_on).rate_for(entry)
    return rate.hourly_rate if rate else None


def rates() -> list[tuple[Any, ...]]:
    return list(Rate.objects.order_by("pk").values_list("pk", "hourly_rate", "valid_from", "valid_to"))


def test_the_most_specific_rate_wins_matter_then_customer_then_default_timekeeper_before_role(
    firm: Firm,
) -> None:
    entry = record(firm, "1.0", date(2026, 3, 4))
    customer, matter, supervisor = firm.customer.pk, firm.matter.pk, firm.supervisor
    on = date(2026, 1, 5)
    assert rate_of(entry) == Decimal(400)  # the partner role's default
    # each more specific rate takes over from the one before it
    for scope, rate in (
        ({"timekeeper_code": "JD"}, "410"),
        ({"role": "partner", "customer_id": customer}, "420"),
        ({"timekeeper_code": "JD", "customer_id": customer}, "430"),
        ({"role": "partner", "matter_id": matter}, "440"),
        ({"timekeeper_code": "JD", "matter_id": matter}, "450"),
    ):
        set_rate(hourly_rate=rate, currency="EUR", valid_from=on, actor=supervisor, **scope)
        assert rate_of(entry) == Decimal(rate), scope
    # the same timekeeper elsewhere: another matter of the customer, another customer's matter
    other_matter = make_matter(firm.clerk, firm.customer, "M-002")
    other_customer = make_matter(firm.clerk, make_customer(firm.clerk, account_number="LAW-2"), "M-003")
    assert rate_of(record(firm, "1.0", date(2026, 3, 4), matter_id=other_matter.pk)) == Decimal(430)
    assert rate_of(record(firm, "1.0", date(2026, 3, 4), matter_id=other_customer.pk)) == Decimal(410)
    # another role on the matter: the associates' default; a paralegal has no rate at all
    assert rate_of(record(firm, "1.0", date(2026, 3, 4), timekeeper=firm.associate)) == Decimal(250)
    assert rate_of(record(firm, "1.0", date(2026, 3, 4), timekeeper=firm.paralegal)) is None
    # the pre-bill review finds the same rates
    entry.status = "approved"
    entry.save()
    assert [(line.id, line.rate, line.amount) for line in prebill(matter_id=matter).lines] == [
        (entry.pk, Decimal(450), Decimal("450.00"))
    ]


def test_a_rate_change_ends_the_rate_it_replaces_and_each_day_takes_its_own_rate(firm: Firm) -> None:
    old = set_rate(
        timekeeper_code="JD",
        hourly_rate="410",
        currency="EUR",
        valid_from=date(2026, 1, 5),
        actor=firm.supervisor,
    )
    new = set_rate(
        timekeeper_code="JD",
        hourly_rate="480",
        currency="EUR",
        valid_from=date(2026, 3, 1),
        actor=firm.supervisor,
    )
    old.refresh_from_db()
    assert (old.valid_to, new.valid_to) == (date(2026, 2, 28), None)
    event = AuditEvent.objects.filter(action="rate.set").latest("seq")
    assert event.before == {"ended": {"rate": old.pk, "valid_to": "2026-02-28"}}
    assert event.after["hourly_rate"] == "480" and event.after["timekeeper"] == "JD"
    assert rate_of(record(firm, "1.0", date(2026, 2, 28))) == Decimal(410)
    assert rate_of(record(firm, "1.0", date(2026, 3, 1))) == Decimal(480)
    # a customer's rate for two weeks only; before and after it the timekeeper's rate holds
    set_rate(
        timekeeper_code="JD", customer_id=firm.customer.pk, hourly_rate="300", currency="EUR",
        valid_from=date(2026, 2, 1), valid_to=date(2026, 2, 14), actor=firm.supervisor,
    )  # fmt: skip
    assert [rate_of(record(firm, "0.1", date(2026, 2, day))) for day in (1, 14, 15)] == [
        Decimal(300),
        Decimal(300),
        Decimal(410),
    ]


def test_only_a_rate_in_the_customers_currency_bills_its_time(firm: Firm) -> None:
    set_rate(
        role="paralegal",
        hourly_rate="100",
        currency="USD",
        valid_from=date(2026, 1, 5),
        actor=firm.supervisor,
    )
    assert rate_of(record(firm, "1.0", date(2026, 3, 4), timekeeper=firm.paralegal)) is None
    set_rate(
        role="paralegal", hourly_rate="90", currency="EUR", valid_from=date(2026, 1, 5), actor=firm.supervisor
    )
    assert rate_of(record(firm, "1.0", date(2026, 3, 5), timekeeper=firm.paralegal)) == Decimal(90)


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        (
            {"timekeeper_code": "JD", "customer_id": "customer", "currency": "USD"},
            CurrencyMismatch,
            "currency",
        ),
        ({"timekeeper_code": "JD", "role": "partner"}, InvalidInput, "timekeeper_code"),
        ({}, InvalidInput, "timekeeper_code"),
        ({"role": "partner", "customer_id": "customer", "matter_id": "matter"}, InvalidInput, "matter_id"),
        ({"role": "partner", "valid_from": date(2025, 12, 1)}, InvalidInput, "valid_from"),  # overlaps
        ({"role": "partner", "valid_to": date(2026, 1, 4)}, InvalidInput, "valid_to"),
        ({"role": "partner", "hourly_rate": "-1"}, Exception, "hourly_rate"),
        ({"role": "partner", "currency": "XYZ"}, Exception, "currency"),
        ({"role": "judge"}, InvalidInput, "role"),
        ({"timekeeper_code": "ZZ"}, Exception, "timekeeper_code"),
    ],
)
def test_a_bad_rate_is_refused_naming_the_field_and_nothing_changes(
    firm: Firm, fields: dict[str, Any], error: type[Exception], field: str
) -> None:
    values = {"hourly_rate": "500", "currency": "EUR", "valid_from": date(2026, 1, 5), **fields}
    values = {
        name: {"customer": firm.customer.pk, "matter": firm.matter.pk}.get(value, value)
        if name.endswith("_id")
        else value
        for name, value in values.items()
    }
    before = rates(), AuditEvent.objects.count()
    with pytest.raises(error) as refused:
        set_rate(actor=firm.supervisor, **values)
    assert getattr(refused.value, "field", None) == field
    assert (rates(), AuditEvent.objects.count()) == before


def test_a_clerk_may_not_set_rates(firm: Firm) -> None:
    before = rates()
    with pytest.raises(PermissionDenied):
        set_rate(
            role="partner", hourly_rate="1", currency="EUR", valid_from=date(2026, 5, 1), actor=firm.clerk
        )
    assert rates() == before
