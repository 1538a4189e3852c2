"""`billops check`: the invariants of DESIGN.md verified over the whole database.

Each check returns {"ok": bool, …figures}; a failing one says what is wrong in "problems".
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Count, Sum
from rich.console import Console
from rich.table import Table

from billops.access.models import ApiToken, User
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from billops.customers import selectors as customers
from billops.customers.models import OpeningBalance
from billops.ledger import selectors as ledger
from billops.ledger.accounts import Purpose
from billops.ledger.models import Account, AccountingPeriod, JournalEntry, JournalLine

# Audit actions that move money: each must have posted exactly one journal entry.
MONEY_MOVING_ACTIONS = frozenset({
    "ledger.entry_posted",
    "ledger.entry_reversed",
    "customers.opening_balance_posted",
})  # fmt: skip

OPENING_BALANCE_SOURCE = "customers.openingbalance"  # the source_type of an opening balance's entry

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
    unapplied = Account.objects.get(purpose=Purpose.UNAPPLIED_CASH)
    control = ledger.balances_by_currency(account=receivables)
    subledger = customers.open_receivables_by_currency()
    for currency in sorted(set(control) | set(subledger)):
        zero = ledger.settle(None, currency).amount  # 0.00 in EUR, 0 in JPY: printed like the others
        gl, items = control.get(currency, zero), subledger.get(currency, zero)
        if gl != items:
            problems.append(f"{currency}: open items {items} ≠ receivables account {receivables.code} {gl}")
    by_customer_gl = ledger.receivables_by_customer()
    by_customer_items = customers.open_receivables_by_customer()
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
    # no receipt is unapplied until cash application exists, so the account must be empty
    for currency, balance in ledger.balances_by_currency(account=unapplied).items():
        if balance != 0:
            problems.append(
                f"{currency}: unapplied cash account {unapplied.code} holds {balance}, "
                "but no receipt is unapplied"
            )
    return _result(
        problems,
        receivables={currency: str(amount) for currency, amount in sorted(control.items())},
        open_items={currency: str(amount) for currency, amount in sorted(subledger.items())},
    )


def money_files() -> dict[str, Any]:
    """I3: every line of every imported money file is posted, parked or rejected (no money files yet)."""
    return _result([], files=0, lines=0, note="bank statements and remittances arrive with payments")


def nothing_changed() -> dict[str, Any]:
    """I4: issued numbers gapless (no series yet), posted entries unchanged, audit chain intact."""
    problems: list[str] = []
    chain = verify_chain()
    if not chain.ok:
        problems.append(f"audit chain: {chain.problem}")
    problems += [
        f"journal entry {entry_id} was changed after posting (its digest no longer matches)"
        for entry_id in ledger.verify_entry_digests()
    ]
    return _result(problems, audit_events=chain.events, last_seq=chain.last_seq, last_hash=chain.last_hash)


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
    return _result(problems, journal_entries=len(sources), money_events=len(events))


def counts() -> dict[str, int]:
    periods = dict(AccountingPeriod.objects.values_list("status").annotate(n=Count("id")))
    return {
        "customers": customers.count_customers(),
        "opening_balances": customers.count_opening_balances(),
        "users": User.objects.count(),
        "api_tokens": ApiToken.objects.count(),
        "accounts": Account.objects.count(),
        "periods_open": periods.get("open", 0),
        "periods_closed": periods.get("closed", 0),
        "journal_entries": JournalEntry.objects.count(),
        "journal_lines": JournalLine.objects.count(),
        "audit_events": AuditEvent.objects.count(),
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
