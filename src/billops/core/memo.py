"""Reference data read once per unit of bulk work instead of once per document.

A bill run's chunk prices and posts hundreds of invoices in one transaction; each would otherwise read
the same tax codes, tax rates, products, accounts and approval thresholds again. Inside
`reference_data_cached()` the lookups that go through `cached` answer from memory after the first read;
outside it they read the database every time, as before. The cache lives as long as the `with` block
(one transaction), so it never outlives a change committed by someone else in between.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_cache: ContextVar[dict[Hashable, Any] | None] = ContextVar("reference_data_cache", default=None)


@contextmanager
def reference_data_cached() -> Iterator[None]:
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def cached(key: Hashable, load: Callable[[], T]) -> T:
    """`load()`, remembered under `key` inside `reference_data_cached()`; a lookup that raises is not
    remembered."""
    cache = _cache.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]
