"""Opening balances: a customer's balance carried over from the earlier system, posted to the ledger once,
audited once, and refused cleanly (nothing written) when anything about it is wrong."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billops.access.models import User
from billops.audit.models import AuditEvent
from billops.audit.selectors import verify_chain
from billops.core.errors import (
    CurrencyMismatch,
    Duplicate,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from billops.core.money import Money
from billops.customers import services
from billops.customers.models import Customer, OpeningBalance
from billops.ledger.errors import PeriodClosed
from billops.ledger.models import AccountDayBalance, JournalEntry, JournalLine
from billops.ledger.selectors import account_balance, receivables_by_customer
from billops.ledger.services import close_period
from tests.conftest import race
from tests.customers.factories import create_customer

pytestmark = pytest.mark.django_db

CUT_OVER = date(2025, 12, 31)


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def book_counts() -> dict[str, Any]:
    return {
        "opening_balances": OpeningBalance.objects.count(),
        "entries": JournalEntry.objects.count(),
        "lines": JournalLine.objects.count(),
        "day_balances": list(
            AccountDayBalance.objects.order_by("id").values_list("id", "debit_total", "credit_total")
        ),
        "events": AuditEvent.objects.count(),
        "last_event": AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first(),
    }


@contextmanager
def nothing_written() -> Iterator[None]:
    before = book_counts()
    yield
    assert book_counts() == before


@pytest.fixture
def customer(clerk: User) -> Customer:
    return create_customer(clerk, account_number="C-2001", legal_name="Acme GmbH", currency="EUR")


def post(customer: Customer, actor: User, amount: Money, reference: str = "LEGACY-1", **kw: Any) -> Any:
    return services.post_opening_balance(
        customer_id=customer.pk,
        amount=amount,
        balance_on=kw.pop("balance_on", CUT_OVER),
        reference=reference,
        actor=actor,
    )


def lines_of(entry_id: int) -> list[tuple[Any, ...]]:
    return list(
        JournalLine.objects.filter(entry_id=entry_id)
        .order_by("line_no")
        .values_list("line_no", "account__code", "currency", "debit", "credit", "customer_id")
    )


# --- posting -----------------------------------------------------------------------------------------


def test_a_positive_balance_debits_receivables_and_credits_opening_equity(
    customer: Customer, supervisor: User
) -> None:
    entries_before, events_before = JournalEntry.objects.count(), AuditEvent.objects.count()

    balance = post(customer, supervisor, eur("1234.50"), reference="  LEGACY-0042 ")

    balance.refresh_from_db()
    assert (balance.amount, balance.open_amount, balance.currency) == (
        Decimal("1234.50"),
        Decimal("1234.50"),
        "EUR",
    )
    assert (balance.reference, balance.balance_on, balance.created_by) == (
        "LEGACY-0042",
        CUT_OVER,
        supervisor,
    )
    assert JournalEntry.objects.count() == entries_before + 1
    entry = JournalEntry.objects.get(pk=balance.journal_entry_id)
    assert (entry.posted_on, entry.source_type, entry.source_id, entry.posted_by) == (
        CUT_OVER,
        "customers.openingbalance",
        str(balance.pk),
        supervisor,
    )
    assert entry.memo == "Opening balance LEGACY-0042 of C-2001"
    assert lines_of(entry.pk) == [
        (1, "1200", "EUR", Decimal("1234.50"), Decimal("0"), customer.pk),
        (2, "3900", "EUR", Decimal("0"), Decimal("1234.50"), None),
    ]
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.get(action="customers.opening_balance_posted")
    assert (event.actor, event.target_type, event.target_id, event.journal_entry_id) == (
        supervisor,
        "customers.customer",
        str(customer.pk),
        entry.pk,
    )
    assert event.after == {
        "opening_balance": balance.pk,
        "reference": "LEGACY-0042",
        "amount": "1234.50",
        "currency": "EUR",
        "balance_on": "2025-12-31",
    }
    assert account_balance(account="receivables", currency="EUR", as_of=CUT_OVER) == eur("1234.50")
    assert account_balance(account="opening_balance_equity", currency="EUR", as_of=CUT_OVER) == eur(
        "-1234.50"
    )
    assert receivables_by_customer() == {(customer.pk, "EUR"): Decimal("1234.50")}


def test_a_negative_balance_is_a_credit_and_swaps_the_sides(customer: Customer, supervisor: User) -> None:
    balance = post(customer, supervisor, eur("-80.25"))

    balance.refresh_from_db()
    assert (balance.amount, balance.open_amount) == (Decimal("-80.25"), Decimal("-80.25"))
    assert lines_of(balance.journal_entry_id) == [
        (1, "1200", "EUR", Decimal("0"), Decimal("80.25"), customer.pk),
        (2, "3900", "EUR", Decimal("80.25"), Decimal("0"), None),
    ]
    event = AuditEvent.objects.get(action="customers.opening_balance_posted")
    assert (event.journal_entry_id, event.after["amount"]) == (balance.journal_entry_id, "-80.25")
    assert receivables_by_customer() == {(customer.pk, "EUR"): Decimal("-80.25")}


def test_a_currency_without_decimals_posts_whole_amounts(clerk: User, supervisor: User) -> None:
    yen = create_customer(clerk, account_number="J-1", currency="JPY", country="JP")

    balance = post(yen, supervisor, Money(Decimal("5000"), "JPY"))

    assert lines_of(balance.journal_entry_id) == [
        (1, "1200", "JPY", Decimal("5000"), Decimal("0"), yen.pk),
        (2, "3900", "JPY", Decimal("0"), Decimal("5000"), None),
    ]


def test_the_same_reference_on_another_customer_is_fine(
    customer: Customer, clerk: User, supervisor: User
) -> None:
    other = create_customer(clerk, account_number="C-2002", currency="EUR")

    first = post(customer, supervisor, eur("10.00"), reference="LEGACY-1")
    second = post(other, supervisor, eur("20.00"), reference="LEGACY-1")

    assert first.journal_entry_id != second.journal_entry_id
    assert receivables_by_customer() == {
        (customer.pk, "EUR"): Decimal("10.00"),
        (other.pk, "EUR"): Decimal("20.00"),
    }


def test_two_references_for_one_customer_add_up(customer: Customer, supervisor: User) -> None:
    post(customer, supervisor, eur("100.00"), reference="INV-1")
    post(customer, supervisor, eur("-30.00"), reference="CN-1")

    assert list(OpeningBalance.objects.filter(customer=customer).values_list("reference", "open_amount")) == [
        ("INV-1", Decimal("100.00")),
        ("CN-1", Decimal("-30.00")),
    ]
    assert receivables_by_customer() == {(customer.pk, "EUR"): Decimal("70.00")}
    assert AuditEvent.objects.filter(action="customers.opening_balance_posted").count() == 2


# --- refused: nothing written --------------------------------------------------------------------------


def test_a_balance_in_another_currency_is_refused(customer: Customer, supervisor: User) -> None:
    with nothing_written(), pytest.raises(CurrencyMismatch) as refused:
        post(customer, supervisor, Money(Decimal("10.00"), "USD"))
    assert refused.value.field == "currency"
    assert refused.value.message == "C-2001 is billed in EUR, not USD"


def test_a_wrong_currency_is_named_before_its_decimal_places(customer: Customer, supervisor: User) -> None:
    # 10.5 yen has too many places for JPY, but the clerk's real mistake is the currency
    with nothing_written(), pytest.raises(CurrencyMismatch) as refused:
        post(customer, supervisor, Money(Decimal("10.5"), "JPY"))
    assert (refused.value.field, refused.value.message) == ("currency", "C-2001 is billed in EUR, not JPY")


def test_a_zero_balance_is_refused(customer: Customer, supervisor: User) -> None:
    with nothing_written(), pytest.raises(InvalidAmount) as refused:
        post(customer, supervisor, eur("0.00"))
    assert (refused.value.field, refused.value.message) == (
        "amount",
        "an opening balance of zero needs no posting",
    )


def test_more_decimal_places_than_the_currency_has_is_refused(customer: Customer, supervisor: User) -> None:
    with nothing_written(), pytest.raises(InvalidAmount) as refused:
        post(customer, supervisor, eur("10.005"))
    assert refused.value.field == "amount"
    assert refused.value.message == "amount 10.005 has more decimal places than EUR allows (2)"


@pytest.mark.parametrize("reference", ["", "   ", "R" * 101])
def test_a_missing_or_overlong_reference_is_refused(
    customer: Customer, supervisor: User, reference: str
) -> None:
    with nothing_written(), pytest.raises(InvalidInput) as refused:
        post(customer, supervisor, eur("10.00"), reference=reference)
    assert refused.value.field == "reference"
    assert "needs the earlier system's reference" in refused.value.message


def test_the_same_reference_twice_for_one_customer_is_refused(customer: Customer, supervisor: User) -> None:
    post(customer, supervisor, eur("10.00"), reference="LEGACY-1")

    with nothing_written(), pytest.raises(Duplicate) as refused:
        post(customer, supervisor, eur("99.00"), reference=" LEGACY-1 ")
    assert (refused.value.field, refused.value.message) == (
        "reference",
        "C-2001 already has an opening balance 'LEGACY-1'",
    )
    assert receivables_by_customer() == {(customer.pk, "EUR"): Decimal("10.00")}


def test_a_balance_into_a_closed_period_is_refused(customer: Customer, supervisor: User) -> None:
    close_period(start_on=date(2025, 12, 1), actor=supervisor)

    with nothing_written(), pytest.raises(PeriodClosed) as refused:
        post(customer, supervisor, eur("10.00"))
    assert refused.value.field == "posted_on"
    assert "the period December 2025 is closed" in refused.value.message


def test_a_balance_dated_before_a_closed_period_is_refused(customer: Customer, supervisor: User) -> None:
    close_period(start_on=date(2025, 12, 1), actor=supervisor)

    with nothing_written(), pytest.raises(PeriodClosed) as refused:
        post(customer, supervisor, eur("10.00"), balance_on=date(2025, 11, 30))
    assert refused.value.field == "posted_on"


@pytest.mark.parametrize("role", ["clerk", "collector", "auditor"])
def test_only_a_supervisor_posts_an_opening_balance(
    customer: Customer, make_user: Callable[..., User], role: str
) -> None:
    actor = make_user(role)
    with nothing_written(), pytest.raises(PermissionDenied) as refused:
        post(customer, actor, eur("10.00"))
    assert refused.value.http_status == 403
    assert refused.value.message == f"the {role} role may not do customers.post_opening_balance"


def test_an_unknown_customer_is_not_found(supervisor: User) -> None:
    with nothing_written(), pytest.raises(NotFound) as refused:
        services.post_opening_balance(
            customer_id=999_999, amount=eur("1.00"), balance_on=CUT_OVER, reference="X", actor=supervisor
        )
    assert refused.value.field == "customer_id"


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_postings_of_one_reference_post_once(customer: Customer, supervisor: User) -> None:
    count = 6
    results, errors = race(
        count, lambda i: post(customer, supervisor, eur(f"{i + 1}.00"), reference="RACE-1")
    )

    assert len(results) == 1
    assert [(type(e), e.field) for e in errors] == [(Duplicate, "reference")] * (count - 1)  # type: ignore[attr-defined]
    assert OpeningBalance.objects.count() == 1
    assert JournalEntry.objects.count() == 1
    assert AuditEvent.objects.filter(action="customers.opening_balance_posted").count() == 1
    assert receivables_by_customer() == {(customer.pk, "EUR"): results[0].amount}
    assert verify_chain().ok


# --- API -----------------------------------------------------------------------------------------------


def opening_url(customer: Customer) -> str:
    return f"/customers/{customer.pk}/opening-balances"


BODY = {"amount": "1500.00", "currency": "EUR", "balance_on": "2025-12-31", "reference": "LEGACY-7"}


def test_api_posts_an_opening_balance_and_answers_201(api_as, customer: Customer, supervisor: User) -> None:
    response = api_as(supervisor).post(opening_url(customer), BODY)

    assert response.status_code == 201, response.json()
    balance = OpeningBalance.objects.get()
    assert response.json() == {
        "id": balance.pk,
        "reference": "LEGACY-7",
        "amount": "1500.00",
        "open_amount": "1500.00",
        "currency": "EUR",
        "balance_on": "2025-12-31",
        "journal_entry_id": balance.journal_entry_id,
    }
    assert lines_of(balance.journal_entry_id) == [
        (1, "1200", "EUR", Decimal("1500.00"), Decimal("0"), customer.pk),
        (2, "3900", "EUR", Decimal("0"), Decimal("1500.00"), None),
    ]
    assert AuditEvent.objects.get(action="customers.opening_balance_posted").journal_entry_id == (
        balance.journal_entry_id
    )


@pytest.mark.parametrize("amount", [1500.5, 1500.0])
def test_api_refuses_a_float_amount_naming_the_field(
    api_as, customer: Customer, supervisor: User, amount: float
) -> None:
    api = api_as(supervisor)
    with nothing_written():
        response = api.post(opening_url(customer), {**BODY, "amount": amount})
    assert response.status_code == 422
    assert response.json()["field"] == "amount"
    assert "amount must be given as a decimal string, not a float" in response.json()["message"]


def test_api_refuses_an_auditor_and_writes_nothing(api_as, customer: Customer, auditor: User) -> None:
    api = api_as(auditor)
    with nothing_written():
        response = api.post(opening_url(customer), BODY)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("change", "status", "code", "field"),
    [
        ({"currency": "USD"}, 400, "currency_mismatch", "currency"),
        ({"amount": "0"}, 400, "invalid_amount", "amount"),
        ({"amount": "1.001"}, 400, "invalid_amount", "amount"),
        ({"reference": " "}, 400, "invalid", "reference"),
        ({"balance_on": "31.12.2025"}, 422, "invalid", "balance_on"),
    ],
)
def test_api_refuses_bad_input_naming_the_field(
    api_as, customer: Customer, supervisor: User, change: dict[str, str], status: int, code: str, field: str
) -> None:
    api = api_as(supervisor)
    with nothing_written():
        response = api.post(opening_url(customer), {**BODY, **change})
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (status, code, field)


def test_api_refuses_a_duplicate_reference_with_409(api_as, customer: Customer, supervisor: User) -> None:
    api = api_as(supervisor)
    assert api.post(opening_url(customer), BODY).status_code == 201
    with nothing_written():
        response = api.post(opening_url(customer), {**BODY, "amount": "1.00"})
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        409,
        "duplicate",
        "reference",
    )


def test_api_retry_with_the_same_idempotency_key_posts_once(
    api_as, customer: Customer, supervisor: User
) -> None:
    api = api_as(supervisor)
    first = api.post(opening_url(customer), BODY, key="ob-7")
    with nothing_written():
        again = api.post(opening_url(customer), BODY, key="ob-7")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert OpeningBalance.objects.count() == 1
    assert AuditEvent.objects.filter(action="customers.opening_balance_posted").count() == 1


def test_api_same_idempotency_key_with_another_amount_is_refused(
    api_as, customer: Customer, supervisor: User
) -> None:
    api = api_as(supervisor)
    assert api.post(opening_url(customer), BODY, key="ob-8").status_code == 201
    with nothing_written():
        reused = api.post(opening_url(customer), {**BODY, "amount": "2.00"}, key="ob-8")
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")


# --- the customer page ---------------------------------------------------------------------------------


def test_customer_page_shows_the_opening_balance_and_the_receivables_balance(
    client: Client, customer: Customer, supervisor: User, auditor: User
) -> None:
    balance = post(customer, supervisor, eur("1234.50"), reference="LEGACY-0042")
    post(customer, supervisor, eur("-34.50"), reference="CN-9")
    client.force_login(auditor)

    response = client.get(reverse("customers:detail", args=[customer.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    receivables = page[page.index('<table class="data" id="receivables">') :]
    receivables = receivables[: receivables.index("</table>")]
    assert "Opening balance LEGACY-0042" in receivables
    assert "Opening balance CN-9" in receivables
    assert "1,234.50 EUR" in receivables
    assert "-34.50 EUR" in receivables
    assert f'href="{reverse("ledger:entry", args=[balance.journal_entry_id])}"' in receivables
    assert 'Balance on the receivables account</td><td class="num">1,200.00 EUR</td>' in receivables


def test_customer_page_without_opening_balances_says_there_are_no_open_items(
    client: Client, customer: Customer, auditor: User
) -> None:
    client.force_login(auditor)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "No open items." in page
    assert "Balance on the receivables account" not in page
