"""`billops check`: the invariants of DESIGN.md verified over the whole database.

Each check returns {"ok": bool, …figures}; a failing one says what is wrong in "problems".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from rich.console import Console
from rich.table import Table

from billops.access.models import ApiToken, User
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from billops.customers import selectors as customers
from billops.ledger import selectors as ledger
from billops.ledger.accounts import Purpose
from billops.ledger.models import Account, AccountingPeriod, JournalEntry, JournalLine

# Audit actions that move money: each must have posted exactly one journal entry.
MONEY_MOVING_ACTIONS = frozenset({
    "ledger.entry_posted",
    "ledger.entry_reversed",
    "customers.opening_balance_posted",
})  # fmt: skip

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
        gl, items = control.get(currency, Decimal(0)), subledger.get(currency, Decimal(0))
        if gl != items:
            problems.append(f"{currency}: open items {items} ≠ receivables account {receivables.code} {gl}")
    by_customer_gl = ledger.receivables_by_customer()
    by_customer_items = customers.open_receivables_by_customer()
    for key in sorted(set(by_customer_gl) | set(by_customer_items), key=str):
        gl, items = by_customer_gl.get(key, Decimal(0)), by_customer_items.get(key, Decimal(0))
        if gl != items:
            customer_id, currency = key
            problems.append(f"customer {customer_id} {currency}: open items {items} ≠ receivables lines {gl}")
    orphans = JournalLine.objects.filter(account=receivables, customer_id__isnull=True).count()
    if orphans:
        problems.append(f"{orphans} receivables lines name no customer")
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
    changed = ledger.verify_entry_digests()
    if changed:
        problems.append(f"journal entry {changed} was changed after posting (its digest no longer matches)")
    return _result(problems, audit_events=chain.events, last_seq=chain.last_seq, last_hash=chain.last_hash)


def one_entry_one_event() -> dict[str, Any]:
    """I5: every money-moving write has exactly one journal entry and one audit event."""
    problems: list[str] = []
    linked = {
        entry_id
        for entry_id in AuditEvent.objects.filter(journal_entry_id__isnull=False).values_list(
            "journal_entry_id", flat=True
        )
        if entry_id is not None
    }
    entries = set(JournalEntry.objects.values_list("id", flat=True))
    problems += [f"journal entry {entry_id} has no audit event" for entry_id in sorted(entries - linked)]
    problems += [
        f"an audit event names journal entry {entry_id}, which does not exist"
        for entry_id in sorted(linked - entries)
    ]
    unposted = AuditEvent.objects.filter(action__in=MONEY_MOVING_ACTIONS, journal_entry_id__isnull=True)
    problems += [f"audit event #{seq} ({action}) moved money without a journal entry"
                 for seq, action in unposted.values_list("seq", "action")[:MAX_LISTED]]  # fmt: skip
    return _result(problems, journal_entries=len(entries), money_events=len(linked))


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
