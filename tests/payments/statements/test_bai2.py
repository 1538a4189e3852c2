"""BAI2 statements: every account of every group is read with its balances and entries (credits in, debits
out, text continued on 88 records, funds types with availability fields in between); control totals and
record counts are checked at each of the three levels; every refusal names its line; what `write_bai2`
writes, `parse_bai2` and the bai2 library read back the same."""

from __future__ import annotations

import string
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bai2 import bai2  # type: ignore[import-untyped]
from bai2.constants import TypeCodes  # type: ignore[import-untyped]
from bai2.exceptions import IntegrityException  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from billops.core.currencies import minor_units
from billops.payments.statements.bai import parse_bai2, write_bai2
from billops.payments.statements.parsed import ParsedStatement, StatementLine, StatementRejected
from tests.payments.statements.helpers import damaged, refused_with_its_line, without_line_numbers

GOOD = (Path(__file__).parent / "files" / "bai2_two_groups.txt").read_bytes()
JAN31 = date(2025, 1, 31)


def changed(old: str, new: str) -> bytes:
    assert GOOD.count(old.encode()) == 1
    return GOOD.replace(old.encode(), new.encode())


def refusal(data: bytes) -> tuple[int | None, str]:
    with pytest.raises(StatementRejected) as caught:
        parse_bai2(data)
    return caught.value.line, caught.value.message


def usd(line: int, amount: str, reference: str, **fields: Any) -> StatementLine:
    return StatementLine(
        line=line, booked_on=JAN31, amount=Decimal(amount), currency="USD", bank_reference=reference, **fields
    )


def test_every_account_of_every_group_is_one_statement() -> None:
    statements = parse_bai2(GOOD)

    assert [(s.statement_id, s.account, s.currency) for s in statements] == [
        ("0975312468/2025-01-31", "0975312468", "USD"),
        ("0975312469/2025-01-31", "0975312469", "USD"),  # no currency on the 03: the group's
        ("DE89370400440532013000/2025-01-31", "DE89370400440532013000", "EUR"),  # spaces removed
    ]
    assert [(s.opening_balance, s.closing_balance, s.opening_on, s.closing_on) for s in statements] == [
        (Decimal("15000.00"), Decimal("19437.50"), JAN31, JAN31),
        (Decimal("-250.00"), Decimal("50.00"), JAN31, JAN31),
        (Decimal("10000.00"), Decimal("11250.00"), JAN31, JAN31),
    ]


def test_credits_are_money_in_and_debits_money_out_with_text_continued_on_88_records() -> None:
    first = parse_bai2(GOOD)[0]

    assert first.lines == [
        usd(
            4, "5000.00", "FW2501310001", end_to_end_id="INV-2025-0042", bank_code="195",
            remittance="WIRE FROM ACME CORP INV-2025-0042 THANK YOU",
        ),
        usd(6, "1250.00", "ACH2501310077", bank_code="142", remittance="ACH CREDIT GLOBEX LLC INV-2025-0043"),
        usd(7, "750.00", "LBX0131A", end_to_end_id="7781", bank_code="115"),
        # no bank reference: the customer reference (the check number) stands in
        usd(8, "-62.50", "981", end_to_end_id="981", bank_code="475", remittance="CHECK PAID 981"),
        usd(
            9, "-2500.00", "FEE2501310003", value_on=date(2025, 2, 3), bank_code="699",
            remittance="MONTHLY SERVICE",
        ),
    ]  # fmt: skip


def test_availability_fields_of_every_funds_type_leave_the_references_in_place() -> None:
    statements = parse_bai2(GOOD)

    # funds types 0, S (three amounts), 1, V (date and time) in the first account, D (count and pairs)
    assert [(line.bank_reference, line.value_on) for line in statements[0].lines[1:]] == [
        ("ACH2501310077", None),
        ("LBX0131A", None),
        ("981", None),
        ("FEE2501310003", date(2025, 2, 3)),
    ]
    assert statements[1].lines == [
        usd(14, "300.00", "ACH2501310099", bank_code="165", remittance="PREAUTHORIZED ACH CREDIT")
    ]


def test_an_account_identifier_continued_inside_a_summary_is_read_field_by_field() -> None:
    # 03,…,015/ then 88,1125000,,/ : the 015's amount is on the continuation
    euro = parse_bai2(GOOD)[2]

    assert (euro.opening_balance, euro.closing_balance) == (Decimal("10000.00"), Decimal("11250.00"))
    assert euro.lines[0].remittance == "SEPA CT FROM BETA GMBH RE 2025-0051"


def test_non_monetary_information_records_are_not_entries() -> None:
    first = parse_bai2(GOOD)[0]

    assert "INFO01" not in [line.bank_reference for line in first.lines]
    assert len(first.lines) == 5


def test_a_wrong_account_control_total_is_refused_at_its_trailer() -> None:
    assert refusal(changed("49,4400000,9/", "49,4400100,9/")) == (
        11,
        "line 11: wrong account control total for account 0975312468: the account trailer (49) expects "
        "4400100, found 4400000 (the sum of the account's balances and entries, in minor units)",
    )


def test_a_wrong_group_control_total_is_refused_at_its_trailer() -> None:
    assert refusal(changed("98,4410000,2,15/", "98,4410001,2,15/")) == (
        16,
        "line 16: wrong group control total: the group trailer (98) expects 4410001, found 4410000 (the sum "
        "of the group's account control totals)",
    )


def test_a_wrong_file_control_total_is_refused_at_its_trailer() -> None:
    assert refusal(changed("99,6660000,2,24/", "99,6660100,2,24/")) == (
        24,
        "line 24: wrong file control total: the file trailer (99) expects 6660100, found 6660000 (the sum of "
        "the group control totals)",
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "49,10000,4/", "49,10000,3/", 15,
            "wrong number of records for account 0975312469: the account trailer (49) expects 3, found 4 "
            "(records 03 to 49, continuation records included)",
        ),
        (
            "98,2250000,1,7/", "98,2250000,1,6/", 23,
            "wrong number of records in the group: the group trailer (98) expects 6, found 7 (records 02 to "
            "98, continuation records included)",
        ),
        (
            "98,4410000,2,15/", "98,4410000,3,15/", 16,
            "wrong number of accounts: the group trailer (98) expects 3, found 2 (account identifiers (03) "
            "in the group)",
        ),
        (
            "99,6660000,2,24/", "99,6660000,2,25/", 24,
            "wrong number of records in the file: the file trailer (99) expects 25, found 24 (records 01 to "
            "99, continuation records included)",
        ),
        (
            "99,6660000,2,24/", "99,6660000,1,24/", 24,
            "wrong number of groups: the file trailer (99) expects 1, found 2 (group headers (02) in the "
            "file)",
        ),
    ],
)  # fmt: skip
def test_a_wrong_record_account_or_group_count_is_refused_at_its_trailer(
    old: str, new: str, line: int, message: str
) -> None:
    assert refusal(changed(old, new)) == (line, f"line {line}: {message}")


@pytest.mark.parametrize(
    ("old", "new", "library_says"),
    [
        ("49,4400000,8/", "49,4400001,8/", "Invalid account control total"),
        ("98,4400000,1,10/", "98,4400001,1,10/", "Invalid group control total"),
        ("99,6660000,3,22/", "99,6660001,3,22/", "Invalid file control total"),
    ],
)
def test_the_bai2_library_refuses_the_same_wrong_totals(old: str, new: str, library_says: str) -> None:
    # the checks are made here because the library's errors name neither the account nor the line
    written = write_bai2(parse_bai2(GOOD), sender="BANK", receiver="BILLOPS", created_on=date(2025, 2, 1))
    assert written.count(old.encode()) == 1
    tampered = written.replace(old.encode(), new.encode())

    with pytest.raises(StatementRejected, match=r"wrong .* control total"):
        parse_bai2(tampered)
    with pytest.raises(IntegrityException, match=library_says):
        bai2.parse_from_string(tampered.decode(), check_integrity=True)


def test_an_amount_that_is_not_a_number_is_refused() -> None:
    assert refusal(changed("16,142,125000,0,", "16,142,1250.00,0,")) == (
        6,
        "line 6: the amount '1250.00' of the transaction detail (16) is not a number: BAI2 amounts are whole "
        "numbers of the currency's minor unit (cents), without sign or decimal point",
    )


def test_a_balance_that_is_not_a_number_is_refused() -> None:
    assert refusal(changed("015,1943750,,/", "015,19437.50,,/")) == (
        3,
        "line 3: the account identifier (03) record cannot be read: '19437.50' is not a whole number",
    )


def test_a_bank_reference_twice_in_a_statement_is_refused() -> None:
    assert refusal(changed("LBX0131A", "FW2501310001")) == (
        4,
        "line 4: the bank reference 'FW2501310001' appears 2 times in the file",
    )


def test_an_entry_without_any_reference_is_refused() -> None:
    assert refusal(changed("16,475,6250,1,,981,", "16,475,6250,1,,,")) == (
        8,
        "line 8: the transaction detail (16) has neither a bank reference nor a customer reference: billops "
        "needs one to recognise the entry if the file is imported again",
    )


def test_an_entry_that_is_neither_credit_nor_debit_is_refused() -> None:
    assert refusal(changed("16,699,250000,V,", "16,721,250000,V,")) == (
        9,
        "line 9: type code 721 (Amount Applied to Interest) is neither a credit (100 to 399) nor a debit "
        "(400 to 699), so the entry cannot be booked",
    )


def test_an_unknown_type_code_is_refused() -> None:
    assert refusal(changed("16,699,250000,V,", "16,999,250000,V,")) == (
        9,
        "line 9: the transaction detail (16) record cannot be read: type code '999' is not a BAI2 type code",
    )


def test_a_group_that_is_not_an_update_is_refused() -> None:
    assert refusal(changed("02,BILLOPS,DEUTDEFF,1,", "02,BILLOPS,DEUTDEFF,4,")) == (
        17,
        "line 17: the group status is 4 (test only): only groups with status 1 (update) are imported",
    )


def test_an_unknown_currency_is_refused_before_any_amount_is_scaled() -> None:
    assert refusal(changed("03,0975312468,USD,", "03,0975312468,XYZ,")) == (
        3,
        "line 3: the currency 'XYZ' of account 0975312468 is not an ISO 4217 code",
    )


def test_a_file_cut_short_is_refused_where_it_ends() -> None:
    assert refusal(GOOD[: GOOD.index(b"98,2250000")]) == (
        22,
        "line 22: the file ends where a group trailer (98) record is expected to close the group",
    )


def test_records_out_of_order_are_refused() -> None:
    assert refusal(changed("49,10000,4/\r\n", "")) == (
        15,
        "line 15: expected an account trailer (49) record to close account 0975312469, found a group trailer "
        "(98) record",
    )


def test_an_empty_file_is_refused() -> None:
    assert refusal(b"") == (None, "the file is empty")
    assert refusal(b"\r\n  \r\n") == (None, "the file is empty")


def test_garbage_is_refused_at_its_first_line() -> None:
    assert refusal(b"\x89PNG\r\n\x1a\n\x00\x00") == (
        1,
        "line 1: the file is not UTF-8 text: byte 0x89 cannot be read",
    )
    assert refusal(b"Dear customer,\nplease find attached") == (
        1,
        "line 1: 'Dear customer,' is not a BAI2 record: a record starts with its code (01, 02, 03, 16, 49, "
        "88, 98 or 99) and a comma",
    )
    assert refusal(b"16,195,100,Z,REF,,TEXT/\n") == (
        1,
        "line 1: expected a file header (01) record at the start of the file, found a transaction detail "
        "(16) record",
    )


def test_what_is_written_the_bai2_library_reads_the_same() -> None:
    statements = parse_bai2(GOOD)
    written = write_bai2(statements, sender="BANKOFEXAMPLE", receiver="BILLOPS", created_on=date(2025, 2, 1))

    library = bai2.parse_from_string(written.decode(), check_integrity=True)
    read = [
        (
            account.header.customer_account_number,
            [(item.type_code.code, item.amount) for item in account.header.summary_items],
            [
                (d.type_code.code, d.amount, d.bank_reference, d.customer_reference, d.text)
                for d in account.children
            ],
        )
        for group in library.children
        for account in group.children
    ]
    assert read == [
        (
            s.account,
            [("010", int(s.opening_balance.scaleb(2))), ("015", int(s.closing_balance.scaleb(2)))],
            [
                (
                    line.bank_code, int(abs(line.amount).scaleb(2)), line.bank_reference,
                    line.end_to_end_id or None, line.remittance or None,
                )
                for line in s.lines
            ],
        )
        for s in statements
        if s.opening_balance is not None and s.closing_balance is not None
    ]  # fmt: skip
    assert without_line_numbers(parse_bai2(written)) == without_line_numbers(statements)


def test_the_writer_refuses_what_bai2_cannot_carry() -> None:
    statement = parse_bai2(GOOD)[0]
    two_days = replace(
        statement, lines=[*statement.lines[:1], replace(statement.lines[1], booked_on=date(2025, 2, 1))]
    )
    pending = replace(statement, lines=[replace(statement.lines[0], is_pending=True)])
    slash = replace(statement, lines=[replace(statement.lines[0], bank_reference="FW/1")])

    for bad, message in [
        (two_days, "a BAI2 group has one as-of date"),
        (pending, "BAI2 has only booked entries"),
        (slash, "cannot be written to BAI2"),
    ]:
        with pytest.raises(ValueError, match=message):
            write_bai2([bad], sender="B", receiver="R", created_on=JAN31)


CREDIT_CODES = sorted(code for code in TypeCodes if 100 <= int(code) < 400)
DEBIT_CODES = sorted(code for code in TypeCodes if 400 <= int(code) < 700)
REFERENCES = st.text(string.ascii_uppercase + string.digits + "-", min_size=1, max_size=16)
WORDS = st.text(string.ascii_letters + string.digits + "-.,#&ÄÖÜß", min_size=1, max_size=24)
DATES = st.dates(date(2000, 1, 1), date(2068, 12, 31))  # YYMMDD: the library reads 69 as 1969


@st.composite
def statements(draw: st.DrawFn) -> ParsedStatement:
    currency = draw(st.sampled_from(["USD", "EUR", "JPY", "KWD"]))
    account = draw(st.text(string.digits, min_size=4, max_size=17))
    as_of = draw(DATES)

    def money(units: int) -> Decimal:
        return Decimal(units).scaleb(-minor_units(currency))

    amounts = draw(st.lists(st.integers(-(10**11), 10**11), max_size=6))
    references = draw(st.lists(REFERENCES, min_size=len(amounts), max_size=len(amounts), unique=True))
    lines = [
        StatementLine(
            line=0,
            booked_on=as_of,
            amount=money(units),
            currency=currency,
            bank_reference=reference,
            value_on=draw(st.none() | DATES),
            end_to_end_id=draw(st.just("") | REFERENCES),
            remittance=" ".join(draw(st.lists(WORDS, max_size=15))),
            bank_code=draw(st.sampled_from(CREDIT_CODES if units >= 0 else DEBIT_CODES)),
        )
        for units, reference in zip(amounts, references, strict=True)
    ]
    opening = draw(st.integers(-(10**12), 10**12))
    return ParsedStatement(
        format="bai2",
        statement_id=f"{account}/{as_of:%Y-%m-%d}",
        account=account,
        currency=currency,
        opening_balance=money(opening),
        closing_balance=money(opening + sum(amounts)),
        opening_on=as_of,
        closing_on=as_of,
        lines=lines,
    )


@settings(max_examples=60, deadline=None)
@given(written=st.lists(statements(), min_size=1, max_size=3))
def test_what_is_written_is_read_back_the_same(written: list[ParsedStatement]) -> None:
    data = write_bai2(written, sender="BANK", receiver="BILLOPS", created_on=date(2025, 2, 1))

    assert without_line_numbers(parse_bai2(data)) == written
    bai2.parse_from_string(data.decode(), check_integrity=True)  # and the library finds every total right


@settings(max_examples=300, deadline=None)
@given(data=damaged(GOOD))
def test_a_damaged_file_is_read_or_refused_with_its_line_never_crashes(data: bytes) -> None:
    try:
        parse_bai2(data)
    except StatementRejected as error:
        assert refused_with_its_line(error), error.message
