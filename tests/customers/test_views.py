"""The staff pages: list with search and filters, detail with history, forms that keep what was typed
and show each error at its field, import with its reject report, export."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from billops.access.models import User
from billops.customers import services
from billops.customers.models import Customer
from tests.customers.factories import ContactDataFactory, CustomerFactory, create_customer

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_a_login(client: Client) -> None:
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_list_links_each_customer_and_searches(clerk: User) -> None:
    acme = create_customer(clerk, account_number="C-1", legal_name="Acme GmbH")
    create_customer(
        clerk,
        account_number="C-2",
        legal_name="Globex",
        contacts=[ContactDataFactory(email="ap@globex.example")],
    )
    page = logged_in(clerk).get(reverse("customers:list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<a href="{reverse("customers:detail", args=[acme.pk])}">C-1</a>' in html
    assert "Globex" in html and "2 customers" in html
    found = logged_in(clerk).get(reverse("customers:list"), {"search": "ap@globex"}).content.decode()
    assert "Globex" in found and "Acme GmbH" not in found


def test_list_filters_and_paging(clerk: User, supervisor: User) -> None:
    for _ in range(51):
        CustomerFactory()
    held = CustomerFactory(account_number="HOLD-1", legal_name="Held Ltd")
    services.place_credit_hold(customer_id=held.pk, reason="late", actor=supervisor)
    client = logged_in(clerk)
    first = client.get(reverse("customers:list")).content.decode()
    assert "Page 1 of 2 · 52 customers" in first
    second = client.get(reverse("customers:list"), {"page": 2}).content.decode()
    assert "Page 2 of 2" in second
    on_hold = client.get(reverse("customers:list"), {"hold": "1"}).content.decode()
    assert "Held Ltd" in on_hold and "1 customers" in on_hold
    by_name = client.get(reverse("customers:list"), {"sort": "-name"}).context["page"].object_list
    names = sorted(Customer.objects.values_list("legal_name", flat=True), reverse=True)
    assert [c.legal_name for c in by_name] == names[:50]


def test_detail_shows_master_data_contacts_children_and_history(clerk: User) -> None:
    parent = create_customer(clerk, account_number="P-1", legal_name="Parent AG")
    create_customer(clerk, account_number="K-1", legal_name="Kid GmbH", parent_account_number="P-1")
    services.change_customer(customer_id=parent.pk, changes={"legal_name": "Parent Holding AG"}, actor=clerk)
    services.add_contact(
        customer_id=parent.pk, data=ContactDataFactory(email="bill@parent.example"), actor=clerk
    )
    response = logged_in(clerk).get(reverse("customers:detail", args=[parent.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "P-1" in html and "Parent Holding AG" in html
    assert "bill@parent.example" in html
    assert "K-1" in html
    assert "customers.changed" in html and "customers.created" in html
    assert "&#x27;legal_name&#x27;: &#x27;Parent AG&#x27;" in html  # the before of the change


def test_missing_customer_is_404(clerk: User) -> None:
    assert logged_in(clerk).get(reverse("customers:detail", args=[424242])).status_code == 404


def form_data(**fields: str) -> dict[str, str]:
    data = {
        "account_number": "N-1",
        "legal_name": "New Co",
        "status": "active",
        "currency": "EUR",
        "country": "DE",
        "terms": "NET30",
        "tax_status": "taxable",
        "cycle": "monthly",
        "delivery_method": "email",
        "credit_limit": "0",
    }
    return {**data, **fields}


def test_create_shows_each_error_at_its_field_and_keeps_the_input(clerk: User, unchanged) -> None:
    client = logged_in(clerk)
    with unchanged():
        response = client.post(
            reverse("customers:create"),
            form_data(vat_id="DE136695978", currency="EUX", legal_name="Typed Name GmbH"),
        )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"vat_id", "currency"}
    assert "check digits are wrong" in form.errors["vat_id"][0]
    html = response.content.decode()
    assert 'value="Typed Name GmbH"' in html
    assert 'value="DE136695978"' in html
    assert 'class="field-error"' in html


def test_create_redirects_to_the_new_customer(clerk: User) -> None:
    response = logged_in(clerk).post(reverse("customers:create"), form_data(tags="vip", bill_to_parent=""))
    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert (customer.account_number, customer.legal_name, customer.bill_to_parent) == ("N-1", "New Co", False)


def test_an_auditor_posting_the_create_form_gets_403(auditor: User, unchanged) -> None:
    with unchanged():
        response = logged_in(auditor).post(reverse("customers:create"), form_data())
    assert response.status_code == 403
    assert "the auditor role may not do customers.create" in response.content.decode()


def test_edit_saves_changes_and_shows_errors(clerk: User, unchanged) -> None:
    customer = create_customer(clerk, account_number="E-1", legal_name="Before GmbH")
    client = logged_in(clerk)
    page = client.get(reverse("customers:edit", args=[customer.pk]))
    assert 'value="Before GmbH"' in page.content.decode()
    assert "credit_limit" not in page.context["form"].fields
    edit = form_data(account_number="E-1", legal_name="After GmbH", cycle_day="1")
    del edit["credit_limit"]
    response = client.post(reverse("customers:edit", args=[customer.pk]), edit)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.legal_name == "After GmbH"
    with unchanged():
        response = client.post(reverse("customers:edit", args=[customer.pk]), {**edit, "cycle_day": "32"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["cycle_day"]


def test_credit_hold_actions_from_the_detail_page(clerk: User, supervisor: User) -> None:
    customer = create_customer(clerk)
    url = reverse("customers:credit_hold", args=[customer.pk])
    refused = logged_in(clerk).post(url, {"reason": ""})
    assert refused.status_code == 200
    assert refused.context["hold_form"].errors == {"reason": ["the reason is required"]}
    assert logged_in(clerk).post(url, {"reason": "Bounced"}).status_code == 302
    customer.refresh_from_db()
    assert (customer.credit_hold, customer.credit_hold_reason) == (True, "Bounced")
    release = reverse("customers:release_hold", args=[customer.pk])
    assert logged_in(clerk).post(release, {"note": ""}).status_code == 403
    assert logged_in(supervisor).post(release, {"note": "ok"}).status_code == 302
    limit = logged_in(supervisor).post(
        reverse("customers:credit_limit", args=[customer.pk]), {"credit_limit": "900"}
    )
    assert limit.status_code == 302
    customer.refresh_from_db()
    assert (customer.credit_hold, customer.credit_limit_money.amount) == (False, 900)


def test_contact_and_address_forms(clerk: User) -> None:
    customer = create_customer(clerk)
    client = logged_in(clerk)
    url = reverse("customers:add_contact", args=[customer.pk])
    bad = client.post(url, {"role": "billing", "email": "nope"})
    assert bad.context["contact_form"].errors == {"email": ["'nope' is not an e-mail address"]}
    assert (
        client.post(url, {"role": "billing", "email": "ok@x.example", "is_primary": "on"}).status_code == 302
    )
    assert customer.contacts.get().is_primary is True
    address = {"kind": "billing", "lines": "Main St 1", "city": "Town", "country": "DE"}
    assert client.post(reverse("customers:add_address", args=[customer.pk]), address).status_code == 302
    assert customer.addresses.get().city == "Town"


def test_import_page_shows_the_reject_report(clerk: User, unchanged) -> None:
    create_customer(clerk, account_number="DUP-1")
    upload = SimpleUploadedFile(
        "customers.csv",
        b"account_number;legal_name;currency;country;credit_limit\nNEW-1;New;EUR;DE;\nDUP-1;Dup;EUR;DE;1.000,00\n",
    )
    with unchanged():
        response = logged_in(clerk).post(reverse("customers:import"), {"file": upload})
    assert response.status_code == 200
    rejects = response.context["result"].rejects
    assert [(r.row, r.column) for r in rejects] == [(3, "account_number"), (3, "credit_limit")]
    html = response.content.decode()
    assert "Nothing was imported from customers.csv: 2 problems" in html
    assert "a customer with account number DUP-1 already exists" in html
    assert 'download="rejects.csv"' in html


def test_import_page_creates_customers(clerk: User) -> None:
    upload = SimpleUploadedFile("c.csv", b"account_number,legal_name,currency,country\nI-1,One,EUR,DE\n")
    response = logged_in(clerk).post(reverse("customers:import"), {"file": upload})
    assert response.status_code == 302
    assert Customer.objects.get().account_number == "I-1"


def test_export_downloads(clerk: User) -> None:
    create_customer(clerk, account_number="X-1", legal_name="@risk")
    client = logged_in(clerk)
    csv_response = client.get(reverse("customers:export"))
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert "X-1,'@risk" in csv_response.content.decode("utf-8-sig")
    xlsx = client.get(reverse("customers:export"), {"format": "xlsx"})
    assert xlsx.content.startswith(b"PK\x03\x04")


def test_posts_with_fields_missing_get_field_errors_not_a_crash(
    clerk: User, supervisor: User, unchanged
) -> None:
    customer = create_customer(clerk)
    client = logged_in(supervisor)
    with unchanged():
        created = client.post(reverse("customers:create"), {})
        held = client.post(reverse("customers:credit_hold", args=[customer.pk]), {})
        contact = client.post(reverse("customers:add_contact", args=[customer.pk]), {})
        address = client.post(reverse("customers:add_address", args=[customer.pk]), {})
        limit = client.post(reverse("customers:credit_limit", args=[customer.pk]), {"credit_limit": "ten"})
    assert created.status_code == 200
    assert set(created.context["form"].errors) == {"account_number", "legal_name", "currency", "country"}
    assert list(held.context["hold_form"].errors) == ["reason"]
    assert set(contact.context["contact_form"].errors) == {"role", "name"}
    assert set(address.context["address_form"].errors) == {"kind", "lines", "city", "country"}
    assert limit.context["limit_form"].errors == {
        "credit_limit": ["credit_limit 'ten' is not a number like 1234.50"]
    }


def test_create_with_only_the_required_fields_takes_the_defaults(clerk: User) -> None:
    data = {"account_number": "D-1", "legal_name": "Defaults Ltd", "currency": "GBP", "country": "GB"}
    assert logged_in(clerk).post(reverse("customers:create"), data).status_code == 302
    customer = Customer.objects.get()
    assert (customer.status, customer.terms.code, customer.cycle, customer.cycle_day) == (
        "active",
        "NET30",
        "monthly",
        1,
    )
