"""Real concurrency on PostgreSQL: two dunning runs started at once send each notice, and charge each fee,
once; and two collectors agreeing a plan for the same invoice at once make one plan."""

from __future__ import annotations

from datetime import date

import pytest

from billops.collections.models import DunningNotice, NoticeItem, PaymentPlan
from billops.collections.services.dunning import run_dunning
from billops.collections.services.plans import EqualInstalments, create_payment_plan
from billops.core.errors import Conflict
from billops.invoicing.models import DocumentType, Invoice
from tests.collections.test_dunning_books import DunningBook, build_book
from tests.conftest import race
from tests.invoicing.factories import make_catalog, make_entity
from tests.payments.books import all_ok

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def dunning(clerk, supervisor, collector, make_user) -> DunningBook:
    make_entity()
    make_catalog()
    return build_book(clerk, supervisor, collector, make_user)


def test_two_runs_at_once_send_each_notice_and_charge_each_fee_once(dunning: DunningBook) -> None:
    dunning.on(date(2026, 2, 10))
    run_dunning(run_on=date(2026, 2, 10), actor=dunning.collector)
    dunning.on(date(2026, 4, 14))

    results, errors = race(2, lambda _: run_dunning(run_on=date(2026, 4, 14), actor=dunning.supervisor))

    assert errors == []
    assert sorted(run.notice_count for run in results) == [0, 1]  # the second planned after the first
    assert NoticeItem.objects.filter(level__number=2).count() == 1
    assert DunningNotice.objects.filter(level__number=2).count() == 1
    assert Invoice.objects.filter(document_type=DocumentType.DEBIT_NOTE).count() == 1
    all_ok()


def test_two_plans_for_one_invoice_at_once_make_one(dunning: DunningBook, make_user) -> None:
    dunning.on(date(2026, 2, 15))

    def agree(_: int) -> PaymentPlan:
        return create_payment_plan(
            customer_id=dunning.customer.pk, invoice_ids=[dunning.invoice.pk], actor=dunning.collector,
            instalments=EqualInstalments(count=2, first_due_on=date(2026, 3, 1)),
        )  # fmt: skip

    results, errors = race(2, agree)

    assert len(results) == 1 and [type(error) for error in errors] == [Conflict]
    assert PaymentPlan.objects.count() == 1
