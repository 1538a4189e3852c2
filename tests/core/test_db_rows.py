"""`reserve_ids` and `insert_rows`, the bulk writes of a bill run: rows with their ids set in advance,
written in one statement, refused whole when they mix kept and database-given ids or point to an
unsaved row."""

from __future__ import annotations

import pytest
from django.db import transaction

from billops.core.db import insert_rows, reserve_ids
from billops.customers.models import Address, Customer, Tag

pytestmark = pytest.mark.django_db


def test_reserved_ids_are_fresh_and_the_rows_keep_them() -> None:
    Tag.objects.create(name="first")
    with transaction.atomic():
        ids = reserve_ids(Tag, 3)
        insert_rows([Tag(pk=pk, name=f"tag-{pk}") for pk in ids])
    assert ids == sorted(ids) and len(set(ids)) == 3 and min(ids) > Tag.objects.get(name="first").pk
    assert list(Tag.objects.filter(pk__in=ids).values_list("name", flat=True).order_by("pk")) == [
        f"tag-{pk}" for pk in ids
    ]
    later = Tag.objects.create(name="later")  # the database's own numbering goes on after them
    assert later.pk > max(ids)


def test_rows_without_ids_are_numbered_by_the_database() -> None:
    insert_rows([Tag(name="a"), Tag(name="b")])
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["a", "b"]


def test_mixed_ids_or_an_unsaved_related_row_are_refused_and_nothing_is_written(
    clerk, entity, catalog
) -> None:
    with pytest.raises(ValueError, match="all have their id set, or none"):
        insert_rows([Tag(pk=reserve_ids(Tag, 1)[0], name="a"), Tag(name="b")])
    unsaved = Customer(account_number="X-1")
    with pytest.raises(ValueError, match="unsaved related object"):
        insert_rows([Address(customer=unsaved, kind="billing", lines="1 Way", city="Bonn", country="DE")])
    assert not Tag.objects.exists() and not Address.objects.exists()
