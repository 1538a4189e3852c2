"""Reads of promises to pay."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from billops.collections.models import PromiseToPay


def customers_with_open_promises(customer_ids: Iterable[int] | None = None) -> set[int]:
    """The customers (of those given, or all) with a promise to pay still open: they are not dunned."""
    promises = PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN)
    if customer_ids is not None:
        promises = promises.filter(customer_id__in=list(customer_ids))
    return set(promises.values_list("customer_id", flat=True))


def kept_rate(customer_id: int) -> tuple[int, int]:
    """(kept, decided) of the customer's promises: how often it did what it said; cancelled ones do not
    count."""
    decided = PromiseToPay.objects.filter(
        customer_id=customer_id, status__in=[PromiseToPay.Status.KEPT, PromiseToPay.Status.BROKEN]
    )
    statuses = list(decided.values_list("status", flat=True))
    return statuses.count(PromiseToPay.Status.KEPT), len(statuses)


def list_promises(*, customer_id: int | None = None, status: str = "") -> QuerySet[PromiseToPay]:
    """Promises, newest first, of a customer or all, in a status or any."""
    found = PromiseToPay.objects.all()
    if customer_id is not None:
        found = found.filter(customer_id=customer_id)
    if status:
        found = found.filter(status=status)
    return found
