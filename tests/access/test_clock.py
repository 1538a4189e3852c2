"""The test clock: an admin (or the operator at the shell) runs the system as of a business date; documents
take their dates from it, timestamps stay real; refused to other roles and in production mode."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from billops.access import clock
from billops.access.models import BusinessClock, Role, User
from billops.access.services import reset_business_date, set_business_date
from billops.audit.models import AuditEvent
from billops.cli.main import main
from billops.core.errors import InvalidInput, PermissionDenied
from billops.customers.models import Customer
from billops.invoicing.services.workflow import issue_invoice
from billops.ledger.models import JournalEntry
from tests.invoicing.factories import draft_for

pytestmark = pytest.mark.django_db

FIRST_OF_DECEMBER = date(2026, 12, 1)


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, "admin")


def clock_state() -> tuple[list[Any], int]:
    return list(BusinessClock.objects.values_list("business_date", "set_by")), AuditEvent.objects.filter(
        action__startswith="access.clock"
    ).count()


def test_without_a_test_clock_the_business_date_is_the_real_date() -> None:
    assert clock.today() == timezone.localdate()


def test_an_admin_sets_the_date_and_documents_take_it_while_timestamps_stay_real(
    admin: User, clerk: User, customer: Customer
) -> None:
    set_business_date(on=FIRST_OF_DECEMBER, actor=admin)
    assert clock.today() == FIRST_OF_DECEMBER
    event = AuditEvent.objects.get(action="access.clock_set")
    assert (event.actor_id, event.before, event.after) == (
        admin.pk,
        {"business_date": timezone.localdate().isoformat()},
        {"business_date": "2026-12-01"},
    )

    invoice = issue_invoice(invoice_id=draft_for(customer, clerk).pk, actor=clerk)
    assert (invoice.issued_on, invoice.due_on) == (FIRST_OF_DECEMBER, date(2026, 12, 31))
    assert JournalEntry.objects.get(pk=invoice.journal_entry_id).posted_on == FIRST_OF_DECEMBER
    assert invoice.issued_at is not None and abs(invoice.issued_at - timezone.now()).total_seconds() < 60


def test_reset_goes_back_to_the_real_date_and_is_audited(admin: User) -> None:
    set_business_date(on=FIRST_OF_DECEMBER, actor=admin)
    assert reset_business_date(actor=admin) == timezone.localdate()
    assert clock.today() == timezone.localdate()
    assert BusinessClock.objects.count() == 0
    event = AuditEvent.objects.get(action="access.clock_reset")
    assert event.before == {"business_date": "2026-12-01"}
    # nothing set: nothing to undo, nothing audited
    reset_business_date(actor=admin)
    assert AuditEvent.objects.filter(action="access.clock_reset").count() == 1


@pytest.mark.parametrize("role", [Role.CLERK, Role.SUPERVISOR, Role.COLLECTOR, Role.AUDITOR])
def test_only_an_admin_may_set_the_clock(make_user: Callable[..., User], role: str) -> None:
    before = clock_state()
    with pytest.raises(PermissionDenied) as refused:
        set_business_date(on=FIRST_OF_DECEMBER, actor=make_user(role))
    assert refused.value.details == {"action": "access.set_clock"}
    assert clock_state() == before
    assert clock.today() == timezone.localdate()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (date(1999, 12, 31), "is not between 2000-01-01 and 2099-12-31"),
        (date(2100, 1, 1), "is not between 2000-01-01 and 2099-12-31"),
        (datetime(2026, 12, 1, 9, 0, tzinfo=timezone.get_current_timezone()), "must be a date"),
        ("2026-12-01", "must be a date"),
    ],
)
def test_an_absurd_date_is_refused_naming_the_field(admin: User, value: Any, message: str) -> None:
    before = clock_state()
    with pytest.raises(InvalidInput) as refused:
        set_business_date(on=value, actor=admin)
    assert refused.value.field == "business_date"
    assert message in refused.value.message
    assert clock_state() == before


def test_production_mode_refuses_the_clock_and_ignores_a_row_left_behind(admin: User, settings: Any) -> None:
    set_business_date(on=FIRST_OF_DECEMBER, actor=admin)
    settings.PRODUCTION = True
    before = clock_state()
    for attempt in (
        lambda: set_business_date(on=date(2027, 1, 1), actor=admin),
        lambda: set_business_date(on=date(2027, 1, 1), actor=None),
        lambda: reset_business_date(actor=admin),
    ):
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert "production mode" in refused.value.message
    assert clock_state() == before
    assert clock.today() == timezone.localdate()


def test_each_request_reads_the_date_another_process_set(admin: User, api_as: Callable[..., Any]) -> None:
    api = api_as(admin)
    assert api.get("/ledger/trial-balance").json()["as_of"] == timezone.localdate().isoformat()
    # `billops clock set` in another process writes the row; this process's next unit of work reads it
    BusinessClock.objects.create(business_date=FIRST_OF_DECEMBER, set_by=None)
    assert api.get("/ledger/trial-balance").json()["as_of"] == "2026-12-01"


def test_the_clock_command_shows_sets_and_resets(clerk: User, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clock", "show"]) == 0
    assert "(the real date; no test clock is set)" in capsys.readouterr().out
    assert main(["clock", "set", "2026-12-01"]) == 0
    assert "business date set to 2026-12-01" in capsys.readouterr().out
    assert main(["clock", "show"]) == 0
    assert "business date 2026-12-01 (test clock, set by the operator" in capsys.readouterr().out
    event = AuditEvent.objects.get(action="access.clock_set")
    assert (event.actor_id, event.actor_label) == (None, "system")
    assert main(["clock", "reset"]) == 0
    assert f"reset to the real date, {timezone.localdate().isoformat()}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["clock", "set", "2026-13-01"], "error: '2026-13-01' is not a date (YYYY-MM-DD) (business_date)"),
        (["clock", "set"], "error: `billops clock set` takes a date"),
        (["clock", "reset", "2026-12-01"], "error: `billops clock set` takes a date"),
        (["clock", "set", "2026-12-01", "--user", "nobody"], "(user)"),
        (
            ["clock", "set", "2026-12-01", "--user", "clerk"],
            "error: the clerk role may not do access.set_clock",
        ),
    ],
)
def test_the_clock_command_refuses_bad_input_and_changes_nothing(
    clerk: User, capsys: pytest.CaptureFixture[str], argv: list[str], error: str
) -> None:
    before = clock_state()
    assert main(argv) == 1
    assert error in capsys.readouterr().err
    assert clock_state() == before


def test_every_staff_page_says_when_the_test_clock_is_set(admin: User, clerk: User) -> None:
    client = Client()
    client.force_login(clerk)
    assert b"Test clock" not in client.get("/").content
    set_business_date(on=FIRST_OF_DECEMBER, actor=admin)
    page = client.get("/invoices/").content.decode()
    assert '<span class="test-clock" role="status"' in page
    assert "Test clock: 1 Dec 2026" in page
