"""Customer imports: all or nothing, problems named by row and column, amounts never wrongly scaled,
formula-looking cells stored literally."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.customers import services
from billops.customers.fileformat import Reject
from billops.customers.models import Customer, CustomerImport
from tests.customers.factories import create_customer

pytestmark = pytest.mark.django_db

HEADER = "account_number,legal_name,currency,country"


def csv_file(*lines: str, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n").encode()


def run(content: bytes, actor: User, filename: str = "customers.csv") -> services.ImportResult:
    return services.import_customers(content=content, filename=filename, actor=actor)


def test_csv_import_creates_every_customer_with_contacts_address_and_parent(clerk: User) -> None:
    content = csv_file(
        "account_number,legal_name,currency,country,vat_id,terms,cycle,cycle_day,tags,parent_account_number,"
        "bill_to_parent,billing_contact_name,billing_contact_email,ap_contact_email,billing_address_lines,"
        "billing_address_city,billing_address_postal_code",
        'P-1,Parent AG,EUR,DE,DE 136 695 976,NET15,quarterly,5,"vip, retail",,,'
        "Ada,ada@p.example,,Hauptstr. 1,Bonn,53111",
        "K-1,Kid GmbH,EUR,AT,,,,,,p-1,yes,,,ap@k.example,,,",
    )
    result = run(content, clerk)

    assert (result.ok, result.created, result.rejects) == (True, 2, [])
    parent = Customer.objects.get(account_number="P-1")
    child = Customer.objects.get(account_number="K-1")
    assert (parent.vat_id, parent.terms.code, parent.cycle, parent.cycle_day) == (
        "DE136695976",
        "NET15",
        "quarterly",
        5,
    )
    assert sorted(parent.tags.values_list("name", flat=True)) == ["retail", "vip"]
    assert [(c.role, c.name, c.email, c.is_primary) for c in parent.contacts.all()] == [
        ("billing", "Ada", "ada@p.example", True)
    ]
    assert [(a.kind, a.lines, a.city, a.postal_code, a.country) for a in parent.addresses.all()] == [
        ("billing", "Hauptstr. 1", "Bonn", "53111", "DE")  # the address country defaults to the customer's
    ]
    assert (child.parent, child.bill_to_parent, child.terms.code, child.cycle_day) == (
        parent,
        True,
        "NET30",
        1,
    )
    assert [(c.role, c.email) for c in child.contacts.all()] == [("ap", "ap@k.example")]

    batch = CustomerImport.objects.get()
    assert (batch.pk, batch.filename, batch.file_format, batch.rows, batch.imported_by) == (
        result.import_id,
        "customers.csv",
        "csv",
        2,
        clerk,
    )
    events = list(AuditEvent.objects.filter(action__startswith="customers.").order_by("seq"))
    assert [(e.action, e.target_type, e.actor) for e in events] == [
        ("customers.created", "customers.customer", clerk),
        ("customers.created", "customers.customer", clerk),
        ("customers.imported", "customers.customerimport", clerk),
    ]
    assert (events[0].after["account_number"], events[0].after["import_id"], events[0].after["row"]) == (
        "P-1",
        batch.pk,
        2,
    )
    assert events[2].after["created"] == 2
    assert events[2].after["account_numbers"] == ["P-1", "K-1"]


def test_semicolon_csv_with_bom_reads_decimal_commas(supervisor: User) -> None:
    content = csv_file(
        "account_number;legal_name;currency;country;credit_limit",
        "S-1;Société Générale Client;EUR;FR;12500,50",
        "S-2;Kunde GmbH;EUR;DE;7000",
        bom=True,
    )
    result = run(content, supervisor)
    assert result.ok, result.rejects
    assert Customer.objects.get(account_number="S-1").credit_limit == Decimal("12500.50")
    assert Customer.objects.get(account_number="S-1").legal_name == "Société Générale Client"
    assert Customer.objects.get(account_number="S-2").credit_limit == Decimal("7000")


SEMICOLONS = "account_number;legal_name;currency;country;credit_limit"
COMMAS = "account_number,legal_name,currency,country,credit_limit"


@pytest.mark.parametrize(
    ("header", "line", "written"),
    [
        (SEMICOLONS, "S-1;X;EUR;DE;1.234,50", "1.234,50"),
        (SEMICOLONS, "S-1;X;EUR;DE;1234.50", "1234.50"),
        (SEMICOLONS, "S-1;X;EUR;DE;1 234,50", "1 234,50"),
        (COMMAS, 'S-1,X,EUR,DE,"1,234.50"', "1,234.50"),
        (COMMAS, 'S-1,X,EUR,DE,"1234,50"', "1234,50"),
        (COMMAS, "S-1,X,EUR,DE,1'234.50", "1'234.50"),
    ],
)
def test_thousands_separators_are_refused_with_row_and_column(
    supervisor: User, unchanged, header: str, line: str, written: str
) -> None:
    with unchanged():
        result = run(csv_file(header, line), supervisor)
    assert result.created == 0
    assert len(result.rejects) == 1
    reject = result.rejects[0]
    assert (reject.row, reject.column) == (2, "credit_limit")
    assert reject.message.startswith(f"credit_limit {written!r}: thousands separators are not accepted")


@pytest.mark.parametrize(
    ("header", "line"),
    [
        (SEMICOLONS, "S-1;X;EUR;DE;5,000"),  # 5 or 5000?
        (COMMAS, "S-1,X,EUR,DE,5.000"),
        (COMMAS, "S-1,X,JPY,JP,5.0"),
    ],
)
def test_more_places_than_the_currency_has_is_refused_not_rescaled(
    supervisor: User, unchanged, header: str, line: str
) -> None:
    with unchanged():
        result = run(csv_file(header, line), supervisor)
    assert [(r.row, r.column) for r in result.rejects] == [(2, "credit_limit")]
    assert "decimal places but" in result.rejects[0].message


def test_formula_looking_cells_are_stored_literally(clerk: User, unchanged) -> None:
    with unchanged():  # an account number has a format of its own, so a formula there is refused
        result = run(csv_file(HEADER, "=X1,Acme,EUR,DE"), clerk)
    assert [(r.row, r.column) for r in result.rejects] == [(2, "account_number")]
    # in text fields the formula texts are all kept exactly as typed
    content = csv_file(
        "account_number,legal_name,trading_name,notes,remittance_instructions,currency,country",
        'F-1,"=HYPERLINK(""http://evil.example"",""click"")",+Plus,"@SUM(A1:A2)","-2+3",EUR,DE',
        'F-2,"\t=cmd|\' /C calc\'!A0",x,"\r=1",y,EUR,DE',
    )
    result = run(content, clerk)
    assert result.ok, result.rejects
    first = Customer.objects.get(account_number="F-1")
    assert (first.legal_name, first.trading_name, first.notes, first.remittance_instructions) == (
        '=HYPERLINK("http://evil.example","click")',
        "+Plus",
        "@SUM(A1:A2)",
        "-2+3",
    )
    second = Customer.objects.get(account_number="F-2")
    assert (second.legal_name, second.notes) == ("\t=cmd|' /C calc'!A0", "\n=1")  # line ends become LF


def test_a_line_break_in_a_one_line_field_is_refused(clerk: User, unchanged) -> None:
    with unchanged():
        result = run(csv_file(HEADER + ",trading_name", 'L-1,"\r=1+1",EUR,DE,"two\nlines"'), clerk)
    assert result.rejects == [
        Reject(2, "legal_name", "the legal name must be on one line"),
        Reject(2, "trading_name", "trading_name must be on one line"),
    ]


def test_escaped_cells_lose_exactly_one_apostrophe(clerk: User) -> None:
    content = csv_file(
        "account_number,legal_name,currency,country,notes,billing_contact_name,billing_contact_phone",
        "Q-1,'=1+1,EUR,DE,''quoted,Bob,'+44 20 7946 0958",
    )
    assert run(content, clerk).ok
    customer = Customer.objects.get()
    assert (customer.legal_name, customer.notes) == ("=1+1", "'quoted")
    assert customer.contacts.get().phone == "+44 20 7946 0958"


def test_one_bad_row_refuses_the_whole_file(clerk: User, unchanged) -> None:
    create_customer(clerk, account_number="OLD-1")
    content = csv_file(
        HEADER + ",vat_id,parent_account_number,billing_contact_email",
        "N-1,Good One,EUR,DE,,,",
        "N-2,Bad VAT,EUR,DE,DE136695978,,",
        "OLD-1,Already There,EUR,DE,,,",
        "N-1,Twice,EUR,DE,,,",
        "N-3,Orphan,EUR,DE,,N-4,",
        "N-4,Later Parent,EUR,DE,,,x@",
        "N-5,,EUX,DE,,,",
    )
    with unchanged():
        result = run(content, clerk)
    assert result.created == 0 and result.import_id is None
    assert result.rejects == [
        Reject(3, "vat_id", "VAT ID DE136695978 is not valid: its check digits are wrong"),
        Reject(4, "account_number", "a customer with account number OLD-1 already exists"),
        Reject(5, "account_number", "account number N-1 is already used in row 2"),
        Reject(6, "parent_account_number", "parent N-4 comes later in the file (row 7); list parents first"),
        Reject(7, "billing_contact_email", "'x@' is not an e-mail address"),
        Reject(8, "currency", "'EUX' is not an ISO 4217 currency code"),
        Reject(8, "legal_name", "the legal name is required"),
    ]
    assert result.rejects_csv().splitlines()[:2] == [
        "row,column,message",
        "3,vat_id,VAT ID DE136695978 is not valid: its check digits are wrong",
    ]


def test_a_clerk_cannot_import_credit_limits(clerk: User, unchanged) -> None:
    with unchanged():
        result = run(csv_file(HEADER + ",credit_limit", "L-1,X,EUR,DE,100.00", "L-2,Y,EUR,DE,0"), clerk)
    assert result.rejects == [Reject(2, "credit_limit", "only a billing supervisor may set a credit limit")]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", [Reject(None, "", "the file is empty")]),
        (csv_file(HEADER), [Reject(None, "", "the file has a header but no customers")]),
        (
            csv_file("account_number,legal_name,currency,country,colour", "A,B,EUR,DE,red"),
            [Reject(1, "colour", "unknown column (see docs/formats/customers-csv.md)")],
        ),
        (
            csv_file("account_number,legal_name,currency", "A,B,EUR"),
            [Reject(1, "country", "this column is required")],
        ),
        (
            csv_file(HEADER, "A,B,EUR,DE,extra"),
            [Reject(2, "", "the row has 5 cells but the header names 4")],
        ),
        (
            HEADER.encode() + b"\nA,M\xfcller,EUR,DE\n",
            [Reject(2, "", "the file is not UTF-8 text (byte 0xFC); save it as 'CSV UTF-8'")],
        ),
    ],
)
def test_file_level_problems(clerk: User, unchanged, content: bytes, expected: list[Reject]) -> None:
    with unchanged():
        result = run(content, clerk)
    assert (result.created, result.rejects) == (0, expected)


def test_blank_lines_are_skipped_but_keep_row_numbers(clerk: User) -> None:
    result = run(csv_file(HEADER, "A-1,A,EUR,DE", ",,,", "", "A-2,B,EUR,XX"), clerk)
    assert result.rejects == [Reject(5, "country", "'XX' is not an ISO 3166 two-letter country code")]


def test_header_names_are_forgiving_about_case_and_spaces(clerk: User) -> None:
    assert run(csv_file("Account Number; Legal Name ;CURRENCY;Country", "A-1;Acme;EUR;DE"), clerk).ok
    assert Customer.objects.get().legal_name == "Acme"


def xlsx_file(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_import_reads_numbers_dates_and_formulas_as_typed(supervisor: User) -> None:
    content = xlsx_file(
        [
            [
                "account_number",
                "legal_name",
                "currency",
                "country",
                "credit_limit",
                "cycle",
                "anniversary_on",
                "notes",
            ],
            [
                "X-1",
                "=1+1",
                "EUR",
                "DE",
                5000.5,
                "anniversary",
                datetime(2024, 2, 29),
                '=HYPERLINK("http://x")',
            ],
            ["X-2", "Plain", "JPY", "JP", 120000, "monthly", None, None],
            ["X-3", "Text amount", "EUR", "DE", "99.90", None, None, None],
        ]
    )
    result = run(content, supervisor, filename="customers.xlsx")
    assert result.ok, result.rejects
    first = Customer.objects.get(account_number="X-1")
    assert (first.legal_name, first.notes) == ("=1+1", '=HYPERLINK("http://x")')  # never evaluated
    assert (first.credit_limit, first.cycle, first.anniversary_on) == (
        Decimal("5000.50"),
        "anniversary",
        date(2024, 2, 29),
    )
    assert Customer.objects.get(account_number="X-2").credit_limit == Decimal("120000")
    assert Customer.objects.get(account_number="X-3").credit_limit == Decimal("99.90")
    assert CustomerImport.objects.get().file_format == "xlsx"


def test_xlsx_rejects_name_row_and_column(supervisor: User, unchanged) -> None:
    content = xlsx_file(
        [
            ["account_number", "legal_name", "currency", "country", "credit_limit"],
            ["X-1", "Fine", "EUR", "DE", 10],
            ["X-2", "Too precise", "EUR", "DE", 10.005],
            ["X-3", "Formula amount", "EUR", "DE", "=A1*2"],
        ]
    )
    with unchanged():
        result = run(content, supervisor, filename="c.xlsx")
    assert [(r.row, r.column) for r in result.rejects] == [(3, "credit_limit"), (4, "credit_limit")]
    assert result.rejects[1].message == "credit_limit '=A1*2' is not a number like 1234.50"


def test_a_broken_xlsx_is_a_file_level_reject(clerk: User, unchanged) -> None:
    with unchanged():
        result = run(b"PK\x03\x04 not really a zip", clerk, filename="c.xlsx")
    assert result.rejects[0].row is None
    assert result.rejects[0].message.startswith("the file is not a readable XLSX workbook")


def test_the_examples_in_the_format_documentation_import(supervisor: User) -> None:
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs/formats/customers-csv.md").read_text()
    blocks = [block.split("```", 1)[0] for block in page.split("```csv\n")[1:]]
    comma, semicolon = blocks[0], blocks[1]
    assert run(comma.encode(), supervisor).created == 2
    assert run(semicolon.encode(), supervisor).created == 1
    child = Customer.objects.get(account_number="P-1001")
    assert (child.parent.account_number, child.bill_to_parent, child.terms.code) == (
        "P-1000",
        True,
        "2/10NET30",
    )
    assert Customer.objects.get(account_number="P-1000").credit_limit == Decimal("50000.00")
    assert Customer.objects.get(account_number="S-1").credit_limit == Decimal("12500.50")
