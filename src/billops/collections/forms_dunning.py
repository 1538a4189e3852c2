"""Forms of the dunning pages: a policy with its table of levels, a customer's dunning settings, and the
run (its day and scope). They read what was posted as typed; the services hold the rules, and the views put
their errors next to the fields they name (`levels.2.fee_amount` is the third row's fee)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from billops.collections.models import DunningLevel, DunningPolicy
from billops.collections.services.dunning import MOST_LEVELS, LevelData
from billops.invoicing.forms import number_field, parse_date, select_field, text_field
from billops.payments.forms import ServiceForm

LEVEL_FIELDS = (
    "days_after_due", "channel", "subject", "body", "fee_amount", "fee_percent", "interest_rate",
    "escalation",
)  # fmt: skip


def _date(label: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _plain(value: Any) -> str:
    """A stored number as a clerk types it: 8.0000 as 8, 5.000000 as 5.00."""
    text = f"{value.normalize():f}" if value else ""
    return text


class PolicyForm(ServiceForm):
    """A policy's settings and one row of fields per level (`days_after_due_1`, `subject_1`, …); a row
    left without days and subject is not a level."""

    code = text_field("Code", placeholder="STANDARD-EUR", maxlength=20, autocomplete="off")
    name = text_field("Name", maxlength=100)
    currency = text_field("Currency", placeholder="EUR", maxlength=3, autocomplete="off")
    minimum_amount = number_field("Minimum to send a notice", placeholder="0.00")
    is_default = forms.BooleanField(label="Default policy of its currency", required=False)
    aliases = {"levels": "", "policy_code": "code"}

    def __init__(self, *args: Any, rows: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sent = [
            int(key[15:]) for key in self.data if key.startswith("days_after_due_") and key[15:].isdigit()
        ]
        self.row_count = min(max([rows, *sent, 1]), MOST_LEVELS)
        self.row_numbers: list[int] = []  # the form row of each level sent to the service
        for row in range(1, self.row_count + 1):
            self.fields[f"days_after_due_{row}"] = number_field("Days after due", placeholder="10")
            self.fields[f"channel_{row}"] = select_field("Channel", DunningLevel.Channel.choices)
            self.fields[f"subject_{row}"] = text_field("Subject", placeholder="Reminder: {invoices}")
            self.fields[f"body_{row}"] = forms.CharField(
                label="Text", required=False, widget=forms.Textarea(attrs={"rows": 4})
            )
            self.fields[f"fee_amount_{row}"] = number_field("Fixed fee", placeholder="0.00")
            self.fields[f"fee_percent_{row}"] = number_field("or fee %", placeholder="0")
            self.fields[f"interest_rate_{row}"] = number_field("Interest % a year", placeholder="0")
            self.fields[f"escalation_{row}"] = select_field("Escalation", DunningLevel.Escalation.choices)

    @classmethod
    def for_policy(cls, policy: DunningPolicy | None) -> PolicyForm:
        """The form filled in with a policy, and one empty row for a new level."""
        if policy is None:
            return cls(initial={"currency": "EUR", "minimum_amount": "0.00"}, rows=3)
        initial: dict[str, Any] = {
            "code": policy.code, "name": policy.name, "currency": policy.currency,
            "minimum_amount": _plain(policy.minimum_amount) or "0", "is_default": policy.is_default,
        }  # fmt: skip
        levels = sorted(policy.levels.all(), key=lambda level: level.number)
        for row, level in enumerate(levels, start=1):
            for name in LEVEL_FIELDS:
                value = getattr(level, name)
                initial[f"{name}_{row}"] = (
                    _plain(value) if name in ("fee_amount", "fee_percent", "interest_rate") else value
                )
        return cls(initial=initial, rows=min(len(levels) + 1, MOST_LEVELS))

    def level_rows(self) -> list[list[forms.BoundField]]:
        return [[self[f"{name}_{row}"] for name in LEVEL_FIELDS] for row in range(1, self.row_count + 1)]

    def field_for(self, service_field: str | None) -> str | None:
        parts = (service_field or "").split(".")
        if len(parts) == 3 and parts[0] == "levels" and parts[1].isdigit():
            index = int(parts[1])
            if index < len(self.row_numbers):
                name = f"{parts[2]}_{self.row_numbers[index]}"
                return name if name in self.fields else None
        return super().field_for(service_field)

    def levels(self) -> list[LevelData]:
        levels = []
        self.row_numbers = []
        for row in range(1, self.row_count + 1):
            days, subject = self.text(f"days_after_due_{row}"), self.text(f"subject_{row}")
            if not days and not subject:
                continue
            self.row_numbers.append(row)
            levels.append(
                LevelData(
                    days_after_due=days, subject=subject, body=self.text(f"body_{row}"),
                    channel=self.text(f"channel_{row}") or DunningLevel.Channel.EMAIL,
                    fee_amount=self.text(f"fee_amount_{row}") or "0",
                    fee_percent=self.text(f"fee_percent_{row}") or "0",
                    interest_rate=self.text(f"interest_rate_{row}") or "0",
                    escalation=self.text(f"escalation_{row}") or DunningLevel.Escalation.NONE,
                )
            )  # fmt: skip
        return levels

    def arguments(self) -> dict[str, Any]:
        """The values for `save_dunning_policy`."""
        return {
            "code": self.text("code"),
            "name": self.text("name"),
            "currency": self.text("currency").upper(),
            "minimum_amount": self.text("minimum_amount") or "0",
            "is_default": self.data.get("is_default") in ("on", "1", "true"),
            "levels": self.levels(),
        }


class RunForm(ServiceForm):
    run_on = _date("Run as of")
    policy_code = select_field("Policy", [])
    aliases = {"run_on": "run_on", "products": ""}

    def __init__(self, *args: Any, policies: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "Every policy"), *((p.code, f"{p.code} — {p.name} ({p.currency})") for p in policies)]
        self.fields["policy_code"].widget.choices = choices

    def arguments(self) -> dict[str, Any]:
        return {
            "run_on": parse_date(self.text("run_on"), field="run_on"),
            "policy_code": self.text("policy_code"),
        }

    @classmethod
    def blank(cls, *, policies: Any, today: date) -> RunForm:
        return cls(initial={"run_on": today.isoformat()}, policies=policies)


class CustomerDunningForm(ServiceForm):
    policy_code = select_field("Dunning policy", [])
    excluded = forms.BooleanField(label="Excluded from dunning", required=False)
    reason = text_field("Reason for the exclusion", maxlength=200)

    def __init__(self, *args: Any, policies: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "The default of its currency"), *((p.code, f"{p.code} — {p.name}") for p in policies)]
        self.fields["policy_code"].widget.choices = choices

    def arguments(self) -> dict[str, Any]:
        return {
            "policy_code": self.text("policy_code") or None,
            "excluded": self.data.get("excluded") in ("on", "1", "true"),
            "reason": self.text("reason"),
        }
