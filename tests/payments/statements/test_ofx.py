import dataclasses
import sys
import xml.sax
import xml.sax.handler
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ofxtools.Parser import OFXTree

from billops.payments.statements.ofx import parse_ofx, write_ofx
from billops.payments.statements.parsed import ParsedStatement, StatementLine, StatementRejected

FILES = Path(__file__).parent / "files"


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def rejected(data: bytes) -> StatementRejected:
    with pytest.raises(StatementRejected) as caught:
        parse_ofx(data)
    return caught.value


def without_line_numbers(statement: ParsedStatement) -> ParsedStatement:
    return dataclasses.replace(
        statement, lines=[dataclasses.replace(line, line=0) for line in statement.lines]
    )


def test_ofx1_sgml_statement_reads_credit_debit_and_check():
    assert parse_ofx(read("ofx1_checking.ofx")) == [
        ParsedStatement(
            format="ofx",
            statement_id="2026-03-01/2026-03-31",
            account="400012345678",
            currency="USD",
            opening_balance=None,
            closing_balance=Decimal("5904.50"),
            closing_on=date(2026, 3, 31),
            lines=[
                StatementLine(
                    line=39,
                    booked_on=date(2026, 3, 2),
                    value_on=date(2026, 3, 3),
                    amount=Decimal("1250.00"),
                    currency="USD",
                    bank_reference="2026030200001",
                    end_to_end_id="INV-1001",
                    payer_name="Café Lumière LLC",  # CHARSET:1252
                    remittance="Invoices INV-1001 & INV-1002",  # a closed leaf, &amp; unescaped
                    bank_code="CREDIT",
                ),
                StatementLine(
                    line=49,
                    booked_on=date(2026, 3, 10),
                    amount=Decimal("-45.50"),
                    currency="USD",
                    bank_reference="2026031000002",
                    payer_name="Service charge",
                    bank_code="DEBIT",
                ),
                StatementLine(
                    line=56,
                    booked_on=date(2026, 3, 31),  # 23:30 New York time stays on the bank's day
                    amount=Decimal("-300"),
                    currency="USD",
                    bank_reference="2026033100003",
                    end_to_end_id="1042",
                    payer_name="Harbor Office Rentals",
                    bank_code="CHECK",
                ),
            ],
        )
    ]


def test_ofx2_xml_file_gives_one_statement_per_account():
    eur, usd = parse_ofx(read("ofx2_two_accounts.ofx"))

    assert eur == ParsedStatement(
        format="ofx",
        statement_id="2026-03-01/2026-03-31",
        account="DE89370400440532013000",
        currency="EUR",
        opening_balance=None,
        closing_balance=Decimal("15287.50"),
        closing_on=date(2026, 3, 31),
        lines=[
            StatementLine(
                line=25,
                booked_on=date(2026, 3, 5),
                value_on=date(2026, 3, 6),
                amount=Decimal("2380.00"),
                currency="EUR",
                bank_reference="EU-77120",
                end_to_end_id="E2E-RF18539007547034",
                payer_name="Müller & Söhne GmbH",  # from the PAYEE aggregate
                remittance="RE 2026-0042",
                bank_code="CREDIT",
            ),
            StatementLine(
                line=41,
                booked_on=date(2026, 3, 12),
                amount=Decimal("920.40"),  # ORIGCURRENCY: converted by the bank, so in EUR
                currency="EUR",
                bank_reference="EU-77121",
                payer_name="Acme Corp",
                remittance="Invoice 2026-0050, paid in USD",
                bank_code="CREDIT",
            ),
            StatementLine(
                line=50,
                booked_on=date(2026, 3, 31),
                amount=Decimal("-12.90"),
                currency="EUR",
                bank_reference="EU-77122",
                payer_name="Kontoführung",
                bank_code="DEBIT",
            ),
        ],  # the pending credit in BANKTRANLISTP is not read
    )
    assert usd == ParsedStatement(
        format="ofx",
        statement_id="2026-03-01/2026-03-31",
        account="0012345678",
        currency="USD",
        opening_balance=None,
        closing_balance=Decimal("8500.00"),
        closing_on=date(2026, 3, 31),
        lines=[
            StatementLine(
                line=83,
                booked_on=date(2026, 3, 20),
                amount=Decimal("-1500.00"),
                currency="USD",
                bank_reference="US-0001",
                end_to_end_id="2001",
                payer_name="Payroll Services Inc",
                bank_code="CHECK",
            )
        ],
    )


def test_written_ofx2_reads_back_identically_with_the_lines_where_they_are_written():
    statements = parse_ofx(read("ofx2_two_accounts.ofx")) + parse_ofx(read("ofx1_checking.ofx"))
    written = write_ofx(statements)

    again = parse_ofx(written)

    assert [without_line_numbers(s) for s in again] == [without_line_numbers(s) for s in statements]
    text_lines = written.decode().splitlines()
    assert [text_lines[line.line - 1].strip() for s in again for line in s.lines] == ["<STMTTRN>"] * 7
    assert written.startswith(
        b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        b'<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n<OFX>\n'
    )


def test_written_ofx2_is_read_the_same_by_ofxtools_tree_parser():
    written = write_ofx(parse_ofx(read("ofx1_checking.ofx")))

    tree = OFXTree()
    tree.parse(BytesIO(written))

    assert [
        (trn.findtext("FITID"), trn.findtext("TRNAMT"), trn.findtext("NAME"), trn.findtext("CHECKNUM"))
        for trn in tree.iter("STMTTRN")
    ] == [
        ("2026030200001", "1250.00", "Café Lumière LLC", None),
        ("2026031000002", "-45.50", "Service charge", None),
        ("2026033100003", "-300", "Harbor Office Rentals", "1042"),
    ]


def test_a_statement_id_that_is_no_period_is_written_as_the_days_its_lines_span():
    statement = ParsedStatement(
        format="camt.053",
        statement_id="STMT-2026-03",
        account="DE89370400440532013000",
        currency="EUR",
        opening_balance=Decimal("100.00"),  # OFX has no place for it
        closing_balance=Decimal("150.00"),
        closing_on=date(2026, 3, 31),
        lines=[
            StatementLine(
                line=7,
                booked_on=date(2026, 3, 4),
                amount=Decimal("50.00"),
                currency="EUR",
                bank_reference="A",
            ),
            StatementLine(
                line=9,
                booked_on=date(2026, 3, 5),
                amount=Decimal("5.00"),
                currency="EUR",
                bank_reference="P",
                is_pending=True,
            ),
        ],
    )

    [again] = parse_ofx(write_ofx([statement]))

    assert (again.statement_id, again.opening_balance, [line.bank_reference for line in again.lines]) == (
        "2026-03-04/2026-03-31",
        None,
        ["A"],
    )


def test_writing_a_statement_without_closing_balance_is_refused():
    statement = ParsedStatement(
        format="csv", statement_id="2026-03-01/2026-03-31", account="1", currency="EUR",
        opening_balance=None, closing_balance=None,
    )  # fmt: skip

    with pytest.raises(ValueError, match="needs a closing balance and its date"):
        write_ofx([statement])


references = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-/", min_size=1, max_size=20)
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Zl", "Zp")), max_size=40
).map(str.strip)
days = st.dates(date(2000, 1, 1), date(2099, 12, 31))


@st.composite
def ofx_statements(draw: st.DrawFn) -> ParsedStatement:
    """Statements holding only what OFX carries (see write_ofx)."""
    currency = draw(st.sampled_from(["EUR", "USD", "JPY", "KWD"]))
    places = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}[currency]
    amounts = st.decimals(-(10**9), 10**9, places=places, allow_nan=False, allow_infinity=False)
    lines = []
    for reference in draw(st.lists(references, unique=True, max_size=6)):
        code = draw(st.sampled_from(["", "CREDIT", "DEBIT", "CHECK", "XFER"]))
        lines.append(
            StatementLine(
                line=0,
                booked_on=draw(days),
                value_on=draw(st.none() | days),
                amount=draw(amounts),
                currency=currency,
                bank_reference=reference,
                end_to_end_id=draw(texts),
                payer_name=draw(texts),
                remittance=draw(texts),
                bank_code=code,
            )
        )
    start, end = sorted([draw(days), draw(days)])
    return ParsedStatement(
        format="ofx",
        statement_id=f"{start}/{end}",
        account=draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=34)),
        currency=currency,
        opening_balance=None,
        closing_balance=draw(amounts),
        closing_on=end,
        lines=lines,
    )


@settings(max_examples=150)
@given(statements=st.lists(ofx_statements(), min_size=1, max_size=3))
def test_write_then_parse_gives_back_every_statement(statements: list[ParsedStatement]):
    assert [without_line_numbers(s) for s in parse_ofx(write_ofx(statements))] == statements


@pytest.mark.parametrize("amount", ["$120", "120,00", "1.234,56", "1,234.56", "12e3", ""])
def test_trnamt_that_is_not_a_plain_number_is_rejected_naming_its_stmttrn(amount: str):
    data = read("ofx1_checking.ofx").replace(b"<TRNAMT>-45.50", b"<TRNAMT>" + amount.encode())

    error = rejected(data)

    if amount:
        assert str(error) == f"line 49: TRNAMT must be a plain number like -120.00, not '{amount}'"
    else:  # an empty SGML leaf opens an aggregate that is never closed
        assert str(error) == "line 55: </STMTTRN> closes nothing open here: <TRNAMT> from line 52 is open"
    assert error.line == (49 if amount else 55)


def test_trnamt_with_a_currency_sign_in_ofx2_is_rejected_naming_its_stmttrn():
    data = read("ofx2_two_accounts.ofx").replace(b"<TRNAMT>-12.90", b"<TRNAMT>$120")

    assert str(rejected(data)) == "line 50: TRNAMT must be a plain number like -120.00, not '$120'"


@pytest.mark.parametrize("posted", ["2026-03-10", "10.03.2026", "20260230", "202603", "20261310"])
def test_a_date_that_is_not_an_ofx_date_is_rejected(posted: str):
    data = read("ofx1_checking.ofx").replace(b"20260310120000.000[-5:EST]", posted.encode())

    assert str(rejected(data)) == (
        f"line 49: DTPOSTED '{posted}' is not an OFX date like 20260314 or 20260314120000"
    )


def test_duplicate_fitid_is_rejected():
    data = read("ofx1_checking.ofx").replace(b"<FITID>2026031000002", b"<FITID>2026030200001")

    error = rejected(data)

    assert str(error) == "line 39: the bank reference '2026030200001' appears 2 times in the file"
    assert error.line == 39


def test_a_line_in_another_currency_than_the_account_is_rejected():
    data = read("ofx2_two_accounts.ofx").replace(
        b"<ORIGCURRENCY><CURRATE>0.9204</CURRATE><CURSYM>USD</CURSYM></ORIGCURRENCY>",
        b"<CURRENCY><CURRATE>0.9204</CURRATE><CURSYM>USD</CURSYM></CURRENCY>",
    )

    error = rejected(data)

    assert str(error) == "line 41: the entry is in USD, the account DE89370400440532013000 in EUR"
    assert error.line == 41


def test_a_transaction_without_fitid_is_rejected():
    data = read("ofx1_checking.ofx").replace(b"<FITID>2026033100003\r\n", b"")

    assert str(rejected(data)) == (
        "line 56: <STMTTRN> has no <FITID> (the bank's reference of the transaction)"
    )


def test_a_file_cut_off_is_rejected():
    data = read("ofx1_checking.ofx").split(b"</BANKTRANLIST>")[0]

    assert str(rejected(data)) == "line 36: the file ends inside <BANKTRANLIST>; it may be cut off"


def test_malformed_ofx2_is_rejected_with_the_xml_parsers_line():
    data = read("ofx2_two_accounts.ofx").replace(b"<FITID>EU-77122</FITID>", b"<FITID>EU-77122</FITD>")

    assert str(rejected(data)) == "line 54: the file is not well-formed XML: mismatched tag"


def test_ofx2_with_a_doctype_external_entity_never_opens_the_file(tmp_path: Path):
    secret = tmp_path / "secret-for-ofx-test.txt"
    secret.write_text("TOP SECRET 4711")
    data = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<!DOCTYPE OFX [<!ENTITY leak SYSTEM "'
        + secret.as_uri().encode()
        + b'">]>\n'
        + read("ofx2_two_accounts.ofx").split(b"?>\n", 1)[1].replace(b"RE 2026-0042", b"&leak;")
    )
    opened: list[str] = []

    def watch(event: str, args: tuple) -> None:
        if event == "open" and str(args[0]).endswith(secret.name):
            opened.append(event)

    sys.addaudithook(watch)  # hooks cannot be removed; this one only ever looks at the secret's name
    unguarded = xml.sax.make_parser()  # noqa: S317  the control: an unguarded reader does open the file
    unguarded.setFeature(xml.sax.handler.feature_external_ges, True)
    unguarded.parse(BytesIO(data))
    assert opened == ["open"]

    error = rejected(data)

    assert str(error) == (
        "line 2: the file contains a document type declaration (<!DOCTYPE …>), which OFX files never "
        "have; billops refuses it because it can make a reader open other files or expand text without end"
    )
    assert opened == ["open"]  # parse_ofx opened nothing
    assert "SECRET" not in str(error)


def test_ofx2_entity_bomb_is_rejected_at_its_doctype_before_any_entity_is_expanded():
    error = rejected(read("ofx2_entity_bomb.ofx"))

    assert error.line == 2
    assert str(error).startswith("line 2: the file contains a document type declaration (<!DOCTYPE …>)")


def test_ofx1_with_an_entity_declaration_is_rejected():
    data = read("ofx1_checking.ofx").replace(b"<OFX>\r\n", b'<!ENTITY lol "lol">\r\n<OFX>\r\n', 1)

    assert str(rejected(data)) == (
        "line 11: '<!ENTITY lol \"lol\">' is not an OFX element; an OFX 1 file holds elements only"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b" \r\n", "the file is empty"),
        (
            b"Date,Amount\n2026-03-01,12.00\n",
            "this is not an OFX file: it starts with neither an OFX 1 header (OFXHEADER:100) nor an "
            'OFX 2 XML declaration (<?xml version="1.0"?>)',
        ),
        (
            b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX>\n</OFX>\n",
            "the file holds no bank statement: there is no <STMTRS> in it",
        ),
        (
            b"OFXHEADER:100\nDATA:XML\n\n<OFX>\n</OFX>\n",
            "line 1: the OFX 1 header must say OFXHEADER:100 and DATA:OFXSGML",
        ),
    ],
)
def test_files_that_are_not_ofx_statements_are_rejected(data: bytes, message: str):
    assert str(rejected(data)) == message


def test_ofx1_bytes_that_are_not_in_its_charset_are_rejected():
    data = read("ofx1_checking.ofx").replace(b"CHARSET:1252", b"CHARSET:NONE")

    assert str(rejected(data)) == "line 46: the file is not UTF-8 text as its header says (byte 0xE9)"


def test_an_element_twice_in_a_transaction_is_rejected():
    data = read("ofx1_checking.ofx").replace(b"<TRNAMT>1250.00\r\n", b"<TRNAMT>1250.00\r\n<TRNAMT>125.00\r\n")

    assert str(rejected(data)) == "line 39: <STMTTRN> has <TRNAMT> 2 times; it may appear once"


def test_more_decimals_than_the_currency_has_are_rejected():
    data = read("ofx1_checking.ofx").replace(b"<TRNAMT>-45.50", b"<TRNAMT>-45.505")

    assert str(rejected(data)) == "line 49: the amount -45.505 USD has more than 2 decimal places"
