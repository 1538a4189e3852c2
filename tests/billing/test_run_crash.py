"""A bill run killed in the middle, on PostgreSQL: `billops billrun` runs in a process of its own and is
SIGKILLed after it has issued some invoices; resuming the run then bills exactly what its preview showed,
each charge once, with every invariant intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from billops.access.models import User
from billops.billing.models import BilledItem, BillRun, Charge
from billops.billing.services.charges import create_charge
from billops.billing.services.execution import resume_run
from billops.billing.services.runs import preview_run
from billops.cli.invariants import check_all
from billops.invoicing.models import Invoice
from tests.billing.test_runs import preview_rows, written_rows
from tests.conftest import database_url
from tests.invoicing.factories import make_customer

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 60


def test_a_run_killed_mid_partition_resumes_to_exactly_its_preview(clerk: User, entity, catalog) -> None:
    for number in range(CUSTOMERS):
        customer = make_customer(clerk)
        for product, quantity in (("CONSULT", str(1 + number % 12)), ("BOOK", "1"))[: 1 + number % 2]:
            create_charge(
                customer_id=customer.pk, product_code=product, quantity=quantity, actor=clerk,
                charge_date=date(2026, 3, 1 + number % 28),
            )  # fmt: skip
    expected = preview_rows(preview_run(period="2026-03", actor=clerk, invoice_date=date(2026, 4, 1)))
    assert len({row[0] for row in expected}) == CUSTOMERS

    env = {
        **os.environ, "BILLOPS_DATABASE_URL": database_url(), "BILLOPS_SECRET_KEY": "tests",
        "BILLOPS_BILL_RUN_CHUNK_SIZE": "4",  # a transaction per 4 customers: the kill lands between two
    }  # fmt: skip
    command = [sys.executable, "-m", "billops.cli.main", "billrun", "--period", "2026-03",
               "--invoice-date", "2026-04-01", "--user", clerk.username]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while Invoice.objects.count() < 10:  # let it bill some customers, then kill it mid-partition
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run issued fewer than 10 invoices in 2 minutes"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    run = BillRun.objects.get()
    issued_before_resume = Invoice.objects.count()
    assert run.status == BillRun.Status.RUNNING and 10 <= issued_before_resume < CUSTOMERS

    resumed = resume_run(run_id=run.pk, actor=clerk)
    assert written_rows(resumed) == expected
    assert (resumed.status, resumed.invoices_issued, resumed.customers_due) == ("done", CUSTOMERS, CUSTOMERS)
    assert [(partition.status, partition.attempts) for partition in resumed.partitions.all()] == [("done", 2)]
    assert (
        BilledItem.objects.count() == Charge.objects.count() == Charge.objects.filter(status="billed").count()
    )
    report = check_all()
    assert {
        name: result["problems"] for name, result in report["invariants"].items() if not result["ok"]
    } == {}
