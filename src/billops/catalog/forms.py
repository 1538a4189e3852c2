"""Forms for the catalog's staff pages. They only parse what was posted and show it again; every rule
lives in `validation` and the services, whose errors the views attach to the fields named in them."""

from __future__ import annotations

from typing import Any

from django import forms

from billops.catalog.models import TaxCode
from billops.core.currencies import CURRENCY_CHOICES
from billops.core.errors import DomainError, PermissionDenied, errors_of

BLANK = [("", "—")]


def _text(label: str, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))


def _select(label: str, choices: Any = ()) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices))


def _date(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _number(label: str, placeholder: str) -> forms.CharField:
    # text, not a number input: a browser would read "19,5" by the user's locale and post 195
    return _text(label, inputmode="decimal", placeholder=placeholder, autocomplete="off")


class ServiceForm(forms.Form):
    """A form whose values go to a service as they were typed; checkboxes become True/False."""

    checkboxes: tuple[str, ...] = ()

    def raw(self) -> dict[str, Any]:
        """The values as typed; an unchecked checkbox is never sent, so a checkbox is always True or False."""
        return {
            name: self.data.get(name, "") not in ("", "0", "false", "off")
            if name in self.checkboxes
            else self.data.get(name, "")
            for name in self.fields
        }

    def show_error(self, exc: DomainError) -> int:
        """Put each error next to its field (or on top) and return the HTTP status for the page."""
        self.is_valid()  # the fields themselves refuse nothing; this only prepares the error store
        for error in errors_of(exc):
            field = (error.field or "").split(".")[-1]
            self.add_error(field if field in self.fields else None, error.message)
        return 403 if isinstance(exc, PermissionDenied) else 200


class ProductForm(ServiceForm):
    code = _text("Charge code", placeholder="CONSULT-HR", autocomplete="off")
    name = _text("Name")
    unit = _text("Unit", placeholder="hour")
    revenue_account = _select("Revenue account")
    tax_code = _select("Tax code")
    description = forms.CharField(
        label="Invoice line text", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, accounts: Any, tax_codes: Any, editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["revenue_account"].widget.choices = BLANK + [
            (a.code, f"{a.code} {a.name}") for a in accounts
        ]
        self.fields["tax_code"].widget.choices = BLANK + [(t.code, str(t)) for t in tax_codes]
        if editing:
            del self.fields["code"]  # invoices quote the charge code: it never changes


class TaxCodeForm(ServiceForm):
    code = _text("Code", placeholder="VAT-STD", autocomplete="off")
    name = _text("Name")
    kind = _select("Kind", TaxCode.Kind.choices)
    legal_note = _text("Legal note on documents")


class TaxRateForm(ServiceForm):
    tax_code = _select("Tax code")
    country = _text("Country", placeholder="DE", maxlength=2)
    region = _text("State (US sales tax)", placeholder="CA")
    locality = _text("ZIP code", placeholder="94103")
    rate = _number("Rate (percent)", "19")
    valid_from = _date("Valid from")
    valid_to = _date("Valid to (empty: until further notice)")

    def __init__(self, *args: Any, tax_codes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tax_code"].widget.choices = BLANK + [(t.code, str(t)) for t in tax_codes]


class RateImportForm(forms.Form):
    file = forms.FileField(label="Rate table (CSV)")


class PriceListForm(ServiceForm):
    code = _text("Code", placeholder="STD-EUR-2026", autocomplete="off")
    name = _text("Name")
    currency = _select("Currency", BLANK + CURRENCY_CHOICES)
    valid_from = _date("Valid from")
    valid_to = _date("Valid to (empty: until further notice)")
    is_default = forms.BooleanField(label="Default list of its currency", required=False)
    checkboxes = ("is_default",)


class ListPriceForm(ServiceForm):
    product_code = _select("Product")
    min_quantity = _number("From quantity", "0")
    unit_price = _number("Unit price", "49.90")

    def __init__(self, *args: Any, products: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["product_code"].widget.choices = BLANK + [
            (p.code, f"{p.code} {p.name}") for p in products
        ]


class CustomerPriceForm(ListPriceForm):
    valid_from = _date("Valid from")
    valid_to = _date("Valid to (empty: until further notice)")
    contract_reference = _text("Contract reference", placeholder="K-12")


class AssignPriceListForm(ServiceForm):
    price_list = _select("Price list")

    def __init__(self, *args: Any, price_lists: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "— the default list of the currency —")]
        self.fields["price_list"].widget.choices = choices + [
            (p.code, f"{p.code} {p.name}") for p in price_lists
        ]


class EndPriceForm(ServiceForm):
    valid_to = _date("Last day")
