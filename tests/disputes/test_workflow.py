"""Working a case: open → investigating → rejected or withdrawn (resolutions are in test_resolution.py);
assignment, notes. Each transition checks the status and names the field `status` when it does not fit;
a decided case is never decided again. A refused action changes nothing."""

from __future__ import annotations

import pytest

from billops.core.errors import InvalidInput, NotFound, PermissionDenied
from billops.disputes.errors import WrongStatus
from billops.disputes.models import DisputeNote, Status
from billops.disputes.services import (
    add_note,
    assign_dispute,
    open_dispute,
    reject_dispute,
    resolve_by_credit,
    resolve_by_rebill,
    start_investigation,
    withdraw_dispute,
)
from tests.disputes.books import events, unchanged


@pytest.fixture
def case(clerk, invoice):
    return open_dispute(invoice_id=invoice.pk, reason="quantity", amount="80.09", actor=clerk)


def test_investigating_makes_the_investigator_the_owner(collector, case):
    started = start_investigation(case_id=case.pk, actor=collector, note="asked the warehouse")
    assert (started.status, started.owner) == (Status.INVESTIGATING, collector)
    assert DisputeNote.objects.get(case=case).text == "asked the warehouse"
    [event] = events("dispute.investigation_started")
    assert (event.before["status"], event.before["owner"]) == ("open", None)
    assert (event.after["status"], event.after["owner"], event.after["note"]) == (
        "investigating", "collector", "asked the warehouse"
    )  # fmt: skip


def test_an_owner_set_before_stays_the_owner(clerk, collector, supervisor, case):
    assign_dispute(case_id=case.pk, owner_id=supervisor.pk, actor=clerk)
    assert start_investigation(case_id=case.pk, actor=collector).owner == supervisor


def test_assigning_to_someone_who_may_work_disputes(clerk, collector, auditor, case):
    assert assign_dispute(case_id=case.pk, owner_id=collector.pk, actor=clerk).owner == collector
    [event] = events("dispute.assigned")
    assert (event.before["owner"], event.after["owner"]) == (None, "collector")
    for owner_id, error, message in (
        (auditor.pk, InvalidInput, "auditor may not work disputes"),
        (collector.pk, InvalidInput, "dispute {} is assigned to collector already"),
        (999999, NotFound, "there is no user 999999"),
    ):
        with unchanged(), pytest.raises(error) as refused:
            assign_dispute(case_id=case.pk, owner_id=owner_id, actor=clerk)
        assert (refused.value.field, refused.value.message) == ("owner_id", message.format(case.pk))
    assert assign_dispute(case_id=case.pk, owner_id=None, actor=clerk).owner is None


def test_notes_are_kept_in_order_also_on_a_decided_case(clerk, collector, case):
    add_note(case_id=case.pk, text="Customer sent photos", actor=clerk)
    reject_dispute(case_id=case.pk, root_cause="customer_error", note="delivered complete", actor=clerk)
    add_note(case_id=case.pk, text="Customer accepted", actor=collector)
    assert list(DisputeNote.objects.filter(case=case).values_list("author__username", "text")) == [
        ("clerk", "Customer sent photos"), ("collector", "Customer accepted"),
    ]  # fmt: skip
    assert [event.after["text"] for event in events("dispute.note_added")] == [
        "Customer sent photos", "Customer accepted",
    ]  # fmt: skip
    with unchanged(), pytest.raises(InvalidInput) as refused:
        add_note(case_id=case.pk, text="   ", actor=clerk)
    assert (refused.value.field, refused.value.message) == ("text", "text is required")
    with unchanged(), pytest.raises(NotFound) as missing:
        add_note(case_id=999999, text="x", actor=clerk)
    assert missing.value.field == "case_id"


def test_rejecting_needs_a_root_cause_and_a_note(clerk, case):
    for root_cause, note, field in (("", "why", "root_cause"), ("sloppy", "why", "root_cause"),
                                    ("customer_error", " ", "note")):  # fmt: skip
        with unchanged(), pytest.raises(InvalidInput) as refused:
            reject_dispute(case_id=case.pk, root_cause=root_cause, note=note, actor=clerk)
        assert refused.value.field == field
    rejected = reject_dispute(case_id=case.pk, root_cause="customer_error", note="POD signed", actor=clerk)
    rejected.refresh_from_db()
    assert (rejected.status, rejected.root_cause, rejected.resolution_note, rejected.resolved_by) == (
        Status.REJECTED, "customer_error", "POD signed", clerk
    )  # fmt: skip
    assert rejected.resolved_at is not None and rejected.credit_note is None
    [event] = events("dispute.rejected")
    assert (event.before["status"], event.after["status"], event.after["root_cause"]) == (
        "open", "rejected", "customer_error"
    )  # fmt: skip


def test_a_withdrawn_case_is_closed_with_the_customers_word(collector, case):
    start_investigation(case_id=case.pk, actor=collector)
    withdrawn = withdraw_dispute(case_id=case.pk, note="Customer e-mail of 9 March", actor=collector)
    assert (withdrawn.status, withdrawn.root_cause, withdrawn.resolution_note) == (
        Status.WITHDRAWN, "", "Customer e-mail of 9 March"
    )  # fmt: skip
    assert withdrawn.resolved_at is not None
    assert events("dispute.withdrawn")[0].before["status"] == "investigating"


@pytest.mark.parametrize("decide", ["reject", "withdraw", "credit", "rebill"])
def test_a_decided_case_is_never_worked_or_decided_again(clerk, supervisor, case, decide):
    {
        "reject": lambda: reject_dispute(case_id=case.pk, root_cause="other", note="no", actor=clerk),
        "withdraw": lambda: withdraw_dispute(case_id=case.pk, note="withdrawn", actor=clerk),
        "credit": lambda: resolve_by_credit(
            case_id=case.pk, root_cause="wrong_quantity", note="ok", actor=clerk
        ),
        "rebill": lambda: resolve_by_rebill(
            case_id=case.pk, root_cause="pricing_error", note="ok", actor=clerk
        ),
    }[decide]()
    actions = [
        lambda: start_investigation(case_id=case.pk, actor=supervisor),
        lambda: assign_dispute(case_id=case.pk, owner_id=supervisor.pk, actor=supervisor),
        lambda: reject_dispute(case_id=case.pk, root_cause="other", note="again", actor=supervisor),
        lambda: withdraw_dispute(case_id=case.pk, note="again", actor=supervisor),
        lambda: resolve_by_credit(case_id=case.pk, root_cause="other", note="again", actor=supervisor),
        lambda: resolve_by_rebill(case_id=case.pk, root_cause="other", note="again", actor=supervisor),
    ]
    for action in actions:
        with unchanged(), pytest.raises(WrongStatus) as refused:
            action()
        assert refused.value.field == "status"
        assert refused.value.code == "wrong_status" and refused.value.http_status == 409


def test_only_an_open_case_is_taken_into_investigation(clerk, case):
    start_investigation(case_id=case.pk, actor=clerk)
    with unchanged(), pytest.raises(WrongStatus) as refused:
        start_investigation(case_id=case.pk, actor=clerk)
    assert (refused.value.field, refused.value.message) == (
        "status", f"dispute {case.pk} is investigating; only an open case is taken into investigation"
    )  # fmt: skip


def test_the_auditor_works_no_case(auditor, case):
    for action in (
        lambda: start_investigation(case_id=case.pk, actor=auditor),
        lambda: assign_dispute(case_id=case.pk, owner_id=None, actor=auditor),
        lambda: add_note(case_id=case.pk, text="x", actor=auditor),
        lambda: reject_dispute(case_id=case.pk, root_cause="other", note="x", actor=auditor),
        lambda: withdraw_dispute(case_id=case.pk, note="x", actor=auditor),
        lambda: resolve_by_credit(case_id=case.pk, root_cause="other", note="x", actor=auditor),
        lambda: resolve_by_rebill(case_id=case.pk, root_cause="other", note="x", actor=auditor),
    ):
        with unchanged(), pytest.raises(PermissionDenied):
            action()
