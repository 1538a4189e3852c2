"""Benchmark: the trial balance from running day balances against a raw GROUP BY over the journal lines.

    .venv/bin/python bench/ledger_balances.py --db sqlite [--lines 100000]
    .venv/bin/python bench/ledger_balances.py --db postgresql   # a throwaway cluster, or BILLOPS_BENCH_PG_URL

Builds a book of two-line entries spread over two years (bulk-inserted with their digests and the
running day balances filled consistently, then checked with `verify_running_balances`), then times
`trial_balance(as_of=…)` against the raw-database baseline for the same date: one GROUP BY over the
journal lines joined to their entries. Also times `post_entry` itself on a few hundred entries.
Ends with one JSON line; `ratio` = trial balance seconds / baseline seconds (below 1 is faster).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from harness import database, setup_django

FIRST_DAY = date(2024, 1, 1)
DAYS = 731  # two years
CURRENCIES = ["EUR", "USD"]
BATCH = 5000

BASELINE_SQL = """
    SELECT l.account_id, l.currency, SUM(l.debit), SUM(l.credit)
    FROM ledger_journalline l JOIN ledger_journalentry e ON e.id = l.entry_id
    WHERE e.posted_on <= %s
    GROUP BY l.account_id, l.currency
"""


def build_book(lines: int, seed: int) -> dict[str, Any]:
    """Bulk-insert `lines` journal lines (two per entry) with digests, periods and running day balances."""
    from django.db import transaction
    from django.utils import timezone

    from billops.core.calendars import add_months, month_end
    from billops.ledger.models import Account, AccountDayBalance, AccountingPeriod, JournalEntry, JournalLine
    from billops.ledger.posting import entry_digest

    rng = random.Random(seed)
    accounts = list(Account.objects.order_by("code").values_list("id", flat=True))
    periods = {}
    with transaction.atomic():
        start = FIRST_DAY
        while start <= FIRST_DAY + timedelta(days=DAYS):
            periods[start] = AccountingPeriod.objects.create(start_on=start, end_on=month_end(start))
            start = add_months(start, 1)
    day_totals: dict[tuple[int, str, date], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    now = timezone.now()
    entries_total = lines // 2
    for batch_start in range(0, entries_total, BATCH):
        batch = []
        for _ in range(min(BATCH, entries_total - batch_start)):
            on = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
            currency = rng.choice(CURRENCIES)
            amount = Decimal(rng.randrange(1, 10_000_000)).scaleb(-2)
            debit_account, credit_account = rng.sample(accounts, 2)
            customer = rng.randrange(1, 5000)
            common = {"currency": currency, "customer_id": customer}
            pair = [
                JournalLine(line_no=1, account_id=debit_account, debit=amount, credit=Decimal(0), **common),
                JournalLine(line_no=2, account_id=credit_account, debit=Decimal(0), credit=amount, **common),
            ]
            entry = JournalEntry(
                posted_on=on, period=periods[on.replace(day=1)], memo="bench", posted_at=now, posted_by=None
            )
            entry.digest = entry_digest(entry, pair)
            batch.append((entry, pair))
            day_totals[(debit_account, currency, on)][0] += amount
            day_totals[(credit_account, currency, on)][1] += amount
        with transaction.atomic():
            created = JournalEntry.objects.bulk_create([entry for entry, _ in batch])
            for entry, (_, pair) in zip(created, batch, strict=True):
                for line in pair:
                    line.entry = entry
            JournalLine.objects.bulk_create([line for _, pair in batch for line in pair], batch_size=BATCH)
    with transaction.atomic():
        AccountDayBalance.objects.bulk_create(
            [
                AccountDayBalance(account_id=a, currency=c, posted_on=d, debit_total=t[0], credit_total=t[1])
                for (a, c, d), t in day_totals.items()
            ],
            batch_size=BATCH,
        )
    return {"entries": entries_total, "lines": entries_total * 2, "day_rows": len(day_totals)}


def timed(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of `repeats` runs, after one warm-up run; and the last result."""
    result = function()
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


def time_posting(count: int) -> float:
    """Seconds per entry for `post_entry` itself (validation, period lock, insert, running balances)."""
    from django.db import transaction

    from billops.core.money import Money
    from billops.ledger.accounts import BANK, REVENUE
    from billops.ledger.posting import credit, debit, post_entry

    on = FIRST_DAY + timedelta(days=DAYS - 1)
    started = time.perf_counter()
    for n in range(count):
        amount = Money(Decimal(n + 1).scaleb(-2), "EUR")
        with transaction.atomic():
            post_entry(on=on, lines=[debit(BANK, amount), credit(REVENUE, amount)], memo="bench", actor=None)
    return (time.perf_counter() - started) / count


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--lines", type=int, default=100_000, help="journal lines in the book (two per entry)"
    )
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    with database(args.db) as url, tempfile.TemporaryDirectory(prefix="billops-bench-var-") as var_dir:
        setup_django(url, var_dir)
        from django.db import connection

        from billops.ledger.selectors import settle, trial_balance, verify_running_balances

        started = time.perf_counter()
        book = build_book(args.lines, args.seed)
        build_seconds = time.perf_counter() - started
        print(f"built {book['lines']:,} lines in {book['entries']:,} entries, {book['day_rows']:,} day rows "
              f"in {build_seconds:.1f} s ({connection.vendor})")  # fmt: skip
        problems = verify_running_balances()
        if problems:
            print(f"running balances disagree with the lines: {problems[0]}", file=sys.stderr)
            return 1

        as_of = FIRST_DAY + timedelta(days=DAYS * 3 // 4)

        def baseline() -> list[tuple[Any, ...]]:
            with connection.cursor() as cursor:
                cursor.execute(BASELINE_SQL, [as_of])
                return cursor.fetchall()

        seconds, report = timed(lambda: trial_balance(as_of=as_of), args.repeats)
        baseline_seconds, raw = timed(baseline, args.repeats)
        expected = {
            (account_id, currency): (settle(Decimal(str(d)), currency), settle(Decimal(str(c)), currency))
            for account_id, currency, d, c in raw
        }
        got = {(row.account.pk, row.currency): (row.debit, row.credit) for row in report.rows}
        if got != expected or not report.is_balanced:
            print("the trial balance disagrees with the raw GROUP BY", file=sys.stderr)
            return 1
        per_entry = time_posting(300)

        ratio = seconds / baseline_seconds
        peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"trial_balance(as_of={as_of})   {seconds * 1000:8.2f} ms  ({len(report.rows)} rows, median of "
              f"{args.repeats})")  # fmt: skip
        print(f"raw GROUP BY over the lines   {baseline_seconds * 1000:8.2f} ms")
        print(f"ratio                         {ratio:8.3f}  (below 1: the running balances are faster)")
        print(f"post_entry                    {per_entry * 1000:8.2f} ms per entry")
        print(
            json.dumps(
                {
                    "benchmark": "ledger_balances",
                    "db": connection.vendor,
                    "n": book["lines"],
                    "seconds": round(seconds, 6),
                    "baseline_seconds": round(baseline_seconds, 6),
                    "ratio": round(ratio, 4),
                    "peak_rss_mib": round(peak_rss_mib, 1),
                    "entries": book["entries"],
                    "day_rows": book["day_rows"],
                    "as_of": as_of.isoformat(),
                    "build_seconds": round(build_seconds, 2),
                    "post_entry_seconds": round(per_entry, 6),
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
