"""Domain errors of invoicing; each names the field at fault and says what the clerk can do."""

from __future__ import annotations

from billops.core.errors import Conflict, InvalidInput, PermissionDenied


class NotEditable(Conflict):
    """The document is issued (or void): it never changes again; a correction is a new document."""

    code = "not_editable"


class WrongStatus(Conflict):
    """The action does not fit the document's status (issuing an issued invoice, approving a draft)."""

    code = "wrong_status"


class PreIssueCheckFailed(Conflict):
    """A blocking pre-issue check failed: credit hold, missing PO number, zero amount, …"""

    code = "pre_issue_check_failed"


class SelfApproval(PermissionDenied):
    code = "self_approval"


class OverCredit(InvalidInput):
    """A credit note would credit more than is still creditable."""

    code = "over_credit"
