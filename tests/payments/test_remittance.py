"""Remittance advice files read into one RemittanceAdvice: CSV (`,` or `;` with a decimal comma, BOM,
header names matched loosely), XLSX (numbers as Decimals, formulas never evaluated) and a basic X12 820
(separators from the ISA, envelope counts and control numbers checked); every refusal with its exact
message and the row or segment at fault; a CSV round trip property."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billops.payments.remittance import (
    RemittanceAdvice,
    RemittanceLine,
    RemittanceRejected,
    check_total,
    parse_edi_820,
    parse_remittance_csv,
    parse_remittance_xlsx,
)
from billops.payments.services.remittances import read_remittance
from billops.payments.statements.csvfile import looks_like_formula

BOM = b"\xef\xbb\xbf"


def line(row: int, invoice: str, paid: str, deduction: str = "0", reason: str = "") -> RemittanceLine:
    return RemittanceLine(row, invoice, Decimal(paid), Decimal(deduction), reason)


def refused(parse: Any, data: bytes) -> RemittanceRejected:
    with pytest.raises(RemittanceRejected) as caught:
        parse(data)
    return caught.value


# --- CSV -------------------------------------------------------------------------------------------------


def test_a_comma_file_reads_its_columns_by_loose_names_and_ignores_the_others() -> None:
    data = (
        BOM + b"Invoice Number,Invoice Date,AMOUNT_PAID, deduction ,Reason,Currency\r\n"
        b"INV-2026-000001,2026-04-01,119.00,,,EUR\r\n"
        b"\r\n"  # a blank row keeps its number
        b'INV-2026-000002,2026-04-02,200,38.00,"damaged, 2 units",EUR\r\n'
        b"INV-2026-000003,2026-04-03,0,357.00,disputed,\r\n"
    )
    assert parse_remittance_csv(data) == RemittanceAdvice(
        payer="",
        payment_reference="",
        currency="EUR",
        total=None,
        lines=[
            line(2, "INV-2026-000001", "119.00"),
            line(4, "INV-2026-000002", "200", "38.00", "damaged, 2 units"),
            line(5, "INV-2026-000003", "0", "357.00", "disputed"),
        ],
        format="csv",
    )


def test_a_semicolon_file_writes_decimal_commas_and_may_leave_out_the_optional_columns() -> None:
    data = b"invoice_number;amount_paid\nINV-1;1234,50\nINV-2;,5\n"
    advice = parse_remittance_csv(data)
    assert advice.lines == [line(2, "INV-1", "1234.50"), line(3, "INV-2", "0.5")]
    assert (advice.currency, advice.total, advice.paid_total) == ("", None, Decimal("1235.00"))


def test_a_quoted_cell_over_two_lines_is_one_row() -> None:
    data = b'invoice_number,amount_paid,reason\nINV-1,10.00,"short\nshipped"\nINV-2,5.00,\n'
    assert [(item.row, item.reason) for item in parse_remittance_csv(data).lines] == [
        (2, "short\nshipped"),
        (3, ""),
    ]


HEADER = b"invoice_number,amount_paid,deduction,reason,currency\n"


@pytest.mark.parametrize(
    ("data", "row", "message"),
    [
        (b"", None, "the file is empty"),
        (BOM + b"\r\n\r\n", None, "the file is empty"),
        (
            b"invoice,paid\nINV-1,5\n",
            1,
            "row 1: the header has no column 'invoice_number', which holds the invoice each row pays",
        ),
        (
            b"Invoice Number,Paid\nINV-1,5\n",
            1,
            "row 1: the header has no column 'amount_paid', which holds the amount paid on the invoice",
        ),
        (
            b"invoice_number,Amount Paid,amount_paid\nINV-1,5,5\n",
            1,
            "row 1: the header has the column 'amount_paid' twice ('Amount Paid' and 'amount_paid'); "
            "billops cannot tell which to read",
        ),
        (HEADER, 1, "row 1: the header is followed by no invoice line"),
        (
            HEADER + b'INV-1,"1,234.50",,,\n',
            2,
            "row 2, column 'amount_paid': '1,234.50' is not an amount like 1234.50 (a '.' before the cents, "
            "no thousands separators)",
        ),
        (
            b"invoice_number;amount_paid\nINV-1;1.234,50\n",
            2,
            "row 2, column 'amount_paid': '1.234,50' is not an amount like 1234,50 (a ',' before the cents "
            "in a ';'-separated file, no thousands separators)",
        ),
        (
            b"invoice_number;amount_paid\nINV-1;12.50\n",
            2,
            "row 2, column 'amount_paid': '12.50' is not an amount like 1234,50 (a ',' before the cents in "
            "a ';'-separated file, no thousands separators)",
        ),
        (
            HEADER + b"INV-1,-5.00,,,\n",
            2,
            "row 2, column 'amount_paid': -5.00 is negative; a row pays 0 or more on its invoice",
        ),
        (
            HEADER + b"INV-1,5.00,-1.00,,\n",
            2,
            "row 2, column 'deduction': -1.00 is negative; write what was kept back as 0 or more",
        ),
        (
            HEADER + b"INV-1,12.345,,,EUR\n",
            2,
            "row 2, column 'amount_paid': 12.345 has more decimal places than EUR allows (2)",
        ),
        (
            HEADER + b"INV-1,100,0.5,,JPY\n",
            2,
            "row 2, column 'deduction': 0.5 has more decimal places than JPY allows (0)",
        ),
        (
            HEADER + b"INV-1,1000000000000,,,\n",
            2,
            "row 2, column 'amount_paid': 1000000000000 is too large (at most 12 digits before the point)",
        ),
        (
            HEADER + b"INV-1,,,,\n",
            2,
            "row 2, column 'amount_paid': the cell is empty; write 0 when nothing is paid on the invoice",
        ),
        (
            HEADER + b",5.00,,,\n",
            2,
            "row 2, column 'invoice_number': the cell is empty; every row names the invoice it pays",
        ),
        (
            HEADER + b'INV-1,5.00,1.00,"=HYPERLINK(""http://x"")",\n',
            2,
            "row 2, column 'reason': the cell looks like a spreadsheet formula; billops does not import "
            "formulas",
        ),
        (
            HEADER + b"@SUM(A1),5.00,,,\n",
            2,
            "row 2, column 'invoice_number': the cell looks like a spreadsheet formula; billops does not "
            "import formulas",
        ),
        (
            HEADER + b"INV-1,5.00,,,EUR\nINV-2,5.00,,,\ninv-1 ,1.00,,,\n",
            4,
            "row 4, column 'invoice_number': inv-1 is on row 2 already; an invoice is named once",
        ),
        (
            HEADER + b"INV-1,5.00,,,EUR\nINV-2,5.00,,,usd\n",
            3,
            "row 3, column 'currency': USD, but row 2 says EUR; an advice is in one currency",
        ),
        (
            HEADER + b"INV-1,5.00,,,EURO\n",
            2,
            "row 2, column 'currency': 'EURO' is not an ISO 4217 currency code",
        ),
        (HEADER + b"INV-1,0,0,,\n", 2, "row 2: INV-1 is paid nothing and nothing is deducted"),
        (
            HEADER + b"INV-1,5.00,,caf\xe9,\n",
            2,
            "row 2: the file is not UTF-8 text (byte 0xE9); save it as 'CSV UTF-8'",
        ),
        (
            HEADER + b"INV-1,5.00,,a\x00b,\n",
            2,
            "line 2: the file holds a NUL character; it is not a text file",
        ),
        (
            HEADER + b'INV-1,5.00,,"a"b,\n',
            2,
            "row 2: the row is not valid CSV (',' expected after '\"')",
        ),
    ],
)
def test_a_bad_csv_is_refused_naming_its_row_and_column(data: bytes, row: int | None, message: str) -> None:
    error = refused(parse_remittance_csv, data)
    assert (error.message, error.row, error.code, error.field) == (
        message,
        row,
        "remittance_rejected",
        "file",
    )


# a small writer for the round trip: what a customer's spreadsheet would export
def write_csv(advice: RemittanceAdvice, *, delimiter: str) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["Invoice Number", "Amount Paid", "Deduction", "Reason", "Currency"])
    for item in advice.lines:
        amounts = [format(item.amount_paid, "f"), format(item.deduction, "f")]
        if delimiter == ";":
            amounts = [amount.replace(".", ",") for amount in amounts]
        writer.writerow([item.invoice_number, *amounts, item.reason, advice.currency])
    return out.getvalue().encode()


def amounts(places: int) -> st.SearchStrategy[Decimal]:
    return st.integers(0, 10**11).map(lambda units: Decimal(units).scaleb(-places))


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20).map(str.strip)


@st.composite
def advices(draw: st.DrawFn) -> tuple[RemittanceAdvice, str]:
    currency = draw(st.sampled_from(["EUR", "JPY", "KWD"]))
    places = {"EUR": 2, "JPY": 0, "KWD": 3}[currency]
    numbers = draw(
        st.lists(
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 /-]{0,14}[A-Za-z0-9]", fullmatch=True),
            min_size=1,
            max_size=8,
            unique_by=str.upper,
        )
    )
    lines = []
    for row, number in enumerate(numbers, start=2):
        paid, deduction = draw(amounts(places)), draw(amounts(places))
        if paid == deduction == 0:
            paid = Decimal(1)
        reason = draw(TEXT.filter(lambda text: not looks_like_formula(text)))
        lines.append(RemittanceLine(row, number, paid, deduction, reason))
    advice = RemittanceAdvice("", "", currency, None, lines, format="csv")
    return advice, draw(st.sampled_from([",", ";"]))


@settings(max_examples=150)
@given(case=advices())
def test_a_written_advice_reads_back_the_same(case: tuple[RemittanceAdvice, str]) -> None:
    advice, delimiter = case
    assert parse_remittance_csv(write_csv(advice, delimiter=delimiter)) == advice


# --- XLSX ------------------------------------------------------------------------------------------------


def workbook(*rows: list[Any]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for number, values in enumerate(rows, start=1):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=number, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_reads_numbers_as_decimals_and_ignores_dates_and_other_columns() -> None:
    data = workbook(
        ["Invoice date", "Invoice Number", "Amount Paid", "Deduction", "Reason", "Currency"],
        [date(2026, 4, 1), "INV-2026-000001", 119, None, None, "EUR"],
        [],
        [datetime(2026, 4, 2, 9, 30), "INV-2026-000002", 200.1, "37.90", "short shipped", None],
        [None, 10023, 0.5, 0, None, "eur"],
    )
    assert parse_remittance_xlsx(data) == RemittanceAdvice(
        payer="",
        payment_reference="",
        currency="EUR",
        total=None,
        lines=[
            line(2, "INV-2026-000001", "119"),
            line(4, "INV-2026-000002", "200.1", "37.90", "short shipped"),
            line(5, "10023", "0.5"),  # an invoice number typed as a number
        ],
        format="xlsx",
    )


@pytest.mark.parametrize(
    ("data", "row", "message"),
    [
        (b"PK\x03\x04not a zip", None, "the file is not an XLSX workbook (BadZipFile)"),
        (b"invoice_number,amount_paid\nINV-1,5\n", None, "the file is not an XLSX workbook (BadZipFile)"),
        (workbook([]), None, "the file is empty"),
        (
            workbook(["Invoice", "Paid"], ["INV-1", 5]),
            1,
            "row 1: the header has no column 'invoice_number', which holds the invoice each row pays",
        ),
        (
            workbook(["invoice_number", "amount_paid", "currency"], ["INV-1", 12.345, "EUR"]),
            2,
            "row 2, column 'amount_paid': 12.345 has more decimal places than EUR allows (2)",
        ),
        (
            workbook(["invoice_number", "amount_paid"], ["INV-1", -5]),
            2,
            "row 2, column 'amount_paid': -5 is negative; a row pays 0 or more on its invoice",
        ),
        (
            workbook(["invoice_number", "amount_paid"], ["INV-1", date(2026, 5, 4)]),
            2,
            "row 2, column 'amount_paid': '2026-05-04' is not an amount",
        ),
        (
            workbook(["invoice_number", "amount_paid"], ["INV-1", True]),
            2,
            "row 2, column 'amount_paid': 'True' is not an amount",
        ),
        (
            workbook(["invoice_number", "amount_paid"], ["INV-1", "12,50"]),
            2,
            "row 2, column 'amount_paid': '12,50' is not an amount like 1234.50 (a '.' before the cents, "
            "no thousands separators)",
        ),
        (
            # a formula openpyxl wrote was never calculated: data_only reads it as empty, never runs it
            workbook(["invoice_number", "amount_paid"], ["INV-1", "=2*3"]),
            2,
            "row 2, column 'amount_paid': the cell is empty; write 0 when nothing is paid on the invoice",
        ),
        (
            workbook(["invoice_number", "amount_paid"], ["INV-1", 5], ["INV-1", 6]),
            3,
            "row 3, column 'invoice_number': INV-1 is on row 2 already; an invoice is named once",
        ),
    ],
)
def test_a_bad_workbook_is_refused_naming_its_row_and_column(
    data: bytes, row: int | None, message: str
) -> None:
    error = refused(parse_remittance_xlsx, data)
    assert (error.message, error.row) == (message, row)


def test_a_text_cell_that_looks_like_a_formula_is_refused() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["invoice_number", "amount_paid", "reason"])
    sheet.append(["INV-1", 5, "x"])
    sheet["C2"].value = "=cmd|' /C calc'!A0"
    sheet["C2"].data_type = "s"  # stored as text, as an export that did not escape it would
    out = io.BytesIO()
    book.save(out)
    error = refused(parse_remittance_xlsx, out.getvalue())
    assert error.message == (
        "row 2, column 'reason': the cell looks like a spreadsheet formula; billops does not import formulas"
    )


# --- X12 820 ---------------------------------------------------------------------------------------------


def isa(*, element: str = "*", terminator: str = "~", control: str = "000000905") -> str:
    fields = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "ACMEPAYER".ljust(15), "ZZ", "BILLOPS".ljust(15),
              "260504", "1200", "U", "00401", control, "0", "P", ">"]  # fmt: skip
    header = element.join(fields) + terminator
    assert len(header) == 106
    return header


BPR = "BPR*C*569*C*ACH*CTX*01*021000021*DA*123456789*1234567890**01*031100209*DA*987654321*20260504"
BODY = [
    "GS*RA*ACMEPAYER*BILLOPS*20260504*1200*1*X*004010",
    "ST*820*0001",
    BPR,
    "TRN*1*PAY-77*1234567890",
    "CUR*PR*EUR",
    "REF*VV*CHK-42",
    "DTM*097*20260504",
    "N1*PR*ACME GMBH",
    "N1*PE*BILLOPS DEMO",
    "ENT*1",
    "RMR*IV*INV-2026-000001*PI*119*119",
    "RMR*IV*INV-2026-000002*PI*200*238*3",
    "REF*PO*PO-881",
    "ADX*-25*CS",
    "ADX*-10.00*01*CM*DM-7",
    "RMR*IV*INV-2026-000003*PI*250.00*357",
    "DTM*003*20260403",
    "SE*17*0001",
    "GE*1*1",
    "IEA*1*000000905",
]


def x12(body: list[str] = BODY, *, element: str = "*", terminator: str = "~", newline: str = "\n") -> bytes:
    segments = [segment.replace("*", element) for segment in body]
    return (
        isa(element=element, terminator=terminator) + (terminator + newline).join(segments) + terminator
    ).encode()


def without(*ids: str) -> list[str]:
    """BODY without the segments of those ids, its SE01 counting what is left."""
    kept = [segment for segment in BODY if segment.split("*")[0] not in ids]
    count = kept.index("SE*17*0001") - kept.index("ST*820*0001") + 1
    return [f"SE*{count}*0001" if segment == "SE*17*0001" else segment for segment in kept]


def changed(old: str, new: str) -> list[str]:
    assert old in BODY
    return [new if segment == old else segment for segment in BODY]


def test_an_820_reads_the_payment_its_payer_and_each_invoice_with_its_deductions() -> None:
    assert parse_edi_820(x12()) == RemittanceAdvice(
        payer="ACME GMBH",
        payment_reference="PAY-77",
        currency="EUR",
        total=Decimal("569"),
        lines=[
            line(12, "INV-2026-000001", "119"),
            line(13, "INV-2026-000002", "200", "38.00", "discount 3; adjustment CS 25; adjustment 01 10.00"),
            line(17, "INV-2026-000003", "250.00"),
        ],
        format="x12-820",
    )


def test_the_separators_come_from_the_isa_header() -> None:
    advice = parse_edi_820(x12(element="|", terminator="\n", newline=""))
    assert [item.invoice_number for item in advice.lines] == [
        "INV-2026-000001",
        "INV-2026-000002",
        "INV-2026-000003",
    ]
    assert parse_edi_820(x12(terminator="'", newline="\r\n")) == parse_edi_820(x12())


def test_an_820_without_a_currency_leaves_it_to_the_receipt() -> None:
    advice = parse_edi_820(x12(without("CUR")))
    assert advice.currency == ""


@pytest.mark.parametrize(
    ("body", "row", "message"),
    [
        (
            changed("SE*17*0001", "SE*16*0001"),
            19,
            "segment 19 (SE): SE01 is '16', expected 17: the number of segments from ST (segment 3) to SE "
            "(segment 19)",
        ),
        (
            changed("SE*17*0001", "SE*17*0002"),
            19,
            "segment 19 (SE): SE02 is '0002', expected '0001': the control number in ST02 of segment 3",
        ),
        (
            changed("GE*1*1", "GE*2*1"),
            20,
            "segment 20 (GE): GE01 is '2', expected 1: the transaction sets in the group",
        ),
        (
            changed("GE*1*1", "GE*1*7"),
            20,
            "segment 20 (GE): GE02 is '7', expected '1': the control number in GS06 of segment 2",
        ),
        (
            changed("IEA*1*000000905", "IEA*3*000000905"),
            21,
            "segment 21 (IEA): IEA01 is '3', expected 1: the functional groups in the interchange",
        ),
        (
            changed("IEA*1*000000905", "IEA*1*000000906"),
            21,
            "segment 21 (IEA): IEA02 is '000000906', expected '000000905': the control number in ISA13 of "
            "segment 1",
        ),
        (
            changed(BPR, "BPR*D*569*D*ACH"),
            4,
            "segment 4 (BPR): BPR03 is 'D', not 'C' (credit): billops reads remittances of money paid to us",
        ),
        (
            changed(BPR, "BPR*C*569.001*C*ACH"),
            6,
            "segment 6 (CUR): BPR02 569.001 has more decimal places than EUR allows (2)",
        ),
        (
            changed(BPR, "BPR*C*1,569.00*C*ACH"),
            4,
            "segment 4 (BPR): BPR02 '1,569.00' is not an amount like 1234.50",
        ),
        (
            changed("CUR*PR*EUR", "CUR*PR*XXX"),
            6,
            "segment 6 (CUR): CUR02 'XXX' is not an ISO 4217 currency code",
        ),
        (
            changed("RMR*IV*INV-2026-000001*PI*119*119", "RMR*CM*CM-1*PI*-19"),
            12,
            "segment 12 (RMR): RMR01 is 'CM'; billops reads invoice lines (IV) only, not credit or debit "
            "memos or other references",
        ),
        (
            changed("RMR*IV*INV-2026-000001*PI*119*119", "RMR*IV**PI*119"),
            12,
            "segment 12 (RMR): RMR02, the invoice number, is empty",
        ),
        (
            changed("RMR*IV*INV-2026-000001*PI*119*119", "RMR*IV*INV-2026-000001*PI"),
            12,
            "segment 12 (RMR): RMR04, the amount paid, is missing",
        ),
        (
            changed("RMR*IV*INV-2026-000001*PI*119*119", "RMR*IV*INV-2026-000001*PI*-119"),
            12,
            "segment 12 (RMR): RMR04 -119 is negative; a line pays 0 or more on its invoice",
        ),
        (
            changed("RMR*IV*INV-2026-000001*PI*119*119", "RMR*IV*INV-2026-000001*PI*119.005"),
            12,
            "segment 12 (RMR): RMR04 119.005 has more decimal places than EUR allows (2)",
        ),
        (
            changed("RMR*IV*INV-2026-000001*PI*119*119", "RMR*IV*inv-2026-000003*PI*119*119"),
            17,
            "segment 17 (RMR): INV-2026-000003 is in segment 12 already; an invoice is named once",
        ),
        (
            changed("ADX*-25*CS", "ADX*25*CS"),
            15,
            "segment 15 (ADX): ADX01 25 adds to the payment; billops reads only adjustments that deduct "
            "(ADX01 < 0)",
        ),
        (
            changed("ADX*-25*CS", "ADX*-25"),
            15,
            "segment 15 (ADX): ADX02, the adjustment reason code, is missing",
        ),
        (
            changed("ENT*1", "ADX*-5*CS"),
            11,
            "segment 11 (ADX): an adjustment that follows no RMR; billops reads adjustments to an invoice "
            "line only",
        ),
        (
            changed("ST*820*0001", "ST*810*0001"),
            3,
            "segment 3 (ST): ST01 is '810', not '820': the transaction set is no remittance advice",
        ),
        (
            changed(
                "GS*RA*ACMEPAYER*BILLOPS*20260504*1200*1*X*004010",
                "GS*IN*ACMEPAYER*BILLOPS*20260504*1200*1*X",
            ),
            2,
            "segment 2 (GS): GS01 is 'IN', not 'RA': the group holds no remittance advice",
        ),
        (
            changed("GE*1*1", "ST*820*0002"),
            20,
            "segment 20 (ST): a second transaction set; billops reads one payment (one ST … SE) per file",
        ),
        (
            BODY[:-3],
            18,
            "the file ends at segment 18 (DTM) without the SE that closes the transaction set of segment 3",
        ),
        (BODY[:-1], 20, "the file ends at segment 20 (GE) without the IEA that closes the interchange"),
        ([*BODY, "ISA*00"], 22, "segment 22 (ISA): the interchange ended at segment 21 (IEA)"),
        (
            without("RMR"),
            13,
            "segment 13 (ADX): an adjustment that follows no RMR; billops reads adjustments to an invoice "
            "line only",
        ),
    ],
)
def test_a_bad_820_is_refused_naming_its_segment(body: list[str], row: int | None, message: str) -> None:
    error = refused(parse_edi_820, x12(body))
    assert (error.message, error.row) == (message, row)


def test_an_820_whose_lines_do_not_add_up_to_the_payment_is_refused_with_the_difference() -> None:
    error = refused(parse_edi_820, x12(changed(BPR, "BPR*C*579.5*C*ACH")))
    assert error.message == (
        "the invoice lines pay 569.00 EUR but the advice states a total of 579.50 EUR (a difference of 10.50)"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"GS*RA*X~", "the file does not start with an ISA header: it is not an X12 interchange"),
        (b"ISA*00*short~GS*RA~", "the file does not start with an ISA header: it is not an X12 interchange"),
        (
            ("ISA*00*" + "x" * 99).encode(),
            "segment 1 (ISA): the ISA header is 106 characters with 16 elements, its 4th character "
            "separating them and its last ending the segment; this one has 2 elements split by '*'",
        ),
        (
            x12(without("RMR", "ADX")),
            "the remittance advice names no invoice (no RMR*IV segment)",
        ),
    ],
)
def test_a_file_that_is_no_820_is_refused(data: bytes, message: str) -> None:
    assert refused(parse_edi_820, data).message == message


def test_check_total_passes_an_advice_without_a_total_or_with_its_own() -> None:
    lines = [line(2, "INV-1", "10.00"), line(3, "INV-2", "5.50")]
    check_total(RemittanceAdvice("", "", "", None, lines))
    check_total(RemittanceAdvice("", "", "EUR", Decimal("15.5"), lines))
    with pytest.raises(RemittanceRejected) as caught:
        check_total(RemittanceAdvice("", "", "", Decimal("16"), lines))
    assert caught.value.message == (
        "the invoice lines pay 15.50 but the advice states a total of 16 (a difference of 0.50)"
    )


# --- any of them -----------------------------------------------------------------------------------------


def test_the_format_is_chosen_by_content_then_by_name() -> None:
    csv_data = b"invoice_number,amount_paid\nINV-1,5.00\n"
    assert read_remittance(csv_data, "advice.txt").format == "csv"
    assert (
        read_remittance(workbook(["invoice_number", "amount_paid"], ["INV-1", 5]), "advice").format == "xlsx"
    )
    assert read_remittance(BOM + b"\n" + x12(), "advice.csv").format == "x12-820"
    assert refused(lambda data: read_remittance(data, "advice.XLSX"), csv_data).message == (
        "the file is not an XLSX workbook (BadZipFile)"
    )
    assert refused(lambda data: read_remittance(data, "advice.edi"), csv_data).message == (
        "the file does not start with an ISA header: it is not an X12 interchange"
    )


def test_the_examples_of_the_format_page_read_as_it_says() -> None:
    page = (Path(__file__).parents[2] / "docs" / "formats" / "remittance.md").read_text()
    blocks = re.findall(r"```(csv|x12)\n(.*?)```", page, flags=re.DOTALL)
    read = [read_remittance(text.encode(), f"example.{kind}") for kind, text in blocks]
    assert [(advice.format, len(advice.lines), advice.paid_total) for advice in read] == [
        ("csv", 3, Decimal("619.00")),
        ("csv", 2, Decimal("1234.50")),
        ("x12-820", 3, Decimal("569.00")),
    ]
    assert read[1].lines[1] == line(3, "INV-2026-000005", "0", "89.90", "Gutschrift erwartet")
    assert read[2] == parse_edi_820(x12())
