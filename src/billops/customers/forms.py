"""Forms for the staff pages. They only parse what was posted and show it again; every rule lives in
`validation` and the services, whose errors the views attach to the fields named in them."""

from __future__ import annotations

from typing import Any

from django import forms

from billops.core.currencies import CURRENCY_CHOICES
from billops.core.errors import DomainError, PermissionDenied, errors_of
from billops.customers.models import Address, Contact, Customer, PaymentTerms
from billops.customers.validation import CUSTOMER_FIELDS

BLANK = [("", "—")]


def _text(label: str, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))


def _select(label: str, choices: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices))


def _date(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _area(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ServiceForm(forms.Form):
    """A form whose values go to a service as they were typed; checkboxes become True/False."""

    checkboxes: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # left out when not sent, so they keep their default (or stay unchanged)

    def raw(self) -> dict[str, Any]:
        """The values as typed; an unchecked checkbox is never sent, so a checkbox is always True or False."""
        return {
            name: self._checked(name) if name in self.checkboxes else self.data.get(name, "")
            for name in self.fields
            if name in self.data or name not in self.optional or name in self.checkboxes
        }

    def _checked(self, name: str) -> bool:
        return self.data.get(name, "") not in ("", "0", "false", "off")

    def show_error(self, exc: DomainError) -> int:
        """Put each error next to its field (or on top) and return the HTTP status for the page."""
        self.is_valid()  # the fields themselves refuse nothing; this only prepares the error store
        for error in errors_of(exc):
            field = (error.field or "").split(".")[-1]
            self.add_error(field if field in self.fields else None, error.message)
        return 403 if isinstance(exc, PermissionDenied) else 200


class CustomerForm(ServiceForm):
    account_number = _text("Account number", placeholder="C-1001", autocomplete="off")
    legal_name = _text("Legal name")
    trading_name = _text("Trading name")
    status = _select("Status", Customer.Status.choices)
    currency = _select("Currency", BLANK + CURRENCY_CHOICES)
    country = _text("Country (ISO code)", placeholder="DE", maxlength=2)
    terms = _select("Payment terms", [])
    vat_id = _text("VAT ID", placeholder="DE136695976")
    tax_id = _text("Tax ID")
    tax_status = _select("Tax status", Customer.TaxStatus.choices)
    exemption_certificate = _text("Exemption certificate")
    exemption_expires_on = _date("Exemption expires on")
    cycle = _select("Billing cycle", Customer.Cycle.choices)
    cycle_day = _text("Cycle day (1 to 31)", inputmode="numeric")
    anniversary_on = _date("Anniversary date")
    credit_limit = _text("Credit limit", inputmode="decimal", placeholder="0.00")
    delivery_method = _select("Delivery", Customer.Delivery.choices)
    einvoice_endpoint_id = _text("E-invoice endpoint", placeholder="0088:5798000000001")
    remittance_instructions = _area("Remittance instructions")
    run_invoice_per = _select("Bill runs make", Customer.InvoicePer.choices)
    run_creates_drafts = forms.BooleanField(label="Bill runs leave drafts to review", required=False)
    parent_account_number = _text("Parent account number")
    bill_to_parent = forms.BooleanField(label="Bill to parent", required=False)
    tags = _text("Tags (comma separated)")
    notes = _area("Notes")

    checkboxes = ("bill_to_parent", "run_creates_drafts")
    optional = tuple(set(CUSTOMER_FIELDS) - {"account_number", "legal_name", "currency", "country"})
    fieldsets = (
        ("Account", ("account_number", "legal_name", "trading_name", "status", "currency", "country")),
        (
            "Terms and billing",
            (
                "terms",
                "cycle",
                "cycle_day",
                "anniversary_on",
                "credit_limit",
                "run_invoice_per",
                "run_creates_drafts",
            ),
        ),
        ("Tax", ("vat_id", "tax_id", "tax_status", "exemption_certificate", "exemption_expires_on")),
        ("Delivery and payment", ("delivery_method", "einvoice_endpoint_id", "remittance_instructions")),
        ("Hierarchy and notes", ("parent_account_number", "bill_to_parent", "tags", "notes")),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        terms = [(t.code, f"{t.code} — {t.name}") for t in PaymentTerms.objects.order_by("code")]
        self.fields["terms"].widget.choices = terms
        if editing:
            del self.fields["credit_limit"]  # changed on the detail page, by a supervisor

    def grouped(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.fieldsets
        ]


def initial_from_state(state: dict[str, Any]) -> dict[str, Any]:
    """A customer's state as form values."""
    initial = {name: "" if value is None else value for name, value in state.items()}
    initial["tags"] = ", ".join(state["tags"])
    return initial


class ContactForm(ServiceForm):
    role = _select("Role", Contact.Role.choices)
    name = _text("Name")
    email = _text("E-mail")
    phone = _text("Phone")
    is_primary = forms.BooleanField(label="Primary for this role", required=False)
    checkboxes = ("is_primary",)


class AddressForm(ServiceForm):
    kind = _select("Kind", Address.Kind.choices)
    lines = _area("Street lines")
    city = _text("City")
    region = _text("Region")
    postal_code = _text("Postal code")
    country = _text("Country", maxlength=2)


class CreditHoldForm(ServiceForm):
    reason = _text("Reason")


class ReleaseForm(ServiceForm):
    note = _text("Note")


class CreditLimitForm(ServiceForm):
    credit_limit = _text("Credit limit", inputmode="decimal")


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV or XLSX file")
