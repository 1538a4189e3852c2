"""A real PostgreSQL deadlock reaches the caller as a Conflict (409) to retry, with nothing written."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from billops.access.models import User
from billops.core.db import deadlock_as_conflict
from billops.core.errors import Conflict
from tests.conftest import race


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_transaction_postgresql_fails_to_break_a_deadlock_becomes_a_conflict() -> None:
    first, second = User.objects.create(username="first"), User.objects.create(username="second")
    both_hold_one = threading.Barrier(2)

    @deadlock_as_conflict
    @transaction.atomic(durable=True)
    def rename_both(index: int) -> str:
        # the two threads lock the same two rows in opposite orders
        mine, other = (first, second) if index == 0 else (second, first)
        User.objects.select_for_update().get(pk=mine.pk)
        both_hold_one.wait()
        User.objects.select_for_update().get(pk=other.pk)
        User.objects.filter(pk__in=[mine.pk, other.pk]).update(last_name=f"renamed by {index}")
        return f"thread {index}"

    results, errors = race(2, rename_both)

    assert len(results) == 1
    assert [(type(e), e.http_status, e.message) for e in errors] == [  # type: ignore[attr-defined]
        (Conflict, 409, "another change to the same records ran at the same moment; try again")
    ]
    winner = results[0].split()[-1]
    assert set(User.objects.values_list("last_name", flat=True)) == {f"renamed by {winner}"}


@pytest.mark.django_db
def test_errors_other_than_a_deadlock_pass_through_unchanged() -> None:
    @deadlock_as_conflict
    def fails() -> None:
        raise ValueError("not a database error")

    with pytest.raises(ValueError, match="not a database error"):
        fails()
