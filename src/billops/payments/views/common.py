"""What every payments page shares: the signed-in actor, rows or a 404, htmx requests, amounts as shown."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar, cast

from django.http import Http404, HttpRequest

from billops.access.models import User
from billops.core.errors import InvalidInput, NotFound
from billops.customers.models import Customer
from billops.customers.selectors import get_customer_by_number
from billops.web.amounts import Shown

PAGE_SIZE = 50
T = TypeVar("T")


def actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view here is behind login_required


def found_or_404(read: Callable[[int], T], pk: int) -> T:
    """What a selector reads for this id, or a 404 page with its message."""
    try:
        return read(pk)
    except NotFound as exc:
        raise Http404(exc.message) from None


def customer_by_number(text: str) -> Customer:
    """The customer a clerk typed the account number of (any case), or an error at the form's field."""
    if not text.strip():
        raise InvalidInput("give the customer's account number", field="customer")
    return get_customer_by_number(text)


def is_htmx(request: HttpRequest) -> bool:
    """A request htmx sent for part of a page (a history restore wants the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def totals(amounts: dict[str, Decimal]) -> list[Shown]:
    """Amounts per currency, as `payments/_totals.html` shows them."""
    return [Shown.of(amount, currency) for currency, amount in sorted(amounts.items())]


def kept(params: dict[str, Any]) -> dict[str, Any]:
    """The filters a pager's links keep: those given."""
    return {name: value for name, value in params.items() if value}
