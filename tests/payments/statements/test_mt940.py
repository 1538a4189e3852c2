"""MT940 statements: every :20: … :62F: is one statement with its balances and lines (C/D/RC/RD marks, entry
dates in the next year, references with NONREF, the German structured :86: with payer name and IBAN);
balances in another currency, lines that do not add up and malformed amounts are refused with their line;
what `write_mt940` writes, `parse_mt940` and the mt-940 library read back the same."""

from __future__ import annotations

import string
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import mt940
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billops.core.currencies import minor_units
from billops.payments.statements.mt940 import parse_mt940, write_mt940
from billops.payments.statements.parsed import ParsedStatement, StatementLine, StatementRejected
from tests.payments.statements.helpers import damaged, refused_with_its_line, without_line_numbers

GOOD = (Path(__file__).parent / "files" / "mt940_two_statements.txt").read_bytes()
JAN31 = date(2025, 1, 31)


def changed(old: str, new: str) -> bytes:
    assert GOOD.count(old.encode()) == 1
    return GOOD.replace(old.encode(), new.encode())


def refusal(data: bytes) -> tuple[int | None, str]:
    with pytest.raises(StatementRejected) as caught:
        parse_mt940(data)
    return caught.value.line, caught.value.message


def test_each_statement_is_read_with_its_balances_and_lines() -> None:
    statements = parse_mt940(GOOD)

    assert statements[0] == ParsedStatement(
        format="mt940",
        statement_id="STMT250131/00031/001",
        account="DE89370400440532013000",
        currency="EUR",
        opening_balance=Decimal("10000.00"),
        closing_balance=Decimal("10960.10"),
        opening_on=date(2025, 1, 30),
        closing_on=JAN31,
        lines=[
            StatementLine(
                line=6, booked_on=JAN31, value_on=JAN31, amount=Decimal("1250.00"), currency="EUR",
                bank_reference="EU2501310001", bank_code="NTRF",
                remittance="EREF+INV-2025-0051 SVWZ+Rechnung INV-2025-0051 vom 15.01.2025",
                payer_name="Beta Handelsgesellschaft mbH", payer_account="DE44500105175407324931",
                payer_bank="COBADEFFXXX",
            ),
            StatementLine(
                line=10, booked_on=JAN31, value_on=JAN31, amount=Decimal("-89.90"), currency="EUR",
                bank_reference="EU2501310002", end_to_end_id="FEE-0131", bank_code="NCHG",
                remittance="Kontofuehrung Januar 2025 Entgelt laut Aufstellung",
            ),
            # RC, the reversal of a credit, takes money out
            StatementLine(
                line=13, booked_on=JAN31, value_on=JAN31, amount=Decimal("-200.00"), currency="EUR",
                bank_reference="EU2501310003", end_to_end_id="RET-INV-0049", bank_code="NTRF",
                remittance="RUECKUEBERWEISUNG",
            ),
        ],
    )  # fmt: skip


def test_an_entry_date_in_january_of_a_december_value_date_is_next_year() -> None:
    second = parse_mt940(GOOD)[1]

    assert (second.statement_id, second.account, second.currency) == (
        "STMT251231/00365",
        "NL91ABNA0417164300",
        "USD",
    )
    assert [(line.value_on, line.booked_on) for line in second.lines] == [
        (date(2025, 12, 31), date(2026, 1, 2)),
        (date(2025, 12, 31), date(2025, 12, 31)),  # no entry date: booked on the value date
    ]


def test_the_owner_reference_stands_in_for_a_missing_bank_reference_and_nonref_is_no_reference() -> None:
    second = parse_mt940(GOOD)[1]

    assert [(line.bank_reference, line.end_to_end_id, line.amount) for line in second.lines] == [
        ("PAY-7781", "PAY-7781", Decimal("300")),
        ("B251231X", "", Decimal("-50.00")),
    ]


def test_information_about_the_whole_statement_is_no_entry_remittance() -> None:
    # the :86:KONTOSTAND after :62F: and :64: belongs to no :61:
    second = parse_mt940(GOOD)[1]

    assert [line.remittance for line in second.lines] == ["INVOICE 7781 PAYMENT", ""]


def test_a_latin_1_file_is_read() -> None:
    data = changed("Beta Handelsgesellschaft mb", "Bäckerei Müller Gmb").decode().encode("iso-8859-1")

    assert parse_mt940(data)[0].lines[0].payer_name == "Bäckerei Müller GmbH"


def test_a_closing_balance_in_another_currency_is_refused() -> None:
    assert refusal(changed(":62F:C250131EUR10960,10", ":62F:C250131USD10960,10")) == (
        15,
        "line 15: the closing balance (:62F:) is in USD, the opening balance (:60F:) in EUR",
    )


def test_a_statement_line_in_another_currency_is_refused() -> None:
    # the funds code is the third letter of the line's currency: D for USD, not R for EUR
    assert refusal(changed("2501310131CR1250,00", "2501310131CD1250,00")) == (
        6,
        "line 6: the statement line (:61:) has the funds code 'D', which is not the third letter of the "
        "statement's currency EUR",
    )


def test_lines_that_do_not_add_up_to_the_closing_balance_are_refused_with_the_difference() -> None:
    assert refusal(changed(":62F:C250131EUR10960,10", ":62F:C250131EUR10960,00")) == (
        None,
        "statement STMT250131/00031/001 is out of balance: opening 10000.00 + lines 960.10 = 10960.10, but "
        "the closing balance is 10960.00 EUR (a difference of -0.10)",
    )


def test_an_amount_that_is_not_a_number_is_refused() -> None:
    assert refusal(changed("CR1250,00NTRF", "CR12A0,00NTRF")) == (
        6,
        "line 6: the amount '12A0,00' of the statement line (:61:) is not a number: an MT940 amount is up to "
        "15 digits with a decimal comma, like 1250,00",
    )
    assert refusal(changed(":60F:C250130EUR10000,00", ":60F:C250130EUR10.000,00")) == (
        5,
        "line 5: the amount '10.000,00' of the opening balance (:60F:) is not a number: an MT940 amount is "
        "up to 15 digits with a decimal comma, like 1250,00",
    )


def test_an_amount_with_more_decimals_than_its_currency_is_refused() -> None:
    assert refusal(changed(":60F:C250130EUR10000,00", ":60F:C250130EUR10000,001")) == (
        5,
        "line 5: the amount 10000.001 EUR has more than 2 decimal places",
    )
    assert refusal(changed("CR1250,00NTRF", "CR1250,005NTRF")) == (
        6,
        "line 6: the amount 1250.005 EUR has more than 2 decimal places",
    )


def test_a_statement_without_account_is_refused() -> None:
    assert refusal(changed(":25:DE89370400440532013000\r\n", "")) == (
        2,
        "line 2: statement STMT250131 has no account identification (:25:)",
    )


def test_a_statement_without_opening_balance_is_refused() -> None:
    assert refusal(b":20:EMPTY\r\n:25:DE89370400440532013000\r\n:28C:1\r\n:62F:C250131EUR0,00\r\n") == (
        1,
        "line 1: statement EMPTY has no opening balance (:60F:)",
    )
    assert refusal(changed(":60F:C250130EUR10000,00\r\n", "")) == (
        5,
        "line 5: the statement line (:61:) comes before the opening balance",
    )


def test_a_bank_reference_twice_in_a_statement_is_refused() -> None:
    assert refusal(changed("//EU2501310002", "//EU2501310001")) == (
        6,
        "line 6: the bank reference 'EU2501310001' appears 2 times in the file",
    )


def test_a_line_without_any_reference_is_refused() -> None:
    assert refusal(changed("NMSCNONREF//B251231X", "NMSCNONREF")) == (
        24,
        "line 24: the statement line (:61:) has no bank reference (after //) and its reference for the "
        "account owner is 'NONREF': billops needs one to recognise the entry if the file is imported again",
    )


def test_a_date_that_does_not_exist_is_refused() -> None:
    assert refusal(changed(":60F:C250130EUR", ":60F:C251330EUR")) == (
        5,
        "line 5: the opening balance (:60F:) has a date that does not exist (month must be in 1..12)",
    )


def test_an_unknown_field_is_refused() -> None:
    assert refusal(changed(":64:C251231USD750,00", ":99X:C251231USD750,00")) == (
        26,
        "line 26: :99X: is not a field of an MT940 statement",
    )


def test_an_empty_file_is_refused() -> None:
    assert refusal(b"") == (None, "the file is empty")
    assert refusal(b"\r\n\r\n") == (None, "the file is empty")


def test_garbage_is_refused_at_its_first_line() -> None:
    assert refusal(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") == (
        1,
        "line 1: '%PDF-1.7' is not an MT940 field: a statement starts with its reference (:20:)",
    )
    assert refusal(b":61:250131C1,00NTRFX//Y\n") == (
        1,
        "line 1: the statement line (:61:) comes before the first statement reference (:20:)",
    )


def test_what_is_written_the_mt940_library_reads_the_same() -> None:
    statements = parse_mt940(GOOD)
    written = write_mt940(statements)

    options = mt940.Options(reversal_sign=True, applicant_iban=True, merge_keeps_values=True)
    library = mt940.parse_statements(written.decode(), options=options)
    assert [
        (
            block.data["transaction_reference"],
            block.data["final_opening_balance"].amount.amount,
            block.data["final_closing_balance"].amount.amount,
            [
                (
                    t.data["amount"].amount,
                    t.data["bank_reference"],
                    t.data.get("applicant_name"),
                    t.data.get("applicant_iban"),
                )
                for t in block
            ],
        )
        for block in library
    ] == [
        (
            s.statement_id.split("/")[0],
            s.opening_balance,
            s.closing_balance,
            [
                (line.amount, line.bank_reference, line.payer_name or None, line.payer_account or None)
                for line in s.lines
            ],
        )
        for s in statements
    ]
    assert without_line_numbers(parse_mt940(written)) == without_line_numbers(statements)


def test_the_writer_refuses_what_mt940_cannot_carry() -> None:
    statement = parse_mt940(GOOD)[0]
    no_number = replace(statement, statement_id="STMT250131")
    long_reference = replace(statement, lines=[replace(statement.lines[0], bank_reference="X" * 17)])
    question = replace(statement, lines=[replace(statement.lines[0], remittance="why?")])

    for bad, message in [
        (no_number, "is not '<reference>/<statement number>'"),
        (long_reference, "must be 1 to 16 characters"),
        (question, "'\\?' separates the subfields"),
    ]:
        with pytest.raises(ValueError, match=message):
            write_mt940([bad])


REFERENCES = st.text(string.ascii_uppercase + string.digits + "-", min_size=1, max_size=16)
WORDS = st.text(string.ascii_letters + string.digits + "-.,:/+{}()'äöüß", min_size=1, max_size=20)
KEYWORDS = st.sampled_from(["", "EREF+", "SVWZ+", "KREF+"])
DATES = st.dates(date(2000, 1, 1), date(2099, 12, 31))


@st.composite
def statements(draw: st.DrawFn) -> ParsedStatement:
    currency = draw(st.sampled_from(["EUR", "USD", "JPY", "KWD"]))

    def money(units: int) -> Decimal:
        return Decimal(units).scaleb(-minor_units(currency))

    amounts = draw(st.lists(st.integers(-(10**11), 10**11), max_size=6))
    references = draw(st.lists(REFERENCES, min_size=len(amounts), max_size=len(amounts), unique=True))
    lines = []
    for units, reference in zip(amounts, references, strict=True):
        booked_on = draw(st.dates(date(2000, 1, 11), date(2099, 12, 21)))
        words = draw(st.lists(st.tuples(KEYWORDS, WORDS).map("".join), max_size=10))
        lines.append(
            StatementLine(
                line=0,
                booked_on=booked_on,
                amount=money(units),
                currency=currency,
                bank_reference=reference,
                value_on=booked_on + timedelta(days=draw(st.integers(-10, 10))),
                end_to_end_id=draw(st.just("") | REFERENCES.filter(lambda r: r != "NONREF")),
                remittance=" ".join(words),
                payer_name=" ".join(
                    draw(
                        st.lists(st.text(string.ascii_letters + "äöü&.", min_size=1, max_size=12), max_size=4)
                    )
                ),
                payer_account=draw(st.text(string.ascii_uppercase + string.digits, max_size=34)),
                payer_bank=draw(st.text(string.ascii_uppercase + string.digits, max_size=11)),
                bank_code=draw(st.sampled_from(["NTRF", "NMSC", "NCHG", "S103", "FTRF"])),
            )
        )
    opening = draw(st.integers(-(10**11), 10**11))
    reference = draw(st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=16))
    number = draw(st.from_regex(r"[0-9]{1,5}(/[0-9]{1,5})?", fullmatch=True))
    return ParsedStatement(
        format="mt940",
        statement_id=f"{reference}/{number}",
        account=draw(st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=35)),
        currency=currency,
        opening_balance=money(opening),
        closing_balance=money(opening + sum(amounts)),
        opening_on=draw(DATES),
        closing_on=draw(DATES),
        lines=lines,
    )


@settings(max_examples=60, deadline=None)
@given(written=st.lists(statements(), min_size=1, max_size=3))
def test_what_is_written_is_read_back_the_same(written: list[ParsedStatement]) -> None:
    assert without_line_numbers(parse_mt940(write_mt940(written))) == written


@settings(max_examples=300, deadline=None)
@given(data=damaged(GOOD))
def test_a_damaged_file_is_read_or_refused_with_its_line_never_crashes(data: bytes) -> None:
    try:
        parse_mt940(data)
    except StatementRejected as error:
        assert refused_with_its_line(error), error.message
