"""The collections pages: the aging with its chart, drill-down and exports; the worklist; a customer's page
with the forms a collector works it with."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.collections.models import Activity, CollectionProfile, PromiseToPay
from tests.collections.conftest import Book

pytestmark = pytest.mark.django_db


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_aging_page_shows_buckets_totals_and_a_chart(book: Book, collector: User) -> None:
    page = client_of(collector).get(reverse("collections:aging"), {"as_of": "2026-05-20"})

    assert page.status_code == 200
    text = page.content.decode()
    assert "Aging as of 2026-05-20" in text
    assert "C-ACME Acme GmbH" in text and "C-CROWN Crown Ltd" in text
    assert text.count("<svg") == 2  # one chart per currency
    assert "EUR open amounts by bucket" in text and "Over 90: 50.00 EUR" in text
    # a customer's figure links to the items behind it
    assert f"customer={book.acme.pk}&amp;currency=EUR&amp;bucket=2" in text


def test_the_aging_exports_as_csv_and_xlsx_with_a_total_per_currency(book: Book, collector: User) -> None:
    client = client_of(collector)
    asked = {"as_of": "2026-05-01", "group": "customer"}

    exported = client.get(reverse("collections:aging"), asked | {"format": "csv"})

    assert exported["Content-Disposition"] == 'attachment; filename="aging-by-customer-20260501.csv"'
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows == [
        ["customer", "currency", "Current", "1-30", "31-60", "61-90", "Over 90", "total"],
        ["C-ACME Acme GmbH", "EUR", "357.00", "0.00", "238.00", "119.00", "0.00", "714.00"],
        ["C-BOLT Bolt AG", "EUR", "0.00", "0.00", "0.00", "0.00", "50.00", "50.00"],
        ["C-CROWN Crown Ltd", "GBP", "100.00", "0.00", "0.00", "0.00", "0.00", "100.00"],
        ["Total", "EUR", "357.00", "0.00", "238.00", "119.00", "50.00", "764.00"],
        ["Total", "GBP", "100.00", "0.00", "0.00", "0.00", "0.00", "100.00"],
    ]
    workbook = client.get(reverse("collections:aging"), asked | {"format": "xlsx", "group": "currency"})
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2, max_row=2)] == [
        ["All customers", "EUR", 357, 0, 238, 119, 50, 764],
    ]


def test_the_drill_down_lists_a_customers_items_in_a_bucket(book: Book, collector: User) -> None:
    page = client_of(collector).get(
        reverse("collections:aging_items"), {"as_of": "2026-05-20", "customer": book.acme.pk, "bucket": "2"}
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert book.invoices["mar"].number in text and book.invoices["may"].number not in text
    assert "31-60" in text and "238.00" in text


def test_bad_aging_filters_are_said_on_the_page(book: Book, collector: User) -> None:
    page = client_of(collector).get(reverse("collections:aging"), {"buckets": "60,30"})
    assert page.status_code == 400
    assert "buckets are 1 to 8 ascending limits in days" in page.content.decode()
    page = client_of(collector).get(reverse("collections:aging"), {"as_of": "20.05.2026"})
    assert page.status_code == 400
    assert "is not a date like 2026-01-31" in page.content.decode()


def test_the_worklist_lists_everyones_overdue_customers_for_a_supervisor(
    book: Book, supervisor: User
) -> None:
    page = client_of(supervisor).get(reverse("collections:worklist"))

    text = page.content.decode()
    assert page.status_code == 200
    assert text.index("C-BOLT") < text.index("C-ACME") < text.index("C-CROWN")
    assert "238.00 EUR overdue: 24; age: 20" in text


def test_a_collector_records_a_call_and_a_promise_on_the_customer_page(book: Book, collector: User) -> None:
    client = client_of(collector)
    url = reverse("collections:customer", args=[book.acme.pk])

    answer = client.post(
        reverse("collections:customer_action", args=[book.acme.pk, "activity"]),
        {"kind": "call", "outcome": "promised", "contact": "Anna", "note": "Will pay Friday",
         "next_action_on": "2026-05-23", "next_action": "Check the payment"},
    )  # fmt: skip
    assert answer.status_code == 302
    answer = client.post(
        reverse("collections:customer_action", args=[book.acme.pk, "promise"]),
        {
            "amount": "238.00",
            "promised_on": "2026-05-22",
            "contact": "Anna",
            "invoices": book.invoices["mar"].number,
        },
    )
    assert answer.status_code == 302

    promise = PromiseToPay.objects.get()
    assert (promise.amount, promise.promised_on, list(promise.invoices.all())) == (
        238, date(2026, 5, 22), [book.invoices["mar"]],
    )  # fmt: skip
    assert Activity.objects.get().outcome == "promised"
    page = client.get(url).content.decode()
    assert "Promised 238.00 EUR by 2026-05-22" in page and "Will pay Friday" in page
    assert "2026-05-23: Check the payment" in page


def test_a_refused_promise_is_shown_at_its_field_and_nothing_is_recorded(book: Book, collector: User) -> None:
    events = AuditEvent.objects.count()

    page = client_of(collector).post(
        reverse("collections:customer_action", args=[book.acme.pk, "promise"]),
        {"amount": "9999.00", "promised_on": "2026-05-22", "contact": "Anna"},
    )

    assert page.status_code == 200
    assert 'id="promiseform-amount-errors"' in page.content.decode()
    assert "owes 595.00 EUR; a promise of 9999.00 EUR is more" in page.content.decode()
    assert (PromiseToPay.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_only_a_supervisor_assigns_a_collector(book: Book, collector: User, supervisor: User) -> None:
    url = reverse("collections:customer_action", args=[book.acme.pk, "assign"])

    refused = client_of(collector).post(url, {"collector": collector.pk})
    assert refused.status_code == 403
    assert CollectionProfile.objects.count() == 0

    assert client_of(supervisor).post(url, {"collector": collector.pk}).status_code == 302
    assert CollectionProfile.objects.get().collector == collector
    assert (
        "Assign"
        not in client_of(collector).get(reverse("collections:customer", args=[book.acme.pk])).content.decode()
    )
