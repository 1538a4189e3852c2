"""API: customers, their contacts and addresses, credit limit and hold, history, import and export.

Amounts are decimal strings ("5000.00"); a JSON number with a fraction is refused, because a float
cannot hold every amount exactly. Errors come back as {code, message, field}.
"""

# no `from __future__ import annotations` here: Ninja resolves the query parameters' annotations at
# run time, and `@paginate` hides this module's names from it

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from billops.access.auth import api_actor
from billops.core.errors import InvalidInput
from billops.core.money import money
from billops.core.schemas import (
    QUERY_ERRORS,
    WRITE_ERRORS,
    AmountIn,
    AmountOut,
    DateIn,
    ErrorOut,
    LimitOffset,
    RowId,
    StrictIn,
    errors,
)
from billops.customers import exports, selectors, services
from billops.customers.fileformat import MAX_FILE_BYTES
from billops.customers.models import Address, Contact, Customer
from billops.customers.validation import AddressData, ContactData, CustomerData

router = Router()


class ContactIn(StrictIn):
    role: str
    name: str = ""
    email: str = ""
    phone: str = ""
    is_primary: bool = False


class ContactChangeIn(StrictIn):
    role: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    is_primary: bool | None = None


class AddressIn(StrictIn):
    kind: str
    lines: str
    city: str
    country: str
    region: str = ""
    postal_code: str = ""


class AddressChangeIn(StrictIn):
    kind: str | None = None
    lines: str | None = None
    city: str | None = None
    country: str | None = None
    region: str | None = None
    postal_code: str | None = None


class CustomerIn(StrictIn):
    account_number: str
    legal_name: str
    currency: str
    country: str
    trading_name: str = ""
    status: str = Customer.Status.ACTIVE
    terms: str = "NET30"
    vat_id: str = ""
    tax_id: str = ""
    tax_status: str = Customer.TaxStatus.TAXABLE
    exemption_certificate: str = ""
    exemption_expires_on: DateIn | None = None
    cycle: str = Customer.Cycle.MONTHLY
    cycle_day: int | None = None
    anniversary_on: DateIn | None = None
    credit_limit: AmountIn = Decimal(0)
    remittance_instructions: str = ""
    delivery_method: str = Customer.Delivery.EMAIL
    einvoice_endpoint_id: str = ""
    run_invoice_per: str = Customer.InvoicePer.CUSTOMER
    run_creates_drafts: bool = False
    parent_account_number: str = ""
    bill_to_parent: bool = False
    tags: list[str] = []
    notes: str = ""
    contacts: list[ContactIn] = []
    addresses: list[AddressIn] = []


class CustomerChangeIn(StrictIn):
    """Only the fields sent are changed; the credit limit and hold have their own endpoints."""

    account_number: str | None = None
    legal_name: str | None = None
    trading_name: str | None = None
    status: str | None = None
    currency: str | None = None
    terms: str | None = None
    country: str | None = None
    vat_id: str | None = None
    tax_id: str | None = None
    tax_status: str | None = None
    exemption_certificate: str | None = None
    exemption_expires_on: DateIn | None = None
    cycle: str | None = None
    cycle_day: int | None = None
    anniversary_on: DateIn | None = None
    remittance_instructions: str | None = None
    delivery_method: str | None = None
    einvoice_endpoint_id: str | None = None
    run_invoice_per: str | None = None
    run_creates_drafts: bool | None = None
    parent_account_number: str | None = None
    bill_to_parent: bool | None = None
    tags: list[str] | None = None
    notes: str | None = None


class CustomerFilters(Schema):
    """Query parameters of the customer list and its exports: each one left out matches every customer."""

    search: str = ""  # account number, names, VAT ID or a contact's e-mail address
    status: str = ""
    currency: str = ""
    on_hold: bool | None = None
    tag: str = ""
    cycle: str = ""


class CustomerListFilters(CustomerFilters):
    sort: str = "account_number"  # or "-account_number", "name", "-name"


class CreditHoldIn(StrictIn):
    reason: str


class ReleaseIn(StrictIn):
    note: str = ""


class CreditLimitIn(StrictIn):
    credit_limit: AmountIn


class OpeningBalanceIn(StrictIn):
    amount: AmountIn  # positive = the customer owes us; negative = a credit carried over
    currency: str
    balance_on: DateIn
    reference: str


class OpeningBalanceOut(Schema):
    id: int
    reference: str
    amount: AmountOut
    open_amount: AmountOut
    currency: str
    balance_on: date
    journal_entry_id: int | None


class ContactOut(Schema):
    id: int
    role: str
    name: str
    email: str
    phone: str
    is_primary: bool


class AddressOut(Schema):
    id: int
    kind: str
    lines: str
    city: str
    region: str
    postal_code: str
    country: str


class CustomerSummaryOut(Schema):
    id: int
    account_number: str
    legal_name: str
    trading_name: str
    status: str
    currency: str
    country: str
    credit_limit: AmountOut
    credit_hold: bool
    cycle: str
    tags: list[str]

    @staticmethod
    def resolve_credit_limit(obj: Customer) -> Decimal:
        return obj.credit_limit_money.amount

    @staticmethod
    def resolve_tags(obj: Customer) -> list[str]:
        return sorted(tag.name for tag in obj.tags.all())


class CustomerOut(CustomerSummaryOut):
    terms: str
    vat_id: str
    tax_id: str
    tax_status: str
    exemption_certificate: str
    exemption_expires_on: date | None
    cycle_day: int | None
    anniversary_on: date | None
    credit_hold_reason: str
    remittance_instructions: str
    delivery_method: str
    einvoice_endpoint_id: str
    run_invoice_per: str
    run_creates_drafts: bool
    parent_id: int | None
    parent_account_number: str
    bill_to_parent: bool
    notes: str
    contacts: list[ContactOut]
    addresses: list[AddressOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_terms(obj: Customer) -> str:
        return obj.terms.code

    @staticmethod
    def resolve_parent_account_number(obj: Customer) -> str:
        return obj.parent.account_number if obj.parent else ""

    @staticmethod
    def resolve_contacts(obj: Customer) -> list[Contact]:
        return list(obj.contacts.all())

    @staticmethod
    def resolve_addresses(obj: Customer) -> list[Address]:
        return list(obj.addresses.all())


class EventOut(Schema):
    seq: int
    occurred_at: datetime
    actor_label: str
    action: str
    before: Any
    after: Any
    request_id: str


class RejectOut(Schema):
    row: int | None
    column: str
    message: str


class ImportOut(Schema):
    created: int
    import_id: int
    customer_ids: list[int]


class ImportRejectedOut(ErrorOut):
    rejects: list[RejectOut]
    rejects_csv: str


def _fresh(customer: Customer) -> Customer:
    return selectors.get_customer(customer.pk)


CSV, XLSX = "text/csv", exports.XLSX_CONTENT_TYPE


def _file_reply(media_type: str) -> dict[str, Any]:
    """OpenAPI for a 200 that is a file to save, not JSON."""
    content = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    return {"responses": {200: {"description": "OK", "content": content}}}


@router.get("/", response={200: list[CustomerSummaryOut], **errors(*QUERY_ERRORS)})
@paginate(LimitOffset)
def list_customers(request: HttpRequest, filters: Query[CustomerListFilters]) -> object:
    return selectors.list_customers(**filters.model_dump())


@router.post("/", response={201: CustomerOut, **errors(*WRITE_ERRORS, 404)})
def create_customer(request: HttpRequest, payload: CustomerIn) -> object:
    fields = payload.model_dump(exclude={"contacts", "addresses"})
    data = CustomerData(
        **fields,
        contacts=[ContactData(**c.model_dump()) for c in payload.contacts],
        addresses=[AddressData(**a.model_dump()) for a in payload.addresses],
    )
    customer = services.create_customer(data=data, actor=api_actor(request))
    return Status(201, _fresh(customer))


@router.get("/export.csv", response={200: None, **errors(*QUERY_ERRORS)}, openapi_extra=_file_reply(CSV))
def export_csv(request: HttpRequest, filters: Query[CustomerFilters]) -> HttpResponse:
    return exports.download(selectors.list_customers(**filters.model_dump()), "csv")


@router.get("/export.xlsx", response={200: None, **errors(*QUERY_ERRORS)}, openapi_extra=_file_reply(XLSX))
def export_xlsx(request: HttpRequest, filters: Query[CustomerFilters]) -> HttpResponse:
    return exports.download(selectors.list_customers(**filters.model_dump()), "xlsx")


@router.post(
    "/import",
    # a 422 is either the rejected rows or, like anywhere else, a request that does not fit the schema
    response={200: ImportOut, **errors(*WRITE_ERRORS), 422: ImportRejectedOut | ErrorOut},
)
def import_customers(request: HttpRequest, file: UploadedFile = File(...)) -> object:  # noqa: B008
    """All or nothing: 200 with what was created, or 422 with every problem by row and column."""
    if file.size and file.size > MAX_FILE_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", field="file")
    result = services.import_customers(
        content=file.read(), filename=file.name or "upload", actor=api_actor(request)
    )
    if result.ok:
        return Status(
            200,
            {
                "created": result.created,
                "import_id": result.import_id,
                "customer_ids": result.customer_ids,
            },
        )
    return Status(
        422,
        {
            "code": "import_rejected",
            "message": f"nothing was imported: {len(result.rejects)} problems, listed by row and column",
            "field": "file",
            "rejects": result.rejects,
            "rejects_csv": result.rejects_csv(),
        },
    )


@router.get("/terms", response={200: list[dict[str, Any]], **errors()})
def list_terms(request: HttpRequest) -> object:
    return [
        {"code": t.code, "name": t.name, "kind": t.kind, "days": t.days, "day_of_month": t.day_of_month,
         "discount_percent": str(t.discount_percent), "discount_days": t.discount_days}
        for t in selectors.list_payment_terms()
    ]  # fmt: skip


@router.get("/{customer_id}", response={200: CustomerOut, **errors(404, 422)})
def get_customer(request: HttpRequest, customer_id: RowId) -> object:
    return selectors.get_customer(customer_id)


@router.patch("/{customer_id}", response={200: CustomerOut, **errors(*WRITE_ERRORS, 404)})
def change_customer(request: HttpRequest, customer_id: RowId, payload: CustomerChangeIn) -> object:
    changes = payload.model_dump(exclude_unset=True)
    customer = services.change_customer(customer_id=customer_id, changes=changes, actor=api_actor(request))
    return _fresh(customer)


@router.post("/{customer_id}/credit-hold", response={200: CustomerOut, **errors(*WRITE_ERRORS, 404)})
def place_credit_hold(request: HttpRequest, customer_id: RowId, payload: CreditHoldIn) -> object:
    customer = services.place_credit_hold(
        customer_id=customer_id, reason=payload.reason, actor=api_actor(request)
    )
    return _fresh(customer)


@router.post("/{customer_id}/credit-hold/release", response={200: CustomerOut, **errors(*WRITE_ERRORS, 404)})
def release_credit_hold(request: HttpRequest, customer_id: RowId, payload: ReleaseIn) -> object:
    customer = services.release_credit_hold(
        customer_id=customer_id, note=payload.note, actor=api_actor(request)
    )
    return _fresh(customer)


@router.post("/{customer_id}/credit-limit", response={200: CustomerOut, **errors(*WRITE_ERRORS, 404)})
def set_credit_limit(request: HttpRequest, customer_id: RowId, payload: CreditLimitIn) -> object:
    customer = services.set_credit_limit(
        customer_id=customer_id, credit_limit=payload.credit_limit, actor=api_actor(request)
    )
    return _fresh(customer)


@router.post(
    "/{customer_id}/opening-balances", response={201: OpeningBalanceOut, **errors(*WRITE_ERRORS, 404)}
)
def post_opening_balance(request: HttpRequest, customer_id: RowId, payload: OpeningBalanceIn) -> object:
    balance = services.post_opening_balance(
        customer_id=customer_id,
        amount=money(payload.amount, payload.currency),
        balance_on=payload.balance_on,
        reference=payload.reference,
        actor=api_actor(request),
    )
    return Status(201, balance)


@router.post("/{customer_id}/contacts", response={201: ContactOut, **errors(*WRITE_ERRORS, 404)})
def add_contact(request: HttpRequest, customer_id: RowId, payload: ContactIn) -> object:
    data = ContactData(**payload.model_dump())
    return Status(201, services.add_contact(customer_id=customer_id, data=data, actor=api_actor(request)))


@router.patch(
    "/{customer_id}/contacts/{contact_id}", response={200: ContactOut, **errors(*WRITE_ERRORS, 404)}
)
def change_contact(
    request: HttpRequest, customer_id: RowId, contact_id: RowId, payload: ContactChangeIn
) -> object:
    selectors.get_contact(customer_id=customer_id, contact_id=contact_id)  # NotFound if not this customer's
    changes = payload.model_dump(exclude_unset=True)
    return services.change_contact(contact_id=contact_id, changes=changes, actor=api_actor(request))


@router.post("/{customer_id}/addresses", response={201: AddressOut, **errors(*WRITE_ERRORS, 404)})
def add_address(request: HttpRequest, customer_id: RowId, payload: AddressIn) -> object:
    data = AddressData(**payload.model_dump())
    return Status(201, services.add_address(customer_id=customer_id, data=data, actor=api_actor(request)))


@router.patch(
    "/{customer_id}/addresses/{address_id}", response={200: AddressOut, **errors(*WRITE_ERRORS, 404)}
)
def change_address(
    request: HttpRequest, customer_id: RowId, address_id: RowId, payload: AddressChangeIn
) -> object:
    selectors.get_address(customer_id=customer_id, address_id=address_id)  # NotFound if not this customer's
    changes = payload.model_dump(exclude_unset=True)
    return services.change_address(address_id=address_id, changes=changes, actor=api_actor(request))


@router.get("/{customer_id}/history", response={200: list[EventOut], **errors(*QUERY_ERRORS, 404)})
@paginate(LimitOffset)
def history(request: HttpRequest, customer_id: RowId) -> object:
    return selectors.history(selectors.get_customer(customer_id))
