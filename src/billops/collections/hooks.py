"""What collections needs to know about disputes, which sit downstream of it (DESIGN.md's flow): the
disputes app registers its readers here when it starts (`DisputesConfig.ready`). Until then nothing is
disputed, so collections works without the disputes app."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class DisputeReaders:
    # per invoice, the amount its open cases dispute (invoices without one left out)
    disputed_amounts: Callable[[Iterable[int]], dict[int, Decimal]]
    # per customer, how many cases it has open (customers without one left out)
    open_dispute_counts: Callable[[Iterable[int]], dict[int, int]]


_readers: list[DisputeReaders] = []


def register_dispute_readers(readers: DisputeReaders) -> None:
    """Called once by the disputes app; a second call replaces the first."""
    _readers[:] = [readers]


def disputed_amounts(invoice_ids: Iterable[int]) -> dict[int, Decimal]:
    """Per invoice, the amount open dispute cases hold back from dunning."""
    return _readers[0].disputed_amounts(invoice_ids) if _readers else {}


def open_dispute_counts(customer_ids: Iterable[int]) -> dict[int, int]:
    """Per customer, its open dispute cases."""
    return _readers[0].open_dispute_counts(customer_ids) if _readers else {}
