"""Customer master records: one function per business action, each one transaction that
checks the actor's permission, validates through `validation`, writes, and records one audit event
per customer touched (events about contacts and addresses target their customer, so that its
history page shows them)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, transaction

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import can, require_permission
from billops.audit.services import changed_fields, json_safe, record_event
from billops.core.db import deadlock_as_conflict
from billops.core.errors import Conflict, DomainError, Duplicate, InvalidInput, NotFound, PermissionDenied
from billops.core.money import money
from billops.customers.errors import HierarchyCycle, raise_errors
from billops.customers.fileformat import Reject, escape_cell
from billops.customers.imports import PlannedCustomer, plan_import, read_table
from billops.customers.models import Address, Contact, Customer, CustomerImport, PaymentTerms, Tag
from billops.customers.selectors import get_customer
from billops.customers.validation import (
    CUSTOMER_FIELDS,
    AddressData,
    ContactData,
    CustomerData,
    address_state,
    check_address,
    check_contact,
    check_customer,
    clean_amount,
    contact_state,
    customer_state,
    parent_problems,
    text_cleaner,
)

MAX_HIERARCHY_DEPTH = 50
# set through their own actions, which need their own permissions
SEPARATE_ACTIONS = {
    "credit_limit": "set_credit_limit (a supervisor action)",
    "credit_hold": "place_credit_hold / release_credit_hold",
    "credit_hold_reason": "place_credit_hold",
}
clean_reason = text_cleaner(200, required=True, label="the reason")


def _today() -> date:
    return clock.today()


# --- customers -------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def create_customer(*, data: CustomerData, actor: User) -> Customer:
    """Open a customer account with its contacts and addresses. A credit limit above zero also needs
    the supervisor's permission (customers.set_credit_limit)."""
    require_permission(actor, "customers.create")
    values, errors = check_customer(
        {name: getattr(data, name) for name in CUSTOMER_FIELDS}, base=None, today=_today()
    )
    contacts = _check_items(data.contacts, check_contact, "contacts", errors)
    addresses = _check_items(data.addresses, check_address, "addresses", errors)
    errors += _primary_contact_clashes(contacts)
    if isinstance(values["account_number"], str):
        errors += _number_taken(values["account_number"])
    if isinstance(values["credit_limit"], Decimal):
        errors += _credit_limit_permission(values["credit_limit"], actor)
    parent = (
        _parent_for(values, customer=None, errors=errors) if isinstance(values["currency"], str) else None
    )
    raise_errors(errors)
    customer = _insert_customer(values, parent=parent, contacts=contacts, addresses=addresses)
    record_event(actor=actor, action="customers.created", target=customer, after=_created_state(customer))
    return customer


@deadlock_as_conflict  # two moves in a hierarchy lock the same rows in opposite orders
@transaction.atomic(durable=True)
def change_customer(*, customer_id: int, changes: Mapping[str, Any], actor: User) -> Customer:
    """Change master data fields; the audit event holds only the fields that changed. The credit
    limit and the credit hold have their own actions and are refused here."""
    require_permission(actor, "customers.change")
    customer = get_customer(customer_id, for_update=True)
    errors: list[DomainError] = [
        InvalidInput(f"{name} is not changed here; use {action}", field=name)
        for name, action in SEPARATE_ACTIONS.items()
        if name in changes
    ]
    raise_errors(errors)
    before = customer_state(customer)
    values, errors = check_customer(changes, base=before, today=_today())
    if not errors and values["account_number"] != before["account_number"]:
        errors += _number_taken(values["account_number"])
    parent = customer.parent
    relevant = ("parent_account_number", "bill_to_parent", "currency", "status")
    if not errors and any(values[name] != before[name] for name in relevant):
        parent = _parent_for(values, customer=customer, errors=errors)
        errors += _children_problems(customer, values)
    raise_errors(errors)

    old, new = changed_fields(json_safe(before), json_safe(values))
    if not new:
        return customer  # nothing changed: no write, no event
    _apply(customer, values, parent=parent)
    _save_unique(customer)
    if "tags" in new:
        customer.tags.set(_tags(values["tags"]))
    record_event(actor=actor, action="customers.changed", target=customer, before=old, after=new)
    return customer


@transaction.atomic(durable=True)
def set_credit_limit(*, customer_id: int, credit_limit: Decimal | int | str, actor: User) -> Customer:
    """Set how much open credit the customer may have, in its own currency (a supervisor action)."""
    require_permission(actor, "customers.set_credit_limit")
    customer = get_customer(customer_id, for_update=True)
    limit = money(clean_amount(credit_limit, "credit_limit"), customer.currency, field="credit_limit")
    before = customer.credit_limit_money
    if limit == before:
        return customer
    customer.credit_limit = limit.amount
    customer.save(update_fields=["credit_limit", "updated_at"])
    record_event(
        actor=actor,
        action="customers.credit_limit_set",
        target=customer,
        before={"credit_limit": before.amount, "currency": before.currency},
        after={"credit_limit": limit.amount, "currency": limit.currency},
    )
    return customer


@transaction.atomic(durable=True)
def place_credit_hold(*, customer_id: int, reason: str, actor: User) -> Customer:
    """Put a customer on credit hold (manually, with a reason); a hold already in place is refused."""
    require_permission(actor, "customers.place_credit_hold")
    return put_on_credit_hold(get_customer(customer_id, for_update=True), reason=reason, actor=actor)


def put_on_credit_hold(customer: Customer, *, reason: str, actor: User) -> Customer:
    """`place_credit_hold`'s building block, inside the caller's transaction, the customer locked by it
    (a dunning run escalates to a credit hold in its own transaction)."""
    reason = clean_reason(reason, "reason")
    if customer.credit_hold:
        raise Conflict(
            f"{customer.account_number} is already on credit hold ({customer.credit_hold_reason})",
            field="credit_hold",
        )
    customer.credit_hold, customer.credit_hold_reason = True, reason
    customer.save(update_fields=["credit_hold", "credit_hold_reason", "updated_at"])
    record_event(
        actor=actor,
        action="customers.credit_hold_placed",
        target=customer,
        before={"credit_hold": False, "credit_hold_reason": ""},
        after={"credit_hold": True, "credit_hold_reason": reason},
    )
    return customer


@transaction.atomic(durable=True)
def release_credit_hold(*, customer_id: int, actor: User, note: str = "") -> Customer:
    """Lift a customer's credit hold (a supervisor action); `note` says why and goes to the audit trail."""
    require_permission(actor, "customers.release_credit_hold")
    customer = get_customer(customer_id, for_update=True)
    note = text_cleaner(200)(note, "note")
    if not customer.credit_hold:
        raise Conflict(f"{customer.account_number} is not on credit hold", field="credit_hold")
    reason = customer.credit_hold_reason
    customer.credit_hold, customer.credit_hold_reason = False, ""
    customer.save(update_fields=["credit_hold", "credit_hold_reason", "updated_at"])
    after: dict[str, Any] = {"credit_hold": False, "credit_hold_reason": ""}
    if note:
        after["note"] = note
    record_event(
        actor=actor,
        action="customers.credit_hold_released",
        target=customer,
        before={"credit_hold": True, "credit_hold_reason": reason},
        after=after,
    )
    return customer


# --- contacts and addresses ------------------------------------------------------------------------


@transaction.atomic(durable=True)
def add_contact(*, customer_id: int, data: ContactData, actor: User) -> Contact:
    """Add a contact; a new primary contact takes over from the role's previous primary."""
    require_permission(actor, "customers.change")
    customer = get_customer(customer_id, for_update=True)
    values = _checked(check_contact(asdict(data)))
    demoted = _demote_primary(customer, values, keep=None)
    contact = Contact.objects.create(customer=customer, **values)
    after = {"contact_id": contact.pk, **contact_state(contact)}
    if demoted:
        after["primary_before"] = demoted
    record_event(actor=actor, action="customers.contact_added", target=customer, after=after)
    return contact


@transaction.atomic(durable=True)
def change_contact(*, contact_id: int, changes: Mapping[str, Any], actor: User) -> Contact:
    """Change a contact's role, name, e-mail, phone or primary flag."""
    require_permission(actor, "customers.change")
    contact, customer = _locked_part(Contact, contact_id, "contact")
    before = contact_state(contact)
    values = _checked(check_contact(changes, base=before))
    old, new = changed_fields(before, values)
    if not new:
        return contact
    demoted = _demote_primary(customer, values, keep=contact.pk)
    _save_values(contact, values)
    after: dict[str, Any] = {"contact_id": contact.pk, **new}
    if demoted:
        after["primary_before"] = demoted
    record_event(
        actor=actor,
        action="customers.contact_changed",
        target=customer,
        before={"contact_id": contact.pk, **old},
        after=after,
    )
    return contact


@transaction.atomic(durable=True)
def add_address(*, customer_id: int, data: AddressData, actor: User) -> Address:
    """Add an address; a customer has at most one billing and one remit-to address."""
    require_permission(actor, "customers.change")
    customer = get_customer(customer_id, for_update=True)
    values = _checked(check_address(asdict(data)))
    if _single_kind_taken(customer, values["kind"], keep=None):
        raise Duplicate(
            f"{customer.account_number} already has a {values['kind']} address; change it", field="kind"
        )
    address = Address.objects.create(customer=customer, **values)
    after = {"address_id": address.pk, **address_state(address)}
    record_event(actor=actor, action="customers.address_added", target=customer, after=after)
    return address


@transaction.atomic(durable=True)
def change_address(*, address_id: int, changes: Mapping[str, Any], actor: User) -> Address:
    """Change an address's lines, city, region, postal code, country or kind."""
    require_permission(actor, "customers.change")
    address, customer = _locked_part(Address, address_id, "address")
    before = address_state(address)
    values = _checked(check_address(changes, base=before))
    old, new = changed_fields(before, values)
    if not new:
        return address
    if "kind" in new and _single_kind_taken(customer, values["kind"], keep=address.pk):
        raise Duplicate(f"{customer.account_number} already has a {values['kind']} address", field="kind")
    _save_values(address, values)
    record_event(
        actor=actor,
        action="customers.address_changed",
        target=customer,
        before={"address_id": address.pk, **old},
        after={"address_id": address.pk, **new},
    )
    return address


# --- import ----------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did: every customer created, or none and the reason for each refused cell."""

    created: int
    rejects: list[Reject] = field(default_factory=list)
    import_id: int | None = None
    customer_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejects

    def rejects_csv(self) -> str:
        """The reject report as CSV (row, column, message), safe to open in a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "column", "message"])
        for reject in self.rejects:
            writer.writerow(
                [
                    "" if reject.row is None else reject.row,
                    escape_cell(reject.column),
                    escape_cell(reject.message),
                ]
            )
        return out.getvalue()


@transaction.atomic(durable=True)
def import_customers(*, content: bytes, filename: str, actor: User) -> ImportResult:
    """Create every customer of a CSV or XLSX file, or none of them: when any row has a problem nothing
    is written and the result lists each problem by row and column."""
    require_permission(actor, "customers.import")
    table = read_table(content, filename)
    if table.rejects:
        return ImportResult(created=0, rejects=table.rejects)
    planned, rejects = plan_import(
        table, may_set_credit_limit=can(actor, "customers.set_credit_limit"), today=_today()
    )
    if rejects:
        return ImportResult(created=0, rejects=sorted(rejects, key=lambda r: (r.row or 0, r.column)))
    batch = CustomerImport.objects.create(
        filename=filename[:255],
        file_sha256=hashlib.sha256(content).hexdigest(),
        file_format=table.file_format,
        rows=len(planned),
        imported_by=actor,
    )
    created: dict[str, Customer] = {}
    for plan in planned:
        created[plan.values["account_number"]] = customer = _insert_planned(plan, created)
        after = {**_created_state(customer), "import_id": batch.pk, "row": plan.row}
        record_event(actor=actor, action="customers.created", target=customer, after=after)
    record_event(
        actor=actor,
        action="customers.imported",
        target=batch,
        after={
            "filename": batch.filename,
            "file_sha256": batch.file_sha256,
            "format": batch.file_format,
            "created": len(created),
            "account_numbers": list(created),
        },
    )
    return ImportResult(
        created=len(created), import_id=batch.pk, customer_ids=[c.pk for c in created.values()]
    )


def _insert_planned(plan: PlannedCustomer, created: dict[str, Customer]) -> Customer:
    number = plan.values["parent_account_number"]
    parent = created.get(number) or (Customer.objects.get(account_number=number) if number else None)
    return _insert_customer(plan.values, parent=parent, contacts=plan.contacts, addresses=plan.addresses)


# --- building blocks (run inside the caller's transaction) -----------------------------------------


Check = Callable[..., tuple[dict[str, Any], list[DomainError]]]


def _check_items(
    items: list[Any], check: Check, prefix: str, errors: list[DomainError]
) -> list[dict[str, Any]]:
    checked = []
    for index, item in enumerate(items):
        values, item_errors = check(asdict(item))
        for error in item_errors:
            errors.append(type(error)(error.message, field=f"{prefix}[{index}].{error.field}"))
        checked.append(values)
    return checked


def _primary_contact_clashes(contacts: list[dict[str, Any]]) -> list[DomainError]:
    roles = [c["role"] for c in contacts if c.get("is_primary") is True]
    return [
        InvalidInput(f"only one primary {role} contact is possible", field="contacts")
        for role in sorted(set(roles))
        if roles.count(role) > 1
    ]


def _number_taken(number: str) -> list[DomainError]:
    if Customer.objects.filter(account_number=number).exists():
        return [Duplicate(f"a customer with account number {number} already exists", field="account_number")]
    return []


def _credit_limit_permission(limit: Decimal, actor: User) -> list[DomainError]:
    if limit > 0 and not can(actor, "customers.set_credit_limit"):
        message = "only a billing supervisor may set a credit limit; leave it at 0 and ask one"
        return [PermissionDenied(message, field="credit_limit", action="customers.set_credit_limit")]
    return []


def _parent_for(
    values: dict[str, Any], *, customer: Customer | None, errors: list[DomainError]
) -> Customer | None:
    """The parent named by `values`, after checking it exists, fits, and is not below `customer`."""
    number = values["parent_account_number"]
    if not isinstance(number, str) or not number:
        return None
    parent = Customer.objects.select_for_update(of=("self",)).filter(account_number=number).first()
    if parent is None:
        errors.append(
            InvalidInput(f"there is no customer with account number {number}", field="parent_account_number")
        )
        return None
    errors += parent_problems(values, {"currency": parent.currency, "status": parent.status}, number)
    if customer is not None:
        ancestor: Customer | None = parent
        for _ in range(MAX_HIERARCHY_DEPTH):
            if ancestor is None:
                break
            if ancestor.pk == customer.pk:
                errors.append(
                    HierarchyCycle(
                        f"{customer.account_number} cannot go under {number}: {number} is already below"
                        f" {customer.account_number}, which would make {customer.account_number} its own"
                        " ancestor",
                        field="parent_account_number",
                    )
                )
                break
            # locking the chain serialises concurrent moves that could close a loop between them
            parent_id = ancestor.parent_id
            ancestor = (
                Customer.objects.select_for_update(of=("self",)).filter(pk=parent_id).first()
                if parent_id
                else None
            )
        else:
            errors.append(
                InvalidInput(
                    f"the hierarchy above {number} is deeper than {MAX_HIERARCHY_DEPTH} levels",
                    field="parent_account_number",
                )
            )
    return parent


def _children_problems(customer: Customer, values: dict[str, Any]) -> list[DomainError]:
    """A parent cannot change currency under children that bill to it, nor close above open children."""
    problems: list[DomainError] = []
    children = customer.children.all()
    billed = sorted(
        c.account_number for c in children if c.bill_to_parent and c.currency != values["currency"]
    )
    if billed:
        problems.append(
            InvalidInput(
                f"{', '.join(billed)} bill to {customer.account_number} in {customer.currency};"
                " change them first",
                field="currency",
            )
        )
    if values["status"] == Customer.Status.CLOSED:
        open_children = sorted(c.account_number for c in children if c.status != Customer.Status.CLOSED)
        if open_children:
            problems.append(
                InvalidInput(
                    f"{customer.account_number} still has open accounts below it: {', '.join(open_children)}",
                    field="status",
                )
            )
    return problems


def _apply(customer: Customer, values: dict[str, Any], *, parent: Customer | None) -> None:
    for name in CUSTOMER_FIELDS:
        if name not in ("terms", "parent_account_number", "tags"):
            setattr(customer, name, values[name])
    customer.terms = PaymentTerms.objects.get(code=values["terms"])
    customer.parent = parent


def _insert_customer(
    values: dict[str, Any],
    *,
    parent: Customer | None,
    contacts: list[dict[str, Any]],
    addresses: list[dict[str, Any]],
) -> Customer:
    customer = Customer()
    _apply(customer, values, parent=parent)
    _save_unique(customer, insert=True)
    customer.tags.set(_tags(values["tags"]))
    Contact.objects.bulk_create(Contact(customer=customer, **contact) for contact in contacts)
    Address.objects.bulk_create(Address(customer=customer, **address) for address in addresses)
    return customer


def _save_unique(customer: Customer, *, insert: bool = False) -> None:
    """Save; another transaction that took the account number first gives Duplicate, not a 500."""
    number = customer.account_number
    try:
        with transaction.atomic():
            customer.save(force_insert=insert)
    except IntegrityError:
        if Customer.objects.exclude(pk=customer.pk).filter(account_number=number).exists():
            raise Duplicate(
                f"a customer with account number {number} already exists", field="account_number"
            ) from None
        raise


def _tags(names: list[str]) -> list[Tag]:
    return [Tag.objects.get_or_create(name=name)[0] for name in names]


def _created_state(customer: Customer) -> dict[str, Any]:
    state = customer_state(customer)
    state["contacts"] = [{"contact_id": c.pk, **contact_state(c)} for c in customer.contacts.order_by("pk")]
    state["addresses"] = [{"address_id": a.pk, **address_state(a)} for a in customer.addresses.order_by("pk")]
    return state


def _checked(result: tuple[dict[str, Any], list[DomainError]]) -> dict[str, Any]:
    """The values a check returned, or every problem it found raised at once."""
    values, errors = result
    raise_errors(errors)
    return values


Part = TypeVar("Part", Contact, Address)


def _locked_part(model: type[Part], pk: int, noun: str) -> tuple[Part, Customer]:
    """A contact or address with its customer locked, read again as it is now under that lock."""
    part = model.objects.filter(pk=pk).first()
    if part is None:
        raise NotFound(f"there is no {noun} {pk}", field=f"{noun}_id")
    customer = get_customer(part.customer_id, for_update=True)
    part.refresh_from_db()
    return part, customer


def _save_values(part: Contact | Address, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(part, name, value)
    part.save()


def _single_kind_taken(customer: Customer, kind: str, *, keep: int | None) -> bool:
    """Whether the customer has its one billing (or remit-to) address already, other than `keep`."""
    if kind not in (Address.Kind.BILLING, Address.Kind.REMIT_TO):
        return False
    same_kind = customer.addresses.filter(kind=kind)
    return (same_kind.exclude(pk=keep) if keep is not None else same_kind).exists()


def _demote_primary(customer: Customer, values: dict[str, Any], *, keep: int | None) -> int | None:
    """Make room for a new primary contact of a role; returns the id of the contact that was primary."""
    if values.get("is_primary") is not True:
        return None
    others = customer.contacts.filter(role=values["role"], is_primary=True)
    previous = (others.exclude(pk=keep) if keep is not None else others).first()
    if previous is None:
        return None
    previous.is_primary = False
    previous.save(update_fields=["is_primary"])
    return previous.pk
