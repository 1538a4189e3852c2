"""One bill run across two Celery workers on a real Redis, on PostgreSQL: `billops worker` runs in two
processes of its own, the run's partitions are shared between them, and the result is exactly the
preview, each charge billed once, every invariant intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from billops.access.models import User
from billops.billing.models import BilledItem, Charge
from billops.billing.services.charges import create_charge
from billops.billing.services.execution import start_run
from billops.billing.services.runs import preview_run
from billops.cli.invariants import check_all
from tests.billing.test_runs import preview_rows, written_rows
from tests.conftest import database_url
from tests.invoicing.factories import make_customer

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS, PARTITION_SIZE = 40, 4


class Worker:
    """`billops worker` in a process of its own, with what it logged."""

    def __init__(self, name: str, redis_url: str, var_dir: Path) -> None:
        env = {
            **os.environ,
            "BILLOPS_DATABASE_URL": database_url(),
            "BILLOPS_BROKER_URL": redis_url,
            "BILLOPS_SECRET_KEY": "tests",
            "BILLOPS_VAR_DIR": str(var_dir),
        }
        command = [sys.executable, "-m", "billops.cli.main", "worker", "--concurrency", "1", "--name", name]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.log: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line)
            if " ready." in line:
                self.ready.set()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)  # a warm shutdown: the current task finishes first
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def two_workers(
    transactional_db: None, redis_url: str, settings: Any, tmp_path: Path
) -> Iterator[list[Worker]]:
    settings.CELERY_BROKER_URL = redis_url
    workers = [Worker(f"worker{number}@%h", redis_url, tmp_path) for number in (1, 2)]
    try:
        for worker in workers:
            assert worker.ready.wait(timeout=90), "".join(worker.log)[-3000:]
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def test_one_run_is_shared_by_two_workers_and_bills_its_preview(
    clerk: User, entity: Any, catalog: Any, two_workers: list[Worker]
) -> None:
    for number in range(CUSTOMERS):
        customer = make_customer(clerk)
        create_charge(
            customer_id=customer.pk, product_code="CONSULT", quantity=str(1 + number % 12), actor=clerk,
            charge_date=date(2026, 3, 1 + number % 28),
        )  # fmt: skip
    expected = preview_rows(preview_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1)))

    started = time.monotonic()
    run = start_run(
        period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1), partition_size=PARTITION_SIZE
    )
    assert time.monotonic() - started < 120
    assert written_rows(run) == expected
    assert (run.status, run.customers_due, run.invoices_issued) == ("done", CUSTOMERS, CUSTOMERS)
    partitions = list(run.partitions.all())
    assert len(partitions) == CUSTOMERS // PARTITION_SIZE
    assert all(partition.status == "done" and partition.attempts == 1 for partition in partitions)
    # both workers billed partitions: each partition names the process that billed it
    processes = {partition.worker for partition in partitions}
    assert len(processes) == 2, processes
    assert BilledItem.objects.count() == Charge.objects.filter(status="billed").count() == CUSTOMERS
    report = check_all()
    assert {
        name: result["problems"] for name, result in report["invariants"].items() if not result["ok"]
    } == {}
