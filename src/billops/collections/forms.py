"""Forms of the worklist and a customer's collections page. They read what was posted as typed; the rules
live in the services, whose errors the views put next to the fields they name."""

from __future__ import annotations

from typing import Any

from django import forms

from billops.collections.models import Activity
from billops.core.errors import InvalidInput
from billops.core.money import money
from billops.customers.models import Customer
from billops.invoicing.forms import number_field, parse_date, select_field, text_field
from billops.payments.forms import ServiceForm, invoice_numbers


def _date(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _area(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ActivityForm(ServiceForm):
    kind = select_field("What", Activity.Kind.choices)
    outcome = select_field("Outcome", Activity.Outcome.choices)
    contact = text_field("Contact", placeholder="who you spoke or wrote to")
    note = _area("Note")
    next_action_on = _date("Next action on")
    next_action = text_field("Next action", placeholder="Call again, send statement…")
    aliases = {"text": "note", "happened_on": ""}

    def arguments(self) -> dict[str, Any]:
        return {
            "kind": self.text("kind"),
            "outcome": self.text("outcome"),
            "contact": self.text("contact"),
            "text": self.text("note"),
            "next_action_on": parse_date(self.text("next_action_on"), field="next_action_on"),
            "next_action": self.text("next_action"),
        }


class PromiseForm(ServiceForm):
    amount = number_field("Amount", placeholder="0.00")
    promised_on = _date("To pay by")
    grace_days = number_field("Grace days", placeholder="3")
    contact = text_field("Promised by")
    invoices = text_field("Invoices (optional)", placeholder="INV-2026-000001, …")
    note = _area("Note")
    aliases = {"invoice_ids": "invoices", "currency": "amount"}

    def arguments(self, customer: Customer, open_invoices: dict[str, int]) -> dict[str, Any]:
        """The values for `record_promise`; an invoice number not open for the customer is refused there."""
        grace = self.text("grace_days")
        if grace and not grace.isdigit():
            raise InvalidInput(f"grace days are a whole number of days, not {grace!r}", field="grace_days")
        promised_on = parse_date(self.text("promised_on"), field="promised_on")
        if promised_on is None:
            raise InvalidInput("give the day the customer promised to pay by", field="promised_on")
        numbers = invoice_numbers(self.text("invoices"))
        return {
            "amount": money(self.text("amount"), customer.currency),
            "promised_on": promised_on,
            "grace_days": int(grace) if grace else None,
            "contact": self.text("contact"),
            "invoice_ids": [open_invoices.get(number, 0) for number in numbers],
            "note": self.text("note"),
        }


class NextActionForm(ServiceForm):
    on = _date("On")
    action = text_field("Action")


class AssignForm(ServiceForm):
    collector = select_field("Collector", [])
    aliases = {"collector_id": "collector"}

    def __init__(self, *args: Any, collectors: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collector"].widget.choices = [
            ("", "nobody"),
            *((user.pk, str(user)) for user in collectors),
        ]
