"""Forms of the dispute pages. They parse what was posted and show it again; every rule lives in the
services, whose errors the views put next to the fields they name."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms

from billops.disputes.models import Reason, RootCause
from billops.disputes.selectors import DisputableLine
from billops.disputes.services import LineClaim
from billops.invoicing.forms import number_field, parse_date, select_field
from billops.payments.forms import ServiceForm, optional_decimal

ROOT_CAUSES = [("", "—"), *RootCause.choices]


def area_field(label: str, rows: int = 3, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": rows, **attrs}))


def date_field(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def owner_choices(users: Any, blank: str) -> list[tuple[str, str]]:
    return [("", blank), *((str(user.pk), user.get_username()) for user in users)]


class OpenForm(ServiceForm):
    """A new case: the reason, the whole case's amount or some lines (a box and an amount per line), the
    owner, the SLA due date and a first note."""

    reason = select_field("Reason", Reason.choices)
    amount = number_field("Disputed amount, tax included", placeholder="the lines' sum, or all open")
    owner_id = select_field("Owner", [])
    sla_due_on = date_field("SLA due on (empty: by the reason)")
    note = area_field("What the customer says")

    aliases = {"invoice_id": "", "source": "", "source_reference": "", "lines": ""}

    def __init__(self, *args: Any, lines: Sequence[DisputableLine] = (), owners: Any = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["owner_id"].widget.choices = owner_choices(owners, "nobody yet")
        self.line_numbers = [row.line.line_no for row in lines]
        for line_no in self.line_numbers:
            self.fields[f"line_{line_no}"] = forms.BooleanField(
                label=f"Dispute line {line_no}", required=False
            )
            self.fields[f"amount_{line_no}"] = number_field(
                f"Amount of line {line_no}", placeholder="all of it"
            )
        self.checked: list[int] = []  # the lines sent, in order: claim n is line checked[n - 1]

    def line_fields(self) -> dict[int, tuple[forms.BoundField, forms.BoundField]]:
        return {no: (self[f"line_{no}"], self[f"amount_{no}"]) for no in self.line_numbers}

    def claims(self) -> list[LineClaim]:
        claims = []
        for line_no in self.line_numbers:
            if self.data.get(f"line_{line_no}", "") in ("", "0", "false", "off"):
                continue
            self.checked.append(line_no)
            amount = optional_decimal(self.text(f"amount_{line_no}"), field=f"amount_{line_no}")
            claims.append(LineClaim(line_no=line_no, amount=amount))
        return claims

    def arguments(self) -> dict[str, Any]:
        """The values for `open_dispute`; a number or date it cannot read is refused at its field."""
        owner = self.text("owner_id")
        return {
            "reason": self.text("reason"),
            "amount": optional_decimal(self.text("amount"), field="amount"),
            "lines": self.claims() or None,
            "owner_id": int(owner) if owner.isdigit() else None,
            "sla_due_on": parse_date(self.text("sla_due_on"), field="sla_due_on"),
            "note": self.text("note"),
        }

    def field_for(self, service_field: str | None) -> str | None:
        found = re.fullmatch(r"lines\[(\d+)\](?:\.(\w+))?", service_field or "")
        if found and 0 < int(found[1]) <= len(self.checked):
            line_no = self.checked[int(found[1]) - 1]  # the row the clerk ticked
            return f"amount_{line_no}" if found[2] == "amount" else f"line_{line_no}"
        return super().field_for(service_field)


class InvestigateForm(ServiceForm):
    note = area_field("Note (optional)", rows=2)


class AssignForm(ServiceForm):
    owner_id = select_field("Owner", [])

    def __init__(self, *args: Any, owners: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_id"].widget.choices = owner_choices(owners, "nobody")

    def owner(self) -> int | None:
        owner = self.text("owner_id")
        return int(owner) if owner.isdigit() else None


class NoteForm(ServiceForm):
    note = area_field("Note")

    aliases = {"text": "note"}


class AttachmentForm(ServiceForm):
    # the service refuses an empty file, with its own message
    file = forms.FileField(label="File (at most 10 MiB)", required=False, allow_empty_file=True)


class RejectForm(ServiceForm):
    root_cause = select_field("Root cause", ROOT_CAUSES)
    note = area_field("Why it is rejected (the customer is told)", rows=2)


class WithdrawForm(ServiceForm):
    note = area_field("How the customer withdrew it", rows=2)


class ResolveForm(ServiceForm):
    root_cause = select_field("Root cause", ROOT_CAUSES)
    note = area_field("Resolution note", rows=2)


class ResolveCreditForm(ResolveForm):
    issued_on = date_field("Credit note date (empty: today)")

    def issued_on_date(self) -> date | None:
        return parse_date(self.text("issued_on"), field="issued_on")
