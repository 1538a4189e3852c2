"""`billops check`: the invariants of DESIGN.md verified over the whole database.

Each check returns {"ok": bool, …figures}; a failing one says what is wrong in "problems".
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from rich.console import Console
from rich.table import Table

from billops.access.approvals import selectors as approvals
from billops.access.models import ApiToken, User
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from billops.billing.models import BilledItem, BillRun, BillRunDraft
from billops.collections.selectors import counts as collections
from billops.customers import selectors as customers
from billops.customers.models import OpeningBalance
from billops.disputes import selectors as disputes
from billops.invoicing import selectors as invoicing
from billops.invoicing.models import EDITABLE_STATUSES, DocumentType, NumberSeries
from billops.ledger import selectors as ledger
from billops.ledger.accounts import Purpose
from billops.ledger.models import Account, AccountingPeriod, JournalEntry, JournalLine
from billops.payments import selectors as payments

# Audit actions that move money: each must have posted exactly one journal entry.
MONEY_MOVING_ACTIONS = frozenset({
    "ledger.entry_posted",
    "ledger.entry_reversed",
    "customers.opening_balance_posted",
    "invoice.issued",
    "receipt.posted",
    "receipt.applied",
    "receipt.unapplied",
    "receipt.reversed",
    "receipt.refunded",
    "credit_note.issued",
    "debit_note.issued",
    "invoice.voided",
    "credit_note.voided",
    "debit_note.voided",
    "collections.written_off",
    "collections.write_off_recovered",
})  # fmt: skip

OPENING_BALANCE_SOURCE = "customers.openingbalance"  # the source_type of an opening balance's entry
INVOICE_SOURCE = "invoicing.invoice"  # the source_type of a document's issue and void entries

MAX_LISTED = 20  # problems listed per invariant; the count says how many there are


def _result(problems: list[str], **figures: Any) -> dict[str, Any]:
    return {"ok": not problems, "problems": problems[:MAX_LISTED], "problem_count": len(problems), **figures}


def ledger_balances() -> dict[str, Any]:
    """I1: per currency, posted debits = posted credits, and the trial balance nets to zero."""
    problems: list[str] = []
    totals = {}
    for row in (
        JournalLine.objects.values("currency").annotate(debit=Sum("debit"), credit=Sum("credit")).order_by()
    ):
        debit, credit = (
            ledger.settle(row["debit"], row["currency"]),
            ledger.settle(row["credit"], row["currency"]),
        )
        totals[row["currency"]] = {"debit": str(debit.amount), "credit": str(credit.amount)}
        if debit != credit:
            problems.append(f"{row['currency']}: posted debits {debit} ≠ credits {credit}")
    trial = ledger.trial_balance(as_of=date.max)
    if not trial.is_balanced:
        problems.append("the trial balance from running balances does not net to zero")
    for entry_id, residual in ledger.unbalanced_entries():
        problems.append(f"journal entry {entry_id} does not balance: {residual}")
    problems.extend(ledger.verify_running_balances())
    return _result(problems, per_currency=totals)


def receivables_match_control() -> dict[str, Any]:
    """I2: open items of the receivables subledger = the AR control account; unapplied cash likewise."""
    problems: list[str] = []
    receivables = Account.objects.get(purpose=Purpose.RECEIVABLES)
    control = ledger.balances_by_currency(account=receivables)
    by_customer_items = _open_items_by_customer()
    subledger: dict[str, Decimal] = defaultdict(Decimal)
    for (_, currency), amount in by_customer_items.items():
        subledger[currency] += amount
    for currency in sorted(set(control) | set(subledger)):
        zero = ledger.settle(None, currency).amount  # 0.00 in EUR, 0 in JPY: printed like the others
        gl, items = control.get(currency, zero), subledger.get(currency, zero)
        if gl != items:
            problems.append(f"{currency}: open items {items} ≠ receivables account {receivables.code} {gl}")
    by_customer_gl = ledger.receivables_by_customer()
    for key in sorted(set(by_customer_gl) | set(by_customer_items), key=lambda pair: (pair[0] or 0, pair[1])):
        customer_id, currency = key
        if customer_id is None:  # named line by line below
            continue
        zero = ledger.settle(None, currency).amount
        gl, items = by_customer_gl.get(key, zero), by_customer_items.get(key, zero)
        if gl != items:
            problems.append(f"customer {customer_id} {currency}: open items {items} ≠ receivables lines {gl}")
    orphans = JournalLine.objects.filter(account=receivables, customer_id__isnull=True)
    orphans = orphans.order_by("entry_id", "line_no")
    problems += [
        f"journal entry {entry_id} line {line_no} posts to receivables {receivables.code} without a customer"
        for entry_id, line_no in orphans.values_list("entry_id", "line_no")
    ]
    problems += _unapplied_matches_control()
    problems += _history_matches_open_items()
    return _result(
        problems,
        receivables={currency: str(amount) for currency, amount in sorted(control.items())},
        open_items={currency: str(amount) for currency, amount in sorted(subledger.items())},
    )


def _history_matches_open_items() -> list[str]:
    """Every open item's dated movements add up to what it has open: aging for a past day reads them."""
    off = invoicing.documents_off_their_history()
    off += [
        (f"opening balance {reference}", currency, open_amount, moved)
        for reference, currency, open_amount, moved in customers.balances_off_their_history()
    ]
    return [
        f"{item}: {ledger.settle(moved, currency).amount} in its history ≠ "
        f"{ledger.settle(open_amount, currency).amount} open"
        for item, currency, open_amount, moved in off
    ]


def _unapplied_matches_control() -> list[str]:
    """Receipts' unapplied amounts = the unapplied cash account (a liability: its credits), per currency
    and per customer."""
    code = Account.objects.get(purpose=Purpose.UNAPPLIED_CASH).code
    receipts = payments.unapplied_by_customer()
    gl = {key: -amount for key, amount in ledger.control_by_customer(Purpose.UNAPPLIED_CASH).items()}
    problems = []
    for currency in sorted({currency for _, currency in receipts} | {currency for _, currency in gl}):
        held = sum((amount for (_, c), amount in receipts.items() if c == currency), Decimal(0))
        posted = sum((amount for (_, c), amount in gl.items() if c == currency), Decimal(0))
        if held != posted:
            problems.append(
                f"{currency}: receipts hold {held} unapplied ≠ unapplied cash account {code} {posted}"
            )
    for key in sorted(set(receipts) | set(gl), key=lambda pair: (pair[0] or 0, pair[1])):
        held, posted = receipts.get(key, Decimal(0)), gl.get(key, Decimal(0))
        if held != posted:
            problems.append(
                f"customer {key[0]} {key[1]}: receipts hold {held} unapplied ≠ its unapplied cash {posted}"
            )
    return problems


def _open_items_by_customer() -> dict[tuple[int | None, str], Decimal]:
    """The receivables subledger: open opening balances and open issued documents, per customer."""
    items: dict[tuple[int | None, str], Decimal] = defaultdict(Decimal)
    for source in (customers.open_receivables_by_customer(), invoicing.open_items_by_customer()):
        for key, amount in source.items():
            items[key] += ledger.settle(amount, key[1]).amount
    return dict(items)


def money_files() -> dict[str, Any]:
    """I3: every line of every imported money file landed in exactly one place (posted, parked in the
    matching queue, or rejected with a reason), the lines add up to what the file held, and a posted
    line's receipt is exactly its amount."""
    problems: list[str] = []
    figures = payments.file_figures()
    for file, read, lines, total_in, total_out in figures:
        if lines != read:
            problems.append(f"file {file.file_name}: {read} lines read, {lines} landed")
        if (total_in, total_out) != (file.total_in, file.total_out):
            problems.append(
                f"file {file.file_name}: in {file.total_in} and out {file.total_out} read, "
                f"{total_in} and {total_out} landed"
            )
    problems += [
        f"file {file_name} line {line} of {amount} posted {posted}"
        for file_name, line, posted, amount in payments.posted_lines_off_their_receipt()
    ]
    by_status = payments.lines_by_status()
    return _result(problems, files=len(figures), lines=sum(by_status.values()), **by_status)


def _series_problems() -> tuple[list[str], int]:
    """Each series holds exactly the numbers 1 to next_number - 1, each once, each formatted as the series."""
    problems: list[str] = []
    taken: dict[int, list[int]] = defaultdict(list)
    numbered = invoicing.issued_documents().values_list("series_id", "sequence_no")
    for series_id, sequence_no in numbered:
        # never None: a check constraint gives every issued document its series and number
        taken[series_id or 0].append(sequence_no or 0)
    all_series = list(NumberSeries.objects.order_by("id"))
    for series in all_series:
        numbers = sorted(taken.pop(series.pk, []))
        expected = list(range(1, series.next_number))
        if numbers != expected:
            missing = sorted(set(expected) - set(numbers))
            doubled = sorted({n for n in numbers if numbers.count(n) > 1})
            beyond = sorted(set(numbers) - set(expected))
            detail = "; ".join(
                f"{what} {', '.join(series.format(n) for n in found[:5])}"
                for what, found in (
                    ("missing", missing),
                    ("used twice", doubled),
                    ("beyond the series", beyond),
                )
                if found
            )
            problems.append(f"series {series}: {detail}")
    problems += [f"documents in series {series_id}, which does not exist" for series_id in sorted(taken)]
    mismatched = [
        number
        for number, series_prefix, year, sequence_no in invoicing.issued_documents().values_list(
            "number", "series__prefix", "series__year", "sequence_no"
        )
        if number != f"{series_prefix}-{year}-{sequence_no:06d}"
    ]
    problems += [f"document {number} does not carry its series number" for number in mismatched]
    return problems, len(all_series)


def nothing_changed() -> dict[str, Any]:
    """I4: issued numbers gapless per series, issued documents and posted entries unchanged, audit chain
    intact."""
    problems, series_count = _series_problems()
    problems += [
        f"issued document {number} was changed after issue ({what} no longer matches)"
        for number, what in invoicing.verify_issued_documents()
    ]
    chain = verify_chain()
    if not chain.ok:
        problems.append(f"audit chain: {chain.problem}")
    problems += [
        f"journal entry {entry_id} was changed after posting (its digest no longer matches)"
        for entry_id in ledger.verify_entry_digests()
    ]
    return _result(
        problems,
        series=series_count,
        audit_events=chain.events,
        last_seq=chain.last_seq,
        last_hash=chain.last_hash,
    )


def one_entry_one_event() -> dict[str, Any]:
    """I5: every money-moving write has exactly one journal entry and one audit event."""
    problems: list[str] = []
    # a unique constraint keeps it to one event per entry; an entry may still have none
    linked = AuditEvent.objects.filter(journal_entry_id__isnull=False).values_list("journal_entry_id", "seq")
    events = {entry_id: seq for entry_id, seq in linked if entry_id is not None}
    sources = {
        entry_id: (source_type, source_id)
        for entry_id, source_type, source_id in JournalEntry.objects.values_list(
            "id", "source_type", "source_id"
        )
    }
    problems += [
        f"journal entry {entry_id} has no audit event" for entry_id in sorted(set(sources) - set(events))
    ]
    problems += [
        f"audit event #{events[entry_id]} names journal entry {entry_id}, which does not exist"
        for entry_id in sorted(set(events) - set(sources))
    ]
    unposted = AuditEvent.objects.filter(action__in=MONEY_MOVING_ACTIONS, journal_entry_id__isnull=True)
    problems += [
        f"audit event #{seq} ({action}) moved money without a journal entry"
        for seq, action in unposted.order_by("seq").values_list("seq", "action")
    ]
    # each opening balance names the entry that posted it, and that entry names it back as its source
    balances = OpeningBalance.objects.order_by("id").values_list(
        "id", "journal_entry_id", "reference", "customer__account_number"
    )
    for balance_id, entry_id, reference, account_number in balances:
        what = f"opening balance {reference!r} of {account_number}"
        if entry_id is None:
            problems.append(f"{what} has no journal entry")
        elif entry_id not in sources:
            problems.append(f"{what} names journal entry {entry_id}, which does not exist")
        elif sources[entry_id] != (OPENING_BALANCE_SOURCE, str(balance_id)):
            problems.append(f"{what} names journal entry {entry_id}, which posted something else")
    for number, issue_entry_id, void_entry_id, document_id in invoicing.issued_documents().values_list(
        "number", "journal_entry_id", "void_entry_id", "id"
    ):
        for what, entry_ref in (("its issue", issue_entry_id), ("its void", void_entry_id)):
            if entry_ref is None:
                continue
            if entry_ref not in sources:
                problems.append(f"document {number} names entry {entry_ref} for {what}, which does not exist")
            elif sources[entry_ref] != (INVOICE_SOURCE, str(document_id)):
                problems.append(
                    f"document {number} names entry {entry_ref} for {what}, which posted something else"
                )
    return _result(problems, journal_entries=len(sources), money_events=len(events))


# what bill runs billed, by the kind of work: the billed item's key starts with it ("usage:12:2026-03-01")
BILLED_KINDS = {
    "billed_subscription_periods": "subscription",
    "billed_usage": "usage",
    "billed_deliveries": "delivery",
    "billed_charges": "charge",
    "billed_time_entries": "time",
    "billed_expenses": "expense",
}


def counts() -> dict[str, int]:
    periods = dict(AccountingPeriod.objects.values_list("status").annotate(n=Count("id")))
    billed = BilledItem.objects.aggregate(
        **{name: Count("id", filter=Q(key__startswith=f"{kind}:")) for name, kind in BILLED_KINDS.items()}
    )
    return {
        "customers": customers.count_customers(),
        "opening_balances": customers.count_opening_balances(),
        "invoices_issued": invoicing.count_documents(DocumentType.INVOICE),
        "credit_notes": invoicing.count_documents(DocumentType.CREDIT_NOTE),
        "debit_notes": invoicing.count_documents(DocumentType.DEBIT_NOTE),
        "documents_void": invoicing.issued_documents().filter(status="void").count(),
        "users": User.objects.count(),
        "api_tokens": ApiToken.objects.count(),
        "accounts": Account.objects.count(),
        "periods_open": periods.get("open", 0),
        "periods_closed": periods.get("closed", 0),
        "journal_entries": JournalEntry.objects.count(),
        "journal_lines": JournalLine.objects.count(),
        "audit_events": AuditEvent.objects.count(),
        **payments.counts(),
        "bill_runs": BillRun.objects.count(),
        # invoices bill runs left as drafts that nobody has issued or deleted yet
        "run_drafts_to_review": BillRunDraft.objects.filter(invoice__status__in=EDITABLE_STATUSES).count(),
        **billed,
        **collections.counts(),
        **disputes.counts(),
        **approvals.counts(),
    }


def check_all() -> dict[str, Any]:
    return {
        "invariants": {
            "I1": ledger_balances(),
            "I2": receivables_match_control(),
            "I3": money_files(),
            "I4": nothing_changed(),
            "I5": one_entry_one_event(),
        },
        "counts": counts(),
    }


def print_report(report: dict[str, Any]) -> None:
    console = Console()
    table = Table(title="billops check", show_lines=False)
    table.add_column("invariant")
    table.add_column("result")
    table.add_column("figures / problems")
    for name, result in report["invariants"].items():
        figures = {k: v for k, v in result.items() if k not in ("ok", "problems", "problem_count")}
        detail = (
            "\n".join(result["problems"])
            if result["problems"]
            else ", ".join(f"{k}={v}" for k, v in figures.items())
        )
        table.add_row(
            name, "[green]ok[/]" if result["ok"] else f"[red]FAILED ({result['problem_count']})[/]", detail
        )
    console.print(table)
    console.print(", ".join(f"{k}: {v}" for k, v in report["counts"].items()))
