"""The in-process job runner: one pass renders the PDFs of new documents and sends what is due;
`billops jobs` runs passes from the command line, and `billops serve` starts it beside the web server in
the embedded mode."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billops.cli import main as cli
from billops.delivery.jobs import run_jobs_forever, run_pending_jobs
from billops.delivery.models import Delivery, DeliveryStatus
from billops.delivery.services import queue_invoice_delivery
from billops.invoicing.models import IssuedDocument
from tests.delivery.factories import issued


def test_a_pass_renders_pending_pdfs_and_sends_due_deliveries(smtp_sink, customer, clerk):
    first, second = issued(customer, clerk), issued(customer, clerk)
    queue_invoice_delivery(invoice_id=first.pk, actor=clerk)

    assert run_pending_jobs() == {"pdfs_rendered": 2, "sent": 1, "retrying": 0, "failed": 0, "unknown": 0}
    assert not IssuedDocument.objects.filter(pdf__isnull=True).exists()
    assert len(smtp_sink.messages) == 1
    assert run_pending_jobs() == {"pdfs_rendered": 0, "sent": 0, "retrying": 0, "failed": 0, "unknown": 0}
    # a document queued after its PDF was rendered carries that PDF from the start
    assert queue_invoice_delivery(invoice_id=second.pk, actor=clerk).attachment is not None


def test_billops_jobs_once_prints_what_it_did(smtp_sink, customer, clerk, capsys):
    queue_invoice_delivery(invoice_id=issued(customer, clerk).pk, actor=clerk)
    assert cli.main(["jobs", "--once"]) == 0
    assert capsys.readouterr().out == "pdfs rendered: 1, sent: 1, retrying: 0, failed: 0, unknown: 0\n"
    assert Delivery.objects.get().status == DeliveryStatus.SENT


def test_billops_jobs_refuses_an_interval_of_zero(db, capsys):
    assert cli.main(["jobs", "--interval", "0"]) == 1
    assert "interval" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_the_loop_runs_passes_until_stopped_and_closes_its_connection(smtp_sink, customer, clerk):
    queue_invoice_delivery(invoice_id=issued(customer, clerk).pk, actor=clerk)
    stop, passes = threading.Event(), []

    def report(done: dict[str, int]) -> None:
        passes.append(done)
        stop.set()  # after the first pass

    run_jobs_forever(interval=0.01, stop=stop, report=report)
    assert [done["sent"] for done in passes] == [1]
    assert Delivery.objects.get().status == DeliveryStatus.SENT


@pytest.mark.parametrize("setting", ["", "0", "1"])
def test_serve_runs_the_jobs_in_the_embedded_mode_unless_told_otherwise(monkeypatch, setting):
    monkeypatch.setenv("BILLOPS_JOBS_IN_SERVE", setting)
    embedded = connection.vendor == "sqlite"  # no worker runs beside a SQLite file
    assert cli._jobs_in_serve() is {"": embedded, "0": False, "1": True}[setting]
