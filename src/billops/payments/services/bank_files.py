"""Importing a bank file: every line lands in exactly one place, and the whole file or nothing.

1. The file is known by its SHA-256: the same file again, renamed or not, is not read twice (the first
   import's result is returned).
2. It is parsed and checked by its format (`statements`): a file that fails is rejected whole, with the
   line and the difference stated, and nothing is written.
3. Its account must be one of our bank accounts, in its currency.
4. Each line, in one transaction with the others:
   - pending at the bank: rejected ("posted once booked"), so the booked line of a later file is read;
   - a bank reference already imported for the account: rejected, naming the file and line it came in;
   - money out (a returned payment, a fee, a refund): parked for a clerk;
   - money in: matched (`matching`); a candidate scoring `AUTO_APPLY` or more becomes a receipt applied
     as the candidate says, the line keeping the evidence; otherwise the line is parked in the matching
     queue with the candidates as ranked suggestions.
`billops check` I3 verifies for every file that its lines add up to what was read, and that each posted
line's receipt is exactly its amount.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.core.db import insert_rows
from billops.core.errors import CurrencyMismatch, InvalidInput
from billops.payments.models import BankAccount, BankLine, StatementFile
from billops.payments.services.line_posting import MatchedLine, match_row, post_lines
from billops.payments.services.matching import Matcher
from billops.payments.services.queue import rematch_queue
from billops.payments.statements import parse_file
from billops.payments.statements.csvfile import CsvMapping
from billops.payments.statements.parsed import ParsedStatement, StatementLine

TEXT_LIMITS = {"end_to_end_id": 100, "payer_name": 200, "payer_account": 40, "payer_bank": 20,
               "creditor_reference": 40, "bank_code": 40}  # fmt: skip


@dataclass(frozen=True)
class ImportResult:
    file: StatementFile
    already_imported: bool  # the same file was imported before: nothing was read again
    posted: int
    parked: int
    rejected: int
    # lines of earlier files that waited in the queue and were posted after it, matched again
    earlier_posted: int = 0


def file_identity(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _result(file: StatementFile, *, already_imported: bool) -> ImportResult:
    counts = {status: 0 for status in BankLine.Status.values}
    for status in file.lines.values_list("status", flat=True):
        counts[status] += 1
    return ImportResult(
        file, already_imported, counts[BankLine.Status.POSTED], counts[BankLine.Status.PARKED],
        counts[BankLine.Status.REJECTED],
    )  # fmt: skip


def _bank_account(statements: Sequence[ParsedStatement]) -> BankAccount:
    numbers = {statement.account for statement in statements}
    if len(numbers) != 1:
        raise InvalidInput(
            f"the file holds statements of {len(numbers)} accounts ({', '.join(sorted(numbers))}); "
            "import one account's file at a time",
            field="file",
        )
    [number] = numbers
    bank = BankAccount.objects.select_related("ledger_account").filter(number=number, is_active=True).first()
    if bank is None:
        raise InvalidInput(
            f"the file is for account {number}, which is not one of our bank accounts", field="file"
        )
    for statement in statements:
        if statement.currency != bank.currency:
            raise CurrencyMismatch(
                f"statement {statement.statement_id} is in {statement.currency}; bank account {bank.code} "
                f"holds {bank.currency}",
                field="file",
            )
    return bank


def csv_mapping(bank: BankAccount) -> CsvMapping | None:
    """The bank account's CSV layout as a mapping for its own account and currency; None when unset."""
    if not bank.csv_layout:
        return None
    return CsvMapping(account=bank.number, currency=bank.currency, **bank.csv_layout)


@transaction.atomic(durable=True)
def set_csv_layout(*, bank_account: str, layout: Mapping[str, object], actor: User) -> BankAccount:
    """Say how the bank lays out its CSV export (columns, separator, decimal comma, date format, encoding);
    checked as a whole, refused naming the setting at fault."""
    require_permission(actor, "payments.manage_bank_accounts")
    bank = BankAccount.objects.select_for_update().filter(code=bank_account.strip().upper()).first()
    if bank is None:
        raise InvalidInput(f"there is no bank account {bank_account!r}", field="bank_account")
    unknown = sorted(
        set(layout) - set(CsvMapping.__dataclass_fields__) | set(layout) & {"account", "currency"}
    )
    if unknown:
        raise InvalidInput(f"{unknown[0]} is not a CSV layout setting", field=unknown[0])
    before = bank.csv_layout
    bank.csv_layout = dict(layout)
    csv_mapping(bank)  # refuses a layout that cannot work
    bank.save(update_fields=["csv_layout"])
    record_event(actor=actor, action="payments.csv_layout_set", target=bank, before={"layout": before},
                 after={"layout": bank.csv_layout})  # fmt: skip
    return bank


def import_bank_file(
    *, data: bytes, file_name: str, actor: User, format: str = "", bank_account: str = ""
) -> ImportResult:
    """Read a bank file in any format (told, or recognised from its first bytes; CSV with the named bank
    account's layout) and import it; a file that fails its checks is refused whole, nothing written."""
    require_permission(actor, "payments.import")
    mapping = None
    if bank_account:
        bank = BankAccount.objects.filter(code=bank_account.strip().upper(), is_active=True).first()
        if bank is None:
            raise InvalidInput(f"there is no active bank account {bank_account!r}", field="bank_account")
        mapping = csv_mapping(bank)
    statements = parse_file(data, format=format, csv_mapping=mapping)
    if not statements:
        raise InvalidInput("the file holds no statement", field="file")
    result = import_statements(
        data=data, file_name=file_name, format=statements[0].format, statements=statements, actor=actor
    )
    if result.already_imported:
        return result
    # what is open changed, and payers may be known now: the queue's earlier lines are matched again, in
    # a transaction of their own (the file is imported whatever becomes of them)
    posted, _ = rematch_queue(
        actor=actor, bank_account_id=result.file.bank_account_id, except_file=result.file
    )
    return replace(result, earlier_posted=posted)


@transaction.atomic(durable=True)
def import_statements(
    *, data: bytes, file_name: str, format: str, statements: Sequence[ParsedStatement], actor: User
) -> ImportResult:
    """Import parsed statements of one file (checked by their parser) as described above."""
    require_permission(actor, "payments.import")
    sha256 = file_identity(data)
    earlier = StatementFile.objects.filter(sha256=sha256).first()
    if earlier is not None:
        return _result(earlier, already_imported=True)
    bank = _bank_account(statements)
    lines = [line for statement in statements for line in statement.lines]
    file = StatementFile.objects.create(
        sha256=sha256, file_name=file_name[:255], format=format, bank_account=bank,
        statement_ids=[statement.statement_id for statement in statements], lines_read=len(lines),
        total_in=sum((line.amount for line in lines if line.amount > 0), Decimal(0)),
        total_out=-sum((line.amount for line in lines if line.amount < 0), Decimal(0)),
        currency=bank.currency, imported_by=actor,
    )  # fmt: skip
    seen = {
        reference: (file_id, line_no)
        for reference, file_id, line_no in BankLine.objects.filter(
            bank_account=bank, bank_reference__in=[line.bank_reference for line in lines]
        )
        .filter(holds_reference=True)
        .values_list("bank_reference", "file__file_name", "line")
    }
    matcher = Matcher(bank.currency)
    size = settings.BANK_IMPORT_CHUNK_LINES  # lines matched, then posted together (`post_lines`)
    for start in range(0, len(lines), size):
        rows, matched = [], []
        for line in lines[start : start + size]:
            row, match = _read_line(file, bank, line, matcher, seen)
            rows.append(row)
            if match is not None:
                matched.append(match)
        post_lines(matched, bank=bank, actor=actor)
        insert_rows(rows)
    result = _result(file, already_imported=False)
    record_event(
        actor=actor,
        action="bank_file.imported",
        target=file,
        after={
            "file_name": file.file_name, "format": format, "sha256": sha256, "bank_account": bank.code,
            "lines": len(lines), "posted": result.posted, "parked": result.parked,
            "rejected": result.rejected, "total_in": file.total_in, "total_out": file.total_out,
        },
    )  # fmt: skip
    return result


def _read_line(
    file: StatementFile,
    bank: BankAccount,
    line: StatementLine,
    matcher: Matcher,
    seen: dict[str, tuple[str, int]],
) -> tuple[BankLine, MatchedLine | None]:
    """The line's row, where it lands, and the match to post it on when it is posted."""
    texts = {name: str(getattr(line, name))[:limit] for name, limit in TEXT_LIMITS.items()}
    row = BankLine(
        file=file, bank_account=bank, line=line.line, booked_on=line.booked_on, value_on=line.value_on,
        amount=line.amount, currency=line.currency, bank_reference=line.bank_reference[:100],
        remittance=line.remittance, **texts,
    )  # fmt: skip
    match = None
    if line.is_pending:
        row.status, row.holds_reference = BankLine.Status.REJECTED, False
        row.reason = (
            "not booked at the bank (pending, for information or future): posted once a statement books it"
        )
    elif row.bank_reference in seen:
        earlier_file, earlier_line = seen[row.bank_reference]
        row.status, row.holds_reference = BankLine.Status.REJECTED, False
        row.reason = f"imported before: {earlier_file} line {earlier_line}"
    elif line.amount < 0:
        row.status = BankLine.Status.PARKED
        row.reason = "money out: a returned payment, a refund or a bank fee; a clerk decides"
    else:
        match = match_row(row, matcher)
    if row.holds_reference:
        seen[row.bank_reference] = (file.file_name, row.line)
    return row, match
