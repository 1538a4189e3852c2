"""Benchmark: a camt.053 bank file imported and applied, against the same rows written by plain bulk inserts.

    .venv/bin/python bench/cash_application.py --db sqlite [--lines 80000] [--invoices 100000] [--customers N]
    .venv/bin/python bench/cash_application.py --db postgresql  # a throwaway cluster, or BILLOPS_BENCH_PG_URL
    .venv/bin/python bench/cash_application.py --db sqlite --lines 2000 --invoices 3000 --profile

Sets up (not timed) the billing entity and catalog of the invoicing benchmark, `--customers` customers
(default invoices / 10) through the customer import, and `--invoices` open invoices: one one-off charge
per customer and month (handbooks, the quantity varying so the amounts differ), billed by
`invoices / customers` monthly bill runs (`start_run`), so every invoice is issued and posted as in
production. Then a EUR bank account (`create_bank_account`) and one camt.053 statement of `--lines`
entries (`write_camt053`), generated with a fixed seed:

- 70 % pay one invoice in full, named in the remittance ("Invoice INV-…");
- 10 % pay two or three invoices of one customer in full, named together;
- 10 % pay part of one invoice, named;
- 5 % carry the customer's RF reference (ISO 11649, from its account number) and the amount of its
  oldest open invoice;
- 5 % come from an unknown payer with no reference.

No invoice is paid by two lines. Timed: `import_bank_file` as a clerk — parse, check, match, receipts,
applications, journal entries, day balances, audit events and bank lines, in its one transaction,
committed. As the matching rules stand, the first, second and fourth kinds are posted and applied, and
the partial payments (named, amount short: score 70) and the unknown payers wait in the matching queue.

The baseline, measured in the same run: a copy of the database as it was before the import receives the
very rows the import added (statement file, bank lines, receipts, applications, periods, journal entries
and lines, day balances, audit events; read back from the benchmarked database and held in memory), with
`executemany` on SQLite and `COPY` on PostgreSQL, plus the UPDATEs of what the import changed (the
invoices' open amount and status, day balances that existed before, the audit chain head), in one
transaction. `ratio` = the import's seconds / the baseline's seconds. Gate: ratio <= 10; goal: ratio <= 3.
A missed gate prints FAIL but exits 0; errors (a refused file, a rejected line, a broken invariant, a
copy that differs) exit 1. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bill_run import FIRST_MONTH, make_customers, make_users, peak_rss_mib, run_months
from harness import database, setup_django
from issue_online import make_catalog, make_entity, profile_top

GATE_RATIO = 10.0
GOAL_RATIO = 3.0
SEED = 5  # issue 5: the same file on every run
BANK_IBAN = "DE02120300000000202051"
BANK_BIC = "BYLADEM1001"
PAYMENT_CODE = "PMNT/RCDT/ESCT"  # a SEPA credit transfer received
DAYS_AFTER_LAST_RUN = 20  # the statement is of a day after every invoice was issued
# share of the lines, in percent; the last kind takes what rounding leaves
KINDS = (("full", 70), ("several", 10), ("partial", 10), ("reference", 5), ("unknown", 5))
POSTED_KINDS = frozenset({"full", "several", "reference"})

# what the import inserts, in the order it writes them (foreign keys are checked at commit)
WRITTEN_TABLES = (
    "payments_statementfile", "payments_receipt", "ledger_accountingperiod", "ledger_journalentry",
    "ledger_journalline", "ledger_accountdaybalance", "payments_application", "payments_bankline",
    "audit_auditevent",
)  # fmt: skip
# what the import changes in rows that were there before: (table, the columns it sets)
UPDATED_COLUMNS = (
    ("invoicing_invoice", ("open_amount", "status")),
    ("ledger_accountdaybalance", ("debit_total", "credit_total")),
    ("audit_chainhead", ("last_seq", "last_hash")),
)


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    number: str
    customer_id: int
    open_amount: Decimal


def make_clerk() -> Any:
    from billops.access.models import User

    return User.objects.create_user("bench-clerk", password="bench " * 4, role="clerk")


def charge_quantity(customer_index: int, month: int) -> Decimal:
    """4 to 11 handbooks, so a customer's invoices mostly differ in amount (and never by 3 times or more,
    which would hold an invoice for review)."""
    return Decimal(4 + (3 * customer_index + 5 * month) % 8)


def make_charges(customer_ids: list[int], months: int, actor: Any) -> None:
    """One one-off charge per customer and month: the first of each month through `create_charge` (priced
    as in production), the others copies written in bulk with their own quantity. Not measured."""
    from billops.billing.models import Charge
    from billops.billing.services.charges import create_charge
    from billops.core.calendars import add_months

    for month in range(months):
        on = add_months(FIRST_MONTH, month).replace(day=15)
        template = create_charge(
            customer_id=customer_ids[0], product_code="BOOK", quantity=charge_quantity(0, month),
            charge_date=on, actor=actor,
        )  # fmt: skip
        fields = {
            name: getattr(template, name)
            for name in ("product_id", "description", "unit", "unit_price", "price_source", "currency",
                         "tax_code_id", "charge_date", "status", "created_by_id")
        }  # fmt: skip
        Charge.objects.bulk_create(
            (
                Charge(customer_id=customer_id, quantity=charge_quantity(index, month), **fields)
                for index, customer_id in enumerate(customer_ids)
                if index
            ),
            batch_size=5000,
        )


def make_bank_account(actor: Any) -> None:
    from billops.payments.services.receipts import create_bank_account

    create_bank_account(
        code="BANK-EUR", name="Main EUR account", currency="EUR", number=BANK_IBAN, bic=BANK_BIC, actor=actor
    )


def open_invoices() -> dict[int, list[OpenInvoice]]:
    """Each customer's open invoices, oldest first, in the order the matcher sees them."""
    from billops.invoicing.models import DocumentType, Invoice, InvoiceStatus

    by_customer: dict[int, list[OpenInvoice]] = {}
    rows = (
        Invoice.objects.filter(
            document_type=DocumentType.INVOICE, currency="EUR", open_amount__gt=0,
            status__in=(InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID),
        )
        .order_by("due_on", "issued_on", "number")
        .values_list("number", "customer_id", "open_amount")
    )  # fmt: skip
    for number, customer_id, open_amount in rows:
        by_customer.setdefault(customer_id, []).append(OpenInvoice(number or "", customer_id, open_amount))
    return by_customer


def iban(country: str, bban: str) -> str:
    """An IBAN with valid check digits (ISO 13616 MOD 97-10), for the payers' accounts."""
    digits = "".join(str(int(character, 36)) for character in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


class InvoicePicker:
    """Hands out open invoices at random, each once: `take(k)` gives k invoices of one customer."""

    def __init__(self, by_customer: dict[int, list[OpenInvoice]], rng: random.Random) -> None:
        self.rng = rng
        self.left = {customer_id: list(invoices) for customer_id, invoices in by_customer.items()}
        for invoices in self.left.values():
            rng.shuffle(invoices)
        self.customers = sorted(self.left)

    def take(self, count: int) -> list[OpenInvoice]:
        for _ in range(100):
            if not self.customers:
                break
            position = self.rng.randrange(len(self.customers))
            invoices = self.left[self.customers[position]]
            if len(invoices) >= count:
                taken = [invoices.pop() for _ in range(count)]
                if not invoices:
                    self.customers[position] = self.customers[-1]
                    self.customers.pop()
                return taken
        for customer_id in self.customers:  # few left: the first customer with enough
            if len(self.left[customer_id]) >= count:
                return [self.left[customer_id].pop() for _ in range(count)]
        raise RuntimeError(f"no customer has {count} open invoices left for a line: give more --invoices")


def build_statement(
    lines: int, by_customer: dict[int, list[OpenInvoice]], customers: dict[int, tuple[str, str]], day: date
) -> tuple[Any, Counter[str]]:
    """The day's statement of `lines` entries of the kinds above, shuffled; and how many of each kind."""
    from billops.core.money import Rounding, round_money
    from billops.invoicing.rendering.reference import creditor_reference
    from billops.payments.statements.parsed import ParsedStatement, StatementLine

    rng = random.Random(SEED)
    counts = Counter({kind: lines * share // 100 for kind, share in KINDS[:-1]})
    counts[KINDS[-1][0]] = lines - sum(counts.values())
    kinds = [kind for kind, _ in KINDS for _ in range(counts[kind])]
    rng.shuffle(kinds)
    if counts["reference"] > len(by_customer):
        raise RuntimeError("each RF-reference line needs a customer of its own: give more --customers")
    # an RF-reference line pays its customer's oldest open invoice, kept out of the other lines
    by_reference = rng.sample(sorted(by_customer), counts["reference"])
    oldest = {customer_id: by_customer[customer_id][0] for customer_id in by_reference}
    picker = InvoicePicker(
        {customer_id: invoices[1:] if customer_id in oldest else invoices
         for customer_id, invoices in by_customer.items()},
        rng,
    )  # fmt: skip
    entries = []
    for index, kind in enumerate(kinds, start=1):
        reference = remittance = ""
        if kind == "unknown":
            amount = Decimal(rng.randint(1000, 50_000)).scaleb(-2)
            payer_name, payer_account = f"Unknown Payer {index}", iban("DE", f"50010517{index:010d}")
        else:
            if kind == "reference":
                customer_id = by_reference.pop()
                invoices = [oldest[customer_id]]
                reference = creditor_reference(customers[customer_id][0])
            else:
                invoices = picker.take(rng.choice((2, 3)) if kind == "several" else 1)
                numbers = [invoice.number for invoice in invoices]
                remittance = (
                    f"Invoice {numbers[0]}" if len(numbers) == 1 else f"Invoices {', '.join(numbers)}"
                )
                customer_id = invoices[0].customer_id
            # to the cent, as a bank writes it (the invoices keep more places)
            amount = round_money(
                sum((invoice.open_amount for invoice in invoices), Decimal(0)), "EUR", Rounding.EXACT
            ).amount
            if kind == "partial":  # a whole number of cents, short of what is open
                cents = int(amount.scaleb(2))
                amount = Decimal(rng.randint(cents // 10, cents - 1)).scaleb(-2)
                remittance += ", part payment"
            payer_name, payer_account = customers[customer_id][1], iban("DE", f"10020030{customer_id:010d}")
        entries.append(
            StatementLine(
                line=index, booked_on=day, value_on=day, amount=amount, currency="EUR",
                bank_reference=f"{day:%Y%m%d}{index:08d}", end_to_end_id="NOTPROVIDED", payer_name=payer_name,
                payer_account=payer_account, payer_bank="COBADEFFXXX", remittance=remittance,
                creditor_reference=reference, bank_code=PAYMENT_CODE,
            )
        )  # fmt: skip
    statement = ParsedStatement(
        format="camt.053", statement_id=f"STMT-{day:%Y%m%d}", account=BANK_IBAN, currency="EUR",
        opening_balance=Decimal("0.00"), closing_balance=sum((entry.amount for entry in entries), Decimal(0)),
        opening_on=day - timedelta(days=1), closing_on=day, lines=entries,
    )  # fmt: skip
    return statement, counts


def make_file(lines: int, day: date) -> tuple[bytes, Counter[str]]:
    from billops.customers.models import Customer
    from billops.payments.statements.camt import write_camt053

    customers = {
        pk: (number, name)
        for pk, number, name in Customer.objects.values_list("pk", "account_number", "legal_name")
    }
    statement, counts = build_statement(lines, open_invoices(), customers, day)
    return write_camt053([statement]), counts


# --- the baseline ------------------------------------------------------------------------------------


def read_state(table: str, columns: tuple[str, ...]) -> dict[int, tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(columns)} FROM {table}")
        return {row[0]: tuple(row[1:]) for row in cursor.fetchall()}


def changed_rows(before: list[dict[int, tuple[Any, ...]]]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The UPDATEs that bring the rows that were there before to what the import left them as."""
    updates = []
    for (table, columns), earlier in zip(UPDATED_COLUMNS, before, strict=True):
        now = read_state(table, columns)
        rows = [(*now[pk], pk) for pk, values in earlier.items() if now[pk] != values]
        assignments = ", ".join(f"{column} = %s" for column in columns)
        updates.append((f"UPDATE {table} SET {assignments} WHERE id = %s", rows))
    return updates


def table_digests(url: str, tables: tuple[str, ...]) -> dict[str, tuple[int, str]]:
    """Each table's rows and a SHA-256 over them in id order, read with the database's own driver."""
    import hashlib
    import sqlite3
    from urllib.parse import urlparse

    import psycopg

    digests = {}
    if url.startswith("sqlite"):
        with sqlite3.connect(urlparse(url).path) as db:
            for table in tables:
                digest, count = hashlib.sha256(), 0
                for row in db.execute(f"SELECT * FROM {table} ORDER BY id"):
                    digest.update(repr(row).encode())
                    count += 1
                digests[table] = (count, digest.hexdigest())
        return digests
    with psycopg.connect(url) as pg:
        for table in tables:
            digest, count = hashlib.sha256(), 0
            with pg.cursor(name="digest") as cursor:  # server side: a table is never held whole
                cursor.execute(f"SELECT * FROM {table} ORDER BY id")
                for row in cursor:
                    digest.update(repr(row).encode())
                    count += 1
            digests[table] = (count, digest.hexdigest())
    return digests


def copy_differences(url: str, copy_url: str) -> list[str]:
    """Where the baseline's copy differs from what the import left: it must hold the same rows."""
    tables = (*WRITTEN_TABLES, *(table for table, _ in UPDATED_COLUMNS if table not in WRITTEN_TABLES))
    ours, theirs = table_digests(url, tables), table_digests(copy_url, tables)
    return [
        f"the baseline's copy of {table} differs ({theirs[table][0]} rows, the import left {ours[table][0]})"
        for table in tables
        if ours[table] != theirs[table]
    ]


# --- the run -----------------------------------------------------------------------------------------


def verify(result: Any, lines: int) -> list[str]:
    from billops.cli.invariants import check_all

    report = check_all()
    problems = [
        f"invariant {name}: {'; '.join(outcome['problems'][:3])}"
        for name, outcome in report["invariants"].items()
        if not outcome["ok"]
    ]
    if result.posted + result.parked != lines:
        problems.append(f"{result.posted} lines posted and {result.parked} parked, not {lines} in all")
    if result.rejected:
        problems.append(f"{result.rejected} lines rejected")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--lines", type=int, default=80_000, help="entries in the camt.053 file")
    parser.add_argument("--invoices", type=int, default=100_000, help="open invoices before the import")
    parser.add_argument("--customers", type=int, help="customers (default invoices / 10)")
    parser.add_argument("--profile", action="store_true", help="print where the import spends its time")
    args = parser.parse_args()
    customers = args.customers or max(1, args.invoices // 10)
    if args.invoices % customers:
        parser.error("--invoices must be a multiple of --customers (each monthly run bills every customer)")
    months = args.invoices // customers
    with tempfile.TemporaryDirectory(prefix="billops-bench-var-") as var_dir, database(args.db) as url:
        setup_django(url, var_dir)
        from baseline_copy import Snapshot
        from billops.access.services import set_business_date
        from billops.core.calendars import add_months
        from billops.payments.services.bank_files import import_bank_file

        started = time.perf_counter()
        make_entity()
        make_catalog()
        supervisor, clerk = make_users(), make_clerk()
        customer_ids = make_customers(customers, supervisor)
        make_charges(customer_ids, months, supervisor)
        run_months(months, supervisor)
        day = add_months(FIRST_MONTH, months) + timedelta(days=DAYS_AFTER_LAST_RUN)
        set_business_date(on=day, actor=None)
        make_bank_account(supervisor)
        data, kinds = make_file(args.lines, day)
        file_name = f"camt053-{day:%Y%m%d}.xml"
        print(
            f"set up {customers} customers, {args.invoices} open invoices and a camt.053 of {args.lines} "
            f"lines ({len(data) / 2**20:.1f} MiB: {', '.join(f'{kind} {kinds[kind]}' for kind, _ in KINDS)}) "
            f"in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        snapshot = Snapshot.take(url, WRITTEN_TABLES)
        before = [read_state(table, columns) for table, columns in UPDATED_COLUMNS]
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        started = time.perf_counter()
        result = import_bank_file(data=data, file_name=file_name, actor=clerk)
        seconds = time.perf_counter() - started
        if profiler:
            profiler.disable()
            print(profile_top(profiler, 40))
        rss = peak_rss_mib()
        problems = verify(result, args.lines)
        expected_posted = sum(kinds[kind] for kind in POSTED_KINDS)
        if result.posted != expected_posted:
            print(f"NOTE: {result.posted} lines posted; the file was made for {expected_posted} to be")
        baseline_seconds = snapshot.replay(chunks=1, updates=changed_rows(before))
        problems += copy_differences(url, snapshot.copy_url)
    ratio = seconds / baseline_seconds
    gate = ratio <= GATE_RATIO
    print(
        f"{args.lines} lines against {args.invoices} open invoices of {customers} customers: {seconds:.1f} s "
        f"({args.lines / seconds:.0f} lines/s), {result.posted} posted, {result.parked} parked; baseline "
        f"{baseline_seconds:.2f} s; ratio {ratio:.2f} (gate <= {GATE_RATIO}, goal <= {GOAL_RATIO}); "
        f"peak RSS {rss:.0f} MiB — {'PASS' if gate else 'FAIL'}"
    )
    for problem in problems:
        print(f"PROBLEM: {problem}")
    output = {
        "benchmark": "cash_application", "db": args.db, "lines": args.lines, "invoices": args.invoices,
        "customers": customers, "posted": result.posted, "parked": result.parked,
        "seconds": round(seconds, 3), "lines_per_second": round(args.lines / seconds, 1),
        "baseline_seconds": round(baseline_seconds, 3), "ratio": round(ratio, 3),
        "peak_rss_mib": round(rss, 1), "gate": "pass" if gate else "fail", "problems": len(problems),
        "cpu_count": os.cpu_count(), "python": sys.version.split()[0],
    }  # fmt: skip
    print(json.dumps(output))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
