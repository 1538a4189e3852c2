"""`billops import bank-statement FILE [--format F] [--bank-account CODE]`: a bank file imported as on the
pages, then a one-screen summary; a refused file changes nothing and exits non-zero.
`billops apply-remittance RECEIPT_ID FILE`: a customer's remittance advice applied to its receipt.
`billops write-off-tolerance [CURRENCY …]`: what a short payment may leave, written off."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from billops.access.selectors import get_user
from billops.audit.services import json_safe
from billops.core.errors import InvalidInput
from billops.core.money import round_money
from billops.payments.cash_report import cash_report
from billops.payments.selectors import list_tolerances
from billops.payments.services.bank_files import import_bank_file
from billops.payments.services.remittances import apply_remittance, read_remittance
from billops.payments.services.tolerances import set_write_off_tolerance


def import_bank_statement(*, path: Path, username: str, format: str = "", bank_account: str = "") -> int:
    if not username:
        raise InvalidInput("say who imports with --user NAME (or BILLOPS_USER)", field="user")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file", field="file")
    result = import_bank_file(
        data=path.read_bytes(), file_name=path.name, actor=get_user(username, field="user"), format=format,
        bank_account=bank_account,
    )  # fmt: skip
    file = result.file
    if result.already_imported:
        sys.stdout.write(
            f"{path.name} was imported before, as {file.file_name} on {file.imported_at:%Y-%m-%d %H:%M}: "
            "nothing read again\n"
        )
        return 0
    sys.stdout.write(
        f"imported {path.name} ({file.format}, bank account {file.bank_account.code}): "
        f"{file.lines_read} lines, in {file.total_in:.2f} and out {file.total_out:.2f} {file.currency}; "
        f"{result.posted} posted, {result.parked} in the matching queue, {result.rejected} rejected"
        + (
            f"; {result.earlier_posted} earlier lines of the queue posted, matched again"
            if result.earlier_posted
            else ""
        )
        + "\n"
    )
    return 0


def apply_remittance_file(*, receipt_id: int, path: Path, username: str) -> int:
    """Apply a remittance advice (CSV, XLSX or X12 820) to a receipt; print each row applied, the
    deductions written off or left open on their invoices and what is left unapplied on the receipt."""
    if not username:
        raise InvalidInput("say who applies with --user NAME (or BILLOPS_USER)", field="user")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file", field="file")
    actor = get_user(username, field="user")
    advice = read_remittance(path.read_bytes(), path.name)
    result = apply_remittance(receipt_id=receipt_id, advice=advice, actor=actor)
    receipt, currency = result.receipt, result.receipt.currency
    customer = receipt.customer.account_number
    sys.stdout.write(
        f"applied {path.name} ({advice.format}) to receipt {receipt.pk} of {customer}: "
        f"{len(result.rows)} invoices, {result.paid_total} {currency} paid\n"
    )
    for row in result.rows:
        sys.stdout.write(
            f"  {row.place}: {row.invoice_number} paid {row.paid}, "
            f"now {row.status.replace('_', ' ')} with {row.open_amount} open\n"
        )
    for title, rows, total, amount_of in (
        ("deductions written off within the tolerance", [row for row in result.rows if row.written_off],
         result.written_off_total, lambda row: row.written_off),
        ("deductions left open, not written off", result.deductions, result.deduction_total,
         lambda row: row.left_open),
    ):  # fmt: skip
        if rows:
            sys.stdout.write(f"{title} ({total} {currency}):\n")
            for row in rows:
                reason = f" ({row.reason})" if row.reason else ""
                sys.stdout.write(f"  {row.invoice_number}: {amount_of(row)}{reason}\n")
    sys.stdout.write(f"receipt {receipt.pk}: {result.unapplied_amount} {currency} left unapplied\n")
    return 0


def write_off_tolerance(*, currency: str, max_amount: str, max_percent: str, username: str) -> int:
    """`billops write-off-tolerance [CURRENCY --max-amount A --max-percent P]`: set a currency's tolerance,
    then list every currency's."""
    if currency:
        if not username:
            raise InvalidInput("say who sets it with --user NAME (or BILLOPS_USER)", field="user")
        for name, value in (("max_amount", max_amount), ("max_percent", max_percent)):
            if not value:
                raise InvalidInput(f"give --{name.replace('_', '-')}", field=name)
        set_write_off_tolerance(
            currency=currency, max_amount=max_amount, max_percent=max_percent,
            actor=get_user(username, field="user"),
        )  # fmt: skip
    tolerances = list(list_tolerances())
    if not tolerances:
        sys.stdout.write("no write-off tolerance: nothing is written off by itself\n")
    for tolerance in tolerances:
        sys.stdout.write(
            f"{tolerance.currency}: up to {round_money(tolerance.max_amount, tolerance.currency).amount} and "
            f"{tolerance.max_percent} % of the "
            f"invoice's total (set by {tolerance.updated_by.username} {tolerance.updated_at:%Y-%m-%d})\n"
        )
    return 0


def print_cash_report(*, date_from: str, date_to: str, as_json: bool = False) -> int:
    """`billops cash-report`: receipts by day, method and bank account, the tie to the statements, and the
    cash still unapplied."""
    first, last = _day(date_from, "from"), _day(date_to, "to")
    if last < first:
        raise InvalidInput("--to is before --from", field="to")
    report = cash_report(date_from=first, date_to=last)
    if as_json:
        sys.stdout.write(json.dumps(json_safe(asdict(report)), indent=2) + "\n")
        return 0
    write = sys.stdout.write
    write(f"Cash received {first.isoformat()} to {last.isoformat()}\n")
    for day in report.days:
        write(
            f"  {day.day.isoformat()}  {day.bank_account:<10} {day.method:<13} {day.receipts:>5} receipts "
            f"{day.amount:>14} {day.currency}  ({day.from_statements} from bank files)\n"
        )
    for currency, total in report.totals.items():
        write(f"total {currency}: {total}\n")
    write("Tie-out to the bank statements\n")
    for tie in report.tie_out:
        write(
            f"  {tie.bank_account:<10} received {tie.receipts} - returned {tie.returned} - refunded "
            f"{tie.refunded} = {tie.booked} {tie.currency}; statements {tie.statements}; "
            f"in transit {tie.in_transit}\n"
        )
    held: dict[str, Decimal] = defaultdict(Decimal)
    for item in report.unapplied:
        held[item.currency] += item.amount
    per_currency = ", ".join(f"{amount} {currency}" for currency, amount in sorted(held.items()))
    write(f"Unapplied cash: {len(report.unapplied)} receipts; {per_currency or 'none'}\n")
    for item in report.unapplied[:20]:
        when = item.received_on.isoformat()
        write(f"  receipt {item.receipt_id} {item.customer:<12} {when} {item.amount} {item.currency}\n")
    return 0


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--{field} {value!r} is not a date (YYYY-MM-DD)", field=field) from None
