"""Aging as of any day: reproduced from the subledger's history, by due date or invoice date, in buckets of
one's choosing, per customer, collector, entity or currency, with the items behind each figure."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billops.access.models import User
from billops.collections.selectors.aging import Buckets, _bucket_of, aged_items, aging, parse_buckets
from billops.collections.services.accounts import assign_collector
from billops.core.errors import InvalidInput
from tests.collections.conftest import TODAY, Book

pytestmark = pytest.mark.django_db
D = Decimal


def table(report_rows: list) -> dict:
    return {(row.key, row.currency): [str(amount) for amount in row.buckets] for row in report_rows}


def test_aging_by_due_date_puts_each_open_item_in_its_bucket(book: Book) -> None:
    report = aging(as_of=TODAY)

    assert report.buckets.labels == ["Current", "1-30", "31-60", "61-90", "Over 90"]
    # Acme: March invoice due 31 March is 50 days late; May invoice due 31 May is current; January is paid
    # Bolt: the opening balance of 31 December is 140 days late; Crown: due 15 May, 5 days late
    assert table(report.rows) == {
        (book.acme.pk, "EUR"): ["357.00", "0.00", "238.00", "0.00", "0.00"],
        (book.bolt.pk, "EUR"): ["0.00", "0.00", "0.00", "0.00", "50.00"],
        (book.crown.pk, "GBP"): ["0.00", "100.00", "0.00", "0.00", "0.00"],
    }
    assert table(report.totals()) == {
        (None, "EUR"): ["357.00", "0.00", "238.00", "0.00", "50.00"],
        (None, "GBP"): ["0.00", "100.00", "0.00", "0.00", "0.00"],
    }
    assert [row.total for row in report.totals()] == [D("645.00"), D("100.00")]


def test_a_past_day_is_reproduced_from_history_not_from_todays_open_amounts(book: Book) -> None:
    # on 1 May the January invoice (paid on 10 May) was 90 days late, and Crown's not yet due
    first_of_may = {
        (book.acme.pk, "EUR"): ["357.00", "0.00", "238.00", "119.00", "0.00"],
        (book.bolt.pk, "EUR"): ["0.00", "0.00", "0.00", "0.00", "50.00"],
        (book.crown.pk, "GBP"): ["100.00", "0.00", "0.00", "0.00", "0.00"],
    }
    assert table(aging(as_of=date(2026, 5, 1)).rows) == first_of_may
    # on 30 April the May invoice did not exist yet, and the March one was 30 days late
    assert table(aging(as_of=date(2026, 4, 30)).rows)[(book.acme.pk, "EUR")] == [
        "0.00", "238.00", "0.00", "119.00", "0.00",
    ]  # fmt: skip
    # and before anything was issued there is nothing to age
    assert aging(as_of=date(2025, 12, 30)).rows == []


def test_a_payment_made_later_does_not_change_an_earlier_days_aging(book: Book, clerk: User) -> None:
    before = table(aging(as_of=date(2026, 5, 15)).rows)

    book.pay(clerk, book.acme, "238.00", TODAY, book.invoices["mar"])

    assert table(aging(as_of=date(2026, 5, 15)).rows) == before
    assert table(aging(as_of=TODAY).rows)[(book.acme.pk, "EUR")] == ["357.00", "0.00", "0.00", "0.00", "0.00"]


def test_aging_by_invoice_date_has_no_current_bucket(book: Book) -> None:
    report = aging(as_of=TODAY, buckets=parse_buckets("30,60,90", basis="invoice"))

    assert report.buckets.labels == ["0-30", "31-60", "61-90", "Over 90"]
    # March invoice dated 1 March: 80 days old; May: 19 days; Bolt: 140; Crown: 35
    assert table(report.rows) == {
        (book.acme.pk, "EUR"): ["357.00", "0.00", "238.00", "0.00"],
        (book.bolt.pk, "EUR"): ["0.00", "0.00", "0.00", "50.00"],
        (book.crown.pk, "GBP"): ["0.00", "100.00", "0.00", "0.00"],
    }


def test_buckets_of_ones_own_choosing(book: Book) -> None:
    report = aging(as_of=TODAY, buckets=parse_buckets("7,45"))

    assert report.buckets.labels == ["Current", "1-7", "8-45", "Over 45"]
    assert table(report.rows)[(book.acme.pk, "EUR")] == ["357.00", "0.00", "0.00", "238.00"]
    assert table(report.rows)[(book.crown.pk, "GBP")] == ["0.00", "100.00", "0.00", "0.00"]


def test_aging_per_collector_entity_and_currency(book: Book, supervisor: User, collector: User) -> None:
    assign_collector(customer_id=book.acme.pk, collector_id=collector.pk, actor=supervisor)
    assign_collector(customer_id=book.crown.pk, collector_id=collector.pk, actor=supervisor)

    by_collector = table(aging(as_of=TODAY, group="collector").rows)
    assert by_collector == {
        (collector.pk, "EUR"): ["357.00", "0.00", "238.00", "0.00", "0.00"],
        (collector.pk, "GBP"): ["0.00", "100.00", "0.00", "0.00", "0.00"],
        (None, "EUR"): ["0.00", "0.00", "0.00", "0.00", "50.00"],  # Bolt has nobody
    }
    entity_id = book.invoices["mar"].entity_id
    assert table(aging(as_of=TODAY, group="entity").rows) == {
        (entity_id, "EUR"): ["357.00", "0.00", "238.00", "0.00", "0.00"],
        (entity_id, "GBP"): ["0.00", "100.00", "0.00", "0.00", "0.00"],
        (None, "EUR"): ["0.00", "0.00", "0.00", "0.00", "50.00"],  # an opening balance has no entity
    }
    assert table(aging(as_of=TODAY, group="currency").rows) == {
        (None, "EUR"): ["357.00", "0.00", "238.00", "0.00", "50.00"],
        (None, "GBP"): ["0.00", "100.00", "0.00", "0.00", "0.00"],
    }
    assert table(aging(as_of=TODAY, collector_id=collector.pk, currency="GBP").rows) == {
        (book.crown.pk, "GBP"): ["0.00", "100.00", "0.00", "0.00", "0.00"],
    }


def test_the_drill_down_lists_the_items_behind_a_figure(book: Book) -> None:
    items = aged_items(as_of=TODAY, customer_id=book.acme.pk)

    assert [(item.item_id, item.open_amount, item.bucket, item.days_overdue) for item in items] == [
        (book.invoices["mar"].pk, D("238.00"), 2, 50),
        (book.invoices["may"].pk, D("357.00"), 0, 0),
    ]
    overdue_long = aged_items(as_of=TODAY, bucket=4)
    assert [(item.kind, item.item_id, item.open_amount) for item in overdue_long] == [
        ("opening_balance", book.opening.pk, D("50.00")),
    ]
    # on 1 May the January invoice was still open, 90 days late
    late = aged_items(as_of=date(2026, 5, 1), bucket=3)
    assert [item.item_id for item in late] == [book.invoices["jan"].pk]


@pytest.mark.parametrize(
    ("text", "basis", "field"),
    [
        ("30,x", "due", "buckets"),
        ("60,30", "due", "buckets"),
        ("0,30", "due", "buckets"),
        ("30,30", "due", "buckets"),
        ("1,2,3,4,5,6,7,8,9", "due", "buckets"),
        ("30", "posting", "basis"),
    ],
)
def test_bad_buckets_are_refused_naming_the_field(text: str, basis: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_buckets(text, basis)
    assert refused.value.field == field


def test_an_unknown_grouping_is_refused(db: None) -> None:
    with pytest.raises(InvalidInput) as refused:
        aging(as_of=TODAY, group="region")
    assert refused.value.field == "group"


@given(
    age=st.integers(min_value=-400, max_value=4000),
    limits=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=8, unique=True).map(sorted),
    basis=st.sampled_from(["due", "invoice"]),
)
def test_every_age_falls_in_exactly_one_bucket_the_one_the_drill_down_names(
    age: int, limits: list[int], basis: str
) -> None:
    buckets = Buckets(tuple(limits), basis)
    day = TODAY - timedelta(days=age)
    matching = []
    for index, condition in enumerate(buckets.ranges(TODAY)):
        lookups = dict(condition.children)  # each bucket is an AND of at most two date bounds
        column = "due_on" if basis == "due" else "document_on"
        low, high = lookups.get(f"{column}__gte", date.min), lookups.get(f"{column}__lte", date.max)
        if low <= day <= high:
            matching.append(index)
    assert matching == [_bucket_of(day, TODAY, buckets)]
    assert len(buckets.labels) == len(buckets.ranges(TODAY))
