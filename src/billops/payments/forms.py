"""Forms of the payments pages. They parse what was posted (amounts as decimal text, dates as dates) and
show it again; every rule lives in the services, whose errors the views put next to the fields they name."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms

from billops.core.errors import DomainError, InvalidAmount, InvalidInput, PermissionDenied, errors_of
from billops.core.money import Money, money, to_decimal
from billops.customers.models import Customer
from billops.invoicing.forms import number_field, parse_date, select_field, text_field
from billops.payments.models import Receipt, Refund
from billops.payments.services.applications import Allocation
from billops.payments.services.returns import RETURN_CODES
from billops.payments.statements import FORMATS

APPLY_ROWS = 4  # blank invoice rows the apply form offers; a posted form keeps as many as were sent
FORMAT_NAMES = {"camt": "camt.053 / camt.054", "bai2": "BAI2", "mt940": "MT940", "ofx": "OFX", "csv": "CSV"}


def invoice_numbers(text: str) -> list[str]:
    """Invoice numbers typed one after the other, separated by commas, semicolons or spaces."""
    return [number for number in re.split(r"[\s,;]+", text.strip()) if number]


class ServiceForm(forms.Form):
    """A form whose values go to a service as typed; `aliases` name the form field of a service's field."""

    aliases: dict[str, str] = {}

    def __init__(self, *args: Any, prefix_id: str = "", **kwargs: Any) -> None:
        # several forms of one kind on a page (one per queue line): ids stay unique
        kwargs.setdefault("auto_id", f"{prefix_id or type(self).__name__.lower()}-%s")
        super().__init__(*args, **kwargs)

    def text(self, name: str) -> str:
        value = self.data.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def field_for(self, service_field: str | None) -> str | None:
        """The form field a service's error belongs to, or None: on top of the form."""
        name = service_field or ""
        name = self.aliases.get(name, name.split(".")[-1])
        return name if name in self.fields else None

    def show_error(self, exc: DomainError) -> int:
        """Put each error next to its field (or on top of the form) and return the page's HTTP status."""
        self.is_valid()  # the fields refuse nothing themselves; this only prepares the error store
        for error in errors_of(exc):
            self.add_error(self.field_for(error.field), error.message)
        return 403 if isinstance(exc, PermissionDenied) else 200


def optional_decimal(text: str, *, field: str) -> Decimal | None:
    """A number typed in a form field, None when left empty; a bad one names the field."""
    try:
        return to_decimal(text) if text else None
    except InvalidAmount as exc:
        raise InvalidAmount(exc.message, field=field) from None


def bank_account_choices(accounts: Any) -> list[tuple[str, str]]:
    return [(account.code, f"{account.code} — {account.name} ({account.currency})") for account in accounts]


class ReceiptForm(ServiceForm):
    customer = text_field("Customer (account number)", placeholder="C-1001", autocomplete="off")
    bank_account = select_field("Into bank account", [])
    method = select_field("Method", Receipt.Method.choices)
    amount = number_field("Amount", placeholder="0.00")
    currency = text_field("Currency", placeholder="the customer's", maxlength=3, autocomplete="off")
    received_on = forms.CharField(
        label="Received on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    payer_name = text_field("Payer name")
    reference = text_field("Reference", placeholder="cheque number, bank reference")
    card_brand = text_field("Card brand", placeholder="VISA")
    card_last4 = text_field("Last four digits", inputmode="numeric", maxlength=4, autocomplete="off")
    processor_reference = text_field("Processor reference")
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    # a key used before for another receipt (the form posted, then changed and posted again) is said on top
    aliases = {"account_number": "customer", "customer_id": "customer", "posted_on": "received_on",
               "idempotency_key": ""}  # fmt: skip
    card_fields = ("card_brand", "card_last4", "processor_reference")

    def __init__(self, *args: Any, bank_accounts: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].widget.choices = bank_account_choices(bank_accounts)

    @classmethod
    def blank(cls, *, bank_accounts: Any, today: date) -> ReceiptForm:
        """A new form; its key makes a double-clicked submit post one receipt."""
        initial = {"method": Receipt.Method.WIRE, "received_on": today.isoformat(),
                   "idempotency_key": f"web-{uuid.uuid4()}"}  # fmt: skip
        return cls(initial=initial, bank_accounts=bank_accounts)

    def renew_key(self) -> None:
        """A fresh key, so that posting the changed form once more records another receipt on purpose."""
        self.data = {**self.data, "idempotency_key": f"web-{uuid.uuid4()}"}

    def general_fields(self) -> list[forms.BoundField]:
        skipped = {*self.card_fields, "idempotency_key"}
        return [self[name] for name in self.fields if name not in skipped]

    def card_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.card_fields]

    def arguments(self, customer: Customer) -> dict[str, Any]:
        """The values for `post_receipt`; the currency is the customer's unless another is typed. Raises
        InvalidAmount or UnknownCurrency, at its field, for an amount or a currency it cannot read."""
        currency = self.text("currency").upper() or customer.currency
        amount: Money = money(self.text("amount"), currency)
        return {
            "customer_id": customer.pk,
            "bank_account": self.text("bank_account"),
            "method": self.text("method"),
            "amount": amount,
            "received_on": parse_date(self.text("received_on"), field="received_on"),
            **{name: self.text(name) for name in ("payer_name", "reference", *self.card_fields)},
            "idempotency_key": self.text("idempotency_key"),
        }


class ApplyForm(ServiceForm):
    """Rows of invoice number and amount (`invoice_1`, `amount_1`, …): an empty amount applies as much as
    the invoice has open and the receipt has left. The "how" button says oldest first or these rows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sent = [int(key[8:]) for key in self.data if key.startswith("invoice_") and key[8:].isdigit()]
        self.row_count = max([APPLY_ROWS, *sent]) if sent else APPLY_ROWS
        for row in range(1, min(self.row_count, 50) + 1):
            self.fields[f"invoice_{row}"] = text_field(f"Invoice {row}", placeholder="INV-2026-000001")
            self.fields[f"amount_{row}"] = number_field(f"Amount {row}", placeholder="all open")
            self.fields[f"write_off_{row}"] = number_field(f"Write off {row}", placeholder="nothing")
        self.filled: list[int] = []  # the rows sent, in order: allocation n is row filled[n - 1]

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField, list[str]]]:
        rows = []
        for name in self.fields:
            if name.startswith("invoice_"):
                row = name[8:]
                invoice, amount, write_off = self[name], self[f"amount_{row}"], self[f"write_off_{row}"]
                rows.append(
                    (invoice, amount, write_off, [*invoice.errors, *amount.errors, *write_off.errors])
                )
        return rows

    def oldest_first(self) -> bool:
        return self.text("how") != "chosen"

    def allocations(self) -> list[Allocation] | None:
        """None for oldest first; else an allocation per row with an invoice number."""
        if self.oldest_first():
            return None
        allocations = []
        for name in self.fields:
            if not name.startswith("invoice_") or not self.text(name):
                continue
            row = name[8:]
            self.filled.append(int(row))
            amount = optional_decimal(self.text(f"amount_{row}"), field=f"amount_{row}")
            write_off = optional_decimal(self.text(f"write_off_{row}"), field=f"write_off_{row}")
            allocations.append(Allocation(self.text(name), amount, write_off=write_off or Decimal(0)))
        if not allocations:
            raise InvalidInput("name at least one invoice, or apply oldest first", field="invoice_1")
        return allocations

    def field_for(self, service_field: str | None) -> str | None:
        found = re.fullmatch(r"allocations\[(\d+)\]", service_field or "")
        if found and 0 < int(found[1]) <= len(self.filled):
            return f"invoice_{self.filled[int(found[1]) - 1]}"  # the row the clerk typed it in
        return super().field_for(service_field)


class ReasonForm(ServiceForm):
    reason = text_field("Reason", maxlength=300, autocomplete="off")


class ResolveForm(ServiceForm):
    """A parked line is this customer's payment, for the invoices named (none: oldest first)."""

    customer = text_field("Customer (account number)", placeholder="C-1001", autocomplete="off")
    invoices = text_field(
        "Invoices (optional)", placeholder="INV-2026-000001, INV-2026-000002", autocomplete="off"
    )
    write_off = number_field(
        "Write off what it leaves open of the last invoice (optional)", placeholder="nothing"
    )
    remember_payer = forms.BooleanField(
        label="Remember the payer's account for this customer", required=False
    )

    aliases = {"account_number": "customer", "customer_id": "customer"}

    def allocations(self) -> list[Allocation]:
        allocations = [Allocation(number) for number in invoice_numbers(self.text("invoices"))]
        write_off = optional_decimal(self.text("write_off"), field="write_off")
        if write_off:
            if not allocations:
                raise InvalidInput("name the invoice whose rest is written off", field="write_off")
            allocations[-1] = Allocation(allocations[-1].invoice_number, write_off=write_off)
        return allocations

    def remember(self) -> bool:
        return self.data.get("remember_payer", "") not in ("", "0", "false", "off")

    def field_for(self, service_field: str | None) -> str | None:
        if (service_field or "").startswith("allocations["):
            return "invoices"
        return super().field_for(service_field)


class ImportForm(ServiceForm):
    file = forms.FileField(label="Bank file", required=False)
    format = select_field("Format", [("", "recognise it"), *((name, FORMAT_NAMES[name]) for name in FORMATS)])
    bank_account = select_field("Bank account (needed for CSV)", [])

    def __init__(self, *args: Any, bank_accounts: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].widget.choices = [("", "—"), *bank_account_choices(bank_accounts)]

    def upload(self) -> Any:
        upload = self.files.get("file")
        if upload is None:
            raise InvalidInput("choose the bank file to import", field="file")
        return upload


class ReturnForm(ServiceForm):
    """The bank returned the payment: its reason code, and a note."""

    return_code = select_field(
        "Return reason", [(code, f"{code}: {text}") for code, text in sorted(RETURN_CODES.items())]
    )
    reason = text_field("Note (optional)", maxlength=300, autocomplete="off")
    fee = number_field("Fee to charge (optional)", placeholder="none")

    def fee_amount(self) -> Decimal | None:
        return optional_decimal(self.text("fee"), field="fee")


class RefundForm(ServiceForm):
    """Pay the customer back out of the receipt's unapplied cash."""

    amount = number_field("Amount")
    method = select_field("Method", Refund.Method.choices)
    reference = text_field("Reference", maxlength=100, autocomplete="off")
    reason = text_field("Reason", maxlength=300, autocomplete="off")


class ReturnLineForm(ReturnForm):
    """Money out that is a receipt coming back: which receipt, and the bank's reason code."""

    receipt = number_field("Receipt number (id)")


class RefundLineForm(ServiceForm):
    """Money out that is a refund already paid: which refund."""

    refund = number_field("Refund number (id)")
