"""Domain errors of disputes; each names the field at fault and says what the clerk can do."""

from __future__ import annotations

from billops.core.errors import Conflict, InvalidAmount, InvalidInput


class WrongStatus(Conflict):
    """The action does not fit the case's status (investigating a rejected case, deciding a decided one)."""

    code = "wrong_status"


class OverDisputed(InvalidAmount):
    """The amount is more than the invoice (or the line) has open and not disputed already."""

    code = "over_disputed"


class AttachmentRefused(InvalidInput):
    """An empty file, or one larger than the limit."""

    code = "attachment_refused"
