"""The daily cash report: receipts by day, method and bank account; the tie to the bank's statements with
what is in transit; the cash still unapplied."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billops.access.models import Role, User
from billops.access.services import set_business_date
from billops.cli.main import main
from billops.core.errors import InvalidInput
from billops.core.money import Money
from billops.invoicing.services.lines import LineData
from billops.invoicing.services.workflow import invoice_now
from billops.payments.cash_report import CashDay, Unapplied, cash_report
from billops.payments.cli import print_cash_report
from billops.payments.services.bank_files import import_statements
from billops.payments.services.receipts import create_bank_account, post_receipt
from billops.payments.services.refunds import refund_receipt
from billops.payments.services.returns import reverse_receipt
from billops.payments.statements.parsed import ParsedStatement, StatementLine
from tests.invoicing.factories import make_customer

pytestmark = pytest.mark.django_db

IBAN = "DE89370400440532013000"
MAY_12, MAY_13 = date(2026, 5, 12), date(2026, 5, 13)


def test_receipts_by_day_and_method_tie_to_the_statements_and_the_rest_is_in_transit(
    clerk: User, supervisor: User, make_user: Callable[..., User], entity: Any, catalog: Any
) -> None:
    set_business_date(on=date(2026, 5, 20), actor=make_user(Role.ADMIN))
    create_bank_account(code="MAIN", name="Main", currency="EUR", number=IBAN, actor=supervisor)
    customer = make_customer(clerk, account_number="C-1")
    invoice = invoice_now(
        customer_id=customer.pk, actor=clerk, issued_on=date(2026, 5, 2),
        lines=[LineData(quantity="1", description="Service", unit_price="100", tax_code="VAT-STD")],
    )  # fmt: skip
    # from the bank: 119.00 naming the invoice (posted), booked on the 12th
    line = StatementLine(1, MAY_12, Decimal("119.00"), "EUR", "B-1", remittance=f"Invoice {invoice.number}")
    import_statements(
        data=b"f", file_name="f.xml", format="camt.053", actor=clerk,
        statements=[ParsedStatement("camt.053", "S", IBAN, "EUR", None, None, lines=[line])],
    )  # fmt: skip
    # by hand: a cheque of 80.00 on the 13th (not on a statement yet), a transfer of 30.00 later returned
    by_hand = {"customer_id": customer.pk, "bank_account": "MAIN", "actor": clerk, "received_on": MAY_13}
    cheque = post_receipt(method="cheque", amount=Money(Decimal("80.00"), "EUR"), **by_hand)
    bounced = post_receipt(method="wire", amount=Money(Decimal("30.00"), "EUR"), **by_hand)
    reverse_receipt(receipt_id=bounced.pk, return_code="AC04", actor=clerk, on=MAY_13)
    five = Money(Decimal("5.00"), "EUR")
    refund_receipt(
        receipt_id=cheque.pk, amount=five, method="wire", reason="overpaid", actor=supervisor, on=MAY_13
    )

    report = cash_report(date_from=MAY_12, date_to=MAY_13)
    assert report.days == [
        CashDay(MAY_12, "MAIN", "wire", "EUR", 1, Decimal("119.00"), 1),
        CashDay(MAY_13, "MAIN", "cheque", "EUR", 1, Decimal("80.00"), 0),
        CashDay(MAY_13, "MAIN", "wire", "EUR", 1, Decimal("30.00"), 0),
    ]
    assert report.totals == {"EUR": Decimal("229.00")}
    [tie] = report.tie_out
    assert (tie.receipts, tie.returned, tie.refunded, tie.statements) == (
        Decimal("229.00"), Decimal("30.00"), Decimal("5.00"), Decimal("119.00"),
    )  # fmt: skip
    assert (tie.booked, tie.in_transit) == (
        Decimal("194.00"),
        Decimal("75.00"),
    )  # the cheque, less its refund
    assert report.unapplied == [Unapplied(cheque.pk, "C-1", MAY_13, "EUR", Decimal("75.00"))]
    # a day with nothing: nothing to report
    assert cash_report(date_from=date(2026, 5, 1), date_to=date(2026, 5, 11)).days == []


def test_the_command_prints_the_report_and_refuses_a_bad_date(clerk: User, capsys: Any) -> None:
    assert main(["cash-report", "--from", "2026-05-01", "--to", "2026-05-31"]) == 0
    out = capsys.readouterr().out
    assert "Cash received 2026-05-01 to 2026-05-31" in out and "Unapplied cash: 0 receipts; none" in out
    assert main(["cash-report", "--from", "2026-05-01", "--to", "2026-05-31", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["days"] == []
    with pytest.raises(InvalidInput, match="--to is before --from"):
        print_cash_report(date_from="2026-05-31", date_to="2026-05-01")
