"""Reads of promises to pay."""

from __future__ import annotations

from collections.abc import Iterable

from billops.collections.models import PromiseToPay


def customers_with_open_promises(customer_ids: Iterable[int] | None = None) -> set[int]:
    """The customers (of those given, or all) with a promise to pay still open: they are not dunned."""
    promises = PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN)
    if customer_ids is not None:
        promises = promises.filter(customer_id__in=list(customer_ids))
    return set(promises.values_list("customer_id", flat=True))
