"""Domain errors of metered usage; each names the field, event or file row at fault."""

from __future__ import annotations

from billops.core.errors import DomainError, FieldErrors, InvalidInput

SUMMARY_LIMIT = 20  # bad events named in the message; `errors` lists every one


class BatchRefused(FieldErrors):
    """A batch of events with bad events in it: every one is listed, and none of the batch is stored."""

    def __init__(self, errors: list[DomainError]) -> None:
        self.errors = errors
        shown = "; ".join(f"{error.field}: {error.message}" for error in errors[:SUMMARY_LIMIT])
        more = f"; and {len(errors) - SUMMARY_LIMIT} more" if len(errors) > SUMMARY_LIMIT else ""
        bad = len({error.field.split(".")[1] if error.field else "" for error in errors})
        InvalidInput.__init__(
            self,
            f"{bad} event{'' if bad == 1 else 's'} refused, nothing was stored — {shown}{more}",
            field=errors[0].field,
        )
