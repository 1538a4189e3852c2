"""Posting bank lines as receipts: one line a clerk resolves in the matching queue (`post_line`), or the
many lines a bank file's import matched (`post_lines`).

A posted line is a receipt of its amount from the customer, received on the day the bank booked it,
applied to the invoices its match named; what is left stays unapplied on the customer's account.
`post_lines` writes for each line exactly what `post_line` writes (the receipt and its entry, the
applications and their entry, the invoices' open amounts, the two audit events), but for a whole chunk of
a file at once: one lock of the chunk's customers (in id order) and of the invoices named, ids reserved,
one insert per table, the day balances added once per day and the audit chain appended once. An import
of 80 000 lines would otherwise run some 24 statements a line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import EventData, record_events
from billops.core.db import insert_rows, reserve_ids, update_rows
from billops.core.errors import DomainError, NotFound
from billops.core.memo import reference_data_cached
from billops.core.money import Money
from billops.customers.models import Customer, OpenItemMovement
from billops.customers.movements import record_movements
from billops.invoicing.models import DocumentType, Invoice
from billops.ledger.models import AccountingPeriod, JournalEntry, JournalLine
from billops.ledger.posting import build_entry, period_for_posting, write_entries
from billops.ledger.selectors import posting_day
from billops.payments.models import Application, BankAccount, BankLine, Receipt
from billops.payments.services.applications import (
    OPEN_STATUSES,
    Allocation,
    OpenItem,
    application_posting,
    applied_event,
    apply_cash,
    choose,
    has_open_items,
    item_movement,
    lower_open_amount,
    new_applications,
)
from billops.payments.services.matching import AUTO_APPLY, Matcher
from billops.payments.services.receipts import posted_event, receipt_posting, receipt_request, record_receipt


def method_of(bank_code: str) -> str:
    """The receipt's method as far as the bank's transaction code tells it; a transfer otherwise."""
    code = bank_code.upper()
    if "DD" in code or "DIRECT" in code:
        return Receipt.Method.DIRECT_DEBIT
    if any(word in code for word in ("CHK", "CHQ", "CHEQUE", "CHECK")):
        return Receipt.Method.CHEQUE
    if "ACH" in code:
        return Receipt.Method.ACH
    return Receipt.Method.WIRE


def post_line(row: BankLine, *, customer_id: int, allocations: Sequence[Allocation], actor: User) -> Receipt:
    """A receipt of the line's amount from the customer, applied to the invoices given, or oldest first
    when none are given. Posted on the day the bank booked it, unless that month is closed (a line
    resolved after the close): then in the period open now."""
    on = posting_day(row.booked_on)
    receipt = record_receipt(
        customer_id=customer_id, bank_account=row.bank_account.code, method=method_of(row.bank_code),
        amount=Money(row.amount, row.currency), actor=actor, received_on=row.booked_on,
        payer_name=row.payer_name, posted_on=on,
    )  # fmt: skip
    if allocations or has_open_items(customer_id, row.currency):
        apply_cash(receipt=receipt, actor=actor, allocations=allocations or None, applied_on=on)
    return receipt


@dataclass(frozen=True, slots=True)
class MatchedLine:
    """A bank line and what its match applies it to: named invoices of one customer."""

    row: BankLine
    customer_id: int
    allocations: Sequence[Allocation]


def match_row(row: BankLine, matcher: Matcher) -> MatchedLine | None:
    """Where a line of money in lands: the best candidate, when it scores AUTO_APPLY or more, posts it
    (the row keeps it as its evidence, and the invoices are taken off the matcher for the lines after
    it); otherwise it is parked with up to five candidates as ranked suggestions."""
    texts = {
        name: value
        for name in ("remittance", "creditor_reference", "end_to_end_id")
        if (value := getattr(row, name))
    }  # where a payer writes what it pays for
    candidates = matcher.candidates(
        amount=row.amount, on=row.booked_on, payer_account=row.payer_account, payer_name=row.payer_name,
        texts=texts,
    )  # fmt: skip
    suggestions = [candidate.as_json(matcher.account_numbers) for candidate in candidates[:5]]
    if candidates and candidates[0].score >= AUTO_APPLY and candidates[0].invoices:
        best = candidates[0]
        matcher.take(best.invoices)  # not open any more to the lines after it
        row.status, row.evidence, row.suggestions, row.reason = BankLine.Status.POSTED, suggestions[0], [], ""
        return MatchedLine(row, best.customer_id, best.invoices)
    row.status, row.suggestions = BankLine.Status.PARKED, suggestions
    row.reason = "no customer found" if not candidates else "not sure enough to apply by itself"
    return None


class _Chunk:
    """What a chunk of matched lines reads once, under lock: customers, the invoices named, the posting
    days and their open periods."""

    def __init__(self, matched: Sequence[MatchedLine]) -> None:
        wanted = {line.customer_id for line in matched}
        locked = Customer.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
        self.customers = {customer.pk: customer for customer in locked}
        if missing := wanted - self.customers.keys():
            raise NotFound(f"there is no customer {min(missing)}", field="customer_id")
        numbers = {item.invoice_number.strip().upper() for line in matched for item in line.allocations}
        self.invoices: dict[int, dict[str, Invoice]] = defaultdict(dict)
        invoices = Invoice.objects.select_for_update().filter(
            customer_id__in=wanted, number__in=numbers, document_type=DocumentType.INVOICE,
            status__in=OPEN_STATUSES,
        )  # fmt: skip
        for invoice in invoices.order_by("pk"):
            self.invoices[invoice.customer_id][invoice.number or ""] = invoice
        self.days = {
            booked_on: posting_day(booked_on) for booked_on in {line.row.booked_on for line in matched}
        }
        self.periods: dict[date, AccountingPeriod] = {
            on: period_for_posting(on) for on in sorted(set(self.days.values()))
        }


def post_lines(matched: Sequence[MatchedLine], *, bank: BankAccount, actor: User) -> None:
    """Post matched lines of one bank account (loaded with its ledger account) as receipts applied to the
    invoices matched, each line's `receipt` set; inside the import's transaction. Any line refused (an
    invoice no longer open, a closed period) refuses them all, as `post_line` would refuse it."""
    if not matched:
        return
    if any(not line.allocations for line in matched):
        raise ValueError("post_lines applies to invoices named; post_line applies oldest first")
    require_permission(actor, "payments.post")
    require_permission(actor, "payments.apply")
    with reference_data_cached():  # the accounts every entry posts to, read once
        _post(matched, bank, actor)


@dataclass
class _Rows:
    """What a chunk's lines post, gathered to be written with one insert per table."""

    receipts: list[Receipt] = field(default_factory=list)
    applications: list[Application] = field(default_factory=list)
    entries: dict[date, list[tuple[JournalEntry, list[JournalLine]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    settled: dict[int, OpenItem] = field(default_factory=dict)  # the items paid, by id
    movements: list[OpenItemMovement] = field(default_factory=list)
    events: list[EventData] = field(default_factory=list)


def _post(matched: Sequence[MatchedLine], bank: BankAccount, actor: User) -> None:
    chunk = _Chunk(matched)
    receipt_ids = reserve_ids(Receipt, len(matched))
    entry_ids = iter(reserve_ids(JournalEntry, 2 * len(matched)))
    rows = _Rows()
    for line, receipt_id in zip(matched, receipt_ids, strict=True):
        try:
            _post_line(line, receipt_id, entry_ids, chunk, bank, actor, rows)
        except DomainError as exc:  # refuses the file: say which line
            exc.message, exc.field = f"line {line.row.line}: {exc.message}", "file"
            exc.args = (exc.message,)
            raise
    insert_rows(rows.receipts)
    for on, day_entries in rows.entries.items():
        write_entries(on, day_entries)
    insert_rows(rows.applications)
    update_rows(list(rows.settled.values()), ["open_amount", "status"])
    record_movements(rows.movements)
    record_events(actor=actor, events=rows.events)


def _post_line(
    line: MatchedLine,
    receipt_id: int,
    entry_ids: Iterator[int],
    chunk: _Chunk,
    bank: BankAccount,
    actor: User,
    rows: _Rows,
) -> None:
    """One line's receipt and its entry, its application and its entry, its events, gathered in `rows`."""
    row, customer = line.row, chunk.customers[line.customer_id]
    on = chunk.days[row.booked_on]
    request = receipt_request(
        customer=customer, bank=bank, method=method_of(row.bank_code),
        amount=Money(row.amount, row.currency), received_on=row.booked_on, payer_name=row.payer_name,
    )  # fmt: skip
    receipt = Receipt(
        pk=receipt_id, customer=customer, unapplied_amount=request["amount"], created_by=actor,
        journal_entry_id=next(entry_ids), **request,
    )  # fmt: skip
    lines, memo = receipt_posting(receipt, customer, bank)
    rows.entries[on].append(
        build_entry(
            on=on, lines=lines, memo=memo, source=receipt, actor=actor, period=chunk.periods[on],
            entry_id=receipt.journal_entry_id,
        )
    )  # fmt: skip
    rows.events.append(posted_event(receipt, customer, bank, request))
    chosen = choose(receipt, line.allocations, on, chunk.invoices[customer.pk], actor)
    lines, memo = application_posting(receipt, chosen)
    applied_id = next(entry_ids)
    rows.entries[on].append(
        build_entry(
            on=on, lines=lines, memo=memo, source=receipt, actor=actor, period=chunk.periods[on],
            entry_id=applied_id,
        )
    )  # fmt: skip
    for applied in chosen:
        lower_open_amount(applied.item, applied.settled)
        rows.settled[applied.item.pk] = applied.item
        rows.movements.append(item_movement(applied.item, applied.settled, on))
    rows.applications += new_applications(receipt, chosen, applied_on=on, entry_id=applied_id, actor=actor)
    rows.events.append(applied_event(receipt, chosen, applied_id, how="chosen"))
    row.receipt = receipt
    rows.receipts.append(receipt)
