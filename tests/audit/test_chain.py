"""The hash chain: appending, verifying, and catching every kind of tampering."""

import itertools
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

import psycopg
import pytest
from django.core.management.sql import emit_post_migrate_signal
from django.db import IntegrityError, connection, transaction

from billops.access.models import Role, User
from billops.audit.models import AuditEvent, ChainHead
from billops.audit.selectors import history_of, list_events, verify_chain
from billops.audit.services import GENESIS_HASH, changed_fields, event_hash, json_safe, record_event, snapshot
from billops.core.money import Money
from tests.audit.factories import record
from tests.conftest import tamper


def seqs(events):
    return [event.seq for event in events]


# appending


def test_the_first_event_starts_the_chain_at_genesis(db):
    assert verify_chain().ok
    user = User.objects.create(username="first")
    event = record(None, user, action="access.user_created")
    assert (event.seq, event.prev_hash) == (1, GENESIS_HASH)
    assert event.actor_label == "system"
    assert event.actor_id is None


def test_record_event_chains_seq_and_hashes(chain):
    assert seqs(chain) == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == GENESIS_HASH
    for earlier, later in itertools.pairwise(chain):
        assert later.prev_hash == earlier.hash
    for event in chain:
        assert event_hash(event) == event.hash  # recomputed from the row as read back
        assert len(event.hash) == 64
    head = ChainHead.objects.get(id=1)
    assert (head.last_seq, head.last_hash) == (chain[-1].seq, chain[-1].hash)


def test_record_event_keeps_who_what_and_the_before_and_after(clerk):
    event = record(
        clerk,
        clerk,
        action="customers.credit_limit_set",
        before={"limit": Decimal("100.00"), "on": date(2028, 2, 29)},
        after={"limit": Decimal("250.50"), "on": date(2028, 3, 1)},
        journal_entry_id=77,
    )
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor == clerk
    assert event.actor_label == "clerk"
    assert (event.target_type, event.target_id, event.target_label) == ("access.user", str(clerk.pk), "clerk")
    assert event.before == {"limit": "100.00", "on": "2028-02-29"}
    assert event.after == {"limit": "250.50", "on": "2028-03-01"}
    assert event.journal_entry_id == 77
    assert event.request_id == ""  # not in a request: the CLI and tests leave it empty
    assert event_hash(event) == event.hash


def test_record_event_refuses_floats_and_writes_nothing(clerk):
    count = AuditEvent.objects.count()
    with pytest.raises(TypeError, match="never holds floats"):
        record(clerk, clerk, after={"amount": 1.5})
    assert AuditEvent.objects.count() == count
    assert verify_chain().ok


def test_record_event_needs_a_saved_target(clerk):
    with pytest.raises(ValueError, match="saved target"):
        record(clerk, User(username="unsaved"))


@pytest.mark.django_db(transaction=True)
def test_record_event_outside_a_transaction_is_refused():
    user = User.objects.create(username="loner")
    with pytest.raises(transaction.TransactionManagementError, match="inside the action's transaction"):
        record_event(actor=None, action="test.thing_done", target=user)
    assert AuditEvent.objects.count() == 0


def test_the_chain_head_comes_back_after_a_flush(db):
    # `flush` (the operator's wipe, and the test runner's between transactional tests) empties every table
    # and then sends post_migrate, as `migrate` does
    ChainHead.objects.all().delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert ChainHead.objects.filter(id=1, last_seq=0, last_hash=GENESIS_HASH).exists()


def test_record_event_starts_a_chain_whose_head_row_is_missing(db):
    ChainHead.objects.all().delete()
    user = User.objects.create(username="after-flush")
    assert (record(None, user).seq, record(None, user).seq) == (1, 2)
    assert verify_chain().ok


def test_a_missing_head_with_events_present_does_not_verify(chain):
    ChainHead.objects.all().delete()
    report = verify_chain()
    assert (report.ok, report.first_bad_seq) == (False, 1)
    assert report.problem == f"the chain ends at #{len(chain)} but its head records #0: events were added"


def test_json_safe_turns_values_into_json_that_reads_back_identically(clerk):
    value = {
        1: Decimal("12.30"),
        "when": datetime(2028, 2, 29, 13, 5, tzinfo=UTC),
        "on": date(2028, 2, 29),
        "at": time(9, 30),
        "tags": {"b", "a"},
        "pair": (1, "x"),
        "user": clerk,
        "price": Money(Decimal("9.99"), "EUR"),
        "id": UUID("12345678-1234-5678-1234-567812345678"),
        "nested": [{"ok": True, "none": None}],
    }
    assert json_safe(value) == {
        "1": "12.30",
        "when": "2028-02-29T13:05:00+00:00",
        "on": "2028-02-29",
        "at": "09:30:00",
        "tags": ["a", "b"],
        "pair": [1, "x"],
        "user": clerk.pk,
        "price": {"amount": "9.99", "currency": "EUR"},
        "id": "12345678-1234-5678-1234-567812345678",
        "nested": [{"ok": True, "none": None}],
    }
    assert json.loads(json.dumps(json_safe(value))) == json_safe(value)
    with pytest.raises(TypeError):
        json_safe([Decimal(1), 0.5])


def test_snapshot_and_changed_fields_give_an_edit_before_and_after(clerk):
    before = snapshot(clerk, ["username", "role", "is_active"])
    assert before == {"username": "clerk", "role": "clerk", "is_active": True}
    clerk.role = Role.SUPERVISOR
    after = snapshot(clerk, ["username", "role", "is_active"])
    assert changed_fields(before, after) == ({"role": "clerk"}, {"role": "supervisor"})
    assert changed_fields(before, before) == ({}, {})
    with pytest.raises(ValueError, match=r"api_tokens is not a column of access\.User"):
        snapshot(clerk, ["api_tokens"])


def test_list_events_and_history_of_are_newest_first_and_filtered(make_user, chain):
    other = make_user(Role.COLLECTOR, "other")
    record(other, other, action="customers.created")
    events = list_events()
    assert seqs(events) == sorted(seqs(events), reverse=True)
    assert [e.action for e in list_events(action="customers.")] == ["customers.created"]
    assert seqs(list_events(actor="other")) == [len(chain) + 2]
    assert {e.target_id for e in history_of(other)} == {str(other.pk)}
    assert seqs(history_of(other)) == [len(chain) + 2, len(chain) + 1]
    assert list(list_events(target_type="ledger.entry")) == []


# verifying


def test_an_untouched_chain_verifies(chain):
    report = verify_chain()
    assert report.ok
    assert (report.events, report.last_seq, report.last_hash) == (len(chain), chain[-1].seq, chain[-1].hash)
    assert (report.first_bad_seq, report.problem) == (None, "")


def test_an_empty_chain_verifies(db):
    report = verify_chain()
    assert (report.ok, report.events, report.last_seq, report.last_hash) == (True, 0, 0, GENESIS_HASH)


def test_an_edited_after_is_named_as_changed(chain):
    tamper("UPDATE audit_auditevent SET after = %s WHERE seq = %s", [json.dumps({"step": 99}), 3])
    report = verify_chain()
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 3, "event #3 was changed")


def test_an_edited_action_is_named_as_changed(chain):
    tamper("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["test.something_else", 2])
    report = verify_chain()
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 2, "event #2 was changed")


def test_an_edited_and_rehashed_event_breaks_the_link_to_the_next(chain):
    forged = AuditEvent.objects.get(seq=3)
    forged.action = "test.something_else"
    tamper(
        "UPDATE audit_auditevent SET action = %s, hash = %s WHERE seq = 3",
        [forged.action, event_hash(forged)],
    )
    report = verify_chain()
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert report.problem == "event #4 does not follow event #3 (inserted or reordered)"


def test_a_deleted_event_in_the_middle_is_named_as_missing(chain):
    tamper("DELETE FROM audit_auditevent WHERE seq = %s", [3])
    report = verify_chain()
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 3, "event #3 is missing (deleted)")


def test_an_inserted_forged_event_is_detected(chain):
    # make room at #3 by shifting the later events up (in two steps: seq is unique)
    tamper("UPDATE audit_auditevent SET seq = seq + 1000 WHERE seq >= 3")
    tamper("UPDATE audit_auditevent SET seq = seq - 999 WHERE seq >= 1000")
    forged = AuditEvent(
        seq=3,
        occurred_at=chain[2].occurred_at,
        actor=None,
        actor_label="system",
        action="ledger.entry_posted",
        target_type="access.user",
        target_id="1",
        target_label="forged",
        after={"forged": True},
        prev_hash=chain[1].hash,
    )
    forged.hash = event_hash(forged)
    forged.save(force_insert=True)  # an INSERT: the triggers guard only UPDATE and DELETE
    report = verify_chain()
    assert (report.ok, report.first_bad_seq) == (False, 4)
    assert report.problem == "event #4 does not follow event #3 (inserted or reordered)"


def test_an_event_appended_behind_the_heads_back_is_detected(chain):
    forged = AuditEvent(
        seq=len(chain) + 1,
        occurred_at=chain[-1].occurred_at,
        actor=None,
        actor_label="system",
        action="test.thing_done",
        target_type="access.user",
        target_id="1",
        prev_hash=chain[-1].hash,
    )
    forged.hash = event_hash(forged)
    forged.save(force_insert=True)
    report = verify_chain()
    assert (report.ok, report.first_bad_seq) == (False, len(chain) + 1)
    assert (
        report.problem
        == f"the chain ends at #{len(chain) + 1} but its head records #{len(chain)}: events were added"
    )


def test_two_events_with_swapped_seq_are_detected_as_reordered(chain):
    tamper("UPDATE audit_auditevent SET seq = 1000 WHERE seq = 2")
    tamper("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3")
    tamper("UPDATE audit_auditevent SET seq = 3 WHERE seq = 1000")
    report = verify_chain()
    assert (report.ok, report.first_bad_seq) == (False, 2)
    assert report.problem == "event #2 does not follow event #1 (inserted or reordered)"


def test_deleting_the_last_event_is_caught_by_the_head(chain):
    last = chain[-1].seq
    tamper("DELETE FROM audit_auditevent WHERE seq = %s", [last])
    report = verify_chain()
    assert (report.ok, report.first_bad_seq, report.last_seq) == (False, last, last - 1)
    assert (
        report.problem == f"the chain ends at #{last - 1} but its head records #{last}: events were removed"
    )


def test_replacing_the_last_event_is_caught_by_the_head(chain):
    last = AuditEvent.objects.get(seq=chain[-1].seq)
    last.after = {"step": 99}
    tamper(
        "UPDATE audit_auditevent SET after = %s, hash = %s WHERE seq = %s",
        [json.dumps(last.after), event_hash(last), last.seq],
    )
    report = verify_chain()
    assert (report.ok, report.first_bad_seq) == (False, last.seq)
    assert (
        report.problem == f"event #{last.seq} is not the event the chain head records (changed or replaced)"
    )


def test_a_new_event_after_tampering_does_not_hide_it(chain, clerk):
    tamper("DELETE FROM audit_auditevent WHERE seq = %s", [chain[-1].seq])
    record(clerk, clerk)
    report = verify_chain()
    assert (report.ok, report.first_bad_seq) == (False, chain[-1].seq)


# the database's own guard (PostgreSQL triggers)


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'test.rewritten' WHERE seq = 2",
        "DELETE FROM audit_auditevent WHERE seq = 2",
    ],
)
def test_raw_sql_cannot_change_or_remove_an_event(chain, sql):
    refusal = pytest.raises(IntegrityError, match="rows of audit_auditevent are immutable")
    with refusal as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert isinstance(refused.value.__cause__, psycopg.errors.IntegrityConstraintViolation)
    event = AuditEvent.objects.get(seq=2)
    assert (event.action, event.hash) == (chain[1].action, chain[1].hash)
    assert AuditEvent.objects.count() == len(chain)
    assert verify_chain().ok


@pytest.mark.postgresql
# TRUNCATE waits for no deferred checks: the events must be committed
@pytest.mark.django_db(transaction=True)
def test_raw_sql_cannot_truncate_the_events(chain):
    with pytest.raises(IntegrityError, match="TRUNCATE refused"), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == len(chain)
    assert verify_chain().ok


@pytest.mark.postgresql
def test_the_orm_cannot_change_or_remove_an_event_either(chain):
    with pytest.raises(IntegrityError, match="UPDATE refused"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).update(action="test.rewritten")
    with pytest.raises(IntegrityError, match="DELETE refused"), transaction.atomic():
        AuditEvent.objects.filter(seq=1).delete()
    assert AuditEvent.objects.get(seq=1).action == chain[0].action
    assert verify_chain().ok
