import dataclasses
import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billops.core.errors import InvalidInput
from billops.payments.statements.csvfile import CsvMapping, parse_csv, write_csv
from billops.payments.statements.parsed import ParsedStatement, StatementLine, StatementRejected

FILES = Path(__file__).parent / "files"

COMMA = CsvMapping(
    account="GB29 NWBK 6016 1331 9268 19",
    currency="GBP",
    booked_on="Booking Date",
    value_on="Value Date",
    amount="Amount",
    bank_reference="Reference",
    payer_name="Counterparty",
    payer_account="Counterparty Account",
    remittance="Description",
    end_to_end_id="End-to-end ID",
)
GERMAN = CsvMapping(
    account="DE75512108001245126199",
    currency="EUR",
    booked_on="Buchungstag",
    value_on="Valuta",
    amount="Betrag",
    bank_reference="Referenz",
    payer_name="Auftraggeber/Empfänger",
    payer_account="IBAN",
    remittance="Verwendungszweck",
    delimiter=";",
    decimal_comma=True,
    date_format="%d.%m.%Y",
    opening_balance=Decimal("1000.00"),
    closing_balance=Decimal("2144.66"),
)
CREDIT_DEBIT = CsvMapping(
    account="0012345678",
    currency="USD",
    booked_on="Posting Date",
    credit="Credit",
    debit="Debit",
    bank_reference="Transaction ID",
    payer_name="Payer",
    remittance="Description",
    end_to_end_id="Check or Slip #",
    date_format="%m/%d/%Y",
    encoding="cp1252",
)


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()[:16]}"


def rejected(data: bytes, mapping: CsvMapping = COMMA) -> StatementRejected:
    with pytest.raises(StatementRejected) as caught:
        parse_csv(data, mapping)
    return caught.value


def test_comma_file_with_iso_dates_reads_every_mapped_column():
    data = read("csv_comma_iso.csv")

    assert parse_csv(data, COMMA) == [
        ParsedStatement(
            format="csv",
            statement_id=digest(data),
            account="GB29NWBK60161331926819",
            currency="GBP",
            opening_balance=None,
            closing_balance=None,
            lines=[
                StatementLine(
                    line=2,
                    booked_on=date(2026, 3, 2),
                    value_on=date(2026, 3, 3),
                    amount=Decimal("1250.00"),
                    currency="GBP",
                    bank_reference="TX-20260302-001",
                    end_to_end_id="E2E-1001",
                    payer_name="Lumière, Café LLC",
                    payer_account="GB33BUKB20201555555555",
                    remittance="Invoices INV-1001, INV-1002",
                ),
                StatementLine(
                    line=3,
                    booked_on=date(2026, 3, 10),
                    amount=Decimal("-45.50"),
                    currency="GBP",
                    bank_reference="TX-20260310-002",
                    remittance="Service charge",
                ),
                StatementLine(
                    line=5,  # the blank row 4 keeps its number; the blank rows at the end are ignored
                    booked_on=date(2026, 3, 31),
                    value_on=date(2026, 3, 31),
                    amount=Decimal("-300"),
                    currency="GBP",
                    bank_reference="TX-20260331-003",
                    payer_name="Harbor Office Rentals",
                    remittance="Check 1042",
                ),
            ],
        )
    ]


def test_semicolon_file_with_decimal_commas_bom_and_an_extra_column_is_read():
    data = read("csv_semicolon_decimal_comma.csv")

    assert parse_csv(data, GERMAN) == [
        ParsedStatement(
            format="csv",
            statement_id=digest(data),
            account="DE75512108001245126199",
            currency="EUR",
            opening_balance=Decimal("1000.00"),  # + 1234.56 - 89.90 = the closing balance
            closing_balance=Decimal("2144.66"),
            lines=[
                StatementLine(
                    line=2,
                    booked_on=date(2026, 3, 2),
                    value_on=date(2026, 3, 3),
                    amount=Decimal("1234.56"),
                    currency="EUR",
                    bank_reference="BANK-0001",
                    payer_name="Müller & Söhne GmbH",
                    payer_account="DE89370400440532013000",
                    remittance="RE 2026-0042",
                ),
                StatementLine(
                    line=3,
                    booked_on=date(2026, 3, 5),
                    value_on=date(2026, 3, 5),
                    amount=Decimal("-89.90"),
                    currency="EUR",
                    bank_reference="BANK-0002",
                    payer_name="Stadtwerke",
                    payer_account="DE02120300000000202051",
                    remittance="Abschlag März",
                ),
            ],
        )
    ]


def test_credit_and_debit_columns_give_signed_amounts():
    [statement] = parse_csv(read("csv_credit_debit.csv"), CREDIT_DEBIT)

    assert [
        (line.line, line.booked_on, line.amount, line.payer_name, line.end_to_end_id)
        for line in statement.lines
    ] == [
        (2, date(2026, 3, 2), Decimal("1250.00"), "Café Lumière LLC", ""),  # cp1252
        (3, date(2026, 3, 10), Decimal("-45.50"), "", ""),
        (4, date(2026, 3, 31), Decimal("-300.00"), "Harbor Office Rentals", "1042"),  # debit with a minus
    ]


def test_a_utf8_bom_is_accepted_whatever_the_layouts_encoding():
    data = read("csv_comma_iso.csv")

    [plain] = parse_csv(data, COMMA)
    [with_bom] = parse_csv(b"\xef\xbb\xbf" + data, dataclasses.replace(COMMA, encoding="latin-1"))

    assert with_bom.lines == plain.lines


def test_header_and_columns_match_ignoring_case_and_spaces():
    data = b" booking date ,AMOUNT,reference\n2026-03-02,10.00,R1\n"
    mapping = CsvMapping(
        account="1", currency="EUR", booked_on="Booking Date", amount="Amount", bank_reference="Reference"
    )

    [statement] = parse_csv(data, mapping)

    assert [(line.amount, line.bank_reference) for line in statement.lines] == [(Decimal("10.00"), "R1")]


def test_a_file_with_a_header_and_no_rows_is_an_empty_statement():
    [statement] = parse_csv(read("csv_comma_iso.csv").split(b"\n")[0] + b"\n", COMMA)

    assert statement.lines == []


@pytest.mark.parametrize(
    ("cell", "column"),
    [
        ('"=HYPERLINK(""http://x.example"",""pay"")"', "Counterparty"),
        ("+49 30 1234567", "Counterparty"),
        ("@SUM(A1:A9)", "Description"),
        ("-cmd|' /C calc'!A0", "Description"),
        ('"\tsneaky"', "Description"),
        ('"\r=1+1"', "Description"),
        ("=1+1", "Reference"),
        ("  =1+1", "End-to-end ID"),
    ],
)
def test_a_formula_looking_text_cell_is_rejected_naming_row_and_column(cell: str, column: str):
    cells = {"Counterparty": "Acme", "Description": "Invoice 7", "Reference": "R2", "End-to-end ID": ""}
    cells[column] = cell
    data = (
        read("csv_comma_iso.csv").split(b"\n")[0]
        + b"\n2026-03-01,,5.00,R1,Acme,,Invoice 6,\n"
        + (
            f"2026-03-02,,10.00,{cells['Reference']},{cells['Counterparty']},,"
            f"{cells['Description']},{cells['End-to-end ID']}\n"
        ).encode()
    )

    error = rejected(data)

    assert str(error) == (
        f"line 3: the cell in column '{column}' looks like a spreadsheet formula; "
        "billops does not import formulas"
    )
    assert error.line == 3


@pytest.mark.parametrize("text", ["-12.50", "-1234", "-", "Refund -12.50"])
def test_a_minus_before_a_number_and_a_lone_minus_are_text_not_formulas(text: str):
    data = f"Booking Date,Amount,Reference,Description\n2026-03-02,10.00,R1,{text}\n".encode()
    mapping = CsvMapping(
        account="1", currency="EUR", booked_on="Booking Date", amount="Amount", bank_reference="Reference",
        remittance="Description",
    )  # fmt: skip

    assert parse_csv(data, mapping)[0].lines[0].remittance == text


def test_a_missing_mapped_column_is_rejected_naming_it():
    data = read("csv_comma_iso.csv").replace(b",End-to-end ID\n", b",E2E\n", 1)

    error = rejected(data)

    assert (
        str(error) == "line 1: the header has no column 'End-to-end ID', which holds the end-to-end reference"
    )
    assert error.line == 1


def test_a_mapped_column_twice_in_the_header_is_rejected():
    data = b"Booking Date,Amount,Reference,Amount\n2026-03-02,10.00,R1,20.00\n"
    mapping = CsvMapping(
        account="1", currency="EUR", booked_on="Booking Date", amount="Amount", bank_reference="Reference"
    )

    assert str(rejected(data, mapping)) == (
        "line 1: the header has the column 'Amount' 2 times; billops cannot tell which to read"
    )


@pytest.mark.parametrize("amount", ['"12,345"', '"1,234.56"', "12.50 GBP", "£12.50", "1e3", "12.50-"])
def test_an_amount_that_does_not_parse_names_row_and_column(amount: str):
    data = read("csv_comma_iso.csv").replace(b",-45.50,", f",{amount},".encode())

    error = rejected(data)

    assert str(error) == (
        f"line 3: column 'Amount': {amount.strip(chr(34))!r} is not an amount like -1234.56 "
        "(a '.' before the cents, no thousands separators)"
    )
    assert error.line == 3


@pytest.mark.parametrize("amount", ["1.234", "12.50", "1,234.56", "1.23,45"])
def test_with_decimal_commas_a_point_is_only_a_thousands_separator_before_the_cents(amount: str):
    data = read("csv_semicolon_decimal_comma.csv").replace(b";-89,90;", f";{amount};".encode())

    assert str(rejected(data, GERMAN)) == (
        f"line 3: column 'Betrag': {amount!r} is not an amount like -1234,56 or -1.234,56"
    )


def test_three_decimals_in_eur_are_rejected():
    data = read("csv_semicolon_decimal_comma.csv").replace(b";-89,90;", b";-89,905;")

    error = rejected(data, GERMAN)

    assert str(error) == "line 3: the amount -89.905 EUR has more than 2 decimal places"
    assert error.line == 3


def test_a_duplicate_bank_reference_is_rejected():
    data = read("csv_comma_iso.csv").replace(b"TX-20260331-003", b"TX-20260302-001")

    error = rejected(data)

    assert str(error) == "line 2: the bank reference 'TX-20260302-001' appears 2 times in the file"
    assert error.line == 2


def test_balances_that_do_not_add_up_are_rejected():
    mapping = dataclasses.replace(GERMAN, closing_balance=Decimal("2144.67"))

    assert str(rejected(read("csv_semicolon_decimal_comma.csv"), mapping)) == (
        f"statement {digest(read('csv_semicolon_decimal_comma.csv'))} is out of balance: opening 1000.00 + "
        "lines 1144.66 = 2144.66, but the closing balance is 2144.67 EUR (a difference of 0.01)"
    )


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf", b" , , \r\n"])
def test_an_empty_file_is_rejected(data: bytes):
    error = rejected(data)

    assert (str(error), error.line) == ("the file is empty", None)


def test_a_file_that_is_not_utf8_is_rejected_with_the_line_of_the_bad_byte():
    data = read("csv_comma_iso.csv").replace("Café".encode(), "Café".encode("latin-1"))

    error = rejected(data)

    assert str(error) == "line 2: the file is not UTF-8 text (byte 0xE9)"
    assert error.line == 2


def test_a_date_in_another_format_is_rejected():
    data = read("csv_comma_iso.csv").replace(b"2026-03-10,", b"10.03.2026,")

    assert str(rejected(data)) == "line 3: column 'Booking Date': '10.03.2026' is not a date like 2026-03-31"


def test_empty_required_cells_are_rejected_naming_the_column():
    no_reference = read("csv_comma_iso.csv").replace(b"TX-20260310-002", b"")
    no_date = read("csv_comma_iso.csv").replace(b"2026-03-10,", b",")

    assert (
        str(rejected(no_reference))
        == "line 3: column 'Reference' is empty; every row needs the bank's reference"
    )
    assert (
        str(rejected(no_date)) == "line 3: column 'Booking Date' is empty; every row needs the booking date"
    )


def test_a_row_with_another_number_of_cells_than_the_header_is_rejected():
    data = read("csv_comma_iso.csv").replace(b"Service charge,", b"Service charge,,")

    assert str(rejected(data)) == "line 3: the row has 9 cells but the header has 8"


def test_a_broken_quote_is_rejected_with_its_row():
    data = read("csv_comma_iso.csv").replace(b"Service charge", b'"Service" charge')

    assert str(rejected(data)) == "line 3: the row is not valid CSV (',' expected after '\"')"


@pytest.mark.parametrize(
    ("credit", "debit", "message"),
    [
        (
            "",
            "",
            "line 2: columns 'Credit' and 'Debit' are both empty; every row needs money in or money out",
        ),
        (
            "5.00",
            "5.00",
            "line 2: columns 'Credit' and 'Debit' both hold an amount; "
            "a row is money in or money out, not both",
        ),
        (
            "-5.00",
            "",
            "line 2: column 'Credit': a credit cannot be negative (-5.00); "
            "money out belongs in column 'Debit'",
        ),
    ],
)
def test_credit_and_debit_must_hold_one_amount(credit: str, debit: str, message: str):
    header = "Posting Date,Description,Payer,Credit,Debit,Check or Slip #,Transaction ID"
    data = f"{header}\n03/02/2026,Invoice 7,Acme,{credit},{debit},,TX-1\n".encode()

    assert str(rejected(data, CREDIT_DEBIT)) == message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"credit": "Credit"}, "map either one signed amount column, or a credit and a debit column"),
        ({"amount": "", "credit": "Credit"}, "map the amount column, or both a credit and a debit column"),
        ({"bank_reference": " "}, "the layout needs the column of the bank's reference"),
        ({"delimiter": ";;"}, "the separator is one character, not a quote or a line break"),
        ({"encoding": "klingon"}, "'klingon' is not a known text encoding"),
        (
            {"remittance": "reference"},
            "the column 'reference' is mapped twice (bank_reference and remittance)",
        ),
        ({"account": "  "}, "the layout needs the account the file is for"),
    ],
)
def test_a_layout_that_cannot_be_read_is_refused(changes: dict[str, Any], message: str):
    with pytest.raises(InvalidInput) as caught:
        CsvMapping(
            **{
                "account": "1",
                "currency": "EUR",
                "booked_on": "Date",
                "amount": "Amount",
                "bank_reference": "Reference",
                **changes,
            }
        )

    assert caught.value.message == message


def test_writing_a_formula_looking_text_is_refused():
    [statement] = parse_csv(read("csv_comma_iso.csv"), COMMA)
    statement.lines[0] = dataclasses.replace(statement.lines[0], remittance="=1+1")

    with pytest.raises(ValueError, match="would be refused as a spreadsheet formula"):
        write_csv(statement, COMMA)


def test_written_csv_reads_back_with_pending_lines_left_out():
    [statement] = parse_csv(read("csv_semicolon_decimal_comma.csv"), GERMAN)
    pending = dataclasses.replace(statement.lines[0], bank_reference="PENDING", is_pending=True)
    statement.lines.append(pending)

    written = write_csv(statement, GERMAN)

    assert written.decode().splitlines() == [
        "Buchungstag;Valuta;Betrag;Referenz;Auftraggeber/Empfänger;IBAN;Verwendungszweck",
        "02.03.2026;03.03.2026;1234,56;BANK-0001;Müller & Söhne GmbH;DE89370400440532013000;RE 2026-0042",
        "05.03.2026;05.03.2026;-89,90;BANK-0002;Stadtwerke;DE02120300000000202051;Abschlag März",
    ]
    assert parse_csv(written, GERMAN)[0].lines == statement.lines[:2]


LAYOUTS = [
    COMMA,
    dataclasses.replace(GERMAN, opening_balance=None, closing_balance=None),
    dataclasses.replace(CREDIT_DEBIT, encoding="utf-8"),
]
texts = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Zl", "Zp")), max_size=30
    )
    .map(str.strip)
    .filter(lambda text: not text.startswith(("=", "+", "@", "-")))
)


@st.composite
def statements_in_a_layout(draw: st.DrawFn) -> tuple[ParsedStatement, CsvMapping]:
    mapping = draw(st.sampled_from(LAYOUTS))
    references = draw(
        st.lists(st.from_regex(r"[A-Z0-9][A-Z0-9/-]{0,15}", fullmatch=True), unique=True, max_size=6)
    )
    days = st.dates(date(1990, 1, 1), date(2099, 12, 31))
    lines = [
        StatementLine(
            line=row,
            booked_on=draw(days),
            value_on=draw(st.none() | days) if mapping.value_on else None,
            amount=draw(st.decimals(-(10**9), 10**9, places=2)),
            currency=mapping.currency,
            bank_reference=reference,
            end_to_end_id=draw(texts) if mapping.end_to_end_id else "",
            payer_name=draw(texts) if mapping.payer_name else "",
            payer_account=draw(st.from_regex(r"([A-Z]{2}[0-9]{2}[A-Z0-9]{4,20})?", fullmatch=True))
            if mapping.payer_account
            else "",
            remittance=draw(texts) if mapping.remittance else "",
        )
        for row, reference in enumerate(references, start=2)
    ]
    statement = ParsedStatement(
        format="csv", statement_id="", account=mapping.account.replace(" ", ""), currency=mapping.currency,
        opening_balance=None, closing_balance=None, lines=lines,
    )  # fmt: skip
    return statement, mapping


@settings(max_examples=150)
@given(case=statements_in_a_layout())
def test_write_then_parse_gives_back_every_mapped_field(case: tuple[ParsedStatement, CsvMapping]):
    statement, mapping = case
    written = write_csv(statement, mapping)

    assert parse_csv(written, mapping) == [dataclasses.replace(statement, statement_id=digest(written))]
