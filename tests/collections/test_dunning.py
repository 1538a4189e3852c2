"""Dunning runs: the levels an invoice reaches by its days past due, each once however often a run goes;
the fee and interest on a debit note with its journal entry; escalation; what is left out (paid, disputed,
promised, on a plan, excluded, below the minimum); and a run that cannot charge changes nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from billops.audit.models import AuditEvent
from billops.catalog.models import Product
from billops.collections import hooks
from billops.collections.models import CollectionProfile, DunningNotice, DunningRun, NoticeItem
from billops.collections.services.dunning import (
    LevelData,
    preview_dunning,
    run_dunning,
    set_customer_dunning,
)
from billops.collections.services.plans import EqualInstalments, create_payment_plan
from billops.collections.services.promises import record_promise
from billops.core.errors import InvalidInput, NotFound, PermissionDenied
from billops.customers.models import Customer
from billops.customers.services import place_credit_hold
from billops.delivery.models import Delivery, DeliveryKind
from billops.delivery.services import send_due_deliveries
from billops.invoicing.models import DocumentType, Invoice
from billops.ledger.accounts import RECEIVABLES, REVENUE, control_account
from billops.ledger.errors import PeriodClosed
from billops.ledger.services import close_period
from tests.collections.test_dunning_books import (
    DUE_ON,
    DunningBook,
    actions,
    build_book,
    journal_lines,
    make_policy,
    unchanged,
)
from tests.delivery.factories import PRIMARY, SECOND, customer_with_contacts
from tests.payments.books import all_ok, eur

pytestmark = pytest.mark.django_db


@pytest.fixture
def dunning(clerk, supervisor, collector, make_user, entity, catalog) -> DunningBook:
    return build_book(clerk, supervisor, collector, make_user)


def run(book: DunningBook, day: date) -> DunningRun:
    book.on(day)
    return run_dunning(run_on=day, actor=book.collector)


def notices_of(run_: DunningRun) -> list[DunningNotice]:
    return list(DunningNotice.objects.filter(run=run_).order_by("pk"))


@pytest.fixture
def disputes() -> Iterator[dict[int, Decimal]]:
    """Disputed amounts per invoice id, served to dunning through its hook as the disputes app serves them.

    The disputes app is downstream of collections and registers its readers when it starts; registering a
    plain function over this dict here keeps the test about dunning (no dispute case, SLA or workflow
    needed) while going through the same hook. The readers in place before are put back afterwards."""
    amounts: dict[int, Decimal] = {}

    def disputed(invoice_ids: Iterable[int]) -> dict[int, Decimal]:
        return {pk: amounts[pk] for pk in invoice_ids if pk in amounts}

    def open_cases(customer_ids: Iterable[int]) -> dict[int, int]:
        return {}

    before = list(hooks._readers)
    hooks.register_dispute_readers(
        hooks.DisputeReaders(disputed_amounts=disputed, open_dispute_counts=open_cases)
    )
    yield amounts
    hooks._readers[:] = before


def test_an_invoice_reaches_each_level_by_its_days_once_however_often_dunning_runs(
    dunning: DunningBook,
) -> None:
    assert run(dunning, date(2026, 2, 9)).notice_count == 0  # 9 days past due: level 1 is at 10

    first = run(dunning, date(2026, 2, 10))
    [notice] = notices_of(first)
    assert (notice.level.number, notice.channel, notice.overdue_total, notice.fee, notice.debit_note) == (
        1, "email", Decimal("1000.00"), Decimal("0"), None,
    )  # fmt: skip
    assert notice.subject == "Reminder: INV-2026-000001"
    assert (
        "our records show €1,000.00 overdue:\nINV-2026-000001 of Jan 1, 2026, due Jan 31, 2026" in notice.body
    )
    [item] = notice.items.all()
    assert (item.invoice_id, item.days_overdue, item.amount, item.interest) == (
        dunning.invoice.pk, 10, Decimal("1000.00"), Decimal("0"),
    )  # fmt: skip

    again = run(dunning, date(2026, 2, 10))  # the same day once more: nothing new
    assert (again.notice_count, NoticeItem.objects.count(), Delivery.objects.count()) == (0, 1, 1)
    assert run(dunning, date(2026, 4, 13)).notice_count == 0  # 72 days: level 2 is at 73
    assert (first.notice_count, first.item_count, first.debit_note_count) == (1, 1, 0)
    assert actions("dunning.notice_sent") == ["dunning.notice_sent"]
    all_ok()


def test_level_two_charges_its_fee_and_73_days_of_interest_on_one_debit_note(dunning: DunningBook) -> None:
    run(dunning, date(2026, 2, 10))
    second = run(dunning, date(2026, 4, 14))

    [notice] = notices_of(second)
    assert (notice.level.number, notice.fee, notice.interest) == (2, Decimal("5.00"), Decimal("16.00"))
    [item] = notice.items.all()
    # 1,000.00 x 8 % x 73 / 365 = 16.00, from the due date to the run's day
    assert (item.interest, item.interest_from, item.interest_to) == (
        Decimal("16.00"),
        DUE_ON,
        date(2026, 4, 14),
    )
    note = notice.debit_note
    assert note is not None and note.document_type == DocumentType.DEBIT_NOTE
    assert (note.number, note.status, note.issued_on, note.total, note.open_amount) == (
        "DN-2026-000001", "issued", date(2026, 4, 14), Decimal("21.00"), Decimal("21.00"),
    )  # fmt: skip
    assert [(line.product.code, line.net, line.tax_amount) for line in note.lines.order_by("line_no")] == [
        ("DUNNING-FEE", Decimal("5.00"), Decimal("0")),
        ("LATE-INTEREST", Decimal("16.00"), Decimal("0")),
    ]
    assert journal_lines(note.journal_entry_id) == [
        (control_account(RECEIVABLES).code, Decimal("21.00"), Decimal("0"), dunning.customer.pk),
        (control_account(REVENUE).code, Decimal("0"), Decimal("21.00"), None),
    ]
    assert notice.body.endswith(
        "fee of €5.00 and interest of €16.00 on debit note DN-2026-000001: €1,021.00 in all."
    )
    charged = AuditEvent.objects.get(action="dunning.fee_charged")
    after = charged.after
    assert (charged.target_id, after["debit_note"], after["fee"], after["interest"], after["total"]) == (
        str(notice.pk), "DN-2026-000001", "5.00", "16.00", "21.00",
    )  # fmt: skip
    assert AuditEvent.objects.get(action="debit_note.issued").journal_entry_id == note.journal_entry_id

    assert run(dunning, date(2026, 4, 14)).notice_count == 0  # a second run that day charges nothing more
    assert Invoice.objects.filter(document_type=DocumentType.DEBIT_NOTE).count() == 1
    all_ok()


def test_the_last_level_charges_a_percent_fee_interest_since_the_last_charge_and_puts_the_account_on_hold(
    dunning: DunningBook,
) -> None:
    run(dunning, date(2026, 2, 10))
    run(dunning, date(2026, 4, 14))
    assert run(dunning, date(2026, 5, 10)).notice_count == 0  # 99 days past due

    third = run(dunning, date(2026, 5, 11))  # 100 days past due, 27 days after level 2

    [notice] = notices_of(third)
    [item] = notice.items.all()
    # 1 % of 1,000.00; interest 1,000.00 x 8 % x 27 / 365 = 5.9178… from the day level 2 charged it
    assert (notice.level.number, notice.channel, notice.fee, notice.interest) == (
        3, "letter", Decimal("10.00"), Decimal("5.92"),
    )  # fmt: skip
    assert (item.interest_from, item.interest_to) == (date(2026, 4, 14), date(2026, 5, 11))
    assert notice.debit_note is not None and notice.debit_note.total == Decimal("15.92")
    assert (notice.delivery, bytes(notice.pdf or b"")[:5]) == (None, b"%PDF-")
    customer = Customer.objects.get(pk=dunning.customer.pk)
    assert (customer.credit_hold, customer.credit_hold_reason) == (
        True, "Dunning level 3 of 2026-05-11: 1000.00 EUR overdue",
    )  # fmt: skip
    assert notice.escalated == "credit_hold" and third.escalation_count == 1
    assert actions("dunning.escalated", "customers.credit_hold") == [
        "customers.credit_hold_placed", "dunning.escalated",
    ]  # fmt: skip
    # the debit note was issued before the hold: the hold would have stopped it
    assert notice.debit_note.status == "issued"
    all_ok()


def test_a_level_escalating_to_an_agency_marks_the_account(dunning: DunningBook) -> None:
    agency = LevelData(
        days_after_due=10, subject="Handed over", body="{total}", escalation="collection_agency"
    )
    make_policy(dunning.supervisor, code="AGENCY", levels=[agency], is_default=False)
    set_customer_dunning(
        customer_id=dunning.customer.pk, policy_code="agency", excluded=False, actor=dunning.collector
    )

    [notice] = notices_of(run(dunning, date(2026, 2, 10)))

    assert notice.escalated == "collection_agency"
    assert CollectionProfile.objects.get(customer=dunning.customer).with_agency_on == date(2026, 2, 10)
    assert AuditEvent.objects.get(action="dunning.escalated").after["escalation"] == "collection_agency"


def test_a_paid_invoice_is_not_dunned_and_a_part_paid_one_for_what_is_open(dunning: DunningBook) -> None:
    other = dunning.new_invoice(dunning.customer, date(2026, 1, 2), "300.00")
    dunning.pay(dunning.invoice, "400.00", date(2026, 2, 5))
    dunning.pay(other, "300.00", date(2026, 2, 5))

    [notice] = notices_of(run(dunning, date(2026, 2, 11)))

    [item] = notice.items.all()
    assert (item.invoice_id, item.open_amount, item.amount) == (
        dunning.invoice.pk,
        Decimal("600.00"),
        Decimal("600.00"),
    )
    assert notice.overdue_total == Decimal("600.00")
    all_ok()


def test_what_open_disputes_hold_back_is_left_out_of_the_notice_and_its_interest(
    dunning: DunningBook, disputes: dict[int, Decimal]
) -> None:
    disputed = dunning.new_invoice(dunning.customer, date(2026, 1, 1), "200.00")
    disputes[dunning.invoice.pk] = Decimal("250.00")
    disputes[disputed.pk] = Decimal("200.00")  # all of it: not dunned at all
    run(dunning, date(2026, 2, 10))

    [notice] = notices_of(run(dunning, date(2026, 4, 14)))

    [item] = notice.items.all()
    # 750.00 x 8 % x 73 / 365 = 12.00
    assert (item.open_amount, item.disputed_amount, item.amount, item.interest) == (
        Decimal("1000.00"), Decimal("250.00"), Decimal("750.00"), Decimal("12.00"),
    )  # fmt: skip
    assert notice.overdue_total == Decimal("750.00")
    assert not NoticeItem.objects.filter(invoice=disputed).exists()


def test_an_open_promise_an_active_plan_or_an_exclusion_keeps_the_customer_out_of_dunning(
    dunning: DunningBook,
) -> None:
    promised = customer_with_contacts(dunning.clerk, account_number="C-PROMISE")
    planned = customer_with_contacts(dunning.clerk, account_number="C-PLAN")
    excluded = customer_with_contacts(dunning.clerk, account_number="C-EXCLUDED")
    for customer in (promised, planned, excluded):
        dunning.new_invoice(customer, date(2026, 1, 1))
    dunning.on(date(2026, 2, 1))
    record_promise(
        customer_id=promised.pk, amount=eur("500.00"), promised_on=date(2026, 2, 20), contact="Pat",
        actor=dunning.collector,
    )  # fmt: skip
    create_payment_plan(
        customer_id=planned.pk, invoice_ids=[Invoice.objects.get(customer=planned).pk],
        instalments=EqualInstalments(count=2, first_due_on=date(2026, 3, 1)), actor=dunning.collector,
    )  # fmt: skip
    set_customer_dunning(
        customer_id=excluded.pk, policy_code=None, excluded=True, reason="insolvency proceedings",
        actor=dunning.collector,
    )  # fmt: skip
    dunning.on(date(2026, 2, 10))

    preview = preview_dunning(run_on=date(2026, 2, 10), actor=dunning.collector)
    done = run_dunning(run_on=date(2026, 2, 10), actor=dunning.collector)

    assert [n.customer.account_number for n in preview.notices] == ["C-DUN"]
    assert {s.customer.account_number: s.reason for s in preview.skipped} == {
        "C-EXCLUDED": "excluded from dunning: insolvency proceedings",
        "C-PLAN": "has an active payment plan",
        "C-PROMISE": "has an open promise to pay",
    }
    assert [n.customer.account_number for n in notices_of(done)] == ["C-DUN"]
    assert done.skipped_count == 3
    assert AuditEvent.objects.get(action="dunning.run_completed").after["skipped"]["C-PLAN"] == (
        "has an active payment plan"
    )


def test_a_notice_asking_for_less_than_the_minimum_is_not_sent(dunning: DunningBook) -> None:
    small = customer_with_contacts(dunning.clerk, account_number="C-SMALL")
    dunning.new_invoice(small, date(2026, 1, 1), "40.00")
    make_policy(dunning.supervisor, minimum_amount="50.00")

    dunning.on(date(2026, 2, 10))
    plan = preview_dunning(run_on=date(2026, 2, 10), actor=dunning.collector)

    assert [n.customer.account_number for n in plan.notices] == ["C-DUN"]
    assert [(s.customer.account_number, s.reason) for s in plan.skipped] == [
        ("C-SMALL", "asks for 40.00 EUR, less than the policy's minimum of 50.00 EUR")
    ]


def test_the_preview_shows_what_the_run_then_sends_and_writes_nothing(dunning: DunningBook) -> None:
    run(dunning, date(2026, 2, 10))
    dunning.on(date(2026, 4, 14))

    with unchanged():
        plan = preview_dunning(run_on=date(2026, 4, 14), actor=dunning.supervisor)
    done = run_dunning(run_on=date(2026, 4, 14), actor=dunning.supervisor)

    [planned] = plan.notices
    [notice] = notices_of(done)
    assert (planned.level.pk, planned.overdue_total, planned.fee, planned.interest, planned.channel) == (
        notice.level_id, notice.overdue_total, notice.fee, notice.interest, notice.channel,
    )  # fmt: skip


def test_an_e_mail_notice_goes_to_the_billing_contacts_with_its_letter(
    dunning: DunningBook, smtp_sink
) -> None:
    [notice] = notices_of(run(dunning, date(2026, 2, 10)))
    delivery = notice.delivery
    assert delivery is not None and (delivery.kind, delivery.status) == (DeliveryKind.NOTICE, "queued")

    counts = send_due_deliveries(now=timezone.now() + timedelta(minutes=1))

    assert counts.sent == 1
    [received] = smtp_sink.received
    assert set(received.rcpt_tos) == {PRIMARY, SECOND}
    assert received.message["Subject"] == "Reminder: INV-2026-000001"
    assert "our records show €1,000.00 overdue" in received.message.get_body(("plain",)).get_content()
    [attachment] = list(received.message.iter_attachments())
    assert attachment.get_filename() == "reminder-C-DUN-2026-02-10.pdf"
    assert attachment.get_content() == bytes(notice.pdf or b"")
    assert attachment.get_content()[:5] == b"%PDF-"


def test_a_customer_that_takes_no_e_mail_gets_a_letter(dunning: DunningBook) -> None:
    by_post = customer_with_contacts(dunning.clerk, account_number="C-POST", delivery_method="post")
    dunning.new_invoice(by_post, date(2026, 1, 1))

    done = run(dunning, date(2026, 2, 10))

    notice = DunningNotice.objects.get(run=done, customer=by_post)
    assert (notice.channel, notice.delivery) == ("letter", None)
    assert bytes(notice.pdf or b"").startswith(b"%PDF-")
    assert Delivery.objects.filter(customer=by_post).count() == 0


def test_a_fee_that_cannot_be_issued_in_one_step_is_left_a_draft_and_the_notice_goes(
    dunning: DunningBook,
) -> None:
    run(dunning, date(2026, 2, 10))
    place_credit_hold(customer_id=dunning.customer.pk, reason="manual hold", actor=dunning.collector)

    [notice] = notices_of(run(dunning, date(2026, 4, 14)))

    assert notice.debit_note is not None
    assert (notice.debit_note.status, notice.debit_note.number, notice.debit_note.total) == (
        "draft", None, Decimal("21.00"),
    )  # fmt: skip
    assert AuditEvent.objects.get(action="dunning.fee_charged").after["status"] == "draft"
    all_ok()


def test_a_closed_period_refuses_the_runs_fees_and_nothing_is_sent(dunning: DunningBook) -> None:
    run(dunning, date(2026, 2, 10))
    dunning.on(date(2026, 5, 2))
    for month in (1, 2, 3, 4):
        close_period(start_on=date(2026, month, 1), actor=dunning.supervisor)

    with (
        unchanged(),
        pytest.raises(
            PeriodClosed, match="run of 2026-04-14 charges fees or interest on 1 notice:"
        ) as refused,
    ):
        run_dunning(run_on=date(2026, 4, 14), actor=dunning.collector)

    assert refused.value.field == "run_on"
    assert (
        "the period April 2026 is closed; a supervisor can reopen it. Nothing was sent"
        in refused.value.message
    )
    all_ok()


def test_a_missing_fee_product_refuses_the_run(dunning: DunningBook) -> None:
    run(dunning, date(2026, 2, 10))
    Product.objects.filter(code="DUNNING-FEE").update(is_active=False)
    dunning.on(date(2026, 4, 14))

    with unchanged(), pytest.raises(NotFound, match="there is no active product DUNNING-FEE"):
        run_dunning(run_on=date(2026, 4, 14), actor=dunning.collector)


def test_only_collectors_and_supervisors_preview_or_run(dunning: DunningBook) -> None:
    dunning.on(date(2026, 2, 10))
    with unchanged():
        for action in (preview_dunning, run_dunning):
            with pytest.raises(PermissionDenied, match=r"the clerk role may not do collections\.run_dunning"):
                action(run_on=date(2026, 2, 10), actor=dunning.clerk)


def test_a_run_never_looks_into_the_future(dunning: DunningBook) -> None:
    dunning.on(date(2026, 2, 10))
    with (
        unchanged(),
        pytest.raises(InvalidInput, match="up to today \\(2026-02-10\\) at the latest") as refused,
    ):
        run_dunning(run_on=date(2026, 2, 11), actor=dunning.collector)
    assert refused.value.field == "run_on"


def test_the_database_refuses_a_second_notice_of_a_level_for_an_invoice(dunning: DunningBook) -> None:
    [notice] = notices_of(run(dunning, date(2026, 2, 10)))
    item = notice.items.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        NoticeItem.objects.create(
            notice=notice, invoice=item.invoice, level=item.level, currency="EUR", days_overdue=11,
            open_amount=Decimal("1000"), amount=Decimal("1000"),
        )  # fmt: skip


def test_a_run_scoped_to_a_policy_leaves_the_other_policies_customers_alone(dunning: DunningBook) -> None:
    other = customer_with_contacts(dunning.clerk, account_number="C-OTHER")
    dunning.new_invoice(other, date(2026, 1, 1))
    make_policy(dunning.supervisor, code="SOFT", is_default=False)
    set_customer_dunning(customer_id=other.pk, policy_code="SOFT", excluded=False, actor=dunning.collector)
    dunning.on(date(2026, 2, 10))

    done = run_dunning(run_on=date(2026, 2, 10), actor=dunning.collector, policy_code="soft")

    assert [n.customer.account_number for n in notices_of(done)] == ["C-OTHER"]
    assert (done.policy is not None and done.policy.code) == "SOFT"
    # the default policy's C-DUN waits for its own run
    assert run_dunning(run_on=date(2026, 2, 10), actor=dunning.collector).notice_count == 1
