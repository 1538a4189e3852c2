"""Payment plans: instalments that always add up to the total (equal, by amount, by percent), what is
refused, the fee and interest on a debit note the plan covers, payments counted for the instalments in due
order, and a plan that defaults (dunning resumes) or completes."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billops.audit.models import AuditEvent
from billops.collections.models import CollectionProfile, DunningNotice, Instalment, PaymentPlan
from billops.collections.selectors.plans import customers_with_active_plans, plan_schedule
from billops.collections.services.dunning import preview_dunning, run_dunning
from billops.collections.services.plans import (
    CustomInstalment,
    EqualInstalments,
    cancel_payment_plan,
    create_payment_plan,
    evaluate_payment_plans,
    split_to_last,
)
from billops.core.errors import Conflict, DomainError, InvalidAmount, InvalidInput, NotFound, PermissionDenied
from billops.core.money import Money, sum_money
from billops.invoicing.models import DocumentType
from billops.ledger.accounts import RECEIVABLES, REVENUE, control_account
from tests.collections.test_dunning_books import DunningBook, build_book, journal_lines, unchanged
from tests.delivery.factories import customer_with_contacts
from tests.payments.books import all_ok

pytestmark = pytest.mark.django_db

AGREED_ON = date(2026, 2, 15)


@pytest.fixture
def dunning(clerk, supervisor, collector, make_user, entity, catalog) -> DunningBook:
    book = build_book(clerk, supervisor, collector, make_user)
    book.on(AGREED_ON)
    return book


def plan_for(book: DunningBook, instalments, invoice_ids: list[int] | None = None, **terms) -> PaymentPlan:
    return create_payment_plan(
        customer_id=book.customer.pk, invoice_ids=[book.invoice.pk] if invoice_ids is None else invoice_ids,
        instalments=instalments, actor=book.collector, **terms,
    )  # fmt: skip


def schedule(plan: PaymentPlan) -> list[tuple[int, date, Decimal, Decimal, str]]:
    return list(
        Instalment.objects.filter(plan=plan)
        .order_by("number")
        .values_list("number", "due_on", "amount", "paid_amount", "status")
    )


def test_equal_instalments_split_the_total_exactly_with_the_cent_left_over_on_the_last(
    dunning: DunningBook,
) -> None:
    plan = plan_for(dunning, EqualInstalments(count=3, first_due_on=date(2026, 3, 1)))

    assert schedule(plan) == [
        (1, date(2026, 3, 1), Decimal("333.33"), Decimal("0"), "due"),
        (2, date(2026, 4, 1), Decimal("333.33"), Decimal("0"), "due"),
        (3, date(2026, 5, 1), Decimal("333.34"), Decimal("0"), "due"),
    ]
    assert (plan.total, plan.status, plan.starts_on, plan.charges_note) == (
        Decimal("1000.00"), "active", AGREED_ON, None,
    )  # fmt: skip
    assert list(plan.items.values_list("invoice_id", "amount")) == [(dunning.invoice.pk, Decimal("1000.00"))]
    assert customers_with_active_plans() == {dunning.customer.pk}
    assert customers_with_active_plans([dunning.customer.pk + 1]) == set()
    event = AuditEvent.objects.get(action="payment_plan.created")
    assert event.after["instalments"] == [
        ["2026-03-01", "333.33"],
        ["2026-04-01", "333.33"],
        ["2026-05-01", "333.34"],
    ]


def test_monthly_instalments_keep_their_day_or_the_months_last(dunning: DunningBook) -> None:
    plan = plan_for(dunning, EqualInstalments(count=3, first_due_on=date(2026, 3, 31)))
    days = [row[1] for row in schedule(plan)]
    assert days == [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]

    weekly = plan_for(
        dunning, EqualInstalments(count=2, first_due_on=date(2026, 2, 20), every=14, unit="days"),
        invoice_ids=[dunning.new_invoice(dunning.customer, AGREED_ON, "100.00").pk],
    )  # fmt: skip
    assert [row[1:3] for row in schedule(weekly)] == [
        (date(2026, 2, 20), Decimal("50.00")), (date(2026, 3, 6), Decimal("50.00")),
    ]  # fmt: skip


def test_custom_instalments_by_amount_and_by_percent(dunning: DunningBook) -> None:
    by_amount = plan_for(
        dunning,
        [
            CustomInstalment(date(2026, 3, 1), amount="600.00"),
            CustomInstalment(date(2026, 4, 1), amount="400"),
        ],
    )
    assert [row[2] for row in schedule(by_amount)] == [Decimal("600.00"), Decimal("400.00")]

    other = dunning.new_invoice(dunning.customer, AGREED_ON, "1333.33")
    by_percent = plan_for(
        dunning,
        [CustomInstalment(date(2026, 3, 1), percent="50"), CustomInstalment(date(2026, 4, 1), percent="25"),
         CustomInstalment(date(2026, 5, 1), percent="25")],
        invoice_ids=[other.pk],
    )  # fmt: skip
    # 666.665, 333.3325 and 333.3325: the one cent left goes to the largest remainder
    assert [row[2] for row in schedule(by_percent)] == [
        Decimal("666.67"),
        Decimal("333.33"),
        Decimal("333.33"),
    ]
    assert by_percent.total == Decimal("1333.33")


@pytest.mark.parametrize(
    ("instalments", "field", "message"),
    [
        ([CustomInstalment(date(2026, 3, 1), amount="600"), CustomInstalment(date(2026, 4, 1), amount="300")],
         "instalments", "the instalments add up to 900.00 EUR, not to the 1000.00 EUR the invoices"),
        ([CustomInstalment(date(2026, 3, 1), percent="50"), CustomInstalment(date(2026, 4, 1), percent="40")],
         "instalments", "the percents add up to 90, not to 100"),
        ([CustomInstalment(date(2026, 2, 14), amount="1000.00")],
         "instalments.0.due_on", "instalment 1 falls due today or later, not on 2026-02-14"),
        ([CustomInstalment(date(2026, 4, 1), amount="500"), CustomInstalment(date(2026, 3, 1), amount="500")],
         "instalments.1.due_on", "instalment 2 falls due after instalment 1 (2026-04-01)"),
        ([CustomInstalment(date(2026, 3, 1), amount="500"), CustomInstalment(date(2026, 4, 1), percent="50")],
         "instalments.1.amount", "give every instalment an amount, or every instalment a percent"),
        ([CustomInstalment(date(2026, 3, 1), amount="1000.001")],
         "instalments.0.amount", "more decimal places than EUR allows"),
        (EqualInstalments(count=0, first_due_on=date(2026, 3, 1)), "instalments.count", "a plan has 1 to 60"),
        (EqualInstalments(count=3, first_due_on=date(2026, 2, 1)),
         "instalments.first_due_on", "the first instalment falls due today or later"),
    ],
)  # fmt: skip
def test_a_schedule_that_does_not_add_up_or_runs_backwards_is_refused_naming_its_field(
    dunning: DunningBook, instalments, field: str, message: str
) -> None:
    with unchanged(), pytest.raises(DomainError, match=re.escape(message)) as refused:
        plan_for(dunning, instalments)
    assert refused.value.field == field


def test_only_the_customers_open_invoices_not_on_another_plan_are_covered(dunning: DunningBook) -> None:
    stranger = customer_with_contacts(dunning.clerk, account_number="C-OTHER")
    theirs = dunning.new_invoice(stranger, AGREED_ON)
    paid = dunning.new_invoice(dunning.customer, AGREED_ON, "50.00")
    dunning.pay(paid, "50.00", AGREED_ON)
    monthly = EqualInstalments(count=2, first_due_on=date(2026, 3, 1))
    for invoice_ids, error, message in (
        ([theirs.pk], NotFound, f"C-DUN has no open invoice {theirs.pk} to put on a plan"),
        ([paid.pk], NotFound, f"C-DUN has no open invoice {paid.pk}"),
        ([], InvalidInput, "name the invoices the plan covers"),
    ):
        with unchanged(), pytest.raises(error, match=message) as refused:
            plan_for(dunning, monthly, invoice_ids=invoice_ids)
        assert refused.value.field == "invoice_ids"
    first = plan_for(dunning, monthly)
    with (
        unchanged(),
        pytest.raises(Conflict, match=f"INV-2026-000001 is on active payment plan {first.pk} already"),
    ):
        plan_for(dunning, monthly)


def test_a_clerk_may_not_agree_a_plan(dunning: DunningBook) -> None:
    with unchanged(), pytest.raises(PermissionDenied, match=r"may not do collections\.work"):
        create_payment_plan(
            customer_id=dunning.customer.pk, invoice_ids=[dunning.invoice.pk], actor=dunning.clerk,
            instalments=EqualInstalments(count=2, first_due_on=date(2026, 3, 1)),
        )  # fmt: skip


def test_a_fee_and_interest_are_charged_on_a_debit_note_the_plan_covers(dunning: DunningBook) -> None:
    plan = plan_for(
        dunning, EqualInstalments(count=2, first_due_on=date(2026, 3, 17)), fee="25.00", interest_rate="6"
    )

    # 1,000.00 x 6 % x 30/365 to 17 March, then 500.00 x 6 % x 31/365 to 17 April: 4.9315 + 2.5479 = 7.48
    assert (plan.fee, plan.interest, plan.interest_rate) == (Decimal("25.00"), Decimal("7.48"), Decimal("6"))
    note = plan.charges_note
    assert note is not None and note.document_type == DocumentType.DEBIT_NOTE
    assert (note.number, note.status, note.total, note.issued_on) == (
        "DN-2026-000001", "issued", Decimal("32.48"), AGREED_ON,
    )  # fmt: skip
    assert journal_lines(note.journal_entry_id) == [
        (control_account(RECEIVABLES).code, Decimal("32.48"), Decimal("0"), dunning.customer.pk),
        (control_account(REVENUE).code, Decimal("0"), Decimal("32.48"), None),
    ]
    assert plan.total == Decimal("1032.48")
    assert sorted(plan.items.values_list("invoice_id", "amount")) == [
        (dunning.invoice.pk, Decimal("1000.00")), (note.pk, Decimal("32.48")),
    ]  # fmt: skip
    assert [row[2] for row in schedule(plan)] == [Decimal("516.24"), Decimal("516.24")]
    all_ok()


def test_payments_count_for_the_instalments_in_due_order(dunning: DunningBook) -> None:
    plan = plan_for(dunning, EqualInstalments(count=3, first_due_on=date(2026, 3, 1)))
    dunning.pay(dunning.invoice, "500.00", date(2026, 2, 28))

    counts = evaluate_payment_plans(on=date(2026, 3, 1), actor=dunning.collector)

    assert counts == {"evaluated": 1, "paid": 1, "missed": 0, "completed": 0, "defaulted": 0}
    assert [row[3:] for row in schedule(plan)] == [
        (Decimal("333.33"), "paid"), (Decimal("166.67"), "due"), (Decimal("0"), "due"),
    ]  # fmt: skip
    view = plan_schedule(plan.pk, on=date(2026, 3, 1))
    assert (view.paid, view.left, view.next_due and view.next_due.instalment.number) == (
        Decimal("500.00"), Decimal("500.00"), 2,
    )  # fmt: skip
    assert AuditEvent.objects.get(action="payment_plan.instalment_paid").after["instalment"] == 1


def test_a_missed_instalment_defaults_the_plan_and_dunning_resumes(dunning: DunningBook) -> None:
    plan = plan_for(dunning, EqualInstalments(count=3, first_due_on=date(2026, 3, 1)), grace_days=5)
    dunning.pay(dunning.invoice, "333.33", date(2026, 2, 28))
    dunning.on(date(2026, 3, 10))
    assert [s.reason for s in preview_dunning(run_on=date(2026, 3, 10), actor=dunning.collector).skipped] == [
        "has an active payment plan"
    ]

    assert evaluate_payment_plans(on=date(2026, 4, 6), actor=dunning.collector)["missed"] == 0  # within grace
    counts = evaluate_payment_plans(on=date(2026, 4, 7), actor=dunning.collector)

    assert (counts["missed"], counts["defaulted"]) == (1, 1)
    plan.refresh_from_db()
    assert (plan.status, plan.decided_on) == ("defaulted", date(2026, 4, 7))
    assert [row[4] for row in schedule(plan)] == ["paid", "missed", "due"]
    profile = CollectionProfile.objects.get(customer=dunning.customer)
    assert (profile.next_action_on, profile.next_action) == (
        date(2026, 4, 7),
        f"Payment plan {plan.pk} defaulted: call",
    )
    assert customers_with_active_plans() == set()
    assert [event for event in AuditEvent.objects.filter(action__startswith="payment_plan.").values_list(
        "action", flat=True).order_by("seq")] == [
        "payment_plan.created", "payment_plan.instalment_paid", "payment_plan.instalment_missed",
        "payment_plan.defaulted",
    ]  # fmt: skip

    dunning.on(date(2026, 4, 7))
    done = run_dunning(run_on=date(2026, 4, 7), actor=dunning.collector)
    notice = DunningNotice.objects.get(run=done)
    assert (notice.level.number, notice.overdue_total) == (1, Decimal("666.67"))
    all_ok()


def test_a_plan_paid_in_full_is_completed(dunning: DunningBook) -> None:
    plan = plan_for(dunning, EqualInstalments(count=2, first_due_on=date(2026, 3, 1)))
    dunning.pay(dunning.invoice, "1000.00", date(2026, 3, 20))

    counts = evaluate_payment_plans(on=date(2026, 3, 20), actor=dunning.collector)

    plan.refresh_from_db()
    assert (plan.status, plan.decided_on, counts["completed"], counts["paid"]) == (
        "completed", date(2026, 3, 20), 1, 2,
    )  # fmt: skip
    assert [row[3:] for row in schedule(plan)] == [(Decimal("500.00"), "paid"), (Decimal("500.00"), "paid")]
    assert evaluate_payment_plans(on=date(2026, 3, 21))["evaluated"] == 0  # the daily job, by the system
    all_ok()


def test_a_cancelled_plan_lets_dunning_resume_and_is_cancelled_once(dunning: DunningBook) -> None:
    plan = plan_for(dunning, EqualInstalments(count=2, first_due_on=date(2026, 3, 1)))
    with unchanged(), pytest.raises(InvalidInput, match="reason is required"):
        cancel_payment_plan(plan_id=plan.pk, reason=" ", actor=dunning.collector)

    cancel_payment_plan(plan_id=plan.pk, reason="customer asked for a new one", actor=dunning.collector)

    plan.refresh_from_db()
    assert (plan.status, plan.decided_on, plan.cancel_reason) == (
        "cancelled",
        AGREED_ON,
        "customer asked for a new one",
    )
    assert customers_with_active_plans() == set()
    with unchanged(), pytest.raises(Conflict, match=f"payment plan {plan.pk} is cancelled since 2026-02-15"):
        cancel_payment_plan(plan_id=plan.pk, reason="again", actor=dunning.collector)


@given(
    cents=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=60),
)
def test_split_to_last_adds_up_and_leaves_equal_parts_to_the_last(cents: int, weights: list[int]) -> None:
    total = Money(Decimal(cents).scaleb(-2), "EUR")
    parts = split_to_last(total, weights)
    assert sum_money(parts, "EUR") == total
    equal = split_to_last(total, [1] * len(weights))
    assert sum_money(equal, "EUR") == total
    assert sorted(equal, key=lambda part: part.amount) == equal  # any cent left over sits at the end
    assert equal[-1].amount - equal[0].amount <= Decimal("0.01")
    assert not any(isinstance(part.amount, float) for part in parts)


def test_split_to_last_of_a_thousand_in_three() -> None:
    assert [part.amount for part in split_to_last(Money(Decimal("1000.00"), "EUR"), [1, 1, 1])] == [
        Decimal("333.33"), Decimal("333.33"), Decimal("333.34"),
    ]  # fmt: skip
    with pytest.raises(InvalidAmount):
        split_to_last(Money(Decimal("0.001"), "EUR"), [1])
