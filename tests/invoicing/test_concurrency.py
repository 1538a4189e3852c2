"""Gapless numbers under real concurrency, on PostgreSQL: separate processes issue into one series at once,
and a process killed in the middle of an issue leaves either nothing or a complete document."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from billops.audit.models import AuditEvent
from billops.cli.invariants import check_all
from billops.invoicing.models import Invoice, IssuedDocument, NumberSeries
from billops.ledger.models import JournalEntry
from tests.conftest import database_url
from tests.invoicing.factories import make_customer

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def start_issuer(customer_id: int, username: str, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "BILLOPS_DATABASE_URL": database_url(), "BILLOPS_SECRET_KEY": "tests"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.invoicing.issuer", str(customer_id), username, str(count)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_complete_and_gapless(expected: int | None = None) -> None:
    numbers = sorted(Invoice.objects.filter(number__isnull=False).values_list("sequence_no", flat=True))
    series = NumberSeries.objects.get(document_type="invoice")
    if expected is not None:
        assert len(numbers) == expected
    assert numbers == list(range(1, series.next_number))
    issued = Invoice.objects.filter(number__isnull=False)
    assert IssuedDocument.objects.filter(invoice__in=issued).count() == len(numbers)
    assert JournalEntry.objects.filter(source_type="invoicing.invoice").count() == len(numbers)
    assert AuditEvent.objects.filter(action="invoice.issued").count() == len(numbers)
    assert not Invoice.objects.filter(number__isnull=True).exists()  # invoice_now leaves no draft behind
    report = check_all()
    assert {
        name: result["problems"] for name, result in report["invariants"].items() if not result["ok"]
    } == {}


def test_eight_processes_issue_500_invoices_into_one_series_without_gaps(clerk, entity, catalog) -> None:
    customers = [make_customer(clerk) for _ in range(8)]
    shares = [63] * 4 + [62] * 4  # 500 in all
    processes = [
        start_issuer(customer.pk, clerk.username, share)
        for customer, share in zip(customers, shares, strict=True)
    ]
    for process in processes:
        _, errors = process.communicate(timeout=600)
        assert process.returncode == 0, errors
    assert_complete_and_gapless(expected=500)
    assert Invoice.objects.order_by("sequence_no").last().number.endswith("-000500")


def test_a_process_killed_while_issuing_burns_no_number(clerk, entity, catalog) -> None:
    customer = make_customer(clerk)
    for round_no in range(4):
        process = start_issuer(customer.pk, clerk.username, 0)
        assert process.stdout is not None
        for _ in range(5 + 3 * round_no):  # let it issue a few, then kill it at some point mid-flight
            assert process.stdout.readline(), process.stderr.read() if process.stderr else ""
        time.sleep(0.01 * round_no)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
    assert_complete_and_gapless()
    assert Invoice.objects.count() >= 5 + 8 + 11 + 14
