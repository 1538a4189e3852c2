"""camt.053 statements and camt.054 notifications: what is read from a bank's file, what refuses it, and
that what `write_camt053` writes reads back as the same statements."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billops.payments.statements.camt import parse_camt, write_camt053
from billops.payments.statements.parsed import ParsedStatement, StatementLine, StatementRejected

FILES = Path(__file__).parent / "files"
V08 = (FILES / "camt053_v08.xml").read_text(encoding="utf-8")
V02 = (FILES / "camt053_v02.xml").read_text(encoding="utf-8")
# entry 3 of the v08 file, a debit of 45.50, has no transaction details: these go in front of its AddtlNtryInf
V08_FEE_INFO = "<AddtlNtryInf>Account fees February</AddtlNtryInf>"
# the parties on our side of a debit: the account holder, its account and its bank
OUR_SIDE = (
    "<RltdPties><Dbtr><Pty><Nm>Billops Demo GmbH</Nm></Pty></Dbtr>"
    "<DbtrAcct><Id><IBAN>DE44500105175407324931</IBAN></Id></DbtrAcct></RltdPties>"
    "<RltdAgts><DbtrAgt><FinInstnId><BICFI>INGDDEFFXXX</BICFI></FinInstnId></DbtrAgt></RltdAgts>"
)
DOCTYPE_REFUSED = (
    "the file declares a DOCTYPE/entities; bank statements never do, so it is refused without being read"
)


def read(name: str) -> list[ParsedStatement]:
    return parse_camt((FILES / name).read_bytes())


def changed(text: str, old: str, new: str) -> bytes:
    """The good v08 file with one change; the change must hit exactly once, or the test tests nothing."""
    assert text.count(old) == 1, old
    return text.replace(old, new).encode()


def rejected(data: bytes) -> StatementRejected:
    with pytest.raises(StatementRejected) as caught:
        parse_camt(data)
    return caught.value


def v08_lines() -> list[StatementLine]:
    march_1 = date(2024, 3, 1)
    return [
        StatementLine(
            line=1,
            booked_on=march_1,
            amount=Decimal("1250.00"),
            currency="EUR",
            bank_reference="2024030100001",
            value_on=march_1,
            end_to_end_id="INV-2024-0042",
            payer_name="Müller & Söhne GmbH",
            payer_account="DE89370400440532013000",
            payer_bank="COBADEFFXXX",
            remittance="Invoice INV-2024-0042",
            bank_code="PMNT/RCDT/ESCT",
        ),
        StatementLine(  # booked with a time stamp; EndToEndId NOTPROVIDED; an RF reference
            line=2,
            booked_on=march_1,
            amount=Decimal("300.00"),
            currency="EUR",
            bank_reference="2024030100002",
            value_on=march_1,
            payer_name="Acme Ltd",
            payer_account="GB29NWBK60161331926819",
            creditor_reference="RF18539007547034",
            bank_code="PMNT/RCDT/ESCT",
        ),
        StatementLine(  # the bank's fees: a debit without transaction details
            line=3,
            booked_on=march_1,
            amount=Decimal("-45.50"),
            currency="EUR",
            bank_reference="2024030100003",
            value_on=date(2024, 2, 29),
            bank_code="ACMT/MDOP/CHRG",
        ),
        StatementLine(  # a batch booking: one line, every invoice of every transaction in the remittance
            line=4,
            booked_on=march_1,
            amount=Decimal("800.00"),
            currency="EUR",
            bank_reference="2024030100004",
            value_on=march_1,
            end_to_end_id="GLOBEX-PAY-0311",
            payer_name="Globex Corporation",
            payer_account="FR1420041010050500013M02606",
            payer_bank="PSSTFRPPPAR",
            remittance="INV-2024-0050 INV-2024-0051 and INV-2024-0052",
            bank_code="PMNT/RCDT/ESCT",
        ),
        StatementLine(  # pending, not booked on any day yet: dated by its value date
            line=5,
            booked_on=date(2024, 3, 4),
            amount=Decimal("99.99"),
            currency="EUR",
            bank_reference="2024030100005",
            value_on=date(2024, 3, 4),
            end_to_end_id="INV-2024-0060",
            payer_name="Initech Inc.",
            bank_code="PMNT/RCDT/ESCT",
            is_pending=True,
        ),
    ]


V08_STATEMENT = ParsedStatement(
    format="camt.053",
    statement_id="2024-03-01-DE44",
    account="DE44500105175407324931",
    currency="EUR",
    opening_balance=Decimal("10000.00"),
    closing_balance=Decimal("12304.50"),
    opening_on=date(2024, 2, 29),
    closing_on=date(2024, 3, 1),
    lines=v08_lines(),
)


# --- what is read ---


def test_camt053_v08_reads_credits_debit_batch_pending_and_rf_reference() -> None:
    assert read("camt053_v08.xml") == [V08_STATEMENT]


def test_pending_entry_is_left_out_of_the_balance_check() -> None:
    [statement] = read("camt053_v08.xml")
    assert [line.line for line in statement.booked] == [1, 2, 3, 4]
    # booked, the same entry puts the statement out by exactly its amount
    error = rejected(changed(V08, "<Cd>PDNG</Cd>", "<Cd>BOOK</Cd>"))
    assert error.line is None
    assert error.message == (
        "statement 2024-03-01-DE44 is out of balance: opening 10000.00 + lines 2404.49 = 12404.49, "
        "but the closing balance is 12304.50 EUR (a difference of -99.99)"
    )


def test_camt053_v02_reads_plain_status_debtor_name_bic_and_previous_closing_balance() -> None:
    assert read("camt053_v02.xml") == [
        ParsedStatement(
            format="camt.053",
            statement_id="20240301375204000018",
            account="CH9300762011623852957",  # written with spaces and in lower case
            currency="CHF",
            opening_balance=Decimal("-500.00"),  # PRCD, DBIT
            closing_balance=Decimal("879.65"),
            opening_on=date(2024, 2, 29),
            closing_on=date(2024, 3, 1),
            lines=[
                StatementLine(
                    line=1,
                    booked_on=date(2024, 3, 1),
                    amount=Decimal("1500.00"),
                    currency="CHF",
                    bank_reference="CH-2024-0301-0001",
                    value_on=date(2024, 3, 1),
                    end_to_end_id="E2E-HELV-881",
                    payer_name="Helvetia Handels AG",
                    payer_account="CH5604835012345678009",
                    payer_bank="UBSWCHZH80A",
                    remittance="Rechnung RE-2024-118 und RE-2024-119",
                    bank_code="PMNT/RCDT/DMCT",
                ),
                StatementLine(  # no AcctSvcrRef: the NtryRef is the bank reference
                    line=2,
                    booked_on=date(2024, 3, 1),
                    amount=Decimal("-120.35"),
                    currency="CHF",
                    bank_reference="CH-2024-0301-0002",
                    value_on=date(2024, 3, 1),
                    remittance="Swisscom Rechnung Februar",
                    bank_code="DD-LSV",
                ),
            ],
        )
    ]


@pytest.mark.parametrize("version", ["001.02", "001.04", "001.13"])
def test_the_namespace_version_does_not_change_what_is_read(version: str) -> None:
    data = changed(V08, "camt.053.001.08", f"camt.053.{version}")
    assert parse_camt(data) == [V08_STATEMENT]


def test_camt054_notification_has_no_balances_and_takes_the_entries_currency() -> None:
    assert read("camt054_v04.xml") == [
        ParsedStatement(
            format="camt.054",
            statement_id="NTF-20240305-77-1",
            account="0532013000",
            currency="USD",  # no Acct/Ccy: the entries' currency
            opening_balance=None,
            closing_balance=None,
            lines=[
                StatementLine(
                    line=1,
                    booked_on=date(2024, 3, 5),
                    amount=Decimal("1500.00"),
                    currency="USD",
                    bank_reference="FED-20240305-000193",
                    value_on=date(2024, 3, 5),
                    end_to_end_id="PO-55102",
                    payer_name="Wayne Enterprises",
                    payer_account="123456789",
                    payer_bank="021000021",  # a routing number (ClrSysMmbId)
                    remittance="INV-2024-0101",
                    bank_code="PMNT/RCDT/DMCT",
                ),
                StatementLine(
                    line=2,
                    booked_on=date(2024, 3, 5),
                    amount=Decimal("220.00"),
                    currency="USD",
                    bank_reference="FED-20240305-000207",
                    bank_code="195",
                ),
            ],
        )
    ]


def test_without_an_account_currency_the_balances_currency_is_the_accounts() -> None:
    assert parse_camt(changed(V08, "<Ccy>EUR</Ccy>", "")) == [V08_STATEMENT]


def test_entries_are_numbered_across_the_statements_of_a_file() -> None:
    second = ParsedStatement(
        format="camt.053",
        statement_id="2024-03-02-DE44",
        account="DE44500105175407324931",
        currency="EUR",
        opening_balance=Decimal("12304.50"),
        closing_balance=Decimal("12294.50"),
        opening_on=date(2024, 3, 1),
        closing_on=date(2024, 3, 2),
        lines=[
            StatementLine(
                line=6,
                booked_on=date(2024, 3, 2),
                amount=Decimal("-10.00"),
                currency="EUR",
                bank_reference="2024030200001",
            )
        ],
    )
    assert parse_camt(write_camt053([V08_STATEMENT, second])) == [V08_STATEMENT, second]


@pytest.mark.parametrize(
    ("agent", "bank"),
    [
        ("<BICFI>NWBKGB2LXXX</BICFI>", "NWBKGB2LXXX"),
        ("<ClrSysMmbId><MmbId>GBDSC601613</MmbId></ClrSysMmbId>", "GBDSC601613"),
    ],
)
def test_money_out_reads_the_creditor_as_the_other_party(agent: str, bank: str) -> None:
    details = (
        "<NtryDtls><TxDtls><Refs><EndToEndId>REFUND-0007</EndToEndId></Refs><RltdPties>"
        "<Dbtr><Pty><Nm>Billops Demo GmbH</Nm></Pty></Dbtr>"
        "<DbtrAcct><Id><IBAN>DE44500105175407324931</IBAN></Id></DbtrAcct>"
        "<Cdtr><Pty><Nm>Acme Ltd</Nm></Pty></Cdtr>"
        "<CdtrAcct><Id><IBAN>gb29 nwbk 6016 1331 9268 19</IBAN></Id></CdtrAcct></RltdPties>"
        "<RltdAgts><DbtrAgt><FinInstnId><BICFI>INGDDEFFXXX</BICFI></FinInstnId></DbtrAgt>"
        f"<CdtrAgt><FinInstnId>{agent}</FinInstnId></CdtrAgt></RltdAgts>"
        "<RmtInf><Ustrd>Refund CN-2024-0007</Ustrd></RmtInf></TxDtls></NtryDtls>"
    )
    [statement] = parse_camt(changed(V08, V08_FEE_INFO, details + V08_FEE_INFO))
    assert statement.lines[2] == StatementLine(
        line=3,
        booked_on=date(2024, 3, 1),
        amount=Decimal("-45.50"),
        currency="EUR",
        bank_reference="2024030100003",
        value_on=date(2024, 2, 29),
        end_to_end_id="REFUND-0007",
        payer_name="Acme Ltd",
        payer_account="GB29NWBK60161331926819",
        payer_bank=bank,
        remittance="Refund CN-2024-0007",
        bank_code="ACMT/MDOP/CHRG",
    )
    assert statement.lines[:2] == V08_STATEMENT.lines[:2]  # money in still reads the debtor


def test_money_out_in_version_02_reads_the_creditor_name_other_account_and_bic() -> None:
    parties = (
        "<RltdPties><Dbtr><Nm>Billops Demo AG</Nm></Dbtr>"
        "<DbtrAcct><Id><IBAN>CH9300762011623852957</IBAN></Id></DbtrAcct>"
        "<Cdtr><Nm>Swisscom (Schweiz) AG</Nm></Cdtr>"
        "<CdtrAcct><Id><Othr><Id>01-1234-5</Id></Othr></Id></CdtrAcct></RltdPties>"
        "<RltdAgts><DbtrAgt><FinInstnId><BIC>UBSWCHZH80A</BIC></FinInstnId></DbtrAgt>"
        "<CdtrAgt><FinInstnId><BIC>POFICHBEXXX</BIC></FinInstnId></CdtrAgt></RltdAgts>"
    )
    references = "<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
    [statement] = parse_camt(changed(V02, references, references + parties))
    assert statement.lines[1] == StatementLine(
        line=2,
        booked_on=date(2024, 3, 1),
        amount=Decimal("-120.35"),
        currency="CHF",
        bank_reference="CH-2024-0301-0002",
        value_on=date(2024, 3, 1),
        payer_name="Swisscom (Schweiz) AG",
        payer_account="01-1234-5",
        payer_bank="POFICHBEXXX",
        remittance="Swisscom Rechnung Februar",
        bank_code="DD-LSV",
    )
    assert statement.lines[0].payer_name == "Helvetia Handels AG"


@pytest.mark.parametrize(
    "details",
    [
        "",
        "<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs></TxDtls></NtryDtls>",
        f"<NtryDtls><TxDtls>{OUR_SIDE}</TxDtls></NtryDtls>",
    ],
    ids=["no details", "no related parties", "only our own side"],
)
def test_money_out_without_a_creditor_leaves_the_other_party_empty(details: str) -> None:
    [statement] = parse_camt(changed(V08, V08_FEE_INFO, details + V08_FEE_INFO))
    line = statement.lines[2]
    assert (line.amount, line.payer_name, line.payer_account, line.payer_bank) == (
        Decimal("-45.50"),
        "",
        "",
        "",
    )


@pytest.mark.parametrize("code", ["INFO", "FUTR"])
def test_entries_for_information_or_the_future_are_pending_like_pdng(code: str) -> None:
    # entry 5 would put the statement out of balance by its 99.99 if it were read as booked
    assert parse_camt(changed(V08, "<Cd>PDNG</Cd>", f"<Cd>{code}</Cd>")) == [V08_STATEMENT]


@pytest.mark.parametrize("code", ["INFO", "FUTR"])
def test_a_plain_info_or_futr_status_is_left_out_of_the_balance_check(code: str) -> None:
    booked = "<CdtDbtInd>DBIT</CdtDbtInd>\n        <Sts>BOOK</Sts>"
    data = changed(V02, booked, booked.replace("BOOK", code))
    # without the debit of 120.35 the closing balance is that much higher; the summary still counts it
    data = changed(data.decode(), '<Amt Ccy="CHF">879.65</Amt>', '<Amt Ccy="CHF">1000.00</Amt>')
    [statement] = parse_camt(data)
    assert statement.closing_balance == Decimal("1000.00")
    assert [(line.line, line.amount, line.is_pending) for line in statement.lines] == [
        (1, Decimal("1500.00"), False),
        (2, Decimal("-120.35"), True),
    ]
    assert [line.line for line in statement.booked] == [1]


# --- write and read back ---


def test_a_written_file_reads_back_as_the_same_statements() -> None:
    assert parse_camt(write_camt053([V08_STATEMENT])) == [V08_STATEMENT]


def test_money_out_is_written_under_the_creditor_and_reads_back() -> None:
    march_1 = date(2024, 3, 1)
    refund = StatementLine(
        line=1,
        booked_on=march_1,
        amount=Decimal("-120.00"),
        currency="EUR",
        bank_reference="R1",
        end_to_end_id="REFUND-0007",
        payer_name="Acme Ltd",
        payer_account="GB29NWBK60161331926819",
        payer_bank="NWBKGB2LXXX",
        remittance="Refund CN-2024-0007",
    )
    supplier = StatementLine(
        line=2,
        booked_on=march_1,
        amount=Decimal("-80.00"),
        currency="EUR",
        bank_reference="R2",
        payer_name="Wayne Enterprises",
        payer_account="123456789",
        payer_bank="021000021",
    )
    payment = replace(V08_STATEMENT.lines[0], line=3)  # money in keeps the debtor
    statement = ParsedStatement(
        format="camt.053",
        statement_id="S",
        account="DE44500105175407324931",
        currency="EUR",
        opening_balance=Decimal("1000.00"),
        closing_balance=Decimal("2050.00"),
        opening_on=date(2024, 2, 29),
        closing_on=march_1,
        lines=[refund, supplier, payment],
    )
    data = write_camt053([statement])
    assert [data.count(f"<{name}>".encode()) for name in ("Cdtr", "CdtrAcct", "CdtrAgt")] == [2, 2, 2]
    assert [data.count(f"<{name}>".encode()) for name in ("Dbtr", "DbtrAcct", "DbtrAgt")] == [1, 1, 1]
    assert parse_camt(data) == [statement]


def test_a_long_remittance_is_cut_into_140_character_lines_and_joined_back() -> None:
    remittance = " ".join(f"INV-2024-{number:04d}" for number in range(1, 40))
    line = StatementLine(
        line=1,
        booked_on=date(2024, 3, 1),
        amount=Decimal("5.00"),
        currency="EUR",
        bank_reference="R1",
        remittance=remittance,
    )
    statement = ParsedStatement(
        format="camt.053",
        statement_id="S",
        account="DE44500105175407324931",
        currency="EUR",
        opening_balance=Decimal(0),
        closing_balance=Decimal("5.00"),
        opening_on=date(2024, 2, 29),
        closing_on=date(2024, 3, 1),
        lines=[line],
    )
    data = write_camt053([statement])
    assert data.count(b"<Ustrd>") == 4  # 39 references of 13 characters, 10 to a line
    assert parse_camt(data) == [statement]


def test_writing_a_statement_without_balances_is_refused() -> None:
    statement = ParsedStatement(
        format="camt.054",
        statement_id="N",
        account="0532013000",
        currency="USD",
        opening_balance=None,
        closing_balance=None,
    )
    with pytest.raises(ValueError, match="statement N needs both balances and their dates"):
        write_camt053([statement])


CURRENCIES = {"EUR": 2, "JPY": 0, "KWD": 3, "CHF": 2}
# letters, digits, the characters XML must escape and some that UTF-8 must carry; no spaces at the ends
WORD = st.text(alphabet="abcXYZ019-/.&<>'\"äßéłЖ€", min_size=1, max_size=12)
TEXT = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
OPTIONAL_TEXT = st.one_of(st.just(""), TEXT)
ACCOUNT = st.one_of(st.just("DE44500105175407324931"), st.from_regex(r"[0-9A-Z]{4,20}", fullmatch=True))
BANK_CODE = st.sampled_from(["", "PMNT/RCDT/ESCT", "PMNT/ICDT/DMCT", "NTRF+166+00931", "195", "A&B"])
PAYER_BANK = st.sampled_from(["", "COBADEFFXXX", "UBSWCHZH80A", "PSSTFRPP", "021000021"])


@st.composite
def statements(draw: st.DrawFn) -> list[ParsedStatement]:
    """One to three statements, entries numbered through the file as the reader numbers them."""
    result = []
    number = 0
    for index in range(draw(st.integers(1, 3))):
        currency = draw(st.sampled_from(sorted(CURRENCIES)))
        places = CURRENCIES[currency]
        closing_on = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 3000)))
        lines = []
        for _ in range(draw(st.integers(0, 6))):
            number += 1
            units = draw(st.integers(-(10**9), 10**9))
            lines.append(
                StatementLine(
                    line=number,
                    booked_on=closing_on - timedelta(days=draw(st.integers(0, 3))),
                    amount=Decimal(units).scaleb(-places),
                    currency=currency,
                    bank_reference=f"{draw(WORD)}-{number}",
                    value_on=draw(st.one_of(st.none(), st.just(closing_on))),
                    end_to_end_id=draw(OPTIONAL_TEXT),
                    payer_name=draw(OPTIONAL_TEXT),
                    payer_account=draw(st.one_of(st.just(""), ACCOUNT)),
                    payer_bank=draw(PAYER_BANK),
                    remittance=" ".join(draw(st.lists(TEXT, max_size=30))),
                    creditor_reference=draw(st.sampled_from(["", "RF18539007547034"])),
                    bank_code=draw(BANK_CODE),
                    is_pending=draw(st.booleans()),
                )
            )
        opening = Decimal(draw(st.integers(-(10**9), 10**9))).scaleb(-places)
        booked = sum((line.amount for line in lines if not line.is_pending), Decimal(0))
        result.append(
            ParsedStatement(
                format="camt.053",
                statement_id=f"{draw(WORD)}-{index}",
                account=draw(ACCOUNT),
                currency=currency,
                opening_balance=opening,
                closing_balance=opening + booked,
                opening_on=closing_on - timedelta(days=1),
                closing_on=closing_on,
                lines=lines,
            )
        )
    return result


@settings(max_examples=150, deadline=None)
@given(generated=statements())
def test_any_written_statements_read_back_identically(generated: list[ParsedStatement]) -> None:
    assert parse_camt(write_camt053(generated)) == generated


# --- what refuses the file ---


def test_a_doctype_with_a_file_entity_is_refused_and_the_file_never_read() -> None:
    passwd = Path("/etc/passwd").read_text(encoding="utf-8").splitlines()[0]
    with pytest.raises(StatementRejected) as caught:
        read("camt_doctype_file_entity.xml")
    assert caught.value.message == DOCTYPE_REFUSED
    assert passwd not in str(caught.value)


def test_a_doctype_naming_an_external_file_is_refused() -> None:
    data = b'<?xml version="1.0"?>\n<!DOCTYPE Document SYSTEM "/etc/passwd">\n<Document/>\n'
    assert rejected(data).message == DOCTYPE_REFUSED


def test_a_billion_laughs_bomb_is_refused_at_its_doctype_before_any_entity_is_expanded() -> None:
    with pytest.raises(StatementRejected, match=r"^the file declares a DOCTYPE/entities;"):
        read("camt_billion_laughs.xml")


def test_two_entries_with_the_same_bank_reference_are_refused() -> None:
    error = rejected(changed(V08, "<AcctSvcrRef>2024030100003<", "<AcctSvcrRef>2024030100001<"))
    assert error.line == 1
    assert error.message == "line 1: the bank reference '2024030100001' appears 2 times in the file"


def test_a_statement_out_of_balance_is_refused_with_the_difference() -> None:
    error = rejected(changed(V08, '<Amt Ccy="EUR">10000.00</Amt>', '<Amt Ccy="EUR">10036.00</Amt>'))
    assert error.line is None
    assert error.message == (
        "statement 2024-03-01-DE44 is out of balance: opening 10036.00 + lines 2304.50 = 12340.50, "
        "but the closing balance is 12304.50 EUR (a difference of -36.00)"
    )


def test_a_eur_amount_with_three_decimals_is_refused() -> None:
    data = changed(V08, '<Amt Ccy="EUR">45.50</Amt>', '<Amt Ccy="EUR">45.505</Amt>')
    error = rejected(data)
    assert error.line == 3
    assert error.message == "line 3: the amount -45.505 EUR has more than 2 decimal places"


def test_balances_with_three_decimals_are_refused_even_when_they_add_up() -> None:
    data = changed(V08, '<Amt Ccy="EUR">10000.00</Amt>', '<Amt Ccy="EUR">10000.005</Amt>')
    data = changed(data.decode(), '<Amt Ccy="EUR">12304.50</Amt>', '<Amt Ccy="EUR">12304.505</Amt>')
    assert rejected(data).message == (
        "statement 2024-03-01-DE44: the opening balance: the amount 10000.005 EUR has more than 2 decimal "
        "places"
    )


def test_a_negative_amount_is_refused() -> None:
    error = rejected(changed(V08, '<Amt Ccy="EUR">45.50</Amt>', '<Amt Ccy="EUR">-45.50</Amt>'))
    assert error.line == 3
    assert error.message == (
        "line 3: the entry's amount (Amt) is -45.50: the amount must be positive; "
        "CdtDbtInd gives the direction"
    )


def test_an_amount_that_is_not_a_number_is_refused() -> None:
    error = rejected(changed(V08, '<Amt Ccy="EUR">45.50</Amt>', '<Amt Ccy="EUR">45,50</Amt>'))
    assert (
        error.message
        == "line 3: the entry's amount (Amt) '45,50' is not an amount (digits and a decimal point)"
    )


def test_an_amount_without_a_currency_is_refused() -> None:
    error = rejected(changed(V08, '<Amt Ccy="EUR">45.50</Amt>', "<Amt>45.50</Amt>"))
    assert error.message == "line 3: the entry's amount (Amt) has no currency (the Ccy attribute)"


def test_a_booking_date_that_is_not_a_date_is_refused() -> None:
    data = changed(
        V08,
        "<BookgDt><Dt>2024-03-01</Dt></BookgDt>\n        <ValDt><Dt>2024-02-29",
        "<BookgDt><Dt>01.03.2024</Dt></BookgDt>\n        <ValDt><Dt>2024-02-29",
    )
    assert rejected(data).message == (
        "line 3: the entry's booking date (BookgDt) '01.03.2024' is not a date (YYYY-MM-DD)"
    )


def test_an_entry_in_another_currency_than_the_account_is_refused() -> None:
    error = rejected(changed(V08, '<Amt Ccy="EUR">45.50</Amt>', '<Amt Ccy="USD">45.50</Amt>'))
    assert error.line == 3
    assert error.message == "line 3: the entry is in USD, the account DE44500105175407324931 in EUR"


def test_an_entry_without_a_bank_reference_is_refused() -> None:
    data = changed(V08, "<AcctSvcrRef>2024030100003</AcctSvcrRef>", "")
    assert rejected(data).message == (
        "line 3: the entry has no bank reference: neither <AcctSvcrRef> nor <NtryRef> is given"
    )


def test_an_entry_without_a_direction_is_refused() -> None:
    data = changed(V08, "<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>DEBIT</CdtDbtInd>")
    assert (
        rejected(data).message
        == "line 3: the entry's direction (CdtDbtInd) is 'DEBIT'; it must be CRDT or DBIT"
    )


@pytest.mark.parametrize(
    ("status", "code"),
    [("<Cd>HOLD</Cd>", "HOLD"), ("<Prtry>BOOKED</Prtry>", "BOOKED"), ("pdng", "pdng")],
)
def test_an_entry_with_an_unknown_status_is_refused(status: str, code: str) -> None:
    error = rejected(changed(V08, "<Sts><Cd>PDNG</Cd></Sts>", f"<Sts>{status}</Sts>"))
    assert error.line == 5
    assert error.message == (
        f"line 5: the entry's status (Sts) is '{code}'; it must be BOOK, PDNG, INFO or FUTR"
    )


def test_a_summary_counting_other_entries_than_the_statement_has_is_refused() -> None:
    error = rejected(changed(V08, "<NbOfNtries>5</NbOfNtries>", "<NbOfNtries>6</NbOfNtries>"))
    assert error.line is None
    assert error.message == (
        "statement 2024-03-01-DE44: the summary TxsSummry/TtlNtries/NbOfNtries counts 6 entries, "
        "but the statement has 5 (a difference of 1)"
    )


def test_a_summary_total_other_than_the_entries_is_refused() -> None:
    error = rejected(changed(V08, "<Sum>2495.49</Sum>", "<Sum>2495.94</Sum>"))
    assert error.message == (
        "statement 2024-03-01-DE44: the summary TxsSummry/TtlNtries/Sum gives a total of 2495.94, "
        "but the entries add up to 2495.49 (a difference of 0.45)"
    )


def test_a_summary_of_debits_other_than_the_debits_is_refused() -> None:
    data = changed(
        V08, "<TtlDbtNtries><NbOfNtries>1</NbOfNtries>", "<TtlDbtNtries><NbOfNtries>0</NbOfNtries>"
    )
    assert rejected(data).message == (
        "statement 2024-03-01-DE44: the summary TxsSummry/TtlDbtNtries/NbOfNtries counts 0 entries, "
        "but the statement has 1 (a difference of -1)"
    )


def test_a_summary_net_total_other_than_credits_less_debits_is_refused() -> None:
    data = changed(
        V08, "<Amt>2404.49</Amt><CdtDbtInd>CRDT</CdtDbtInd>", "<Amt>2404.49</Amt><CdtDbtInd>DBIT</CdtDbtInd>"
    )
    assert rejected(data).message == (
        "statement 2024-03-01-DE44: the summary's net total (TxsSummry/TtlNtries/TtlNetNtry) is -2404.49, "
        "but the entries' credits less debits make 2404.49 (a difference of -4808.98)"
    )


def test_a_version_02_summary_net_total_is_checked() -> None:
    data = changed(V02, "<TtlNetNtryAmt>1379.65</TtlNetNtryAmt>", "<TtlNetNtryAmt>1379.56</TtlNetNtryAmt>")
    assert rejected(data).message == (
        "statement 20240301375204000018: the summary's net total (TxsSummry/TtlNtries/TtlNetNtry) is "
        "1379.56, but the entries' credits less debits make 1379.65 (a difference of -0.09)"
    )


def test_a_statement_without_a_closing_balance_is_refused() -> None:
    data = changed(V08, "<Cd>CLBD</Cd>", "<Cd>ITBD</Cd>")
    assert rejected(data).message == (
        "statement 2024-03-01-DE44 has no closing balance (Bal CLBD); without it the statement cannot be "
        "checked"
    )


def test_a_balance_in_another_currency_than_the_account_is_refused() -> None:
    data = changed(V08, '<Amt Ccy="EUR">10000.00</Amt>', '<Amt Ccy="USD">10000.00</Amt>')
    assert rejected(data).message == (
        "statement 2024-03-01-DE44: the opening balance is in USD, the account DE44500105175407324931 in EUR"
    )


def test_a_file_that_is_not_xml_is_refused() -> None:
    error = rejected(b"date,amount,reference\n2024-03-01,12.30,R1\n")
    assert error.message == (
        "the file is not XML (syntax error: line 1, column 0); "
        "a camt.053 or camt.054 file is an ISO 20022 XML document"
    )


@pytest.mark.parametrize("data", [b"", b"  \r\n\n"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert rejected(data).message == "the file is empty"


def test_another_iso_20022_message_is_refused() -> None:
    data = b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"><BkToCstmrAcctRpt/></Document>'
    assert rejected(data).message == (
        "the file is a camt.052 document, not a camt.053 statement (<BkToCstmrStmt>) or a camt.054 "
        "notification (<BkToCstmrDbtCdtNtfctn>) inside <Document>"
    )


def test_a_statement_under_a_notification_namespace_is_refused() -> None:
    data = changed(V08, "camt.053.001.08", "camt.054.001.08")
    assert rejected(data).message == (
        "the document's namespace urn:iso:std:iso:20022:tech:xsd:camt.054.001.08 is camt.054, but it holds "
        "a camt.053 <BkToCstmrStmt>"
    )


def test_xml_of_another_kind_is_refused() -> None:
    assert rejected(b"<OFX><BANKMSGSRSV1/></OFX>").message == (
        "the file is an XML file whose root is <OFX>, not a camt.053 statement (<BkToCstmrStmt>) or a "
        "camt.054 notification (<BkToCstmrDbtCdtNtfctn>) inside <Document>"
    )


def test_a_statement_file_without_statements_is_refused() -> None:
    data = b"<Document><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr></BkToCstmrStmt></Document>"
    assert rejected(data).message == "the camt.053 file holds no <Stmt>: there is nothing to import"
