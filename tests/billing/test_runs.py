"""Bill runs of one-off charges: the preview is exactly the run, a month run twice bills nothing new, the
database refuses to bill an item twice, and a customer that cannot be billed is listed and skipped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from billops.access.models import Role, User
from billops.audit.models import AuditEvent
from billops.billing.models import BilledItem, BillRun, BillRunPartition, Charge
from billops.billing.services.charges import create_charge
from billops.billing.services.execution import resume_run, start_run
from billops.billing.services.runs import RunPreview, due_customers, open_run, preview_run, run_partition
from billops.cli.invariants import check_all
from billops.cli.main import main
from billops.core.errors import InvalidInput, PermissionDenied
from billops.customers.models import Customer
from billops.customers.services import place_credit_hold
from billops.invoicing.models import Invoice, InvoiceStatus, NumberSeries
from billops.invoicing.rendering.frozen import view_from_json
from billops.invoicing.services.entities import set_approval_threshold
from billops.ledger.models import JournalEntry
from billops.ledger.services import close_period, reopen_period
from tests.invoicing.factories import make_customer

pytestmark = pytest.mark.django_db

APRIL_FIRST = date(2026, 4, 1)


@pytest.fixture
def customers(clerk: User, entity: Any, catalog: Any) -> dict[str, Customer]:
    """Monthly A (two charges) and B (one free-text charge), quarterly Q (due in March), annual Y (not
    due in March), and A's charge of April, after the period."""
    made = {
        "A": make_customer(clerk, account_number="A-1"),
        "B": make_customer(clerk, account_number="B-1"),
        "Q": make_customer(clerk, account_number="Q-1", cycle="quarterly"),
        "Y": make_customer(clerk, account_number="Y-1", cycle="annual"),
    }
    for name, product, quantity, on in (
        ("A", "CONSULT", "12", date(2026, 3, 3)),
        ("A", "BOOK", "2", date(2026, 3, 31)),
        ("Q", "LICENSE", "3", date(2026, 3, 10)),
        ("Y", "LICENSE", "1", date(2026, 3, 10)),
        ("A", "BOOK", "1", date(2026, 4, 1)),
    ):
        create_charge(
            customer_id=made[name].pk, product_code=product, quantity=quantity, actor=clerk, charge_date=on
        )
    create_charge(
        customer_id=made["B"].pk, description="Call-out", quantity="1.5", unit_price="80.125",
        tax_code="VAT-STD", actor=clerk, charge_date=date(2026, 2, 14), reference="JOB-9",
    )  # fmt: skip
    return made


def row(document: Invoice, line: Any) -> tuple[Any, ...]:
    """What a preview shows and a run writes of one line, to compare them."""
    return (
        document.customer.account_number, document.issued_on, document.total, line.line_no, line.description,
        line.quantity, line.unit_price, line.net, line.tax_rate, line.tax_amount, line.reference,
    )  # fmt: skip


def preview_rows(preview: RunPreview) -> list[tuple[Any, ...]]:
    return [row(planned.invoice, line) for planned in preview.invoices for line in planned.lines]


def written_rows(run: BillRun) -> list[tuple[Any, ...]]:
    invoices = Invoice.objects.filter(pk__in=BilledItem.objects.filter(run=run).values("invoice_id"))
    # a customer invoiced per matter or contract has an invoice per group, planned in reference order
    ordered = invoices.select_related("customer").order_by("customer__account_number", "reference")
    return [row(invoice, line) for invoice in ordered for line in invoice.lines.order_by("line_no")]


# customer, total, line, description, quantity, unit price, net, tax rate, tax, reference
EXPECTED = [
    ("A-1", "1981.19", 1, "Consulting", "12", "135", "1620.00", "19", "307.80", ""),
    ("A-1", "1981.19", 2, "Handbook", "2", "24.95", "49.90", "7", "3.49", ""),
    ("B-1", "143.03", 1, "Call-out", "1.5", "80.125", "120.19", "19", "22.84", "JOB-9"),
    ("Q-1", "178.14", 1, "Software licence", "3", "49.90", "149.70", "19", "28.44", ""),
]


def expected_rows() -> list[tuple[Any, ...]]:
    return [
        (account, APRIL_FIRST, Decimal(total), line_no, description, *map(Decimal, amounts), reference)
        for account, total, line_no, description, *amounts, reference in EXPECTED
    ]


def whole_database() -> dict[str, Any]:
    return {
        "invoices": Invoice.objects.count(),
        "charges": list(Charge.objects.order_by("pk").values_list("status", flat=True)),
        "items": BilledItem.objects.count(),
        "runs": BillRun.objects.count(),
        "entries": JournalEntry.objects.count(),
        "events": AuditEvent.objects.count(),
    }


def test_the_preview_is_line_for_line_what_the_run_issues(
    clerk: User, customers: dict[str, Customer]
) -> None:
    before = whole_database()
    preview = preview_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    assert whole_database() == before  # a preview writes nothing
    assert (preview.customers_due, preview.exceptions) == (3, [])
    expected = expected_rows()
    assert preview_rows(preview) == expected
    assert preview.totals() == {"EUR": Decimal("2302.36")}

    run = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    assert written_rows(run) == expected
    assert (run.status, run.customers_due, run.invoices_issued, run.totals) == (
        BillRun.Status.DONE,
        3,
        3,
        {"EUR": "2302.36"},
    )
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED).order_by("sequence_no")
    assert [invoice.number for invoice in issued] == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    # the annual customer and A's April charge wait; everything else is billed, once, on its line
    assert sorted(
        Charge.objects.filter(status="pending").values_list("customer__account_number", flat=True)
    ) == ["A-1", "Y-1"]
    billed = Charge.objects.filter(status="billed").order_by("customer__account_number", "charge_date")
    assert sorted(BilledItem.objects.values_list("key", "line_no")) == sorted(
        (f"charge:{charge.pk}", line_no) for charge, line_no in zip(billed, (1, 2, 1, 1), strict=True)
    )
    run_events = AuditEvent.objects.filter(target_type="billing.billrun").order_by("seq")
    assert [event.action for event in run_events] == ["bill_run.started", "bill_run.finished"]
    report = check_all()
    assert all(item["ok"] for item in report["invariants"].values()), report


def test_partitions_bill_what_one_run_bills_and_a_crashed_one_resumes_without_billing_twice(
    clerk: User, customers: dict[str, Customer]
) -> None:
    expected = preview_rows(preview_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST))
    run = open_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST, partition_size=2)
    partitions = list(run.partitions.order_by("number"))
    a, b, q = (customers[name].pk for name in "ABQ")
    assert [partition.customer_ids for partition in partitions] == [[a, b], [q]]
    run_partition(partitions[0].pk)
    run_partition(partitions[0].pk)  # done already: nothing happens
    # a worker died while billing the second partition: claimed, never finished
    BillRunPartition.objects.filter(pk=partitions[1].pk).update(status="running", attempts=1)
    assert BillRun.objects.get(pk=run.pk).status == BillRun.Status.RUNNING

    resumed = resume_run(run_id=run.pk, actor=clerk)
    assert written_rows(resumed) == expected
    assert (resumed.status, resumed.invoices_issued, resumed.totals) == ("done", 3, {"EUR": "2302.36"})
    assert [(partition.status, partition.attempts) for partition in resumed.partitions.all()] == [
        ("done", 1),
        ("done", 2),
    ]
    assert BilledItem.objects.count() == 4
    assert AuditEvent.objects.filter(action="bill_run.finished").count() == 1


def test_a_partition_that_fails_says_why_and_is_billed_when_resumed(
    clerk: User, customers: dict[str, Customer], capsys: pytest.CaptureFixture[str]
) -> None:
    run = open_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST, partition_size=2)
    second = run.partitions.get(number=2)
    # a partition row broken behind the services' back: billing it fails with an unexpected error
    BillRunPartition.objects.filter(pk=second.pk).update(customer_ids=[customers["Q"].pk, "not-a-customer"])
    assert main(["billrun", "--resume", str(run.pk), "--user", "clerk"]) == 1
    error = capsys.readouterr().err
    assert (
        f"error: partition 2 of bill run {run.pk} failed: ValueError: Field 'id' expected a number" in error
    )
    assert f"`billops billrun --resume {run.pk}`" in error
    second.refresh_from_db()
    assert (second.status, second.attempts) == ("failed", 1)
    assert BillRun.objects.get(pk=run.pk).status == BillRun.Status.RUNNING
    # the first partition was billed; the second's chunk failed as a whole and wrote nothing
    assert Invoice.objects.count() == 2

    BillRunPartition.objects.filter(pk=second.pk).update(customer_ids=[customers["Q"].pk])
    resumed = resume_run(run_id=run.pk, actor=clerk)
    assert (resumed.status, resumed.invoices_issued, resumed.totals) == ("done", 3, {"EUR": "2302.36"})
    second.refresh_from_db()
    assert (second.status, second.attempts, second.error) == ("done", 2, "")
    assert Invoice.objects.count() == BilledItem.objects.filter(line_no=1).count() == 3


def test_running_a_month_again_bills_nothing_new(clerk: User, customers: dict[str, Customer]) -> None:
    start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    before = Invoice.objects.count(), BilledItem.objects.count()
    again = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    assert (again.customers_due, again.invoices_issued, again.totals) == (0, 0, {})
    assert (Invoice.objects.count(), BilledItem.objects.count()) == before
    assert preview_run(period="2026-03", actor=clerk).invoices == []


def test_the_database_refuses_to_bill_an_item_twice(clerk: User, customers: dict[str, Customer]) -> None:
    run = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    billed = BilledItem.objects.filter(run=run).first()
    assert billed is not None
    with pytest.raises(IntegrityError), transaction.atomic():
        BilledItem.objects.create(
            key=billed.key, customer=billed.customer, invoice=billed.invoice, line_no=9, run=run
        )


def test_a_customer_that_cannot_be_billed_is_listed_and_one_needing_approval_is_submitted(
    clerk: User, make_user: Callable[..., User], customers: dict[str, Customer]
) -> None:
    place_credit_hold(customer_id=customers["B"].pk, reason="cheque returned", actor=clerk)
    set_approval_threshold(entity_code="MAIN", currency="EUR", amount="1000", actor=make_user(Role.ADMIN))
    preview = preview_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    reasons = [(exception.customer.account_number, exception.field) for exception in preview.exceptions]
    assert reasons == [("B-1", "credit_hold")]
    assert [(planned.customer.account_number, planned.draft_reason) for planned in preview.invoices] == [
        ("A-1", "approval"),
        ("Q-1", ""),
    ]
    assert (preview.totals(), preview.draft_totals()) == (
        {"EUR": Decimal("178.14")},
        {"EUR": Decimal("1981.19")},
    )

    run = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    listed = [
        (exception.customer.account_number, exception.field, exception.message)
        for exception in run.exceptions.all()
    ]
    assert [(number, field) for number, field, _ in listed] == reasons
    assert "B-1 is on credit hold (cheque returned)" in listed[0][2]
    assert (run.customers_due, run.invoices_issued, run.totals) == (3, 1, {"EUR": "178.14"})
    assert (run.drafts_created, run.draft_totals) == (1, {"EUR": "1981.19"})
    # A's invoice waits for a second person's approval, unnumbered; its charges are on it
    draft = run.drafts.get()
    assert (draft.customer, draft.reason, draft.total) == (customers["A"], "approval", Decimal("1981.19"))
    assert "the total 1981.19 EUR is at or above the approval threshold 1000.00 EUR" in draft.message
    invoice = draft.invoice
    assert (invoice.status, invoice.number, invoice.approval_required, invoice.submitted_by) == (
        InvoiceStatus.SUBMITTED, None, True, clerk,
    )  # fmt: skip
    assert JournalEntry.objects.filter(source_id=str(invoice.pk)).count() == 0
    event = AuditEvent.objects.get(action="invoice.draft_created", target_id=str(invoice.pk))
    assert (event.after["bill_run"], event.after["draft_reason"]) == (run.pk, "approval")
    # nothing of B was billed: no invoice, no billed item, its charge still pending
    assert sorted(Invoice.objects.values_list("customer__account_number", flat=True)) == ["A-1", "Q-1"]
    assert Charge.objects.filter(customer=customers["B"], status="pending").count() == 1
    assert Charge.objects.filter(customer=customers["A"], status="billed").count() == 2


def test_a_chunk_issues_each_invoice_as_one_issue_would_numbered_in_account_order(
    clerk: User, customers: dict[str, Customer]
) -> None:
    run = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    invoices = Invoice.objects.filter(pk__in=BilledItem.objects.filter(run=run).values("invoice_id"))
    numbered = invoices.order_by("sequence_no").values_list("customer__account_number", "number")
    assert list(numbered) == [
        ("A-1", "INV-2026-000001"),
        ("B-1", "INV-2026-000002"),
        ("Q-1", "INV-2026-000003"),
    ]
    assert NumberSeries.objects.get(document_type="invoice").next_number == 4
    for invoice in invoices.select_related("document"):
        entry = JournalEntry.objects.get(source_type="invoicing.invoice", source_id=str(invoice.pk))
        assert invoice.journal_entry_id == entry.pk and entry.posted_on == APRIL_FIRST
        assert sum(line.debit for line in entry.lines.all()) == invoice.total
        event = AuditEvent.objects.get(action="invoice.issued", target_id=str(invoice.pk))
        assert (event.journal_entry_id, event.actor_id) == (entry.pk, clerk.pk)
        assert event.after["content_sha256"] == invoice.document.content_sha256
        assert view_from_json(invoice.document.content).bill_to.name == invoice.customer.legal_name
    report = check_all()
    assert all(item["ok"] for item in report["invariants"].values()), report


def test_a_chunk_refused_as_a_whole_is_billed_customer_by_customer(
    clerk: User, supervisor: User, customers: dict[str, Customer]
) -> None:
    close_period(start_on=APRIL_FIRST, actor=supervisor)
    before = whole_database()
    run = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    listed = [(exception.customer.account_number, exception.field) for exception in run.exceptions.all()]
    assert listed == [("A-1", "posted_on"), ("B-1", "posted_on"), ("Q-1", "posted_on")]
    assert "the period April 2026 is closed" in run.exceptions.first().message
    assert (run.status, run.invoices_issued) == ("done", 0)
    assert whole_database()["invoices"] == before["invoices"] == 0
    assert not NumberSeries.objects.exists()  # no number taken, none burned

    reopen_period(start_on=APRIL_FIRST, reason="bill March", actor=supervisor)
    again = start_run(period="2026-03", actor=clerk, invoice_date=APRIL_FIRST)
    assert (again.invoices_issued, again.totals) == (3, {"EUR": "2302.36"})
    assert written_rows(again) == expected_rows()
    report = check_all()
    assert all(item["ok"] for item in report["invariants"].values()), report


def test_cycles_are_due_at_the_end_of_their_months(clerk: User, entity: Any, catalog: Any) -> None:
    anniversary = make_customer(clerk, cycle="anniversary", cycle_day=None, anniversary_on="2025-06-15")
    quarterly = make_customer(clerk, cycle="quarterly")
    monthly = make_customer(clerk)
    annual = make_customer(clerk, cycle="annual")
    due = {month: set(due_customers(date(2026, month, 1))) for month in range(1, 13)}
    assert [month for month in due if quarterly in due[month]] == [3, 6, 9, 12]
    assert [month for month in due if anniversary in due[month]] == [6]
    assert [month for month in due if annual in due[month]] == [12]
    assert [month for month in due if monthly in due[month]] == list(range(1, 13))


@pytest.mark.parametrize(
    ("period", "invoice_date", "field"),
    [("2026-13", None, "period"), ("March", None, "period"), ("2026-03", date(1999, 1, 1), "invoice_date")],
)
def test_a_bad_period_or_date_is_refused_and_nothing_is_written(
    clerk: User, customers: dict[str, Customer], period: str, invoice_date: date | None, field: str
) -> None:
    before = whole_database()
    for attempt in (preview_run, start_run):
        with pytest.raises(InvalidInput) as refused:
            attempt(period=period, actor=clerk, invoice_date=invoice_date)
        assert refused.value.field == field
    assert whole_database() == before


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.AUDITOR])
def test_only_billing_roles_run_or_preview(
    make_user: Callable[..., User], customers: dict[str, Customer], role: str
) -> None:
    actor = make_user(role)
    before = whole_database()
    for attempt in (preview_run, start_run):
        with pytest.raises(PermissionDenied):
            attempt(period="2026-03", actor=actor)
    assert whole_database() == before


def test_the_billrun_command_previews_then_runs(
    clerk: User, customers: dict[str, Customer], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["billrun", "--period", "2026-03", "--invoice-date", "2026-04-01", "--user", "clerk"]
    before = whole_database()
    assert main([*argv, "--preview"]) == 0
    shown = capsys.readouterr().out
    assert "3 customers due, 3 invoices (0 left as drafts), 0 exceptions" in shown
    assert "total EUR: 2302.36" in shown and shown.rstrip().endswith("Nothing was written.")
    assert whole_database() == before
    assert main(argv) == 0
    done = capsys.readouterr().out
    assert "3 customers due, 3 invoices issued, 0 drafts for review, 0 exceptions" in done
    assert "total EUR: 2302.36" in done
    assert main(["billrun", "--period", "2026-03", "--user", "nobody"]) == 1
    assert "(user)" in capsys.readouterr().err
    run = BillRun.objects.get()
    assert main(["billrun", "--resume", str(run.pk), "--user", "clerk"]) == 0  # done: nothing more to bill
    assert f"Bill run {run.pk} for 2026-03: 3 customers due, 3 invoices issued" in capsys.readouterr().out
    assert main(["billrun", "--resume", str(run.pk), "--preview", "--user", "clerk"]) == 1
    assert "--resume finishes a run as it was started" in capsys.readouterr().err
    assert main(["billrun", "--resume", "999", "--user", "clerk"]) == 1
    assert "there is no bill run 999 (run_id)" in capsys.readouterr().err
    assert Invoice.objects.count() == 3


def test_a_worker_needs_a_broker(capsys: pytest.CaptureFixture[str], settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    assert main(["worker"]) == 1
    assert "set BILLOPS_BROKER_URL" in capsys.readouterr().err
