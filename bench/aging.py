"""Benchmark: the aging as of a day over a million invoices, against a raw GROUP BY over the same movements.

    .venv/bin/python bench/aging.py --db sqlite [--n 1000000] [--customers 100000] [--profile]
    .venv/bin/python bench/aging.py --db postgresql   # a throwaway cluster, or BILLOPS_BENCH_PG_URL
    .venv/bin/python bench/aging.py --db sqlite --n 20000 --customers 2000 --covering-index

Set-up (not timed). The billing entity and catalog of the invoicing benchmark, a supervisor and five
collectors, and `--customers` German EUR customers on NET30, written with `bulk_create`: the columns the
aging and the worklist read, no addresses, contacts or audit events (`--import-customers` sends them
through the customer import instead, as `bill_run` does: about 6 minutes on SQLite and 14 on PostgreSQL
for 100 000). A third of them are assigned to the collectors (`CollectionProfile`, half of those with a
next action) and 2 % have a promise to pay (half open, half broken in the last 180 days), so the
worklist has its joins. Then `--n` issued invoices spread evenly over the 365 days that end on the as-of
day D, each for a random customer, net 10.00 to 5 000.00 plus 19 % VAT, due 30 days after its date
(NET30). With a fixed seed:

- 70 % are paid in full and 10 % in part (10 to 90 % of the total), on a day drawn around the due date
  (issue day + a normal draw of mean 30 and deviation 15 days, never before the issue day), so the
  invoices of the last weeks are often paid after D: the aging has to reproduce D from the history;
- 20 % are never paid: about 300 000 of a million are open today, and more were open on D.

The invoices and their subledger movements (`OpenItemMovement`: "issued" +total on the invoice date,
"applied" -amount on the payment day) are written directly, 20 000 invoices per transaction, with
`core.db.reserve_ids` and `core.db.insert_rows`: a million invoices through bill runs and cash
application would take hours. The rows are those the services write (issued, partly paid or paid status,
number and series, open amount = total less every payment), but nothing else is: no lines, no tax rows,
no journal entries (`journal_entry_id` is a fake unique number, the invoice's own id; the aging never
reads the journal), no receipts or applications, no audit events. The movements are written with their
invoices, so the table is ordered by invoice, not by day. PostgreSQL's movement table is then vacuumed
and analysed, as autovacuum would do after such a load; SQLite is not analysed (billops never runs it).

Timed, each 3 times, the best of the 3 kept (the agings take turns with their baselines, so a busy
moment on the machine falls on both alike; the worklist's runs follow):

1. `aging(as_of=D, group="customer")`: one grouped query over the movements up to D, rounded in Python;
2. the same with group="currency" and group="collector";
3. `worklist(today=D, due_only=False)`: the customer aging plus the customers, profiles and promises.

The baseline, in the same run and database: the equivalent SELECT written by hand (a sum per bucket in the
form the database aggregates fastest, as the aging's own query: `SUM(amount) FILTER (WHERE due_on in the
bucket)` on PostgreSQL, `SUM(CASE WHEN … THEN amount END)` on SQLite), `WHERE moved_on <= D`, `GROUP BY
customer_id, currency`; the other groupings likewise), executed through `connection.cursor()` and fetched
completely: what the database itself costs. `ratio` = the customer aging's seconds / its raw GROUP BY's
seconds. Gate: ratio <= 2; goal: ratio <= 1.2. The other groupings are compared with their own raw query,
and the worklist with the customer one (informational). On SQLite the customer query is also timed with `NOT
INDEXED`, a plain table scan, for information: for the GROUP BY's order SQLite walks the table through the
(customer_id, moved_on) index, which costs about twice a scan, on both sides of the ratio.
`--covering-index` adds an index on (customer_id, currency, moved_on, due_on, amount) before measuring, to
see whether it helps the GROUP BY.

Checks (any failure exits 1; a missed gate alone prints FAIL and exits 0): every invoice's open amount
equals the sum of its movements; the aging's totals per currency and bucket (customer, currency and
collector groupings) equal the raw query's (rounded to cents) and the open amounts on D computed in
Python from the generated data; the worklist holds one item per customer row with something overdue.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from harness import database, setup_django
from issue_online import make_catalog, make_entity, profile_top

GATE_RATIO = 2.0
GOAL_RATIO = 1.2
AS_OF = date(2026, 6, 30)  # D: the last day invoices are issued; payments go on after it
DAYS = 365  # invoices are issued evenly over the year that ends on D
NET_DAYS = 30
VAT_PERCENT = 19
CHUNK = 20_000  # invoices per transaction
REPEATS = 3
COLLECTORS = 5
CURRENCY = "EUR"
SEED = 7
GROUPS = ("customer", "currency", "collector")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the set-up ---------------------------------------------------------------------------------------


def make_users() -> tuple[Any, list[Any]]:
    from billops.access.models import User

    supervisor = User.objects.create_user("bench-supervisor", password="bench " * 4, role="supervisor")
    collectors = [
        User.objects.create_user(f"bench-collector-{index}", password="bench " * 4, role="collector")
        for index in range(1, COLLECTORS + 1)
    ]
    return supervisor, collectors


def make_customers_in_bulk(count: int) -> list[int]:
    """`count` German EUR customers on NET30, written in bulk: the columns the aging and worklist read."""
    from billops.customers.models import Customer, PaymentTerms

    terms = PaymentTerms.objects.get(code="NET30")
    Customer.objects.bulk_create(
        (
            Customer(
                account_number=f"C-{number:06d}", legal_name=f"Customer {number} GmbH", currency=CURRENCY,
                terms=terms, country="DE",
            )
            for number in range(1, count + 1)
        ),
        batch_size=5000,
    )  # fmt: skip
    return list(Customer.objects.order_by("account_number").values_list("pk", flat=True))


def make_collections(customer_ids: list[int], collectors: list[Any], rng: random.Random) -> dict[str, int]:
    """A third of the customers with a collector (half of those with a next action due by D), and 2 % with
    a promise to pay: half open (promised for after D), half broken in the last 180 days."""
    from billops.collections.models import CollectionProfile, PromiseToPay

    profiles = []
    for customer_id in customer_ids:
        if rng.random() < 1 / 3:
            planned = rng.random() < 0.5
            profiles.append(
                CollectionProfile(
                    customer_id=customer_id, collector_id=rng.choice(collectors).pk,
                    next_action_on=AS_OF - timedelta(days=rng.randrange(30)) if planned else None,
                    next_action="Call the accounts payable team" if planned else "",
                )
            )  # fmt: skip
    CollectionProfile.objects.bulk_create(profiles, batch_size=5000)
    promises = []
    for customer_id in rng.sample(customer_ids, max(1, len(customer_ids) // 50)):
        broken = rng.random() < 0.5
        made_on = AS_OF - timedelta(days=rng.randrange(60, 170) if broken else rng.randrange(1, 14))
        promised_on = made_on + timedelta(days=rng.randrange(1, 10) if broken else 14)
        promises.append(
            PromiseToPay(
                customer_id=customer_id, currency=CURRENCY,
                amount=Decimal(rng.randrange(5000, 500_000)).scaleb(-2), made_on=made_on,
                promised_on=promised_on, contact="Accounts payable",
                status=PromiseToPay.Status.BROKEN if broken else PromiseToPay.Status.OPEN,
                decided_on=promised_on + timedelta(days=1) if broken else None,
                created_by_id=collectors[0].pk,
            )
        )  # fmt: skip
    PromiseToPay.objects.bulk_create(promises, batch_size=5000)
    return {"profiles": len(profiles), "promises": len(promises)}


@dataclass
class Book:
    """What the generator wrote, and what was open on D by its own reckoning (in cents, exact)."""

    limits: tuple[int, ...]
    invoices: int = 0
    movements: int = 0
    open_now: int = 0  # invoices with something open after every payment
    open_items: int = 0  # invoices with something open on D
    expected: list[int] = field(default_factory=list)  # cents open on D per bucket

    def __post_init__(self) -> None:
        self.expected = [0] * (len(self.limits) + 2)

    def bucket(self, due_on: date) -> int:
        """The bucket of an item due that day, by its age on D: current, then each limit, then over."""
        age = (AS_OF - due_on).days
        if age <= 0:
            return 0
        for index, limit in enumerate(self.limits, start=1):
            if age <= limit:
                return index
        return len(self.limits) + 1


def make_series(entity: Any) -> dict[int, Any]:
    from billops.invoicing.models import DocumentType, NumberSeries

    first = AS_OF - timedelta(days=DAYS - 1)
    return {
        year: NumberSeries.objects.create(
            entity=entity, document_type=DocumentType.INVOICE, year=year, prefix=entity.invoice_prefix
        )
        for year in range(first.year, AS_OF.year + 1)
    }


def write_invoices(
    n: int, customer_ids: list[int], entity: Any, actor: Any, book: Book, rng: random.Random
) -> None:
    """`n` issued invoices and their movements, `CHUNK` invoices per transaction (see the module's text)."""
    from django.db import transaction

    from billops.core.db import insert_rows, reserve_ids
    from billops.customers.models import OpenItemMovement
    from billops.invoicing.models import Invoice, InvoiceStatus

    series = make_series(entity)
    numbers = dict.fromkeys(series, 0)
    first = AS_OF - timedelta(days=DAYS - 1)
    issued, applied = OpenItemMovement.Reason.ISSUED, OpenItemMovement.Reason.APPLIED
    document = OpenItemMovement.Kind.DOCUMENT
    for start in range(0, n, CHUNK):
        count = min(CHUNK, n - start)
        invoices, movements = [], []
        with transaction.atomic():
            for position, invoice_id in enumerate(reserve_ids(Invoice, count), start=start):
                issued_on = first + timedelta(days=position * DAYS // n)
                due_on = issued_on + timedelta(days=NET_DAYS)
                customer_id = customer_ids[rng.randrange(len(customer_ids))]
                net = rng.randint(1_000, 500_000)  # cents
                tax = (net * VAT_PERCENT + 50) // 100  # half up, to the cent
                total = net + tax
                draw = rng.random()
                paid = total if draw < 0.7 else rng.randint(total // 10, total * 9 // 10) if draw < 0.8 else 0
                paid_on = issued_on + timedelta(days=max(0, round(rng.gauss(NET_DAYS, 15))))
                numbers[issued_on.year] += 1
                status = (
                    InvoiceStatus.PAID
                    if paid == total
                    else InvoiceStatus.PARTLY_PAID
                    if paid
                    else InvoiceStatus.ISSUED
                )
                invoices.append(
                    Invoice(
                        id=invoice_id, status=status, entity_id=entity.pk, customer_id=customer_id,
                        currency=CURRENCY, series_id=series[issued_on.year].pk,
                        sequence_no=numbers[issued_on.year],
                        number=series[issued_on.year].format(numbers[issued_on.year]),
                        issued_on=issued_on, due_on=due_on, terms_text="Net 30 days",
                        subtotal=Decimal(net).scaleb(-2), tax_total=Decimal(tax).scaleb(-2),
                        total=Decimal(total).scaleb(-2), open_amount=Decimal(total - paid).scaleb(-2),
                        created_by_id=actor.pk, issued_by_id=actor.pk,
                        issued_at=datetime.combine(issued_on, datetime.min.time(), tzinfo=UTC),
                        journal_entry_id=invoice_id,  # fake, unique: no journal is written
                    )
                )  # fmt: skip
                common = {
                    "item_kind": document, "item_id": invoice_id, "customer_id": customer_id,
                    "entity_id": entity.pk, "currency": CURRENCY, "document_on": issued_on, "due_on": due_on,
                }  # fmt: skip
                amount = Decimal(total).scaleb(-2)
                movements.append(OpenItemMovement(moved_on=issued_on, amount=amount, reason=issued, **common))
                if paid:
                    amount = Decimal(-paid).scaleb(-2)
                    payment = OpenItemMovement(moved_on=paid_on, amount=amount, reason=applied, **common)
                    movements.append(payment)
                open_on_as_of = total - (paid if paid_on <= AS_OF else 0)
                if open_on_as_of:
                    book.open_items += 1
                    book.expected[book.bucket(due_on)] += open_on_as_of
                book.open_now += paid < total
            insert_rows(invoices)
            insert_rows(movements)
        book.invoices += count
        book.movements += len(movements)
    for year, last in numbers.items():
        series[year].next_number = last + 1
        series[year].save(update_fields=["next_number"])


def prepare_tables(covering_index: bool) -> None:
    """PostgreSQL: vacuum and analyse the loaded tables, as autovacuum would; the covering index if asked."""
    from django.db import connection

    with connection.cursor() as cursor:
        if covering_index:
            cursor.execute(
                "CREATE INDEX bench_movement_cover ON customers_openitemmovement "
                "(customer_id, currency, moved_on, due_on, amount)"
            )
        if connection.vendor == "postgresql":
            for table in ("customers_openitemmovement", "invoicing_invoice", "customers_customer",
                          "collections_collectionprofile", "collections_promisetopay"):  # fmt: skip
                cursor.execute(f"VACUUM ANALYZE {table}")


def movement_mismatches() -> int:
    """Invoices whose open amount is not the sum of their movements (SQLite sums in floating point)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*) FROM invoicing_invoice i JOIN (
                SELECT item_id, SUM(amount) AS open FROM customers_openitemmovement
                WHERE item_kind = 'document' GROUP BY item_id
            ) m ON m.item_id = i.id
            WHERE ABS(m.open - i.open_amount) > 0.000001
            """
        )
        wrong = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COUNT(*) FROM invoicing_invoice i WHERE NOT EXISTS "
            "(SELECT 1 FROM customers_openitemmovement m WHERE m.item_kind = 'document' AND m.item_id = i.id)"
        )
        return wrong + cursor.fetchone()[0]


# --- the baseline -------------------------------------------------------------------------------------


def bucket_bounds(limits: tuple[int, ...]) -> list[tuple[date | None, date | None]]:
    """Per bucket, the earliest and latest due date it holds on D (None: open-ended)."""
    bounds: list[tuple[date | None, date | None]] = [(AS_OF, None)]  # current: due on D or later
    youngest = 1
    for limit in limits:
        bounds.append((AS_OF - timedelta(days=limit), AS_OF - timedelta(days=youngest)))
        youngest = limit + 1
    bounds.append((None, AS_OF - timedelta(days=youngest)))
    return bounds


def raw_query(group: str, limits: tuple[int, ...]) -> tuple[str, list[Any]]:
    """The aging's question written by hand: a sum per bucket over the movements up to D, in the form the
    database aggregates fastest, as the aging's query does: SUM(…) FILTER (WHERE …) on PostgreSQL, SUM(CASE
    …) on SQLite."""
    from django.db import connection

    sums, params = [], []
    for earliest, latest in bucket_bounds(limits):
        conditions = []
        if earliest is not None:
            conditions.append("m.due_on >= %s")
            params.append(earliest)
        if latest is not None:
            conditions.append("m.due_on <= %s")
            params.append(latest)
        condition = " AND ".join(conditions)
        if connection.vendor == "postgresql":
            sums.append(f"SUM(m.amount) FILTER (WHERE {condition})")
        else:
            sums.append(f"SUM(CASE WHEN {condition} THEN m.amount END)")
    keys, join = {
        "customer": ("m.customer_id, m.currency", ""),
        "currency": ("m.currency", ""),
        "collector": (
            "p.collector_id, m.currency",
            "LEFT JOIN collections_collectionprofile p ON p.customer_id = m.customer_id",
        ),
    }[group]
    sql = (
        f"SELECT {keys}, {', '.join(sums)} FROM customers_openitemmovement m {join} "
        f"WHERE m.moved_on <= %s GROUP BY {keys}"
    )
    return sql, [*params, AS_OF]


def raw_totals(rows: list[tuple[Any, ...]], group: str) -> dict[str, list[Decimal]]:
    """Per currency, the raw rows' bucket sums, each row's sum rounded to the cent first as the aging does."""
    from billops.core.money import round_money

    totals: dict[str, list[Decimal]] = {}
    for row in rows:
        currency, amounts = (row[0], row[1:]) if group == "currency" else (row[1], row[2:])
        # SQLite sums in floating point: str() gives the shortest decimal, then the cents
        rounded = [round_money(Decimal(str(amount or 0)), currency).amount for amount in amounts]
        sums = totals.setdefault(currency, [Decimal(0)] * len(rounded))
        totals[currency] = [total + amount for total, amount in zip(sums, rounded, strict=True)]
    return totals


# --- the measurements ---------------------------------------------------------------------------------


def best_of(calls: list[Callable[[], Any]], repeats: int) -> list[tuple[float, Any]]:
    """Each call's best seconds of `repeats` runs and its result; the calls take turns, so a busy moment on
    the machine falls on all of them alike."""
    best = [float("inf")] * len(calls)
    results: list[Any] = [None] * len(calls)
    for run in range(repeats):
        for index, call in enumerate(calls):
            started = time.perf_counter()
            result = call()
            best[index] = min(best[index], time.perf_counter() - started)
            if run == repeats - 1:  # keep the last results only, to check them
                results[index] = result
            del result
    return list(zip(best, results, strict=True))


def fetch(sql: str, params: list[Any] | None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def aging_sql(buckets: Any) -> str:
    """The SQL the customer aging runs, as executed (its values written in)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billops.collections.selectors.aging import aging

    with CaptureQueriesContext(connection) as captured:
        aging(as_of=AS_OF, group="customer", buckets=buckets)
    return str(captured.captured_queries[-1]["sql"])


def query_plan(sql: str, params: list[Any] | None = None) -> str:
    from django.db import connection

    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    rows = fetch(explain + sql, params)
    return "\n".join(f"    {row[-1] if connection.vendor == 'sqlite' else row[0]}" for row in rows)


def measure(buckets: Any, expected: list[Decimal], problems: list[str]) -> dict[str, dict[str, Any]]:
    """Each grouping's aging against its raw GROUP BY, checked; for the customer grouping also the aging's
    own SQL run through the cursor (what the database spends on the query the ORM writes)."""
    from django.db import connection

    from billops.collections.selectors.aging import aging

    figures: dict[str, dict[str, Any]] = {}
    for group in GROUPS:
        raw_sql, raw_params = raw_query(group, buckets.limits)
        calls = [
            lambda group=group: aging(as_of=AS_OF, group=group, buckets=buckets),
            lambda raw_sql=raw_sql, raw_params=raw_params: fetch(raw_sql, raw_params),
        ]
        if group == "customer":
            orm_sql = aging_sql(buckets)
            calls.append(lambda orm_sql=orm_sql: fetch(orm_sql, None))
            if connection.vendor == "sqlite":  # the same query kept off the index: a plain table scan
                scan_sql = raw_sql.replace(
                    "customers_openitemmovement m", "customers_openitemmovement m NOT INDEXED"
                )
                calls.append(lambda scan_sql=scan_sql, raw_params=raw_params: fetch(scan_sql, raw_params))
        measured = best_of(calls, REPEATS)
        (seconds, report), (baseline_seconds, raw) = measured[:2]
        figures[group] = {
            "seconds": seconds, "baseline_seconds": baseline_seconds, "ratio": seconds / baseline_seconds,
            "rows": len(report.rows), "raw_rows": len(raw),
            "overdue_rows": sum(row.overdue > 0 for row in report.rows),
        }  # fmt: skip
        if group == "customer":
            figures[group]["orm_sql_seconds"] = measured[2][0]
            figures[group]["table_scan_seconds"] = measured[3][0] if len(measured) > 3 else None
        totals = {row.currency: row.buckets for row in report.totals()}
        if totals != raw_totals(raw, group):
            problems.append(f"the {group} aging's totals {totals} differ from the raw GROUP BY's")
        if totals != {CURRENCY: expected}:
            problems.append(f"the {group} aging's totals {totals} differ from the data's, {expected}")
        print(
            f"aging by {group:<9} {seconds * 1000:9.1f} ms ({len(report.rows)} rows); raw GROUP BY "
            f"{baseline_seconds * 1000:9.1f} ms ({len(raw)} rows); ratio {seconds / baseline_seconds:.3f}",
            flush=True,
        )
    customer = figures["customer"]
    orm_sql_seconds = customer["orm_sql_seconds"]
    print(
        f"  the customer aging's own SQL through the cursor: {orm_sql_seconds * 1000:.1f} ms "
        f"({orm_sql_seconds / customer['baseline_seconds']:.3f} of the raw GROUP BY); "
        f"the rest of the aging, in Python: {(customer['seconds'] - orm_sql_seconds) * 1000:.1f} ms"
    )
    if scan_seconds := customer["table_scan_seconds"]:
        print(
            f"  the raw GROUP BY as a table scan (NOT INDEXED): {scan_seconds * 1000:.1f} ms; the aging is "
            f"{customer['seconds'] / scan_seconds:.3f} times that (informational: the plan SQLite chose, "
            "shown above, against a plain scan)"
        )
    return figures


def measure_worklist(overdue_rows: int, problems: list[str]) -> float:
    from billops.collections.selectors.worklist import worklist

    runs = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        items = worklist(today=AS_OF, due_only=False)
        runs.append(time.perf_counter() - started)
    if len(items) != overdue_rows:
        problems.append(f"the worklist has {len(items)} items, the aging {overdue_rows} rows overdue")
    print(
        f"worklist           {min(runs) * 1000:9.1f} ms ({len(items)} items, "
        f"{sum(item.profile is not None for item in items)} with a collection profile, "
        f"{sum(item.open_promise is not None for item in items)} with an open promise, "
        f"{sum(item.broken_promises > 0 for item in items)} with a broken one)"
    )
    return min(runs)


def profile(buckets: Any) -> None:
    from billops.collections.selectors.aging import aging
    from billops.collections.selectors.worklist import worklist

    for title, call in (
        ("the aging by customer", lambda: aging(as_of=AS_OF, group="customer", buckets=buckets)),
        ("the worklist", lambda: worklist(today=AS_OF, due_only=False)),
    ):
        profiler = cProfile.Profile()
        profiler.enable()
        call()
        profiler.disable()
        print(f"--- where {title} spends its time (cProfile)")
        print(profile_top(profiler, 25))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--n", type=int, default=1_000_000, help="issued invoices")
    parser.add_argument("--customers", type=int, default=100_000, help="customers")
    parser.add_argument(
        "--profile", action="store_true", help="print where the aging and the worklist spend their time"
    )
    parser.add_argument(
        "--import-customers", action="store_true", help="create the customers through the customer import"
    )
    parser.add_argument(
        "--covering-index", action="store_true", help="add an index covering the GROUP BY before measuring"
    )
    args = parser.parse_args()
    if not 1 <= args.customers <= args.n:
        parser.error("--customers must be between 1 and --n")
    with tempfile.TemporaryDirectory(prefix="billops-bench-var-") as var_dir, database(args.db) as url:
        setup_django(url, var_dir)
        from django.db import connection

        from bill_run import make_customers
        from billops.collections.selectors.aging import parse_buckets

        rng = random.Random(SEED)
        buckets = parse_buckets(None)
        started = time.perf_counter()
        entity = make_entity()
        make_catalog()
        supervisor, collectors = make_users()
        if args.import_customers:
            customer_ids = make_customers(args.customers, supervisor)
        else:
            customer_ids = make_customers_in_bulk(args.customers)
        customers_seconds = time.perf_counter() - started
        collections = make_collections(customer_ids, collectors, rng)
        book = Book(limits=buckets.limits)
        write_invoices(args.n, customer_ids, entity, supervisor, book, rng)
        prepare_tables(args.covering_index)
        setup_seconds = time.perf_counter() - started
        setup_rss = peak_rss_mib()
        print(
            f"set up {args.customers} customers ({customers_seconds:.1f} s, "
            f"{'through the import' if args.import_customers else 'in bulk'}), "
            f"{collections['profiles']} collection profiles, {collections['promises']} promises, "
            f"{book.invoices} invoices and {book.movements} movements in {setup_seconds:.1f} s "
            f"({connection.vendor}); open today {book.open_now}, open on {AS_OF} {book.open_items}",
            flush=True,
        )
        problems = []
        if wrong := movement_mismatches():
            problems.append(f"{wrong} invoices' open amount is not the sum of their movements")
        sql = aging_sql(buckets)
        raw_sql, raw_params = raw_query("customer", buckets.limits)
        print(f"the customer aging's SQL:\n    {sql}\nits plan:\n{query_plan(sql)}")
        print(f"the raw GROUP BY:\n    {raw_sql}\nits plan:\n{query_plan(raw_sql, raw_params)}", flush=True)

        expected = [Decimal(cents).scaleb(-2) for cents in book.expected]
        figures = measure(buckets, expected, problems)
        customer = figures["customer"]
        worklist_seconds = measure_worklist(customer["overdue_rows"], problems)
        worklist_ratio = worklist_seconds / customer["baseline_seconds"]
        if args.profile:
            profile(buckets)
        rss = peak_rss_mib()

    ratio, scan = customer["ratio"], customer["table_scan_seconds"]
    gate = ratio <= GATE_RATIO
    print(
        f"aging as of {AS_OF} over {args.n} invoices ({book.open_items} open that day, {book.movements} "
        f"movements) of {args.customers} customers: {customer['seconds']:.3f} s; raw GROUP BY "
        f"{customer['baseline_seconds']:.3f} s; ratio {ratio:.3f} (gate <= {GATE_RATIO}; goal "
        f"<= {GOAL_RATIO} {'met' if ratio <= GOAL_RATIO else 'not met'}); worklist {worklist_seconds:.3f} s "
        f"(ratio {worklist_ratio:.2f}); best of {REPEATS}; peak RSS {rss:.0f} MiB — "
        f"{'PASS' if gate else 'FAIL'}"
    )
    for problem in problems:
        print(f"PROBLEM: {problem}")
    result = {
        "benchmark": "aging", "db": args.db, "n": args.n, "customers": args.customers,
        "open_items": book.open_items, "open_now": book.open_now, "movements": book.movements,
        "as_of": AS_OF.isoformat(), "rows": customer["rows"],
        "seconds": round(customer["seconds"], 4), "baseline_seconds": round(customer["baseline_seconds"], 4),
        "ratio": round(ratio, 3), "orm_sql_seconds": round(customer["orm_sql_seconds"], 4),
        "table_scan_baseline_seconds": scan and round(scan, 4),
        **{f"{group}_{key}": round(figures[group][key], 4) for group in GROUPS[1:]
           for key in ("seconds", "baseline_seconds", "ratio")},
        "worklist_seconds": round(worklist_seconds, 4), "worklist_ratio": round(worklist_ratio, 3),
        "worklist_items": customer["overdue_rows"], "covering_index": args.covering_index,
        "setup_seconds": round(setup_seconds, 1), "setup_rss_mib": round(setup_rss, 1),
        "peak_rss_mib": round(rss, 1), "gate": "pass" if gate else "FAIL",
        "goal": "met" if ratio <= GOAL_RATIO else "not met", "problems": len(problems),
        "cpu_count": os.cpu_count(), "python": sys.version.split()[0],
    }  # fmt: skip
    print(json.dumps(result))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
