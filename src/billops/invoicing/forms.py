"""Forms of the invoice pages. They parse what was posted (text as typed, dates as dates) and show it
again; every rule lives in the services, whose errors the views put next to the fields they name."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.urls import reverse_lazy

from billops.catalog.models import Product, TaxCode
from billops.core.errors import DomainError, InvalidInput, PermissionDenied
from billops.invoicing.models import Invoice, InvoiceLine
from billops.invoicing.rendering.formatting import format_number
from billops.invoicing.services.corrections import CreditLine
from billops.invoicing.services.drafts import LANGUAGES
from billops.invoicing.services.lines import LineData

LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French"}


def text_field(label: str, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.TextInput(attrs=attrs))


def number_field(label: str, **attrs: Any) -> forms.CharField:
    return text_field(label, inputmode="decimal", autocomplete="off", **attrs)


def select_field(label: str, choices: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices))


def _date(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _area(label: str, rows: int = 2) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": rows}))


def parse_date(value: str, *, field: str) -> date | None:
    """A date as a browser's date input sends it (YYYY-MM-DD), or None when left empty."""
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date like 2026-01-31", field=field) from None


def plain(value: Decimal, min_places: int = 0) -> str:
    """A quantity or price as a clerk types it: 2, 1.25, 49.90 (no grouping, so it posts back as typed)."""
    return format_number(value, "en", min_places=min_places).replace(",", "")


class ServiceForm(forms.Form):
    """A form whose values go to a service as typed; `dates` are parsed, `omit_blank` left out when empty
    (so the service keeps its default), `aliases` name the form field of a service's field."""

    dates: tuple[str, ...] = ()
    omit_blank: tuple[str, ...] = ()
    aliases: dict[str, str] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{type(self).__name__.lower()}-%s")
        super().__init__(*args, **kwargs)

    def text(self, name: str) -> str:
        value = self.data.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def values(self) -> dict[str, Any]:
        """The values for the service; raises InvalidInput, at its field, for a date it cannot read."""
        values: dict[str, Any] = {}
        for name in self.fields:
            text = self.text(name)
            if name in self.omit_blank and not text:
                continue
            values[name] = parse_date(text, field=name) if name in self.dates else text
        return values

    def field_for(self, service_field: str | None) -> str | None:
        """The form field a service's error belongs to ("line.quantity" → "quantity"), or None: on top."""
        name = (service_field or "").split(".")[-1]
        name = self.aliases.get(name, name)
        return name if name in self.fields else None

    def show_error(self, exc: DomainError) -> int:
        """Put the error next to its field (or on top of the form) and return the page's HTTP status."""
        self.is_valid()  # the fields refuse nothing themselves; this only prepares the error store
        self.add_error(self.field_for(exc.field), exc.message)
        return 403 if isinstance(exc, PermissionDenied) else 200


class HeaderForm(ServiceForm):
    issued_on = _date("Invoice date")
    service_start = _date("Service from")
    service_end = _date("Service to")
    po_number = text_field("PO number", autocomplete="off")
    reference = text_field("Reference", autocomplete="off")
    invoice_discount_percent = number_field("Invoice discount %", placeholder="0")
    language = select_field(
        "Language", [("", "the customer's")] + [(c, LANGUAGE_NAMES[c]) for c in LANGUAGES]
    )
    notes = _area("Notes printed on the document")

    dates = ("issued_on", "service_start", "service_end")
    omit_blank = ("language",)

    @staticmethod
    def initial_of(invoice: Invoice) -> dict[str, Any]:
        return {
            "issued_on": invoice.issued_on.isoformat() if invoice.issued_on else "",
            "service_start": invoice.service_start.isoformat() if invoice.service_start else "",
            "service_end": invoice.service_end.isoformat() if invoice.service_end else "",
            "po_number": invoice.po_number,
            "reference": invoice.reference,
            "invoice_discount_percent": plain(invoice.invoice_discount_percent),
            "language": invoice.language,
            "notes": invoice.notes,
        }


class NewInvoiceForm(HeaderForm):
    account_number = text_field(
        "Customer account number",
        placeholder="C-1001",
        autocomplete="off",
        autofocus=True,
        list="customer-options",  # suggestions as the clerk types, fetched by htmx
        **{
            "hx-get": reverse_lazy("invoicing:customer_options"),
            "hx-trigger": "input changed delay:250ms",
            "hx-target": "#customer-options",
            "hx-swap": "outerHTML",
        },
    )
    aliases = {"customer_id": "account_number"}
    field_order = ["account_number"]


class LineForm(ServiceForm):
    product_code = text_field("Product", list="product-options", autocomplete="off", placeholder="code")
    description = text_field("Description", placeholder="from the product when empty")
    quantity = number_field("Quantity", placeholder="1")
    unit = text_field("Unit", placeholder="hour")
    unit_price = number_field("Unit price", placeholder="from the price list")
    discount_percent = number_field("Discount %", placeholder="0")
    discount_amount = number_field("Fixed discount", placeholder="0.00")
    tax_code = select_field("Tax code", [])
    service_start = _date("Service from")
    service_end = _date("Service to")
    reference = text_field("Reference")

    dates = ("service_start", "service_end")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = TaxCode.objects.filter(is_active=True).order_by("code")
        choices = [("", "the product's")] + [(c.code, f"{c.code} — {c.name}") for c in codes]
        self.fields["tax_code"].widget.choices = choices

    def line_data(self) -> LineData:
        values = self.values()
        values["unit_price"] = values["unit_price"] or None  # empty: priced from the catalog
        return LineData(**values)

    @staticmethod
    def initial_of(line: InvoiceLine) -> dict[str, Any]:
        """What the line says, as the form shows it; a catalog price stays empty so it is priced again."""
        entered = line.price_source == "entered"
        return {
            "product_code": line.product.code if line.product else "",
            "description": line.description,
            "quantity": plain(line.quantity),
            "unit": line.unit,
            "unit_price": plain(line.unit_price, 2) if entered else "",
            "discount_percent": plain(line.discount_percent),
            "discount_amount": plain(line.discount_amount) if line.discount_amount else "",
            "tax_code": line.tax_code.code,
            "service_start": line.service_start.isoformat() if line.service_start else "",
            "service_end": line.service_end.isoformat() if line.service_end else "",
            "reference": line.reference,
        }


def product_options() -> list[Product]:
    """The products a clerk can put on a line, for the product field's suggestions."""
    return list(Product.objects.filter(is_active=True).order_by("code").only("code", "name", "unit"))


class ReasonForm(ServiceForm):
    reason = text_field("Reason", maxlength=300)


class CreditNoteForm(ServiceForm):
    """The reason, and the whole invoice or a quantity or amount per line (`quantity_3`, `amount_3`)."""

    reason = text_field("Reason", maxlength=300)
    scope = forms.ChoiceField(
        label="Credit",
        required=False,
        choices=[("whole", "everything still open on the invoice"), ("lines", "the lines below")],
        widget=forms.RadioSelect,
        initial="whole",
    )

    def __init__(self, *args: Any, lines: list[InvoiceLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[f"quantity_{line.line_no}"] = number_field(f"Quantity of line {line.line_no}")
            self.fields[f"amount_{line.line_no}"] = number_field(f"Net amount of line {line.line_no}")

    def credit_lines(self) -> list[CreditLine] | None:
        """None credits what is left of every line; otherwise the lines given a quantity or an amount."""
        if self.text("scope") != "lines":
            return None
        chosen = [
            CreditLine(
                line.line_no,
                quantity=self.text(f"quantity_{line.line_no}") or None,
                amount=self.text(f"amount_{line.line_no}") or None,
            )
            for line in self.lines
        ]
        chosen = [c for c in chosen if c.quantity is not None or c.amount is not None]
        if not chosen:
            raise InvalidInput("enter a quantity or a net amount on at least one line", field="lines")
        return chosen

    def field_for(self, service_field: str | None) -> str | None:
        # "lines.1.quantity": the second line sent, which is the second line given a quantity or amount
        parts = (service_field or "").split(".")
        if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit():
            sent = [c.line_no for c in self.credit_lines() or []]
            index = int(parts[1])
            if index < len(sent):
                kind = "amount" if parts[-1] == "amount" else "quantity"
                return f"{kind}_{sent[index]}"
        return super().field_for(service_field)

    def rows(self) -> list[tuple[InvoiceLine, str, forms.BoundField, forms.BoundField]]:
        """Each line with its quantity as shown and its two inputs."""
        return [
            (line, plain(line.quantity), self[f"quantity_{line.line_no}"], self[f"amount_{line.line_no}"])
            for line in self.lines
        ]
