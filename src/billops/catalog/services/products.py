"""Products and their charge codes: create, change, deactivate (a supervisor's work: catalog.manage).

A product's revenue posts to a revenue account of the ledger and it is taxed by its tax code; both are
named by code. A product is never deleted: invoices refer to it; one no longer sold is deactivated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import changed_fields, json_safe, record_event
from billops.catalog.errors import NotRevenueAccount
from billops.catalog.models import Product, TaxCode
from billops.catalog.selectors import get_product, get_tax_code
from billops.catalog.services.common import referenced, save_unique
from billops.catalog.validation import Problems, clean_code, clean_text
from billops.core.errors import Conflict, Duplicate, InvalidInput
from billops.ledger.models import Account, AccountType
from billops.ledger.selectors import get_account

CHANGEABLE = ("name", "description", "unit", "revenue_account", "tax_code")


def product_state(product: Product) -> dict[str, Any]:
    return {
        "code": product.code,
        "name": product.name,
        "description": product.description,
        "unit": product.unit,
        "revenue_account": product.revenue_account.code,
        "tax_code": product.tax_code.code,
        "is_active": product.is_active,
    }


def _revenue_account(code: Any) -> Account:
    account = referenced(lambda text, field: get_account(text.strip()), code, "revenue_account")
    if account.type != AccountType.REVENUE:
        raise NotRevenueAccount(
            f"account {account.code} {account.name} is a {account.get_type_display().lower()} account; "
            "a product's revenue posts to a revenue account",
            field="revenue_account",
        )
    if not account.is_active:
        raise InvalidInput(f"account {account.code} is no longer in use", field="revenue_account")
    return account


def _tax_code(code: Any) -> TaxCode:
    tax_code = referenced(get_tax_code, code, "tax_code")
    if not tax_code.is_active:
        raise InvalidInput(f"tax code {tax_code.code} is no longer in use", field="tax_code")
    return tax_code


def _check(values: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    """The product fields given in `values`, cleaned; each problem is noted by its field."""
    cleaners = {
        "name": lambda v: clean_text(v, "name", limit=200, required=True),
        "description": lambda v: clean_text(v, "description", limit=2000),
        "unit": lambda v: clean_text(v, "unit", limit=20, required=True),
        "revenue_account": _revenue_account,
        "tax_code": _tax_code,
    }
    return {name: problems.check(clean, values[name]) for name, clean in cleaners.items() if name in values}


@transaction.atomic(durable=True)
def create_product(
    *,
    code: str,
    name: str,
    revenue_account: str,
    tax_code: str,
    unit: str = "each",
    description: str = "",
    actor: User,
) -> Product:
    """Add a product with its charge code, revenue account and tax code; it is priced on price lists."""
    require_permission(actor, "catalog.manage")
    problems = Problems()
    charge_code = problems.check(clean_code, code, "code", limit=30)
    given = {"name": name, "description": description, "unit": unit}
    values = _check({**given, "revenue_account": revenue_account, "tax_code": tax_code}, problems)
    problems.raise_any()
    if Product.objects.filter(code=charge_code).exists():
        raise Duplicate(f"a product with code {charge_code} already exists", field="code")
    product = save_unique(
        Product(code=charge_code, **values),
        duplicate=Duplicate(f"a product with code {charge_code} already exists", field="code"),
        insert=True,
    )
    record_event(actor=actor, action="catalog.product_created", target=product, after=product_state(product))
    return product


@transaction.atomic(durable=True)
def change_product(*, product_code: str, changes: Mapping[str, Any], actor: User) -> Product:
    """Change a product's name, description, unit, revenue account or tax code; the charge code stays, as
    invoices quote it. The audit event holds only what changed."""
    require_permission(actor, "catalog.manage")
    product = get_product(product_code, for_update=True)
    problems = Problems()
    for name in changes:
        if name not in CHANGEABLE:
            why = "use deactivate_product" if name == "is_active" else f"only {', '.join(CHANGEABLE)} change"
            problems.add(InvalidInput(f"{name} cannot be changed here: {why}", field=name))
    values = _check(changes, problems)
    problems.raise_any()
    before = product_state(product)
    for name, value in values.items():
        setattr(product, name, value)
    old, new = changed_fields(json_safe(before), json_safe(product_state(product)))
    if not new:
        return product  # nothing changed: no write, no event
    product.save()
    record_event(actor=actor, action="catalog.product_changed", target=product, before=old, after=new)
    return product


@transaction.atomic(durable=True)
def deactivate_product(*, product_code: str, actor: User) -> Product:
    """Stop selling a product: it can no longer be put on a new invoice line or priced; history stays."""
    require_permission(actor, "catalog.manage")
    product = get_product(product_code, for_update=True)
    if not product.is_active:
        raise Conflict(f"product {product.code} is already inactive", field="product_code")
    product.is_active = False
    product.save(update_fields=["is_active"])
    record_event(
        actor=actor,
        action="catalog.product_deactivated",
        target=product,
        before={"is_active": True},
        after={"is_active": False},
    )
    return product
