"""Forms of the payment plan pages: agreeing a plan from a customer's open invoices (equal instalments, or
rows of days with an amount or a percent), and cancelling one. Values are read as typed; the services hold
the rules, and the views show their errors next to the fields they name."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from billops.collections.services.plans import CustomInstalment, EqualInstalments, Schedule
from billops.core.errors import InvalidInput
from billops.invoicing.forms import number_field, parse_date, select_field, text_field
from billops.payments.forms import ServiceForm

CUSTOM_ROWS = 6  # the rows of a custom schedule the form offers; a posted form keeps as many as were sent


def _date(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _whole(text: str, field: str, default: int) -> int:
    if not text:
        return default
    if not text.isdigit():
        raise InvalidInput(f"a whole number, not {text!r}", field=field)
    return int(text)


class PlanForm(ServiceForm):
    kind = select_field("Instalments", [("equal", "Equal instalments"), ("custom", "As agreed, row by row")])
    count = number_field("Number of instalments", placeholder="3")
    first_due_on = _date("First due on")
    every = number_field("Every", placeholder="1")
    unit = select_field("", [("months", "months"), ("days", "days")])
    fee = number_field("Fee", placeholder="0.00")
    interest_rate = number_field("Interest % a year", placeholder="0")
    grace_days = number_field("Grace days", placeholder="0")
    missed_to_default = number_field("Defaults after missed instalments", placeholder="1")
    aliases = {
        "instalments.count": "count", "instalments.first_due_on": "first_due_on",
        "instalments.every": "every", "instalments.unit": "unit", "invoice_ids": "", "instalments": "",
    }  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sent = [int(key[7:]) for key in self.data if key.startswith("due_on_") and key[7:].isdigit()]
        self.row_count = min(max([CUSTOM_ROWS, *sent]), 60)
        self.row_numbers: list[int] = []
        for row in range(1, self.row_count + 1):
            self.fields[f"due_on_{row}"] = _date(f"Instalment {row} due on")
            self.fields[f"amount_{row}"] = number_field("Amount", placeholder="0.00")
            self.fields[f"percent_{row}"] = number_field("or %", placeholder="")

    @classmethod
    def blank(cls, *, today: date) -> PlanForm:
        return cls(initial={"kind": "equal", "count": "3", "every": "1", "unit": "months", "grace_days": "0",
                            "missed_to_default": "1", "first_due_on": today.isoformat()})  # fmt: skip

    def field_for(self, service_field: str | None) -> str | None:
        name = service_field or ""
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "instalments" and parts[1].isdigit():
            index = int(parts[1])
            if index < len(self.row_numbers):
                field = f"{parts[2]}_{self.row_numbers[index]}"
                return field if field in self.fields else None
        if name in self.aliases:
            return self.aliases[name] or None
        return super().field_for(service_field)

    def custom_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"due_on_{row}"], self[f"amount_{row}"], self[f"percent_{row}"]]
            for row in range(1, self.row_count + 1)
        ]

    def schedule(self) -> Schedule:
        if self.text("kind") != "custom":
            first = parse_date(self.text("first_due_on"), field="instalments.first_due_on")
            if first is None:
                raise InvalidInput("give the day the first instalment falls due", field="first_due_on")
            return EqualInstalments(
                count=_whole(self.text("count"), "count", 0), first_due_on=first,
                every=_whole(self.text("every"), "every", 1), unit=self.text("unit") or "months",
            )  # fmt: skip
        rows, self.row_numbers = [], []
        for row in range(1, self.row_count + 1):
            due, amount, percent = (self.text(f"{name}_{row}") for name in ("due_on", "amount", "percent"))
            if not (due or amount or percent):
                continue
            day = parse_date(due, field=f"due_on_{row}")
            if day is None:
                raise InvalidInput("give the day this instalment falls due", field=f"due_on_{row}")
            self.row_numbers.append(row)
            rows.append(CustomInstalment(due_on=day, amount=amount or None, percent=percent or None))
        if not rows:
            raise InvalidInput(
                "give at least one instalment: its day and its amount or percent", field="due_on_1"
            )
        return rows

    def arguments(self, invoice_ids: list[int]) -> dict[str, Any]:
        """The values for `create_payment_plan`."""
        return {
            "invoice_ids": invoice_ids,
            "instalments": self.schedule(),
            "fee": self.text("fee") or None,
            "interest_rate": self.text("interest_rate") or None,
            "grace_days": _whole(self.text("grace_days"), "grace_days", 0),
            "missed_to_default": _whole(self.text("missed_to_default"), "missed_to_default", 1),
        }


class CancelPlanForm(ServiceForm):
    reason = text_field("Reason", maxlength=300)
