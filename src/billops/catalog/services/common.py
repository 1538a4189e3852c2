"""Building blocks of the catalog services; they run inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

from billops.access import clock
from billops.catalog.errors import UnknownCode
from billops.core.errors import Duplicate, NotFound

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")


def today() -> Any:
    return clock.today()


def referenced(lookup: Callable[..., T], code: Any, field: str, **kwargs: Any) -> T:
    """A row a request names by its code; a missing one is the request's fault (400), not a missing page."""
    if not isinstance(code, str):
        raise UnknownCode(f"{field} must be a code (text)", field=field)
    try:
        return lookup(code, field=field, **kwargs)
    except NotFound as exc:
        raise UnknownCode(exc.message, field=field) from None


def save_unique(row: M, *, duplicate: Duplicate, insert: bool = False) -> M:
    """Save; another transaction that took the same code first gives Duplicate (409), not a 500."""
    try:
        with transaction.atomic():
            row.save(force_insert=insert)
    except IntegrityError:
        raise duplicate from None
    return row
