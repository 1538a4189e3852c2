"""Dunning policies and a customer's dunning settings: what a supervisor may save, the errors that name the
level and field at fault, one default per currency, and levels that have sent notices stay."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from billops.audit.models import AuditEvent
from billops.catalog.models import Product
from billops.collections.models import CollectionProfile, DunningLevel, DunningPolicy
from billops.collections.services.dunning import (
    LevelData,
    delete_dunning_policy,
    ensure_dunning_products,
    run_dunning,
    set_customer_dunning,
)
from billops.core.errors import (
    Conflict,
    CurrencyMismatch,
    DomainError,
    Duplicate,
    FieldErrors,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from tests.collections.test_dunning_books import LEVELS, DunningBook, build_book, make_policy, unchanged

pytestmark = pytest.mark.django_db


@pytest.fixture
def dunning(clerk, supervisor, collector, make_user, entity, catalog) -> DunningBook:
    return build_book(clerk, supervisor, collector, make_user)


def test_a_policy_is_saved_with_its_levels_in_order_and_audited(dunning: DunningBook) -> None:
    policy = DunningPolicy.objects.get(code="STANDARD")
    levels = list(policy.levels.order_by("number").values_list(
        "number", "days_after_due", "channel", "fee_amount", "fee_percent", "interest_rate", "escalation"
    ))  # fmt: skip
    assert levels == [
        (1, 10, "email", 0, 0, 0, "none"),
        (2, 73, "email", 5, 0, 8, "none"),
        (3, 100, "letter", 0, 1, 8, "credit_hold"),
    ]
    assert (policy.currency, policy.is_default, policy.minimum_amount, policy.updated_by) == (
        "EUR", True, 0, dunning.supervisor,
    )  # fmt: skip
    event = AuditEvent.objects.get(action="dunning.policy_saved")
    assert event.before is None and [level["days_after_due"] for level in event.after["levels"]] == [
        10,
        73,
        100,
    ]


def test_a_new_default_takes_over_from_the_former_one_of_its_currency(dunning: DunningBook) -> None:
    make_policy(dunning.supervisor, code="STRICT", is_default=True)
    make_policy(dunning.supervisor, code="POUNDS", currency="GBP", is_default=True)

    defaults = dict(DunningPolicy.objects.filter(is_default=True).values_list("currency", "code"))
    assert defaults == {"EUR": "STRICT", "GBP": "POUNDS"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"fee_amount": "5.00", "fee_percent": "2"},
            "levels.0.fee_percent",
            "a fixed fee or a percentage, not both",
        ),
        ({"body": "Pay {amount} now"}, "levels.0.body", "{amount} is not a placeholder; known: {customer}"),
        ({"subject": "Reminder\nsecond line"}, "levels.0.subject", "a subject is one line"),
        ({"channel": "fax"}, "levels.0.channel", "channel is one of email, letter"),
        ({"escalation": "lawyer"}, "levels.0.escalation", "escalation is one of none, credit_hold"),
        ({"fee_amount": "5.001"}, "levels.0.fee_amount", "more decimal places than EUR allows"),
        ({"interest_rate": "120"}, "levels.0.interest_rate", "below 100"),
        ({"days_after_due": "0"}, "levels.0.days_after_due", "a level is 1 to 3650 days after the due date"),
    ],
)
def test_a_wrong_level_is_refused_naming_its_field_and_nothing_changes(
    dunning: DunningBook, change: dict[str, str], field: str, message: str
) -> None:
    levels = [replace(LEVELS[0], **change), *LEVELS[1:]]
    with (
        unchanged(),
        pytest.raises(DomainError, match=re.escape(message)) as refused,
    ):
        make_policy(dunning.supervisor, levels=levels)
    assert refused.value.field == field


def test_levels_go_in_the_order_of_their_days(dunning: DunningBook) -> None:
    levels = [LEVELS[1], LEVELS[0]]
    with unchanged(), pytest.raises(InvalidInput, match="levels go in the order of their days") as refused:
        make_policy(dunning.supervisor, code="NEW", levels=levels)
    assert refused.value.field == "levels.1.days_after_due"


def test_several_mistakes_are_reported_at_once(dunning: DunningBook) -> None:
    with unchanged(), pytest.raises(FieldErrors) as refused:
        make_policy(dunning.supervisor, code="NEW", name="", currency="XXX", levels=[])
    assert [error.field for error in refused.value.errors] == ["name", "currency", "levels"]


def test_a_code_in_use_is_refused_when_a_new_policy_is_asked_for_and_a_missing_one_when_a_change_is(
    dunning: DunningBook,
) -> None:
    with unchanged(), pytest.raises(Duplicate, match="there is a dunning policy STANDARD already"):
        make_policy(dunning.supervisor, code="standard", expect_new=True)
    with unchanged(), pytest.raises(NotFound, match="there is no dunning policy 'NOPE'"):
        make_policy(dunning.supervisor, code="nope", expect_new=False)


def test_levels_keep_their_number_and_one_that_sent_notices_stays(dunning: DunningBook) -> None:
    for day in (date(2026, 2, 10), date(2026, 4, 14)):
        dunning.on(day)
        run_dunning(run_on=day, actor=dunning.collector)
    first = DunningLevel.objects.get(policy=dunning.policy, number=1)

    make_policy(dunning.supervisor, levels=[replace(LEVELS[0], days_after_due=14), LEVELS[1]])

    kept = DunningLevel.objects.get(policy=dunning.policy, number=1)
    assert (kept.pk, kept.days_after_due) == (first.pk, 14)
    assert list(dunning.policy.levels.order_by("number").values_list("number", "days_after_due")) == [
        (1, 14), (2, 73),
    ]  # fmt: skip
    with (
        unchanged(),
        pytest.raises(Conflict, match="level 2 of STANDARD has sent notices and stays") as refused,
    ):
        make_policy(dunning.supervisor, levels=[LEVELS[0]])
    assert refused.value.field == "levels"


def test_only_a_supervisor_manages_policies(dunning: DunningBook) -> None:
    with unchanged():
        for user in (dunning.collector, dunning.clerk):
            with pytest.raises(PermissionDenied, match=r"may not do collections\.manage_policies"):
                make_policy(user, code="MINE")
            with pytest.raises(PermissionDenied):
                delete_dunning_policy(code="STANDARD", actor=user)


def test_a_policy_in_use_is_not_removed_and_an_unused_one_is(dunning: DunningBook) -> None:
    make_policy(dunning.supervisor, code="SPARE", is_default=False)
    set_customer_dunning(
        customer_id=dunning.customer.pk, policy_code="SPARE", excluded=False, actor=dunning.collector
    )
    with unchanged(), pytest.raises(Conflict, match="SPARE cannot be removed: customers are assigned to it"):
        delete_dunning_policy(code="spare", actor=dunning.supervisor)

    set_customer_dunning(
        customer_id=dunning.customer.pk, policy_code=None, excluded=False, actor=dunning.collector
    )
    delete_dunning_policy(code="spare", actor=dunning.supervisor)

    assert not DunningPolicy.objects.filter(code="SPARE").exists()
    assert AuditEvent.objects.get(action="dunning.policy_deleted").before["code"] == "SPARE"


def test_a_customer_gets_a_policy_of_its_currency_and_an_exclusion_with_its_reason(
    dunning: DunningBook,
) -> None:
    make_policy(dunning.supervisor, code="POUNDS", currency="GBP")
    with (
        unchanged(),
        pytest.raises(CurrencyMismatch, match="C-DUN is billed in EUR; POUNDS is a GBP policy") as wrong,
    ):
        set_customer_dunning(
            customer_id=dunning.customer.pk, policy_code="POUNDS", excluded=False, actor=dunning.collector
        )
    assert wrong.value.field == "policy_code"
    with unchanged(), pytest.raises(InvalidInput, match="reason is required") as unexplained:
        set_customer_dunning(
            customer_id=dunning.customer.pk, policy_code=None, excluded=True, actor=dunning.collector
        )
    assert unexplained.value.field == "reason"

    profile = set_customer_dunning(
        customer_id=dunning.customer.pk,
        policy_code=None,
        excluded=True,
        reason="in court",
        actor=dunning.collector,
    )

    assert (profile.dunning_policy, profile.dunning_excluded, profile.dunning_exclusion_reason) == (
        None,
        True,
        "in court",
    )
    event = AuditEvent.objects.get(action="dunning.customer_settings_changed")
    assert (event.before["dunning_excluded"], event.after["dunning_exclusion_reason"]) == (False, "in court")
    assert CollectionProfile.objects.count() == 1


def test_the_fee_products_are_made_once(dunning: DunningBook) -> None:
    assert ensure_dunning_products(actor=dunning.supervisor, tax_code="EXEMPT") == []  # the book made them
    Product.objects.filter(code="LATE-INTEREST").delete()

    assert ensure_dunning_products(actor=dunning.supervisor, tax_code="EXEMPT") == ["LATE-INTEREST"]
    product = Product.objects.get(code="LATE-INTEREST")
    assert (product.tax_code.code, product.revenue_account.purpose) == ("EXEMPT", "revenue")


def test_every_placeholder_is_filled_in(dunning: DunningBook) -> None:
    names = "customer account invoices total fee interest amount_due debit_note level date seller"
    every = " ".join(f"{{{name}}}" for name in names.split())
    level = LevelData(
        days_after_due=10, subject="{account} {level}", body=every + " {{literal}}", fee_amount="2.50"
    )
    make_policy(dunning.supervisor, levels=[level])
    dunning.on(date(2026, 2, 10))

    run = run_dunning(run_on=date(2026, 2, 10), actor=dunning.collector)

    notice = run.notices.get()
    assert notice.subject == "C-DUN 1"
    assert notice.body == (
        "Dunning Test GmbH C-DUN INV-2026-000001 of Jan 1, 2026, due Jan 31, 2026: €1,000.00 €1,000.00 €2.50 "
        "€0.00 €1,002.50 DN-2026-000001 1 Feb 10, 2026 Billops Demo GmbH {literal}"
    )
