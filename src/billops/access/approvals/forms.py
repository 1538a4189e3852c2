"""Forms of the approval pages: a decision (its note, and the digest of what the page showed) and a
cancellation. They only carry what was typed; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms

from billops.core.errors import DomainError, errors_of


class DecisionForm(forms.Form):
    note = forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500})
    )
    # the digest of the request as this page showed it: an approval of an amended request is refused
    snapshot_digest = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, prefix_id: str, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{prefix_id}-%s")  # the approve and reject forms share one page
        super().__init__(*args, **kwargs)

    def text(self, name: str) -> str:
        value = self.data.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def show_error(self, exc: DomainError) -> bool:
        """Put an error about the note next to it; False when the error belongs on top of the page."""
        shown = [error for error in errors_of(exc) if error.field == "note"]
        if shown:
            self.is_valid()  # prepares the error store; the fields refuse nothing themselves
            for error in shown:
                self.add_error("note", error.message)
        return bool(shown)
