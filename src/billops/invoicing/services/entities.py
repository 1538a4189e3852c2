"""Billing entities (the companies of ours that issue documents) and their approval thresholds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import json_safe, record_event
from billops.core.errors import Duplicate, InvalidInput
from billops.core.money import money
from billops.customers.countries import COUNTRY_CODES
from billops.customers.taxids import clean_vat_id
from billops.invoicing.models import ApprovalThreshold, BillingEntity, TaxRounding
from billops.invoicing.selectors import get_entity
from billops.invoicing.services.lines import clean_text

ENTITY_TEXT = {
    "code": 20, "legal_name": 200, "address_lines": 500, "postal_code": 20, "city": 100, "region": 100,
    "tax_id": 40, "email": 254, "phone": 40, "bank_account_holder": 200, "bank_name": 100, "iban": 34,
    "bic": 11, "bank_account_number": 34, "bank_routing_number": 20, "invoice_prefix": 10,
    "credit_note_prefix": 10, "debit_note_prefix": 10,
}  # fmt: skip
REQUIRED = ("code", "legal_name", "address_lines", "city", "country")


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    known = {*ENTITY_TEXT, "country", "vat_id", "tax_rounding", "language", "is_default"}
    for name in values:
        if name not in known:
            raise InvalidInput(f"a billing entity has no field {name}", field=name)
    cleaned: dict[str, Any] = {}
    for name, limit in ENTITY_TEXT.items():
        if name in values:
            cleaned[name] = clean_text(values[name], name, limit=limit)
    for name in ("code", "invoice_prefix", "credit_note_prefix", "debit_note_prefix"):
        if name in cleaned:
            cleaned[name] = cleaned[name].upper()
            if not cleaned[name].replace("-", "").isalnum():
                raise InvalidInput(f"{name} takes letters, digits and dashes only", field=name)
    if "country" in values:
        country = str(values["country"]).strip().upper()
        if country not in COUNTRY_CODES:
            raise InvalidInput(f"{values['country']!r} is not an ISO country code", field="country")
        cleaned["country"] = country
    if "vat_id" in values:
        cleaned["vat_id"] = clean_vat_id(values["vat_id"], cleaned.get("country", ""), "vat_id")
    if "tax_rounding" in values:
        if values["tax_rounding"] not in TaxRounding.values:
            raise InvalidInput(
                f"tax rounding is one of {', '.join(TaxRounding.values)}", field="tax_rounding"
            )
        cleaned["tax_rounding"] = values["tax_rounding"]
    if "language" in values:
        if values["language"] not in ("en", "de", "fr"):
            raise InvalidInput("documents are written in en, de or fr", field="language")
        cleaned["language"] = values["language"]
    if "is_default" in values:
        cleaned["is_default"] = bool(values["is_default"])
    return cleaned


def _refuse_taken_prefixes(values: dict[str, Any]) -> None:
    """Every series prefix is unique across entities and document types, so no two series can collide."""
    defaults = {"invoice_prefix": "INV", "credit_note_prefix": "CN", "debit_note_prefix": "DN"}  # the models'
    names = tuple(defaults)
    wanted = {name: values.get(name) or default for name, default in defaults.items()}
    if len(set(wanted.values())) < len(names):
        raise InvalidInput(
            "the invoice, credit note and debit note prefixes must differ", field="invoice_prefix"
        )
    for entity in BillingEntity.objects.all():
        taken = {getattr(entity, name) for name in names}
        for name, prefix in wanted.items():
            if prefix in taken:
                raise Duplicate(
                    f"billing entity {entity.code} already numbers with prefix {prefix}", field=name
                )


@transaction.atomic(durable=True)
def create_billing_entity(*, actor: User | None, **values: Any) -> BillingEntity:
    """Set up a company of ours that issues documents; the first one becomes the default."""
    if actor is not None:  # None: the operator on the command line
        require_permission(actor, "invoicing.manage_entities")
    cleaned = _clean(values)
    for name in REQUIRED:
        if not cleaned.get(name):
            raise InvalidInput(f"{name} is required", field=name)
    _refuse_taken_prefixes(cleaned)
    if not BillingEntity.objects.exists():
        cleaned["is_default"] = True
    elif cleaned.get("is_default"):
        BillingEntity.objects.filter(is_default=True).update(is_default=False)
    try:
        with transaction.atomic():
            entity = BillingEntity.objects.create(**cleaned)
    except IntegrityError:
        raise Duplicate(
            "another billing entity already has this code or one of these number prefixes", field="code"
        ) from None
    record_event(actor=actor, action="invoicing.entity_created", target=entity, after=json_safe(cleaned))
    return entity


@transaction.atomic(durable=True)
def set_approval_threshold(*, entity_code: str, currency: str, amount: Any, actor: User) -> ApprovalThreshold:
    """Invoices of the entity in this currency at or above the amount will need a second person's approval."""
    require_permission(actor, "invoicing.manage_entities")
    entity = get_entity(entity_code)
    limit = money(amount, currency)
    if limit.amount < Decimal(0):
        raise InvalidInput("an approval threshold must not be negative", field="amount")
    threshold, _ = ApprovalThreshold.objects.update_or_create(
        entity=entity, currency=limit.currency, defaults={"amount": limit.amount}
    )
    record_event(
        actor=actor,
        action="invoicing.approval_threshold_set",
        target=entity,
        after={"currency": limit.currency, "amount": limit.amount},
    )
    return threshold
