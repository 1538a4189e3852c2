"""The one place customer input is checked: the API, the staff forms and the imports all come through here,
so each entry path gives the same error, named by the same field.

Input arrives loosely typed (text from a file or a form, typed values from the API) and leaves as a
"state": plain values keyed by field name, with payment terms and the parent given by their codes.
The same state is what the audit trail records before and after a change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum import ean

from billops.core.currencies import validate_currency
from billops.core.errors import DomainError, InvalidAmount, InvalidInput
from billops.core.money import money, to_decimal
from billops.customers.countries import COUNTRY_CODES
from billops.customers.errors import HierarchyCycle
from billops.customers.models import Address, Contact, Customer, PaymentTerms
from billops.customers.taxids import clean_tax_id, clean_vat_id

ACCOUNT_NUMBER = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{0,18}[A-Z0-9])?")
ACCOUNT_NUMBER_RULE = (
    "1 to 20 characters: letters A-Z, digits and dashes, starting and ending with a letter or digit"
)
TAG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
PHONE = re.compile(r"\+?[0-9 ()./-]*[0-9][0-9 ()./-]*(?:\s*(?:x|ext\.?)\s*[0-9]+)?", re.IGNORECASE)
EINVOICE_ENDPOINT = re.compile(r"(?P<scheme>[0-9]{4}):(?P<id>[A-Za-z0-9][A-Za-z0-9._:-]{0,49})")
DEFAULT_TERMS = "NET30"


@dataclass
class ContactData:
    role: str
    name: str = ""
    email: str = ""
    phone: str = ""
    is_primary: bool | str = False


@dataclass
class AddressData:
    kind: str
    lines: str
    city: str
    country: str
    region: str = ""
    postal_code: str = ""


@dataclass
class CustomerData:
    """A new customer as given by a person or a file; `check_customer` turns it into checked values."""

    account_number: str
    legal_name: str
    currency: str
    country: str
    trading_name: str = ""
    status: str = Customer.Status.ACTIVE
    terms: str = DEFAULT_TERMS  # a PaymentTerms code
    vat_id: str = ""
    tax_id: str = ""
    tax_status: str = Customer.TaxStatus.TAXABLE
    exemption_certificate: str = ""
    exemption_expires_on: date | str | None = None  # ISO 8601 text or a date
    cycle: str = Customer.Cycle.MONTHLY
    cycle_day: int | str | None = None  # 1..31; day 1 when left out (not used for anniversary billing)
    anniversary_on: date | str | None = None
    credit_limit: Decimal | int | str = Decimal(0)  # decimal text or Decimal; a float is refused
    remittance_instructions: str = ""
    delivery_method: str = Customer.Delivery.EMAIL
    einvoice_endpoint_id: str = ""
    run_invoice_per: str = Customer.InvoicePer.CUSTOMER
    run_creates_drafts: bool | str = False
    parent_account_number: str = ""
    bill_to_parent: bool | str = False
    tags: list[str] | str = field(default_factory=list)
    notes: str = ""
    contacts: list[ContactData] = field(default_factory=list)
    addresses: list[AddressData] = field(default_factory=list)


CUSTOMER_FIELDS = (
    "account_number",
    "legal_name",
    "trading_name",
    "status",
    "currency",
    "terms",
    "country",
    "vat_id",
    "tax_id",
    "tax_status",
    "exemption_certificate",
    "exemption_expires_on",
    "cycle",
    "cycle_day",
    "anniversary_on",
    "credit_limit",
    "remittance_instructions",
    "delivery_method",
    "einvoice_endpoint_id",
    "run_invoice_per",
    "run_creates_drafts",
    "parent_account_number",
    "bill_to_parent",
    "tags",
    "notes",
)

_INVALID: Any = object()  # marks a field whose own check failed, so rules that read it stay quiet


# --- single values ---------------------------------------------------------------------------------


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # all but tab, LF and CR


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text", field=name)
    if CONTROL_CHARACTERS.search(value):
        raise InvalidInput(f"{name} holds control characters that cannot be stored", field=name)
    text = value.strip(" ")  # only spaces: a leading tab is kept literally, like any other character
    return text if text.strip() else ""  # whitespace alone is no text, as an empty cell in an import


def text_cleaner(
    max_length: int, *, required: bool = False, label: str = "", multiline: bool = False
) -> Callable[[Any, str], str]:
    """A text field. Multi-line text keeps its lines with LF line ends (browsers send CRLF and an XLSX
    cell cannot hold a CR); single-line text refuses line breaks."""

    def clean(value: Any, name: str) -> str:
        text = _text(value, name)
        if multiline:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        elif "\n" in text or "\r" in text:
            raise InvalidInput(f"{label or name} must be on one line", field=name)
        if required and not text:
            raise InvalidInput(f"{label or name} is required", field=name)
        if len(text) > max_length:
            raise InvalidInput(f"{label or name} is longer than {max_length} characters", field=name)
        return text

    return clean


def choice_cleaner(choices: type[Any]) -> Callable[[Any, str], str]:
    def clean(value: Any, name: str) -> str:
        text = _text(value, name).lower()
        if text not in choices.values:
            raise InvalidInput(f"{name} must be one of {', '.join(choices.values)}, not {text!r}", field=name)
        return text

    return clean


def clean_account_number(value: Any, name: str = "account_number") -> str:
    number = _text(value, name).upper()
    if not number:
        raise InvalidInput("the account number is required", field=name)
    if not ACCOUNT_NUMBER.fullmatch(number):
        raise InvalidInput(f"account number {number!r} is not valid: {ACCOUNT_NUMBER_RULE}", field=name)
    return number


def clean_parent_number(value: Any, name: str = "parent_account_number") -> str:
    return clean_account_number(value, name) if _text(value, name) else ""


def clean_currency(value: Any, name: str = "currency") -> str:
    return validate_currency(_text(value, name).upper(), field=name)


def clean_country(value: Any, name: str = "country") -> str:
    code = _text(value, name).upper()
    if code not in COUNTRY_CODES:
        raise InvalidInput(f"{code!r} is not an ISO 3166 two-letter country code", field=name)
    return code


def clean_terms(value: Any, name: str = "terms") -> str:
    code = _text(value, name).upper() or DEFAULT_TERMS
    if not PaymentTerms.objects.filter(code=code).exists():
        known = ", ".join(PaymentTerms.objects.values_list("code", flat=True))
        raise InvalidInput(f"there are no payment terms {code!r}; known terms: {known}", field=name)
    return code


def clean_date(value: Any, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    text = _text(value, name)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name} {text!r} is not a date written as YYYY-MM-DD", field=name) from None


def clean_cycle_day(value: Any, name: str = "cycle_day") -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,2}\s*", value):
        value = int(value)
    if type(value) is not int or not 1 <= value <= 31:
        raise InvalidInput(f"{name} must be a day of the month from 1 to 31, not {value!r}", field=name)
    return value


def clean_amount(value: Any, name: str = "credit_limit") -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    amount = to_decimal(value, field=name)  # refuses floats and text that is not plain decimal
    if amount < 0:
        raise InvalidAmount(f"{name} must not be negative (got {amount})", field=name)
    return amount


def clean_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value, name).lower() if value is not None else ""
    if text in ("", "false", "no", "n", "0"):
        return False
    if text in ("true", "yes", "y", "1"):
        return True
    raise InvalidInput(f"{name} must be true or false, not {text!r}", field=name)


def normalise_tag(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


def clean_tags(value: Any, name: str = "tags") -> list[str]:
    if value is None:
        return []
    items = re.split(r"[,;]", value) if isinstance(value, str) else list(value)
    tags = set()
    for item in items:
        if not isinstance(item, str):
            raise InvalidInput(f"{name} must be text", field=name)
        tag = normalise_tag(item)
        if not tag:
            continue
        if not TAG.fullmatch(tag):
            raise InvalidInput(
                f"tag {item.strip()!r} may only hold letters a-z, digits and dashes (40 at most)", field=name
            )
        tags.add(tag)
    return sorted(tags)


def clean_email(value: Any, name: str = "email") -> str:
    text = _text(value, name)
    if text:
        try:
            validate_email(text)
        except ValidationError:
            raise InvalidInput(f"{text!r} is not an e-mail address", field=name) from None
    return text


def clean_phone(value: Any, name: str = "phone") -> str:
    text = _text(value, name)
    if text and (len(text) > 40 or not PHONE.fullmatch(text)):
        raise InvalidInput(
            f"{text!r} is not a phone number (digits, spaces, + ( ) . / - and ext)", field=name
        )
    return text


def clean_einvoice_endpoint(value: Any, name: str = "einvoice_endpoint_id") -> str:
    text = _text(value, name)
    if not text:
        return ""
    match = EINVOICE_ENDPOINT.fullmatch(text)
    if not match:
        raise InvalidInput(
            f"e-invoice endpoint {text!r} must be '<4-digit scheme>:<identifier>', e.g. 0088:5798000000001",
            field=name,
        )
    if match["scheme"] == "0088" and not ean.is_valid(match["id"]):
        raise InvalidInput(f"{match['id']} is not a valid GLN for scheme 0088 (check digit)", field=name)
    return text


def _no_vat_check(value: Any, name: str) -> Any:
    return value  # checked with the country, below


CLEANERS: dict[str, Callable[[Any, str], Any]] = {
    "account_number": clean_account_number,
    "legal_name": text_cleaner(200, required=True, label="the legal name"),
    "trading_name": text_cleaner(200),
    "status": choice_cleaner(Customer.Status),
    "currency": clean_currency,
    "terms": clean_terms,
    "country": clean_country,
    "vat_id": _no_vat_check,
    "tax_id": _no_vat_check,
    "tax_status": choice_cleaner(Customer.TaxStatus),
    "exemption_certificate": text_cleaner(100),
    "exemption_expires_on": clean_date,
    "cycle": choice_cleaner(Customer.Cycle),
    "cycle_day": clean_cycle_day,
    "anniversary_on": clean_date,
    "credit_limit": clean_amount,
    "remittance_instructions": text_cleaner(2000, multiline=True),
    "delivery_method": choice_cleaner(Customer.Delivery),
    "einvoice_endpoint_id": clean_einvoice_endpoint,
    "run_invoice_per": choice_cleaner(Customer.InvoicePer),
    "run_creates_drafts": clean_bool,
    "parent_account_number": clean_parent_number,
    "bill_to_parent": clean_bool,
    "tags": clean_tags,
    "notes": text_cleaner(10_000, multiline=True),
}

NEW_CUSTOMER: dict[str, Any] = {
    "trading_name": "", "status": Customer.Status.ACTIVE.value, "terms": DEFAULT_TERMS, "vat_id": "",
    "tax_id": "", "tax_status": Customer.TaxStatus.TAXABLE.value, "exemption_certificate": "",
    "exemption_expires_on": None, "cycle": Customer.Cycle.MONTHLY.value, "cycle_day": None,
    "anniversary_on": None, "credit_limit": Decimal(0), "remittance_instructions": "",
    "delivery_method": Customer.Delivery.EMAIL.value, "einvoice_endpoint_id": "",
    "run_invoice_per": Customer.InvoicePer.CUSTOMER.value, "run_creates_drafts": False,
    "parent_account_number": "", "bill_to_parent": False, "tags": [], "notes": "",
}  # fmt: skip


# --- a whole customer ------------------------------------------------------------------------------


def check_customer(
    raw: Mapping[str, Any], *, base: Mapping[str, Any] | None, today: date
) -> tuple[dict[str, Any], list[DomainError]]:
    """Check `raw` (a new customer, or the changed fields over `base`) and return the whole resulting
    state with every problem found, each naming its field. Parent existence, hierarchy cycles and
    duplicate account numbers need the database and the caller's context: the services check those."""
    values, errors = _check_fields(
        raw,
        CLEANERS,
        base if base is not None else NEW_CUSTOMER,
        required=("account_number", "legal_name", "currency", "country"),
        unknown="is not a customer field",
    )
    errors += _check_together(values, given=set(raw), today=today)
    return values, errors


def _given(values: dict[str, Any], name: str, given: set[str]) -> bool:
    return name in given and values.get(name) not in (None, "", _INVALID)


def _check_together(values: dict[str, Any], *, given: set[str], today: date) -> list[DomainError]:
    """Rules across fields. A field left over from before that no longer applies is cleared; the same
    field given explicitly where it does not apply is refused."""
    errors: list[DomainError] = []

    def refuse(name: str, message: str, kind: type[DomainError] = InvalidInput) -> None:
        errors.append(kind(message, field=name))

    exempt = values["tax_status"] == Customer.TaxStatus.EXEMPT
    for name in ("exemption_certificate", "exemption_expires_on"):
        if exempt and values[name] in ("", None):
            refuse(name, f"{name.replace('_', ' ')} is required for a tax-exempt customer")
        elif not exempt and values["tax_status"] is not _INVALID and values[name] not in ("", None):
            if _given(values, name, given):
                refuse(name, f"{name.replace('_', ' ')} is only kept for tax-exempt customers")
            values[name] = "" if name == "exemption_certificate" else None
    expires = values["exemption_expires_on"]
    if exempt and isinstance(expires, date) and "exemption_expires_on" in given and expires < today:
        refuse(
            "exemption_expires_on", f"the exemption certificate expired on {expires}; attach a current one"
        )

    cycle = values["cycle"]
    if cycle == Customer.Cycle.ANNIVERSARY:
        if values["anniversary_on"] is None:
            refuse("anniversary_on", "anniversary billing needs the anniversary date")
        if values["cycle_day"] not in (None, _INVALID):
            if _given(values, "cycle_day", given):
                refuse("cycle_day", "anniversary billing runs on the anniversary date; leave cycle_day empty")
            values["cycle_day"] = None
    elif cycle is not _INVALID:
        if values["cycle_day"] is None:
            values["cycle_day"] = 1
        if values["anniversary_on"] not in (None, _INVALID):
            if _given(values, "anniversary_on", given):
                refuse("anniversary_on", f"anniversary_on is only used with anniversary billing, not {cycle}")
            values["anniversary_on"] = None

    if values["delivery_method"] == Customer.Delivery.EINVOICE and values["einvoice_endpoint_id"] == "":
        refuse(
            "einvoice_endpoint_id",
            "e-invoice delivery needs the e-invoice endpoint id, e.g. 0088:5798000000001",
        )

    country = values["country"]
    for name, check in (("vat_id", clean_vat_id), ("tax_id", clean_tax_id)):
        if country is _INVALID or values[name] is _INVALID:
            continue
        if name in given or "country" in given:
            try:
                values[name] = check(values[name], country, name)
            except DomainError as exc:
                errors.append(exc)
                values[name] = _INVALID

    if values["currency"] is not _INVALID and values["credit_limit"] is not _INVALID:
        try:  # fits the currency's minor unit and the amount column
            values["credit_limit"] = money(
                values["credit_limit"], values["currency"], field="credit_limit"
            ).amount
        except DomainError as exc:
            errors.append(exc)

    if values["bill_to_parent"] is True and values["parent_account_number"] == "":
        refuse("bill_to_parent", "bill to parent needs a parent account")
    if values["parent_account_number"] and values["parent_account_number"] == values["account_number"]:
        refuse("parent_account_number", "a customer cannot be its own parent", HierarchyCycle)
    return errors


def check_contact(
    raw: Mapping[str, Any], *, base: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], list[DomainError]]:
    """Check a contact (new, or changed fields over `base`); returns its state and every problem."""
    cleaners: dict[str, Callable[[Any, str], Any]] = {
        "role": choice_cleaner(Contact.Role),
        "name": text_cleaner(120),
        "email": clean_email,
        "phone": clean_phone,
        "is_primary": clean_bool,
    }
    defaults = {"name": "", "email": "", "phone": "", "is_primary": False}
    values, errors = _check_fields(raw, cleaners, base if base is not None else defaults, required=("role",))
    if values.get("name") == "" and values.get("email") == "":
        errors.append(InvalidInput("a contact needs a name or an e-mail address", field="name"))
    return values, errors


def check_address(
    raw: Mapping[str, Any], *, base: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], list[DomainError]]:
    """Check an address (new, or changed fields over `base`); returns its state and every problem."""
    cleaners: dict[str, Callable[[Any, str], Any]] = {
        "kind": choice_cleaner(Address.Kind),
        "lines": text_cleaner(500, required=True, label="the street lines", multiline=True),
        "city": text_cleaner(100, required=True, label="the city"),
        "region": text_cleaner(100),
        "postal_code": text_cleaner(20),
        "country": clean_country,
    }
    defaults = {"region": "", "postal_code": ""}
    return _check_fields(
        raw, cleaners, base if base is not None else defaults, required=("kind", "lines", "city", "country")
    )


def _check_fields(
    raw: Mapping[str, Any],
    cleaners: Mapping[str, Callable[[Any, str], Any]],
    base: Mapping[str, Any],
    *,
    required: tuple[str, ...],
    unknown: str = "is not a field here",
) -> tuple[dict[str, Any], list[DomainError]]:
    """Clean each field of `raw` over `base`; a field that fails, or is required and missing, is
    marked invalid in the values, so that rules across fields can pass over it."""
    values: dict[str, Any] = dict(base)
    errors: list[DomainError] = []
    for name, value in raw.items():
        if name not in cleaners:
            errors.append(InvalidInput(f"{name} {unknown}", field=name))
            continue
        try:
            values[name] = cleaners[name](value, name)
        except DomainError as exc:
            errors.append(exc)
            values[name] = _INVALID
    for name in required:
        if name not in values:
            errors.append(InvalidInput(f"{name} is required", field=name))
            values[name] = _INVALID
    return values, errors


def parent_problems(
    values: Mapping[str, Any], parent: Mapping[str, Any], parent_number: str
) -> list[DomainError]:
    """What makes an account unfit as this customer's parent; `parent` holds its currency and status."""
    problems: list[DomainError] = []
    if parent["status"] == Customer.Status.CLOSED:
        problems.append(InvalidInput(f"parent {parent_number} is closed", field="parent_account_number"))
    if values.get("bill_to_parent") is True and parent["currency"] != values.get("currency"):
        problems.append(
            InvalidInput(
                f"billing to the parent needs one currency: {parent_number} bills in {parent['currency']}, "
                f"this customer in {values.get('currency')}",
                field="bill_to_parent",
            )
        )
    return problems


# --- state of stored rows --------------------------------------------------------------------------


def customer_state(customer: Customer) -> dict[str, Any]:
    """The customer's master data as checked values: the base of a change and its audit before/after."""
    derived = {
        "terms": customer.terms.code,
        "credit_limit": customer.credit_limit_money.amount,
        "parent_account_number": customer.parent.account_number if customer.parent else "",
        "tags": sorted(tag.name for tag in customer.tags.all()),
    }
    return {name: derived[name] if name in derived else getattr(customer, name) for name in CUSTOMER_FIELDS}


def contact_state(contact: Contact) -> dict[str, Any]:
    return {"role": contact.role, "name": contact.name, "email": contact.email, "phone": contact.phone,
            "is_primary": contact.is_primary}  # fmt: skip


def address_state(address: Address) -> dict[str, Any]:
    return {"kind": address.kind, "lines": address.lines, "city": address.city, "region": address.region,
            "postal_code": address.postal_code, "country": address.country}  # fmt: skip
