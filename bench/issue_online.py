"""Benchmark: invoices created and issued one per API call, against the same rows written by plain inserts.

    .venv/bin/python bench/issue_online.py --db sqlite [--n 2000] [--customers 200] [--pdfs 50] [--profile]
    .venv/bin/python bench/issue_online.py --db postgresql   # a throwaway cluster, or BILLOPS_BENCH_PG_URL

Sets up a billing entity, the catalog (tax codes, rates, products, a default EUR price list), a clerk with
a real API token and `--customers` customers through the services, then sends `--n` calls of
`POST /api/v1/invoicing/invoices` with `"issue": true` through the in-process Django test client (the
whole middleware stack, token authentication, the Ninja schema, `invoice_now`, the reply), round robin
over the customers, so each call locks its customer's row as in production (one call after another: no
lock is ever waited for). Each call is timed on its own: p50, p99 and throughput.

Then renders the PDFs of `--pdfs` of the invoices with `ensure_pdf` (reported apart: PDFs are rendered
after the issuing transaction by design), and checks that every invariant of `billops check` holds and
that exactly `--n` invoices were issued, numbered 1 to n.

The baseline, measured last in the same database: per invoice, one transaction that writes the same rows
an issue writes — the invoice, its lines and tax rows (copied from an invoice issued above), the number
series UPDATE, the journal entry, its lines and the day-balance upserts, the frozen HTML, the audit event
and the audit chain head — with ORM bulk inserts, plain UPDATEs and one raw upsert, and no business logic.
`ratio` = p50 per API call / p50 per baseline invoice. Gate: ratio <= 8; goal: p50 <= 5 ms. For reference
(not gated) the same rows are also written with hand-written INSERT … RETURNING statements. A missed gate
prints FAIL but exits 0: the exit status is non-zero only for errors (a refused call, a broken invariant).
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from typing import Any

from harness import database, setup_django

SINCE = date(2020, 1, 1)
GATE_RATIO = 8.0
GOAL_P50_MS = 5.0
PATH = "/api/v1/invoicing/invoices"
LINES = [{"product_code": "CONSULT", "quantity": "2"}, {"product_code": "BOOK", "quantity": "3"}]

DAY_BALANCE_UPSERT = """
    INSERT INTO ledger_accountdaybalance (account_id, currency, posted_on, debit_total, credit_total)
    VALUES {values}
    ON CONFLICT (account_id, currency, posted_on) DO UPDATE SET
        debit_total = ledger_accountdaybalance.debit_total + excluded.debit_total,
        credit_total = ledger_accountdaybalance.credit_total + excluded.credit_total
"""


def percentile(sorted_values: list[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list: p99 of 2 000 calls is the 1 980th fastest."""
    return sorted_values[max(0, math.ceil(share * len(sorted_values)) - 1)]


def make_entity() -> Any:
    """The billing entity, through the service, as the operator sets it up at the command line."""
    from billops.invoicing.services.entities import create_billing_entity

    values = {
        "code": "MAIN", "legal_name": "Billops Demo GmbH", "address_lines": "Torstraße 1",
        "postal_code": "10119", "city": "Berlin", "country": "DE", "vat_id": "DE136695976",
        "email": "billing@billops.example",
        "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "bank_name": "Commerzbank",
    }  # fmt: skip
    return create_billing_entity(actor=None, **values)


def make_catalog() -> None:
    """Tax codes with German, French and Californian rates, three products and a default EUR price list
    (the setup of tests/invoicing/factories.py `make_catalog`, copied: a benchmark never imports tests)."""
    from billops.catalog.models import PriceList, PriceListItem, Product, TaxCode, TaxRate
    from billops.ledger.accounts import REVENUE, control_account

    standard = TaxCode.objects.create(code="VAT-STD", name="VAT standard", kind=TaxCode.Kind.STANDARD)
    reduced = TaxCode.objects.create(code="VAT-RED", name="VAT reduced", kind=TaxCode.Kind.REDUCED)
    TaxCode.objects.create(code="VAT-ZERO", name="VAT zero", kind=TaxCode.Kind.ZERO)
    TaxCode.objects.create(
        code="EXEMPT", name="Exempt", kind=TaxCode.Kind.EXEMPT, legal_note="Exempt under § 4 Nr. 21 UStG"
    )
    sales = TaxCode.objects.create(code="US-SALES", name="US sales tax", kind=TaxCode.Kind.SALES_TAX)
    for code, country, rate in ((standard, "DE", "19"), (reduced, "DE", "7"), (standard, "FR", "20")):
        TaxRate.objects.create(tax_code=code, country=country, rate=Decimal(rate), valid_from=SINCE)
    TaxRate.objects.create(tax_code=sales, country="US", region="CA", rate=Decimal("7.25"), valid_from=SINCE)
    TaxRate.objects.create(
        tax_code=sales, country="US", region="CA", locality="94103", rate=Decimal("1.375"), valid_from=SINCE
    )
    revenue = control_account(REVENUE)
    products = {
        code: Product.objects.create(
            code=code, name=name, unit=unit, revenue_account=revenue, tax_code=tax, description=name
        )
        for code, name, unit, tax in (
            ("CONSULT", "Consulting", "hour", standard),
            ("LICENSE", "Software licence", "month", standard),
            ("BOOK", "Handbook", "each", reduced),
        )
    }
    price_list = PriceList.objects.create(
        code="STD-EUR", name="Standard EUR", currency="EUR", valid_from=SINCE, is_default=True
    )
    for code, price in (("CONSULT", "150"), ("LICENSE", "49.90"), ("BOOK", "24.95")):
        PriceListItem.objects.create(price_list=price_list, product=products[code], unit_price=Decimal(price))
    PriceListItem.objects.create(
        price_list=price_list, product=products["CONSULT"], min_quantity=Decimal(10), unit_price=Decimal(135)
    )


def make_customers(count: int, clerk: Any) -> list[int]:
    """`count` German EUR customers with a billing address and contact, each through `create_customer`."""
    from billops.customers.services import create_customer
    from billops.customers.validation import AddressData, ContactData, CustomerData

    ids = []
    for number in range(1, count + 1):
        data = CustomerData(
            account_number=f"C-{number:05d}",
            legal_name=f"Customer {number} GmbH",
            currency="EUR",
            country="DE",
            contacts=[ContactData(role="billing", name="Ada Lovelace", email=f"billing{number}@example.com")],
            addresses=[
                AddressData(
                    kind="billing",
                    lines="Friedrichstraße 1",
                    city="Berlin",
                    country="DE",
                    postal_code="10117",
                )
            ],
        )
        ids.append(create_customer(data=data, actor=clerk).pk)
    return ids


def issue_online(
    client: Any, customers: list[int], n: int, idempotency: bool
) -> tuple[list[float], float, list[int]]:
    """Seconds of each of `n` create-and-issue calls, the wall time of them all, and the invoice ids."""
    seconds, invoice_ids = [], []
    started = time.perf_counter()
    for index in range(n):
        body = json.dumps({"customer_id": customers[index % len(customers)], "issue": True, "lines": LINES})
        headers = {"Idempotency-Key": f"bench-{index}"} if idempotency else {}
        call_started = time.perf_counter()
        response = client.post(PATH, body, content_type="application/json", headers=headers)
        seconds.append(time.perf_counter() - call_started)
        if response.status_code != 201:
            raise RuntimeError(f"call {index + 1} got {response.status_code}: {response.content[:500]!r}")
        reply = response.json()
        if reply["status"] != "issued" or not reply["number"]:
            raise RuntimeError(f"call {index + 1} left invoice {reply['id']} {reply['status']}, not issued")
        invoice_ids.append(reply["id"])
    return seconds, time.perf_counter() - started, invoice_ids


def profile_top(profiler: cProfile.Profile, limit: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def verify(n: int, invoice_ids: list[int]) -> list[str]:
    """What is wrong after the run: a broken invariant, or not exactly n invoices numbered 1..n."""
    from billops.cli.invariants import check_all
    from billops.invoicing.models import DocumentType, Invoice, InvoiceStatus

    report = check_all()
    problems = [
        f"invariant {name}: {'; '.join(result['problems'])}"
        for name, result in report["invariants"].items()
        if not result["ok"]
    ]
    issued = Invoice.objects.filter(document_type=DocumentType.INVOICE, status=InvoiceStatus.ISSUED)
    numbers = sorted(issued.values_list("sequence_no", flat=True))
    if numbers != list(range(1, n + 1)):
        problems.append(f"expected {n} invoices numbered 1..{n}, found {len(numbers)}")
    if Invoice.objects.count() != n or sorted(invoice_ids) != sorted(issued.values_list("id", flat=True)):
        problems.append(f"expected exactly the {n} issued invoices the calls returned, and no other rows")
    if report["counts"]["invoices_issued"] != n:
        problems.append(f"billops check counts {report['counts']['invoices_issued']} invoices issued")
    return problems


def render_pdfs(invoice_ids: list[int], count: int) -> list[float]:
    """Seconds of `ensure_pdf` for `count` of the invoices, spread over the run."""
    from billops.invoicing.services.documents import ensure_pdf

    step = max(1, len(invoice_ids) // count) if count else 1
    seconds = []
    for invoice_id in invoice_ids[::step][:count]:
        started = time.perf_counter()
        document = ensure_pdf(invoice_id)
        seconds.append(time.perf_counter() - started)
        if not document.pdf:
            raise RuntimeError(f"ensure_pdf({invoice_id}) kept no PDF")
    return seconds


class RawInsert:
    """One prepared `INSERT … RETURNING id` of a model's columns, with Django's adaptation of each value."""

    def __init__(self, model: Any, rows: int = 1) -> None:
        from django.db import connection

        quote = connection.ops.quote_name
        self.connection = connection
        self.fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        columns = ", ".join(quote(field.column) for field in self.fields)
        row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        self.sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)} "
            f"RETURNING {quote(model._meta.pk.column)}"
        )

    def __call__(self, *rows: dict[str, Any]) -> list[int]:
        params = [
            field.get_db_prep_save(row[field.attname], self.connection)
            for row in rows
            for field in self.fields
        ]
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            return [found[0] for found in cursor.fetchall()]


def baseline(template_id: int, customers: list[int], n: int, *, raw_sql: bool) -> list[float]:
    """Seconds per invoice of committing an issue's rows with plain inserts and updates, no business logic.

    The rows are copies of the invoice `template_id` (issued through the API above): its lines and tax
    rows, its journal entry and lines, its frozen HTML and audit event. They go to a billing entity of
    their own with its own series, so that the numbers of the run stay 1..n. `raw_sql`: hand-written
    INSERT … RETURNING and UPDATE statements; else ORM `bulk_create` and `QuerySet.update`.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from billops.audit.models import AuditEvent, ChainHead
    from billops.invoicing.models import (
        BillingEntity,
        Invoice,
        InvoiceLine,
        InvoiceStatus,
        InvoiceTax,
        IssuedDocument,
        NumberSeries,
    )
    from billops.ledger.models import JournalEntry, JournalLine

    template = Invoice.objects.select_related("document").get(pk=template_id)
    lines = list(InvoiceLine.objects.filter(invoice=template).order_by("line_no"))
    taxes = list(InvoiceTax.objects.filter(invoice=template))
    entry = JournalEntry.objects.get(pk=template.journal_entry_id)
    entry_lines = list(JournalLine.objects.filter(entry=entry).order_by("line_no"))
    event = AuditEvent.objects.get(journal_entry_id=entry.pk)
    document = template.document
    prefix = "RAWSQL" if raw_sql else "RAWORM"
    entity = BillingEntity.objects.create(
        code=prefix, legal_name=f"Baseline {prefix}", address_lines="-", city="-", country="DE",
        invoice_prefix=prefix, credit_note_prefix=f"{prefix}C", debit_note_prefix=f"{prefix}D",
    )  # fmt: skip
    series = NumberSeries.objects.create(
        entity=entity, document_type=template.document_type, year=template.issued_on.year, prefix=prefix
    )
    head = ChainHead.objects.get(pk=1)
    seq, last_hash = head.last_seq, head.last_hash

    def values(row: Any, **changes: Any) -> dict[str, Any]:
        return {**{f.attname: getattr(row, f.attname) for f in type(row)._meta.concrete_fields}, **changes}

    def copy(row: Any, **changes: Any) -> Any:
        return type(row)(**values(row, id=None, **changes))

    # one account per entry line here, as post_entry sums the lines of an account into one upsert
    day_rows = sorted((line.account_id, line.currency, line.debit, line.credit) for line in entry_lines)
    upsert = DAY_BALANCE_UPSERT.format(values=", ".join(["(%s, %s, %s, %s, %s)"] * len(day_rows)))
    day_params = [value for a, c, d, cr in day_rows for value in (a, c, template.issued_on, d, cr)]
    inserts = {
        model: RawInsert(model, rows)
        for model, rows in (
            (Invoice, 1), (InvoiceLine, len(lines)), (InvoiceTax, len(taxes)), (JournalEntry, 1),
            (JournalLine, len(entry_lines)), (IssuedDocument, 1), (AuditEvent, 1),
        )
    }  # fmt: skip
    quote = connection.ops.quote_name
    issue_sql = (
        f"UPDATE {quote(Invoice._meta.db_table)} SET status = %s, series_id = %s, sequence_no = %s, "
        "number = %s, journal_entry_id = %s, issued_by_id = %s, issued_at = %s, digest = %s WHERE id = %s"
    )
    series_sql = f"UPDATE {quote(NumberSeries._meta.db_table)} SET next_number = %s WHERE id = %s"
    head_sql = f"UPDATE {quote(ChainHead._meta.db_table)} SET last_seq = %s, last_hash = %s WHERE id = 1"
    adapt = connection.ops.adapt_datetimefield_value

    seconds = []
    for index in range(n):
        number, customer_id = index + 1, customers[index % len(customers)]
        document_number, seq = series.format(number), seq + 1
        new_hash = f"{seq:064x}"  # unique, as the column requires; no hashing: that is business logic
        started = time.perf_counter()
        with transaction.atomic():
            now = timezone.now()
            draft = {
                "entity_id": entity.pk, "customer_id": customer_id, "status": InvoiceStatus.DRAFT,
                "series_id": None, "sequence_no": None, "number": None, "journal_entry_id": None,
                "issued_by_id": None, "issued_at": None, "digest": "", "created_at": now,
            }  # fmt: skip
            content = document.content.replace(str(template.number), document_number)
            if raw_sql:
                (invoice_id,) = inserts[Invoice](values(template, **draft))
                inserts[InvoiceLine](*(values(line, invoice_id=invoice_id) for line in lines))
                inserts[InvoiceTax](*(values(tax, invoice_id=invoice_id) for tax in taxes))
                with connection.cursor() as cursor:
                    cursor.execute(series_sql, [number + 1, series.pk])
                (entry_id,) = inserts[JournalEntry](values(entry, source_id=str(invoice_id), posted_at=now))
                inserts[JournalLine](*(values(line, entry_id=entry_id) for line in entry_lines))
                with connection.cursor() as cursor:
                    cursor.execute(upsert, day_params)
                    cursor.execute(
                        issue_sql,
                        [InvoiceStatus.ISSUED, series.pk, number, document_number, entry_id,
                         template.issued_by_id, adapt(now), template.digest, invoice_id],
                    )  # fmt: skip
                inserts[IssuedDocument](
                    values(document, invoice_id=invoice_id, content=content, created_at=now, pdf=None,
                           pdf_sha256="", rendered_at=None)
                )  # fmt: skip
                inserts[AuditEvent](
                    values(event, seq=seq, occurred_at=now, target_id=str(invoice_id),
                           target_label=document_number, journal_entry_id=entry_id, prev_hash=last_hash,
                           hash=new_hash)
                )  # fmt: skip
                with connection.cursor() as cursor:
                    cursor.execute(head_sql, [seq, new_hash])
            else:
                (invoice,) = Invoice.objects.bulk_create([copy(template, **draft)])
                InvoiceLine.objects.bulk_create([copy(line, invoice_id=invoice.pk) for line in lines])
                InvoiceTax.objects.bulk_create([copy(tax, invoice_id=invoice.pk) for tax in taxes])
                NumberSeries.objects.filter(pk=series.pk).update(next_number=number + 1)
                (posted,) = JournalEntry.objects.bulk_create(
                    [copy(entry, source_id=str(invoice.pk), posted_at=now)]
                )
                JournalLine.objects.bulk_create([copy(line, entry_id=posted.pk) for line in entry_lines])
                with connection.cursor() as cursor:
                    cursor.execute(upsert, day_params)
                Invoice.objects.filter(pk=invoice.pk).update(
                    status=InvoiceStatus.ISSUED, series_id=series.pk, sequence_no=number,
                    number=document_number, journal_entry_id=posted.pk, issued_by_id=template.issued_by_id,
                    issued_at=now, digest=template.digest,
                )  # fmt: skip
                IssuedDocument.objects.bulk_create(
                    [
                        IssuedDocument(
                            invoice_id=invoice.pk, content=content, content_sha256=document.content_sha256
                        )
                    ]
                )
                AuditEvent.objects.bulk_create([
                    copy(
                        event, seq=seq, occurred_at=now, target_id=str(invoice.pk),
                        target_label=document_number, journal_entry_id=posted.pk, prev_hash=last_hash,
                        hash=new_hash,
                    )
                ])  # fmt: skip
                ChainHead.objects.filter(pk=1).update(last_seq=seq, last_hash=new_hash)
        seconds.append(time.perf_counter() - started)
        last_hash = new_hash
    return seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--n", type=int, default=2000, help="invoices, each created and issued by one call")
    parser.add_argument("--customers", type=int, default=200, help="customers the invoices are spread over")
    parser.add_argument("--pdfs", type=int, default=50, help="issued invoices whose PDF is rendered after")
    parser.add_argument(
        "--idempotency", action="store_true", help="send an Idempotency-Key with each call (off by default)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the API calls with cProfile and print the top costs"
    )
    args = parser.parse_args(argv)
    if args.n < 1 or args.customers < 1:
        parser.error("--n and --customers must be at least 1")

    with database(args.db) as url, tempfile.TemporaryDirectory(prefix="billops-bench-var-") as var_dir:
        setup_django(url, var_dir)
        from django.db import connection
        from django.test import Client

        from billops.access.models import Role
        from billops.access.services import create_user, issue_api_token

        started = time.perf_counter()
        make_entity()
        make_catalog()
        clerk = create_user(
            username="bench-clerk", password="bench " * 4, role=Role.CLERK, actor=None,
            check_password_strength=False,
        )  # fmt: skip
        _, token = issue_api_token(user=clerk, name="bench", actor=None)
        customers = make_customers(args.customers, clerk)
        setup_seconds = time.perf_counter() - started
        print(f"set up {len(customers)} customers, the catalog and a clerk's token in {setup_seconds:.1f} s "
              f"({connection.vendor})")  # fmt: skip

        # SERVER_NAME: a host in the default ALLOWED_HOSTS, so the settings stay as an operator has them
        client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
        warm = client.get(f"{PATH}?limit=1")  # loads the URL resolver, middleware and the API once
        if warm.status_code != 200:
            print(f"the warm-up GET got {warm.status_code}: {warm.content[:500]!r}", file=sys.stderr)
            return 1

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        load_before = os.getloadavg()[0]  # a shared machine: say how busy it was
        try:
            calls, wall, invoice_ids = issue_online(client, customers, args.n, args.idempotency)
        except RuntimeError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        finally:
            if profiler:
                profiler.disable()

        pdf_seconds = render_pdfs(invoice_ids, min(args.pdfs, args.n))
        problems = verify(args.n, invoice_ids)
        if problems:
            print("the run left the database wrong:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print(f"verified: every invariant holds; {args.n} invoices issued, numbered 1..{args.n}")

        raw = sorted(baseline(invoice_ids[0], customers, args.n, raw_sql=False))
        sql = sorted(baseline(invoice_ids[0], customers, args.n, raw_sql=True))
        load_after = os.getloadavg()[0]

        calls_sorted = sorted(calls)
        p50, p99 = percentile(calls_sorted, 0.50), percentile(calls_sorted, 0.99)
        raw_p50, raw_p99 = percentile(raw, 0.50), percentile(raw, 0.99)
        sql_p50 = percentile(sql, 0.50)
        ratio = p50 / raw_p50
        gate_ok, goal_ok = ratio <= GATE_RATIO, p50 * 1000 <= GOAL_P50_MS
        throughput = args.n / wall
        peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        pdf_p50 = statistics.median(pdf_seconds) if pdf_seconds else 0.0

        mean = statistics.fmean(calls)
        ms = 1000

        def row(label: str, text: str) -> None:
            print(f"{label:<34} {text}")

        calls_text = f"{args.n} calls, {len(customers)} customers"
        row("API call: create + issue", f"p50 {p50 * ms:7.2f} ms  p99 {p99 * ms:7.2f} ms  ({calls_text})")
        row("  mean, throughput", f"{mean * ms:.2f} ms, {throughput:.1f} invoices/s ({wall:.1f} s in all)")
        row("baseline: same rows, ORM bulk", f"p50 {raw_p50 * ms:7.2f} ms  p99 {raw_p99 * ms:7.2f} ms")
        row("ratio: API p50 / baseline p50", f"{ratio:.2f}")
        row(f"  gate: ratio <= {GATE_RATIO:g}", "PASS" if gate_ok else "FAIL")
        row(f"  goal: p50 <= {GOAL_P50_MS:g} ms", "met" if goal_ok else "not met")
        row(
            "reference: hand-written SQL",
            f"p50 {sql_p50 * ms:7.2f} ms  (ratio {p50 / sql_p50:.2f}, not gated)",
        )
        load = f"{load_before:.2f} before the calls, {load_after:.2f} after the baselines"
        row("load average (1 min)", f"{load} ({os.cpu_count()} cores)")
        if pdf_seconds:
            pdfs = f"{len(pdf_seconds)} PDFs rendered after the issue, {sum(pdf_seconds):.1f} s in all"
            row(
                "outside the gate: ensure_pdf",
                f"p50 {pdf_p50 * ms:.1f} ms  max {max(pdf_seconds) * ms:.1f} ms  ({pdfs})",
            )
        if profiler:
            print(profile_top(profiler))
        print(
            json.dumps(
                {
                    "benchmark": "issue_online",
                    "db": connection.vendor,
                    "n": args.n,
                    "seconds": round(p50, 6),
                    "baseline_seconds": round(raw_p50, 6),
                    "ratio": round(ratio, 4),
                    "peak_rss_mib": round(peak_rss_mib, 1),
                    "customers": len(customers),
                    "p99_seconds": round(p99, 6),
                    "mean_seconds": round(mean, 6),
                    "throughput_per_second": round(throughput, 1),
                    "wall_seconds": round(wall, 2),
                    "baseline_p99_seconds": round(raw_p99, 6),
                    "sql_baseline_seconds": round(sql_p50, 6),
                    "sql_ratio": round(p50 / sql_p50, 4),
                    "gate_ratio": GATE_RATIO,
                    "gate_ok": gate_ok,
                    "goal_p50_seconds": GOAL_P50_MS / 1000,
                    "goal_ok": goal_ok,
                    "pdfs": len(pdf_seconds),
                    "pdf_p50_seconds": round(pdf_p50, 6),
                    "pdf_total_seconds": round(sum(pdf_seconds), 3),
                    "idempotency_key": args.idempotency,
                    "setup_seconds": round(setup_seconds, 2),
                    "load_average": [round(load_before, 2), round(load_after, 2)],
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
