"""A bank file in each of the five formats, recognised by its first bytes (CSV by its bank account's
layout), imported end to end: the payment naming an invoice is posted and applied, the file is not read
twice, and `billops import bank-statement` says what happened; a refused file writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.cli.invariants import check_all
from billops.cli.main import main
from billops.core.errors import InvalidInput
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.payments.models import BankAccount, BankLine, StatementFile
from billops.payments.services.bank_files import csv_mapping, import_bank_file, set_csv_layout
from billops.payments.services.receipts import create_bank_account
from billops.payments.statements import detect_format
from billops.payments.statements.bai import write_bai2
from billops.payments.statements.camt import write_camt053
from billops.payments.statements.csvfile import write_csv
from billops.payments.statements.mt940 import write_mt940
from billops.payments.statements.ofx import write_ofx
from billops.payments.statements.parsed import ParsedStatement, StatementLine, StatementRejected
from tests.invoicing.factories import make_customer

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
DAY = date(2026, 5, 12)
LAYOUT = {
    "booked_on": "Buchungstag", "bank_reference": "Referenz", "amount": "Betrag", "payer_name": "Name",
    "remittance": "Verwendungszweck", "delimiter": ";", "decimal_comma": True, "date_format": "%d.%m.%Y",
}  # fmt: skip


@pytest.fixture
def invoice(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> Invoice:
    set_business_date(on=date(2026, 5, 20), actor=make_user(Role.ADMIN))
    create_bank_account(code="MAIN", name="Main EUR", currency="EUR", number=IBAN, actor=supervisor)
    set_csv_layout(bank_account="main", layout=LAYOUT, actor=supervisor)
    customer = make_customer(clerk, account_number="C-1")
    return invoice_now(
        customer_id=customer.pk, actor=clerk, issued_on=date(2026, 5, 2),
        lines=[LineData(quantity="1", description="Service", unit_price="100", tax_code="VAT-STD")],
    )  # fmt: skip


def statement(invoice: Invoice, statement_id: str = "2026-05-12/1") -> ParsedStatement:
    """One day: 119.00 in naming the invoice, 2.50 out (a bank fee); balances 1000.00 → 1116.50."""
    lines = [
        StatementLine(1, DAY, Decimal("119.00"), "EUR", "B-1", value_on=DAY, payer_name="Customer C1",
                      remittance=f"Invoice {invoice.number}", bank_code="195"),
        StatementLine(2, DAY, Decimal("-2.50"), "EUR", "B-2", value_on=DAY, remittance="Fee",
                      bank_code="495"),
    ]  # fmt: skip
    return ParsedStatement(
        "any", statement_id, IBAN, "EUR", Decimal("1000.00"), Decimal("1116.50"), DAY, DAY, lines
    )


def written(format: str, invoice: Invoice) -> bytes:
    if format == "camt":
        return write_camt053([statement(invoice)])
    if format == "bai2":
        return write_bai2([statement(invoice)], sender="BANK", receiver="US", created_on=DAY)
    if format == "mt940":
        return write_mt940([statement(invoice, "STMT1/1")])
    if format == "ofx":
        return write_ofx([statement(invoice, "2026-05-12/2026-05-12")])
    mapping = csv_mapping(BankAccount.objects.get(code="MAIN"))
    assert mapping is not None
    return write_csv(statement(invoice), mapping)


@pytest.mark.parametrize("format", ["camt", "bai2", "mt940", "ofx", "csv"])
def test_a_file_of_each_format_is_recognised_imported_and_not_read_twice(
    invoice: Invoice, clerk: User, format: str
) -> None:
    data = written(format, invoice)
    assert detect_format(data) == format
    result = import_bank_file(data=data, file_name=f"may.{format}", actor=clerk, bank_account="MAIN")
    assert (result.posted, result.parked, result.rejected) == (1, 1, 0)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_amount) == ("paid", Decimal(0))
    posted = BankLine.objects.get(status="posted")
    assert posted.evidence["rule"] == "invoices named, amount equal to what they have open"
    again = import_bank_file(data=data, file_name="renamed", actor=clerk, bank_account="MAIN")
    assert again.already_imported and StatementFile.objects.count() == 1
    report = check_all()
    assert {name: r["problems"] for name, r in report["invariants"].items() if not r["ok"]} == {}


def test_the_command_imports_a_file_and_a_refused_file_writes_nothing(
    invoice: Invoice, clerk: User, tmp_path: Path, capsys: Any
) -> None:
    good = tmp_path / "may.xml"
    good.write_bytes(written("camt", invoice))
    assert main(["import", "bank-statement", str(good), "--user", clerk.username]) == 0
    out = capsys.readouterr().out
    assert "imported may.xml (camt.053, bank account MAIN): 2 lines, in 119.00 and out 2.50 EUR" in out
    assert "1 posted, 1 in the matching queue, 0 rejected" in out
    assert main(["import", "bank-statement", str(good), "--user", clerk.username]) == 0
    assert "was imported before, as may.xml" in capsys.readouterr().out

    broken = tmp_path / "broken.xml"
    broken.write_bytes(written("camt", invoice).replace(b"1116.50", b"1116.05"))
    with pytest.raises(StatementRejected, match="out of balance"):
        import_bank_file(data=broken.read_bytes(), file_name="broken.xml", actor=clerk)
    assert StatementFile.objects.count() == 1


def test_a_csv_file_needs_its_bank_accounts_layout_and_a_bad_layout_is_refused(
    invoice: Invoice, clerk: User, supervisor: User
) -> None:
    data = written("csv", invoice)
    with pytest.raises(StatementRejected, match="read with its bank account's CSV layout"):
        import_bank_file(data=data, file_name="may.csv", actor=clerk)
    with pytest.raises(InvalidInput) as refused:
        set_csv_layout(bank_account="MAIN", layout={**LAYOUT, "credit": "Haben"}, actor=supervisor)
    assert refused.value.field == "amount"
    with pytest.raises(InvalidInput) as unknown:
        set_csv_layout(bank_account="MAIN", layout={**LAYOUT, "currency": "USD"}, actor=supervisor)
    assert unknown.value.field == "currency"
    assert not StatementFile.objects.exists()
