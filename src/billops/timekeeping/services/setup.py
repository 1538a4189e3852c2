"""Setting up time billing: timekeepers, matters with their billing guidelines, and hourly rates. Each
write is audited."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.access.selectors import get_user
from billops.audit.services import changed_fields, record_event
from billops.billing.services.common import customer_taking_work
from billops.catalog.models import Product
from billops.catalog.selectors import get_product
from billops.core.currencies import validate_currency
from billops.core.errors import CurrencyMismatch, Duplicate, InvalidInput
from billops.invoicing.errors import WrongStatus
from billops.invoicing.services.lines import clean_document_date, clean_price, clean_text
from billops.timekeeping.models import Matter, Rate, Role, Timekeeper
from billops.timekeeping.selectors import get_matter, get_timekeeper

TIMEKEEPER_CODE = re.compile(r"[A-Z0-9]{1,10}")


def _role(value: str, field: str = "role") -> str:
    if value not in Role.values:
        raise InvalidInput(f"{field} is one of {', '.join(Role.values)}, not {value!r}", field=field)
    return value


def _login(username: str | None, timekeeper: Timekeeper | None = None) -> User | None:
    """The user a timekeeper records time as, if any; one timekeeper per user."""
    if not username:
        return None
    user = get_user(username, field="username")
    others = Timekeeper.objects.filter(user=user)
    taken = (others.exclude(pk=timekeeper.pk) if timekeeper else others).first()
    if taken is not None:
        raise Duplicate(f"user {username} is timekeeper {taken.code} already", field="username")
    return user


def timekeeper_state(timekeeper: Timekeeper) -> dict[str, Any]:
    return {
        "code": timekeeper.code,
        "name": timekeeper.name,
        "role": timekeeper.role,
        "username": timekeeper.user.get_username() if timekeeper.user else "",
        "is_active": timekeeper.is_active,
    }


@transaction.atomic(durable=True)
def create_timekeeper(
    *, code: str, name: str, role: str, actor: User, username: str | None = None
) -> Timekeeper:
    """Someone whose time is billed, known on invoices by their code (initials, stored in capitals)."""
    require_permission(actor, "time.manage")
    code = clean_text(code, "code", limit=10, required=True).upper()
    if not TIMEKEEPER_CODE.fullmatch(code):
        raise InvalidInput(f"a timekeeper code is letters and digits, not {code!r}", field="code")
    timekeeper = Timekeeper(
        code=code, name=clean_text(name, "name", limit=200, required=True), role=_role(role),
        user=_login(username),
    )  # fmt: skip
    try:
        with transaction.atomic():
            timekeeper.save()
    except IntegrityError:
        raise Duplicate(f"there is a timekeeper {code} already", field="code") from None
    record_event(
        actor=actor, action="timekeeper.created", target=timekeeper, after=timekeeper_state(timekeeper)
    )
    return timekeeper


@transaction.atomic(durable=True)
def change_timekeeper(
    *,
    code: str,
    actor: User,
    name: str | None = None,
    role: str | None = None,
    username: str | None = None,
    is_active: bool | None = None,
) -> Timekeeper:
    """Change what is given; an empty `username` unlinks the login. An inactive timekeeper records no new
    time; their time recorded before is still approved and billed."""
    require_permission(actor, "time.manage")
    timekeeper = get_timekeeper(code, for_update=True)
    before = timekeeper_state(timekeeper)
    if name is not None:
        timekeeper.name = clean_text(name, "name", limit=200, required=True)
    if role is not None:
        timekeeper.role = _role(role)
    if username is not None:
        timekeeper.user = _login(username, timekeeper)
    if is_active is not None:
        timekeeper.is_active = is_active
    timekeeper.save()
    old, new = changed_fields(before, timekeeper_state(timekeeper))
    if new:
        record_event(actor=actor, action="timekeeper.changed", target=timekeeper, before=old, after=new)
    return timekeeper


def _product(code: str, field: str) -> Product:
    product = get_product(code, field=field)
    if not product.is_active:
        raise InvalidInput(f"product {product.code} is no longer sold", field=field)
    return product


def matter_state(matter: Matter) -> dict[str, Any]:
    return {
        "number": matter.number,
        "customer": matter.customer.account_number,
        "name": matter.name,
        "status": matter.status,
        "opened_on": matter.opened_on,
        "closed_on": matter.closed_on,
        "utbms_required": matter.utbms_required,
        "fee_product": matter.fee_product.code,
        "expense_product": matter.expense_product.code,
        "po_number": matter.po_number,
    }


@transaction.atomic(durable=True)
def open_matter(
    *,
    customer_id: int,
    number: str,
    name: str,
    fee_product_code: str,
    expense_product_code: str,
    actor: User,
    opened_on: date | None = None,
    utbms_required: bool = False,
    po_number: str = "",
) -> Matter:
    """A customer's case or project to record time and expenses on, with its billing guidelines: whether
    every entry needs UTBMS codes, and the products that bill its fees and its expenses."""
    require_permission(actor, "time.manage")
    customer = customer_taking_work(customer_id)
    number = clean_text(number, "number", limit=30, required=True).upper()
    on = clean_document_date(opened_on, "opened_on") or clock.today()
    matter = Matter(
        customer=customer, number=number, name=clean_text(name, "name", limit=200, required=True),
        opened_on=on, utbms_required=utbms_required, created_by=actor,
        fee_product=_product(fee_product_code, "fee_product_code"),
        expense_product=_product(expense_product_code, "expense_product_code"),
        po_number=clean_text(po_number, "po_number", limit=60),
    )  # fmt: skip
    try:
        with transaction.atomic():
            matter.save()
    except IntegrityError:
        raise Duplicate(f"there is a matter {number} already", field="number") from None
    record_event(actor=actor, action="matter.opened", target=matter, after=matter_state(matter))
    return matter


@transaction.atomic(durable=True)
def close_matter(*, matter_id: int, actor: User) -> Matter:
    """No new time or expenses on the matter from today; what is approved is still billed."""
    require_permission(actor, "time.manage")
    matter = get_matter(matter_id, for_update=True)
    if matter.status == Matter.Status.CLOSED:
        raise WrongStatus(f"{matter} is closed already", field="status")
    matter.status, matter.closed_on = Matter.Status.CLOSED, max(clock.today(), matter.opened_on)
    matter.save(update_fields=["status", "closed_on"])
    record_event(
        actor=actor, action="matter.closed", target=matter, before={"status": "open"},
        after={"status": matter.status, "closed_on": matter.closed_on},
    )  # fmt: skip
    return matter


def rate_state(rate: Rate) -> dict[str, Any]:
    return {
        "timekeeper": rate.timekeeper.code if rate.timekeeper else "",
        "role": rate.role,
        "customer": rate.customer.account_number if rate.customer else "",
        "matter": rate.matter.number if rate.matter else "",
        "hourly_rate": rate.hourly_rate,
        "currency": rate.currency,
        "valid_from": rate.valid_from,
        "valid_to": rate.valid_to,
    }


@transaction.atomic(durable=True)
def set_rate(
    *,
    hourly_rate: Any,
    currency: str,
    valid_from: date,
    actor: User,
    timekeeper_code: str = "",
    role: str = "",
    customer_id: int | None = None,
    matter_id: int | None = None,
    valid_to: date | None = None,
) -> Rate:
    """An hourly rate from a day on, for a timekeeper or a role, by default or for one customer or matter.

    A new open-ended rate ends the open-ended one of the same scope and currency that starts earlier, the
    day before (a rate change); any other overlap is refused, so one rate at most holds at each level."""
    require_permission(actor, "time.set_rates")
    if bool(timekeeper_code) == bool(role):
        raise InvalidInput(
            "a rate is for a timekeeper or for a role: give one of them", field="timekeeper_code"
        )
    if customer_id is not None and matter_id is not None:
        raise InvalidInput("a rate is for a customer or for one of its matters, not both", field="matter_id")
    validate_currency(currency, field="currency")
    rate = Rate(
        timekeeper=get_timekeeper(timekeeper_code, field="timekeeper_code") if timekeeper_code else None,
        role=_role(role) if role else "",
        hourly_rate=clean_price(hourly_rate, "hourly_rate"),
        currency=currency,
        created_by=actor,
    )
    if matter_id is not None:
        rate.matter = get_matter(matter_id)
        rate.customer = rate.matter.customer
    elif customer_id is not None:
        rate.customer = customer_taking_work(customer_id)
    if rate.customer is not None and currency != rate.customer.currency:
        raise CurrencyMismatch(
            f"{rate.customer.account_number} is billed in {rate.customer.currency}, not {currency}",
            field="currency",
        )
    rate.valid_from = clean_document_date(valid_from, "valid_from") or clock.today()
    rate.valid_to = clean_document_date(valid_to, "valid_to")
    if rate.valid_to is not None and rate.valid_to < rate.valid_from:
        raise InvalidInput("the rate ends before it starts", field="valid_to")
    ended = _end_rate_replaced(rate)
    rate.save()
    record_event(
        actor=actor, action="rate.set", target=rate,
        before={"ended": {"rate": ended.pk, "valid_to": ended.valid_to}} if ended else None,
        after=rate_state(rate),
    )  # fmt: skip
    return rate


def _end_rate_replaced(rate: Rate) -> Rate | None:
    """End the open-ended rate of the same scope that the new one replaces; refuse any other overlap."""
    same_scope = Rate.objects.select_for_update().filter(
        timekeeper=rate.timekeeper, role=rate.role, customer=rate.customer, matter=rate.matter,
        currency=rate.currency,
    )  # fmt: skip
    overlapping = same_scope.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=rate.valid_from))
    if rate.valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=rate.valid_to)
    ended = None
    for other in overlapping:
        replaces = rate.valid_to is None and other.valid_to is None and other.valid_from < rate.valid_from
        if replaces and ended is None:
            other.valid_to = rate.valid_from - timedelta(days=1)
            other.save(update_fields=["valid_to"])
            ended = other
            continue
        span = f"to {other.valid_to.isoformat()}" if other.valid_to else "on"
        raise InvalidInput(
            f"rate {other.pk} of the same scope holds from {other.valid_from.isoformat()} {span} already",
            field="valid_from",
        )
    return ended
