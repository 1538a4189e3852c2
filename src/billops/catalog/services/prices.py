"""Price lists, their prices and volume breaks (catalog.manage), and each customer's own rates and price
list (catalog.set_customer_price).

Every price change is audited with what it was before and what it became, so that each rate a customer
is charged traces back to the person who set it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import changed_fields, json_safe, record_event
from billops.catalog.models import CustomerPrice, CustomerPriceList, PriceList, PriceListItem, Product
from billops.catalog.selectors import get_customer_price, get_price_list, get_product
from billops.catalog.services.common import referenced, save_unique
from billops.catalog.validation import (
    Problems,
    clean_code,
    clean_date,
    clean_optional_date,
    clean_period,
    clean_price,
    clean_quantity,
    clean_text,
)
from billops.core.currencies import validate_currency
from billops.core.errors import CurrencyMismatch, Duplicate, InvalidInput, NotFound
from billops.customers.selectors import get_customer


def price_list_state(price_list: PriceList) -> dict[str, Any]:
    return {
        "code": price_list.code,
        "name": price_list.name,
        "currency": price_list.currency,
        "valid_from": price_list.valid_from,
        "valid_to": price_list.valid_to,
        "is_default": price_list.is_default,
    }


def customer_price_state(price: CustomerPrice) -> dict[str, Any]:
    return {
        "customer_price_id": price.pk,
        "product": price.product.code,
        "currency": price.currency,
        "min_quantity": price.min_quantity,
        "unit_price": price.unit_price,
        "valid_from": price.valid_from,
        "valid_to": price.valid_to,
        "contract_reference": price.contract_reference,
    }


def _sellable(code: Any) -> Product:
    product = referenced(get_product, code, "product_code")
    if not product.is_active:
        raise InvalidInput(f"product {product.code} is no longer sold", field="product_code")
    return product


def _currency(value: Any) -> str:
    code = clean_text(value, "currency", limit=3, required=True).upper()
    return validate_currency(code)


# --- price lists -----------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def create_price_list(
    *,
    code: str,
    name: str,
    currency: str,
    valid_from: Any,
    valid_to: Any = None,
    is_default: bool = False,
    actor: User,
) -> PriceList:
    """Open a price list in one currency for a span of dates; a default list prices every customer of
    its currency who has no list of their own."""
    require_permission(actor, "catalog.manage")
    problems = Problems()
    list_code = problems.check(clean_code, code, "code", limit=30)
    list_name = problems.check(clean_text, name, "name", limit=100, required=True)
    list_currency = problems.check(_currency, currency)
    first = problems.check(clean_date, valid_from, "valid_from")
    last = problems.check(clean_optional_date, valid_to, "valid_to")
    problems.check(clean_period, first, last)
    if not isinstance(is_default, bool):
        problems.add(InvalidInput("is_default must be true or false", field="is_default"))
    problems.raise_any()
    duplicate = Duplicate(f"price list {list_code} already exists", field="code")
    if PriceList.objects.filter(code=list_code).exists():
        raise duplicate
    price_list = save_unique(
        PriceList(
            code=list_code, name=list_name, currency=list_currency, valid_from=first, valid_to=last,
            is_default=is_default,
        ),
        duplicate=duplicate,
        insert=True,
    )  # fmt: skip
    record_event(
        actor=actor,
        action="catalog.price_list_created",
        target=price_list,
        after=price_list_state(price_list),
    )
    return price_list


@transaction.atomic(durable=True)
def set_list_price(
    *, price_list_code: str, product_code: str, unit_price: Any, min_quantity: Any = "0", actor: User
) -> PriceListItem:
    """Set the unit price of a product on a list from a quantity on (0: every quantity; 10: the volume
    break from ten). An existing price for that quantity is replaced; the event holds old and new."""
    require_permission(actor, "catalog.manage")
    price_list = get_price_list(price_list_code, for_update=True)  # serialises changes to the list
    problems = Problems()
    product = problems.check(_sellable, product_code)
    price = problems.check(clean_price, unit_price)
    quantity = problems.check(clean_quantity, min_quantity)
    problems.raise_any()
    item = PriceListItem.objects.filter(price_list=price_list, product=product, min_quantity=quantity).first()
    key = {"product": product.code, "min_quantity": quantity}
    if item is not None and item.unit_price == price:
        return item  # the same price again: no write, no event
    before = {**key, "unit_price": item.unit_price} if item is not None else None
    if item is None:
        item = PriceListItem.objects.create(
            price_list=price_list, product=product, min_quantity=quantity, unit_price=price
        )
    else:
        item.unit_price = price
        item.save(update_fields=["unit_price"])
    after = {**key, "unit_price": price, "currency": price_list.currency}
    record_event(actor=actor, action="catalog.list_price_set", target=price_list, before=before, after=after)
    return item


@transaction.atomic(durable=True)
def remove_list_price(
    *, price_list_code: str, product_code: str, min_quantity: Any = "0", actor: User
) -> None:
    """Take a product's price for a quantity off a list; invoices already priced keep their price."""
    require_permission(actor, "catalog.manage")
    price_list = get_price_list(price_list_code, for_update=True)
    problems = Problems()
    product = problems.check(referenced, get_product, product_code, "product_code")
    quantity = problems.check(clean_quantity, min_quantity)
    problems.raise_any()
    item = PriceListItem.objects.filter(price_list=price_list, product=product, min_quantity=quantity).first()
    if item is None:
        raise NotFound(
            f"price list {price_list.code} has no price for {product.code} from quantity "
            f"{quantity.normalize():f}",
            field="min_quantity",
        )
    before = {"product": product.code, "min_quantity": quantity, "unit_price": item.unit_price}
    item.delete()
    record_event(actor=actor, action="catalog.list_price_removed", target=price_list, before=before)


# --- customers' own rates and price lists ----------------------------------------------------------


@transaction.atomic(durable=True)
def set_customer_price(
    *,
    customer_id: int,
    product_code: str,
    unit_price: Any,
    valid_from: Any,
    valid_to: Any = None,
    min_quantity: Any = "0",
    contract_reference: str = "",
    actor: User,
) -> CustomerPrice:
    """Give a customer its own rate for a product from a date, in its currency; it beats every price list.
    The same product, quantity and start date again replaces that rate. The audit event, on the
    customer, holds who set which rate and what it replaced."""
    require_permission(actor, "catalog.set_customer_price")
    customer = get_customer(customer_id, for_update=True)  # serialises the customer's rate changes
    problems = Problems()
    product = problems.check(_sellable, product_code)
    price = problems.check(clean_price, unit_price)
    quantity = problems.check(clean_quantity, min_quantity)
    first = problems.check(clean_date, valid_from, "valid_from")
    last = problems.check(clean_optional_date, valid_to, "valid_to")
    problems.check(clean_period, first, last)
    reference = problems.check(clean_text, contract_reference, "contract_reference", limit=60)
    problems.raise_any()
    values = {"unit_price": price, "valid_to": last, "contract_reference": reference}
    row = CustomerPrice.objects.filter(
        customer=customer,
        product=product,
        currency=customer.currency,
        min_quantity=quantity,
        valid_from=first,
    ).first()
    if row is None:
        row = CustomerPrice.objects.create(
            customer=customer, product=product, currency=customer.currency, min_quantity=quantity,
            valid_from=first, created_by=actor, **values,
        )  # fmt: skip
        record_event(
            actor=actor, action="catalog.customer_price_set", target=customer, after=customer_price_state(row)
        )
        return row
    before = customer_price_state(row)
    for name, value in values.items():
        setattr(row, name, value)
    old, new = changed_fields(json_safe(before), json_safe(customer_price_state(row)))
    if not new:
        return row
    row.save(update_fields=list(values))
    key = {
        "customer_price_id": row.pk,
        "product": product.code,
        "min_quantity": quantity,
        "valid_from": first,
    }
    record_event(
        actor=actor,
        action="catalog.customer_price_set",
        target=customer,
        before={**key, **old},
        after={**key, **new},
    )
    return row


@transaction.atomic(durable=True)
def end_customer_price(
    *, customer_id: int, customer_price_id: int, valid_to: Any, actor: User
) -> CustomerPrice:
    """End a customer's rate on a day (inclusive); from the next day the price lists price it again."""
    require_permission(actor, "catalog.set_customer_price")
    customer = get_customer(customer_id, for_update=True)
    row = get_customer_price(customer_id=customer.pk, price_id=customer_price_id)
    last = clean_date(valid_to, "valid_to")
    clean_period(row.valid_from, last)
    if row.valid_to == last:
        return row
    before = row.valid_to
    row.valid_to = last
    row.save(update_fields=["valid_to"])
    key = {"customer_price_id": row.pk, "product": row.product.code, "min_quantity": row.min_quantity}
    record_event(
        actor=actor,
        action="catalog.customer_price_ended",
        target=customer,
        before={**key, "valid_to": before},
        after={**key, "valid_to": last},
    )
    return row


@transaction.atomic(durable=True)
def assign_price_list(*, customer_id: int, price_list_code: str | None, actor: User) -> PriceList | None:
    """Make the customer buy from its own price list instead of the default list of its currency; None
    (or empty) goes back to the default list. The list must be in the customer's currency."""
    require_permission(actor, "catalog.set_customer_price")
    customer = get_customer(customer_id, for_update=True)
    price_list = None
    if price_list_code is not None and str(price_list_code).strip():
        price_list = referenced(get_price_list, price_list_code, "price_list")
        if price_list.currency != customer.currency:
            raise CurrencyMismatch(
                f"price list {price_list.code} is in {price_list.currency}, but {customer.account_number} is "
                f"billed in {customer.currency}",
                field="price_list",
            )
    assigned = CustomerPriceList.objects.filter(customer=customer).select_related("price_list").first()
    before_code = assigned.price_list.code if assigned else None
    after_code = price_list.code if price_list else None
    if before_code == after_code:
        return price_list
    if price_list is None:
        CustomerPriceList.objects.filter(customer=customer).delete()
    elif assigned is None:
        CustomerPriceList.objects.create(customer=customer, price_list=price_list)
    else:
        assigned.price_list = price_list
        assigned.save(update_fields=["price_list"])
    record_event(
        actor=actor,
        action="catalog.price_list_assigned",
        target=customer,
        before={"price_list": before_code},
        after={"price_list": after_code},
    )
    return price_list
