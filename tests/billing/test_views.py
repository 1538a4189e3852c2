"""Staff pages for bill runs: the list, one run (partitions that refresh while it runs, exceptions, issued
invoices) and the preview of a month compared with the month before. Every page reads; none writes."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.billing import views
from billops.billing.models import BillRun
from billops.billing.services.charges import create_charge
from billops.billing.services.execution import start_run
from billops.billing.services.runs import open_run, run_partition
from billops.customers.models import Customer
from billops.customers.services import place_credit_hold
from billops.invoicing.models import Invoice
from tests.invoicing.factories import make_customer

pytestmark = pytest.mark.django_db

MARCH = {"period": "2026-03", "invoice_date": "2026-04-01"}
APRIL = {"period": "2026-04", "invoice_date": "2026-05-01"}
# consulting is 135 an hour from 10 hours, licences 49.90, handbooks 24.95; VAT 19 % (handbooks 7 %)
A_MARCH, B_MARCH, G_MARCH = "1,606.50", "118.76", "26.70"  # 10 h; 2 licences; 1 handbook
MARCH_TOTAL = "1,751.96"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def charge(actor: User, customer: Customer, product: str, quantity: str, on: date) -> None:
    create_charge(
        customer_id=customer.pk, product_code=product, quantity=quantity, actor=actor, charge_date=on
    )


def row(page: str, marker: str) -> str:
    """The text of the table row holding `marker`, tags dropped and spaces collapsed."""
    for found in re.findall(r"<tr\b.*?</tr>", page, flags=re.S):
        if marker in found:
            return words(found)
    raise AssertionError(f"no row with {marker!r}")


def words(page: str) -> str:
    """The page's text as a reader sees it, tags dropped and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def counts() -> tuple[int, int, int]:
    return Invoice.objects.count(), BillRun.objects.count(), AuditEvent.objects.count()


@pytest.fixture
def march(clerk: User, entity: Any, catalog: Any) -> dict[str, Customer]:
    """Monthly customers with work in March: A-1 ten hours of consulting, B-1 two licences, G-1 a handbook;
    N-1 has nothing yet."""
    made = {name: make_customer(clerk, account_number=f"{name}-1") for name in "ABGN"}
    charge(clerk, made["A"], "CONSULT", "10", date(2026, 3, 3))
    charge(clerk, made["B"], "LICENSE", "2", date(2026, 3, 10))
    charge(clerk, made["G"], "BOOK", "1", date(2026, 3, 31))
    return made


def test_the_pages_need_a_signed_in_user(db: None) -> None:
    for url in (
        reverse("billing:runs"),
        reverse("billing:run", args=[1]),
        reverse("billing:run_partitions", args=[1]),
        reverse("billing:run_preview") + "?period=2026-03",
    ):
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_the_list_shows_each_run_with_its_month_status_figures_and_totals(
    clerk: User, march: dict[str, Customer]
) -> None:
    hold = make_customer(clerk, account_number="H-1")
    charge(clerk, hold, "BOOK", "1", date(2026, 3, 5))
    place_credit_hold(customer_id=hold.pk, reason="cheque returned", actor=clerk)
    run = start_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1))
    assert run.totals == {"EUR": "1751.96"}

    page = text(signed_in(clerk).get(reverse("billing:runs")))
    assert f'href="{reverse("billing:run", args=[run.pk])}"' in page
    # run, month, invoice date, status, due, issued, exceptions, totals, started by
    shown = row(page, reverse("billing:run", args=[run.pk]))
    assert shown.startswith(f"{run.pk} 2026-03 2026-04-01 Done 4 3 0 1 {MARCH_TOTAL} EUR ")
    assert shown.endswith("by clerk")
    assert "1 bill runs" in page


def test_a_run_shows_its_exceptions_and_the_invoices_it_issued(
    clerk: User, collector: User, march: dict[str, Customer]
) -> None:
    place_credit_hold(customer_id=march["B"].pk, reason="cheque returned", actor=clerk)
    run = start_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1))
    numbers = list(Invoice.objects.order_by("number").values_list("number", "pk"))
    assert [number for number, _ in numbers] == ["INV-2026-000001", "INV-2026-000002"]

    response = signed_in(collector).get(reverse("billing:run", args=[run.pk]))  # every role reads
    assert response.status_code == 200
    page = text(response)
    exception = row(page, reverse("customers:detail", args=[march["B"].pk]))
    assert exception == (
        f"B-1 {march['B'].legal_name} credit_hold B-1 is on credit hold (cheque returned); "
        "a supervisor must record an override to invoice it"
    )
    for number, pk in numbers:
        assert f'<a href="{reverse("invoicing:detail", args=[pk])}">{number}</a>' in page
    assert row(page, "INV-2026-000001") == f"INV-2026-000001 A-1 {march['A'].legal_name} {A_MARCH} EUR"
    assert "1 of 1 partitions done" in page and '<progress value="1" max="1">' in page
    assert "hx-trigger" not in page  # done: nothing to refresh
    assert "Invoices issued 2 Drafts for review 0 Exceptions 1 Totals issued 1,633.20 EUR" in words(
        page
    )  # A and G


def test_a_run_lists_at_most_so_many_invoices_and_counts_the_rest(
    clerk: User, march: dict[str, Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = start_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1))
    monkeypatch.setattr(views, "INVOICES_SHOWN", 2)
    page = text(signed_in(clerk).get(reverse("billing:run", args=[run.pk])))
    assert "INV-2026-000002" in page and "INV-2026-000003" not in page
    assert "… and 1 more" in page


def test_a_running_run_refreshes_its_partitions_until_it_is_done(
    clerk: User, march: dict[str, Customer]
) -> None:
    run = open_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1), partition_size=2)
    client = signed_in(clerk)
    partitions_url = reverse("billing:run_partitions", args=[run.pk])

    page = text(client.get(reverse("billing:run", args=[run.pk])))
    assert "0 of 2 partitions done" in page and '<progress value="0" max="2">' in page
    assert f'hx-get="{partitions_url}" hx-trigger="every 2s" hx-swap="outerHTML"' in page
    assert "Invoices issued 0 so far" in words(page)

    first, second = run.partitions.order_by("number")
    run_partition(first.pk)
    block = client.get(partitions_url, headers={"HX-Request": "true"})
    assert "1 of 2 partitions done" in text(block) and 'hx-trigger="every 2s"' in text(block)
    assert "HX-Refresh" not in block

    run_partition(second.pk)
    block = client.get(partitions_url, headers={"HX-Request": "true"})
    assert "2 of 2 partitions done" in text(block) and "hx-trigger" not in text(block)
    assert block["HX-Refresh"] == "true"  # the page reloads once for the final figures
    page = text(client.get(reverse("billing:run", args=[run.pk])))
    assert "2 of 2 partitions done" in page and "hx-trigger" not in page
    assert f"Invoices issued 3 Drafts for review 0 Exceptions 0 Totals issued {MARCH_TOTAL} EUR" in words(
        page
    )


def test_an_unknown_run_is_not_found(clerk: User) -> None:
    client = signed_in(clerk)
    assert client.get(reverse("billing:run", args=[999])).status_code == 404
    assert client.get(reverse("billing:run_partitions", args=[999])).status_code == 404


def test_the_preview_shows_the_planned_invoices_and_totals_and_writes_nothing(
    clerk: User, march: dict[str, Customer]
) -> None:
    client = signed_in(clerk)
    before = counts()
    response = client.get(reverse("billing:run_preview"), MARCH)
    assert response.status_code == 200
    assert counts() == before
    page = text(response)
    assert "Nothing was written." in page
    assert "billops billrun --period 2026-03 --invoice-date 2026-04-01 --user clerk" in page
    assert f"Customers due 3 Invoices 3 Exceptions 0 Totals issued {MARCH_TOTAL} EUR" in words(page)
    # customer, reference, lines, net, tax, total, currency, what the run does, last month, compared: no
    # run in February, all new
    for name, figures in (
        ("A", "— 1 1,350.00 256.50 1,606.50 EUR issued — new"),
        ("B", "— 1 99.80 18.96 118.76 EUR issued — new"),
        ("G", "— 1 24.95 1.75 26.70 EUR issued — new"),
    ):
        customer = march[name]
        assert (
            row(page, f'id="planned-{customer.pk}"')
            == f"{customer.account_number} {customer.legal_name} {figures}"
        )
    assert "The month before has no finished run" in page


def test_the_preview_marks_new_changed_and_gone_customers_against_last_months_run(
    clerk: User, march: dict[str, Customer]
) -> None:
    start_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1))
    # April: A-1 one hour more (+10 %), B-1 twice the licences (+100 %), N-1 new, G-1 nothing
    charge(clerk, march["A"], "CONSULT", "11", date(2026, 4, 7))
    charge(clerk, march["B"], "LICENSE", "4", date(2026, 4, 10))
    charge(clerk, march["N"], "LICENSE", "1", date(2026, 4, 20))
    client = signed_in(clerk)
    before = counts()

    page = text(client.get(reverse("billing:run_preview"), APRIL))
    marks = {name: row(page, f'id="planned-{march[name].pk}"').split(" EUR ", 1)[1] for name in "ABN"}
    assert marks == {
        "A": f"issued {A_MARCH}",
        "B": f"issued {B_MARCH} changed +100.0 %",
        "N": "issued — new",
    }  # A-1 within 20 %
    assert row(page, f'id="gone-{march["G"].pk}"') == f"G-1 {march['G'].legal_name} {G_MARCH} EUR gone"
    assert f'id="planned-{march["G"].pk}"' not in page

    # a lower threshold marks A-1's ten per cent too
    page = text(client.get(reverse("billing:run_preview"), {**APRIL, "threshold": "5"}))
    assert row(page, f'id="planned-{march["A"].pk}"').endswith(
        f"1,767.15 EUR issued {A_MARCH} changed +10.0 %"
    )
    assert "more than 5 %" in page
    assert counts() == before


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "2026-13"}, "the period '2026-13' is not a month (YYYY-MM)"),
        ({"period": "March"}, "the period 'March' is not a month (YYYY-MM)"),
        ({"period": "2026-99999999999999999999"}, "the period '2026-99999999999999999999' is not a month"),
        ({**MARCH, "invoice_date": "1999-01-01"}, "invoice_date 1999-01-01 is not between 2000-01-01 and"),
        ({**MARCH, "invoice_date": "1 April"}, "'1 April' is not a date like 2026-04-01"),
        ({**MARCH, "threshold": "lots"}, "the threshold 'lots' is not a number of percent"),
        ({**MARCH, "threshold": "-5"}, "the threshold '-5' is not a percentage of 0 or more"),
        ({**MARCH, "threshold": "NaN"}, "the threshold 'NaN' is not a percentage of 0 or more"),
    ],
)
def test_bad_input_on_the_preview_is_shown_on_the_form_and_nothing_is_written(
    clerk: User, march: dict[str, Customer], params: dict[str, str], message: str
) -> None:
    before = counts()
    response = signed_in(clerk).get(reverse("billing:run_preview"), params)
    assert response.status_code == 200  # as the other pages' filter forms
    page = text(response)
    assert f'<p class="flash flash-error" role="alert">{message}' in page
    assert 'name="period"' in page and "Planned invoices" not in page and "Nothing was written" not in page
    assert counts() == before


def test_without_a_month_the_preview_shows_its_form_alone(clerk: User, march: dict[str, Customer]) -> None:
    response = signed_in(clerk).get(reverse("billing:run_preview"))
    page = text(response)
    assert response.status_code == 200
    assert 'name="period"' in page and 'name="threshold" value="20"' in page
    assert "Planned invoices" not in page and "flash-error" not in page


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.AUDITOR])
def test_only_billing_roles_preview_but_every_role_reads_the_runs(
    clerk: User, make_user: Callable[..., User], march: dict[str, Customer], role: str
) -> None:
    run = start_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1))
    client = signed_in(make_user(role))
    before = counts()
    for params in ({}, APRIL):
        refused = client.get(reverse("billing:run_preview"), params)
        assert refused.status_code == 403
        page = text(refused)
        assert "You may not preview bill runs" in page
        assert 'name="period"' not in page and "Planned invoices" not in page
    assert counts() == before
    runs = client.get(reverse("billing:runs"))
    assert runs.status_code == 200 and "2026-03" in text(runs)
    assert reverse("billing:run_preview") not in text(runs)  # no way in to what it may not do
    assert client.get(reverse("billing:run", args=[run.pk])).status_code == 200
