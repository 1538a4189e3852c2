"""Benchmark: monthly bill runs against the same rows written by plain bulk inserts.

    .venv/bin/python bench/bill_run.py --db sqlite [--n 100000] [--customers N] [--profile]
    .venv/bin/python bench/bill_run.py --db postgresql   # a throwaway cluster, or BILLOPS_BENCH_PG_URL

Sets up a billing entity, the catalog and `--customers` customers (default n / 10), each with a monthly
subscription billed in arrears, a usage charge for API calls (graduated tiers) with events sent each
month through the usage ingestion service, and a one-off charge per month (handbooks, at the reduced VAT
rate), so each invoice has three lines, one from each kind of work, and two tax rates. Then moves the
test clock month by month and runs `n / customers` monthly bill runs in this process (`start_run`, the
embedded mode), timed as a whole: gathering, pricing, tax, numbering, writing the invoices, lines, tax
rows, frozen documents, journal entries and lines, day balances, audit events and billed items, each
chunk durably committed.

The baseline, measured in the same run: a copy of the database as it was before the runs receives the
very rows the runs wrote (read back from the benchmarked database and held in memory), table by table,
with `executemany` on SQLite and `COPY` on PostgreSQL, one transaction per run, plus the same UPDATE of
the billed charges. `ratio` = the runs' seconds / the baseline's seconds. Gate: ratio <= 10 and peak RSS
<= 512 MiB at n = 100 000. Goal: ratio <= 3. A missed gate prints FAIL but exits 0; errors (a refused
run, a customer in the exceptions, a broken invariant) exit 1. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from typing import Any

from harness import database, setup_django
from issue_online import make_catalog, make_entity, profile_top

GATE_RATIO = 10.0
GATE_RSS_MIB = 512.0
GOAL_RATIO = 3.0
FIRST_MONTH = date(2025, 1, 1)
CUSTOMERS_PER_FILE = 20_000  # the customer import's limit

# what a run writes; lines and tax rows before their invoices, as the run writes them (PostgreSQL's guard
# refuses rows added under an issued invoice; foreign keys are checked at commit)
WRITTEN_TABLES = (
    "ledger_accountingperiod", "invoicing_numberseries", "ledger_accountdaybalance", "invoicing_invoiceline",
    "invoicing_invoicetax", "ledger_journalentry", "ledger_journalline", "invoicing_invoice",
    "invoicing_issueddocument", "billing_billrun", "billing_billrunpartition", "billing_billeditem",
    "usage_usageperiodbilling", "audit_auditevent",
)  # fmt: skip


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_users() -> Any:
    from billops.access.models import User

    return User.objects.create_user("bench-supervisor", password="bench " * 4, role="supervisor")


def make_customers(count: int, actor: Any) -> list[int]:
    """`count` German EUR customers on monthly billing, through the customer import (all or nothing)."""
    from billops.customers.models import Customer
    from billops.customers.services import import_customers

    header = (
        "account_number,legal_name,currency,country,cycle,billing_address_lines,billing_address_city,"
        "billing_address_postal_code,billing_contact_email"
    )
    for first in range(1, count + 1, CUSTOMERS_PER_FILE):
        last = min(count, first + CUSTOMERS_PER_FILE - 1)
        rows = [
            f"C-{number:06d},Customer {number} GmbH,EUR,DE,monthly,Friedrichstraße {number % 200 + 1},"
            f"Berlin,10117,billing{number}@example.com"
            for number in range(first, last + 1)
        ]
        content = "\n".join([header, *rows]).encode()
        result = import_customers(content=content, filename=f"customers-{first}.csv", actor=actor)
        if not result.ok:
            raise RuntimeError(f"the customer import refused the file: {result.rejects[:3]}")
    return list(Customer.objects.order_by("account_number").values_list("pk", flat=True))


def make_work(customer_ids: list[int], months: int, actor: Any) -> None:
    """Each customer's subscription and usage charge, each month's usage events and one-off charge. The
    first subscription, usage charge and charge go through their services (so they are priced and
    checked as in production) and the rest are copies written in bulk; the events go through the
    ingestion service. The set-up is not what is measured."""
    from billops.billing.models import Charge, Subscription
    from billops.billing.services.charges import create_charge
    from billops.billing.services.subscriptions import PhaseData, create_plan, subscribe
    from billops.core.calendars import add_months

    create_plan(
        code="PRO", name="Pro plan", product_code="LICENSE", currency="EUR", interval="month",
        timing="arrears", phases=[PhaseData(kind="evergreen", unit_price=Decimal("49.90"))], actor=actor,
    )  # fmt: skip
    first = subscribe(
        customer_id=customer_ids[0], plan_code="PRO", quantity=1, start_date=FIRST_MONTH, actor=actor
    )
    Subscription.objects.bulk_create(
        Subscription(
            customer_id=customer_id,
            plan_id=first.plan_id,
            quantity=first.quantity,
            start_date=FIRST_MONTH,
            status=first.status,
            created_by=actor,
        )
        for customer_id in customer_ids[1:]
    )
    make_usage(customer_ids, months, actor)
    for month in range(months):
        on = add_months(FIRST_MONTH, month).replace(day=15)
        template = create_charge(
            customer_id=customer_ids[0], product_code="BOOK", quantity=2, charge_date=on, actor=actor
        )
        fields = {
            name: getattr(template, name)
            for name in ("product_id", "description", "quantity", "unit", "unit_price", "price_source",
                         "tax_code_id", "charge_date", "status", "created_by_id")
        }  # fmt: skip
        Charge.objects.bulk_create(
            (Charge(customer_id=customer_id, **fields) for customer_id in customer_ids[1:]), batch_size=5000
        )


def make_usage(customer_ids: list[int], months: int, actor: Any) -> None:
    """API calls priced in graduated tiers for every customer; a few events per customer and month."""
    from billops.catalog.models import Product, TaxCode
    from billops.core.calendars import add_months
    from billops.customers.models import Customer
    from billops.ledger.accounts import REVENUE, control_account
    from billops.usage.imports import EventData
    from billops.usage.models import UsageCharge
    from billops.usage.services.charges import create_metric, create_usage_charge
    from billops.usage.services.ingestion import ingest_events

    Product.objects.create(
        code="API", name="API calls", unit="call", revenue_account=control_account(REVENUE),
        tax_code=TaxCode.objects.get(code="VAT-STD"), description="API calls",
    )  # fmt: skip
    create_metric(
        code="API-CALLS", name="API calls", unit="calls", aggregation="sum", field="calls", actor=actor
    )
    tiers = [{"up_to": "1000", "unit_price": "0.01"}, {"up_to": None, "unit_price": "0.008"}]
    first = create_usage_charge(
        customer_id=customer_ids[0], metric_code="API-CALLS", product_code="API", model="graduated",
        tiers=tiers, start_date=FIRST_MONTH, actor=actor,
    )  # fmt: skip
    copied = {
        field.attname: getattr(first, field.attname)
        for field in UsageCharge._meta.concrete_fields
        if field.attname not in ("id", "customer_id", "created_at")
    }
    UsageCharge.objects.bulk_create(
        (UsageCharge(customer_id=customer_id, **copied) for customer_id in customer_ids[1:]), batch_size=5000
    )
    accounts = dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "account_number"))
    events = [
        EventData(
            event_id=f"{accounts[customer_id]}-{month}-{part}",
            customer=accounts[customer_id],
            metric="API-CALLS",
            timestamp=f"{add_months(FIRST_MONTH, month).replace(day=10 + part)}T12:00:00",
            value=400 + (customer_id % 7) * 100 + part,
        )
        for month in range(months)
        for customer_id in customer_ids
        for part in range(2)
    ]
    for offset in range(0, len(events), 10_000):
        ingest_events(events=events[offset : offset + 10_000], actor=actor)


def run_months(months: int, actor: Any) -> list[dict[str, Any]]:
    """Each month's run, with the business date on the first of the next month; the seconds of each."""
    from billops.access.services import set_business_date
    from billops.billing.models import BillRun
    from billops.billing.services.execution import start_run  # imported before the clock starts
    from billops.core.calendars import add_months

    figures = []
    for month in range(months):
        period_start = add_months(FIRST_MONTH, month)
        set_business_date(on=add_months(period_start, 1), actor=None)
        started = time.perf_counter()
        run = start_run(period=f"{period_start:%Y-%m}", actor=actor)
        seconds = time.perf_counter() - started
        if run.status != BillRun.Status.DONE or run.exceptions.exists() or run.drafts_created:
            problems = list(run.exceptions.values_list("message", flat=True)[:5])
            problems += list(run.drafts.values_list("message", flat=True)[:5])  # every invoice is issued
            raise RuntimeError(f"the run of {period_start:%Y-%m} ended {run.status}: {problems}")
        figures.append(
            {"period": f"{period_start:%Y-%m}", "invoices": run.invoices_issued, "seconds": seconds}
        )
        print(f"  {period_start:%Y-%m}: {run.invoices_issued} invoices in {seconds:.2f} s", flush=True)
    return figures


def billed_keys(prefix: str) -> list[str]:
    from billops.billing.models import BilledItem

    return list(
        BilledItem.objects.filter(key__startswith=prefix).order_by("pk").values_list("key", flat=True)
    )


def verify(n: int) -> list[str]:
    from billops.billing.models import BilledItem
    from billops.cli.invariants import check_all
    from billops.invoicing.models import Invoice, InvoiceLine

    report = check_all()
    problems = [
        f"invariant {name}: {'; '.join(result['problems'][:3])}"
        for name, result in report["invariants"].items()
        if not result["ok"]
    ]
    if Invoice.objects.count() != n:
        problems.append(f"expected {n} invoices, found {Invoice.objects.count()}")
    if InvoiceLine.objects.count() != 3 * n or BilledItem.objects.count() != 3 * n:
        problems.append("expected three lines and three billed items per invoice")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--n", type=int, default=100_000, help="invoices in all")
    parser.add_argument("--customers", type=int, help="customers (default n / 10)")
    parser.add_argument("--profile", action="store_true", help="print where the runs spend their time")
    args = parser.parse_args()
    customers = args.customers or max(1, args.n // 10)
    if args.n % customers:
        parser.error("--n must be a multiple of --customers (each monthly run bills every customer)")
    months = args.n // customers
    with tempfile.TemporaryDirectory(prefix="billops-bench-var-") as var_dir, database(args.db) as url:
        setup_django(url, var_dir)
        from baseline_copy import Snapshot

        started = time.perf_counter()
        make_entity()
        make_catalog()
        user = make_users()
        customer_ids = make_customers(customers, user)
        make_work(customer_ids, months, user)
        setup_seconds = time.perf_counter() - started
        print(f"set up {customers} customers and {months} months of work in {setup_seconds:.1f} s")
        snapshot = Snapshot.take(url, WRITTEN_TABLES)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        runs = run_months(months, user)
        if profiler:
            profiler.disable()
            print(profile_top(profiler, 40))
        seconds = sum(run["seconds"] for run in runs)
        rss = peak_rss_mib()
        problems = verify(args.n)
        billed = [(int(key.split(":")[1]),) for key in billed_keys("charge:")]
        charge_update = ("UPDATE billing_charge SET status = 'billed' WHERE id = %s", billed)
        baseline_seconds = snapshot.replay(chunks=len(runs), updates=[charge_update])
    ratio = seconds / baseline_seconds
    gate = ratio <= GATE_RATIO and rss <= GATE_RSS_MIB
    print(
        f"{args.n} invoices for {customers} customers in {months} runs: {seconds:.1f} s "
        f"({args.n / seconds:.0f} invoices/s); baseline {baseline_seconds:.2f} s; ratio {ratio:.2f} "
        f"(gate <= {GATE_RATIO}, goal <= {GOAL_RATIO}); peak RSS {rss:.0f} MiB (gate <= {GATE_RSS_MIB:.0f})"
        f" — {'PASS' if gate else 'FAIL'}"
    )
    for problem in problems:
        print(f"PROBLEM: {problem}")
    result = {
        "benchmark": "bill_run", "db": args.db, "n": args.n, "customers": customers, "runs": months,
        "seconds": round(seconds, 3), "invoices_per_second": round(args.n / seconds, 1),
        "baseline_seconds": round(baseline_seconds, 3), "ratio": round(ratio, 3),
        "peak_rss_mib": round(rss, 1), "gate": "pass" if gate else "fail", "problems": len(problems),
        "cpu_count": os.cpu_count(), "python": sys.version.split()[0],
    }  # fmt: skip
    print(json.dumps(result))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
