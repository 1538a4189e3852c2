"""Exports: the import's columns, formula-looking text defused with `'`, and a faithful round trip."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from billops.access.models import User
from billops.customers import exports, services
from billops.customers.fileformat import COLUMNS, escape_cell, unescape_cell
from billops.customers.models import Address, Contact, Customer
from billops.customers.validation import customer_state
from tests.customers.factories import AddressDataFactory, ContactDataFactory, create_customer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20", "'+44 20"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=x", "'\t=x"),
        ("\r=x", "'\r=x"),
        ("'quoted", "''quoted"),
        ("Acme", "Acme"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_escape_cell_and_back(text: str, escaped: str) -> None:
    assert escape_cell(text) == escaped
    assert unescape_cell(escaped) == text


def make_customers(supervisor: User) -> None:
    create_customer(
        supervisor,
        account_number="E-1",
        legal_name='=HYPERLINK("http://evil.example")',
        trading_name="+Plus",
        notes="@risk\nsecond line",
        remittance_instructions="-2+3",
        credit_limit="12500.50",
        tags="vip, retail",
        vat_id="DE136695976",
        tax_status="exempt",
        exemption_certificate="EX-1",
        exemption_expires_on="2099-01-31",
        cycle="anniversary",
        anniversary_on="2024-02-29",
        delivery_method="einvoice",
        einvoice_endpoint_id="0088:5798000000001",
        contacts=[
            ContactDataFactory(
                role="billing", name="Ada", email="ada@e.example", phone="+49 30 1", is_primary=True
            ),
            ContactDataFactory(role="collections", name="Col", email="col@e.example"),
        ],
        addresses=[AddressDataFactory(lines="Line 1\nLine 2", city="Berlin")],
    )
    create_customer(
        supervisor,
        account_number="E-2",
        legal_name="Kid Ltd",
        currency="EUR",
        parent_account_number="E-1",
        bill_to_parent=True,
    )


def test_csv_export_escapes_formula_looking_text(supervisor: User) -> None:
    make_customers(supervisor)
    content = exports.export_csv(Customer.objects.all())
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["legal_name"] == '\'=HYPERLINK("http://evil.example")'
    assert first["trading_name"] == "'+Plus"
    assert first["notes"] == "'@risk\nsecond line"
    assert first["remittance_instructions"] == "'-2+3"
    assert first["billing_contact_phone"] == "'+49 30 1"
    assert (first["credit_limit"], first["tags"], first["anniversary_on"], first["cycle_day"]) == (
        "12500.50",
        "retail, vip",
        "2024-02-29",
        "",
    )
    assert (first["collections_contact_email"], first["ap_contact_email"]) == ("col@e.example", "")
    assert first["billing_address_lines"] == "Line 1\nLine 2"
    second = dict(zip(rows[0], rows[2], strict=True))
    assert (second["parent_account_number"], second["bill_to_parent"]) == ("E-1", "true")


def test_xlsx_export_escapes_formula_looking_text_and_writes_no_formula(supervisor: User) -> None:
    make_customers(supervisor)
    book = load_workbook(io.BytesIO(exports.export_xlsx(Customer.objects.all())), data_only=False)
    sheet = book["customers"]
    header = [cell.value for cell in sheet[1]]
    assert header == list(COLUMNS)
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert row["legal_name"].value == '\'=HYPERLINK("http://evil.example")'
    assert row["legal_name"].data_type == "s"  # text, not a formula
    assert row["trading_name"].value == "'+Plus"
    assert row["credit_limit"].value == 12500.5 and row["credit_limit"].data_type == "n"
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)


def wipe_customers() -> None:
    # test-only: make room to import the export again under the same account numbers
    Contact.objects.all().delete()
    Address.objects.all().delete()
    Customer.objects.filter(parent__isnull=False).delete()
    Customer.objects.all().delete()


@pytest.mark.parametrize(
    ("export", "filename"), [(exports.export_csv, "c.csv"), (exports.export_xlsx, "c.xlsx")]
)
def test_an_export_imports_back_to_the_same_customers(supervisor: User, export, filename: str) -> None:
    make_customers(supervisor)
    before = {c.account_number: customer_state(c) for c in Customer.objects.all()}
    contacts_before = sorted(
        Contact.objects.values_list("customer__account_number", "role", "name", "email", "phone")
    )
    addresses_before = list(Address.objects.values_list("kind", "lines", "city", "postal_code", "country"))
    content = export(Customer.objects.all())
    wipe_customers()

    result = services.import_customers(content=content, filename=filename, actor=supervisor)
    assert result.ok, result.rejects
    assert {c.account_number: customer_state(c) for c in Customer.objects.all()} == before
    assert sorted(
        Contact.objects.values_list("customer__account_number", "role", "name", "email", "phone")
    ) == (contacts_before)
    assert (
        list(Address.objects.values_list("kind", "lines", "city", "postal_code", "country"))
        == addresses_before
    )
    assert Customer.objects.get(account_number="E-1").exemption_expires_on == date(2099, 1, 31)


def test_export_follows_the_list_filters(supervisor: User) -> None:
    make_customers(supervisor)
    services.place_credit_hold(
        customer_id=Customer.objects.get(account_number="E-2").pk, reason="x", actor=supervisor
    )
    from billops.customers.selectors import list_customers

    rows = list(csv.reader(io.StringIO(exports.export_csv(list_customers(on_hold=True)).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["E-2"]
