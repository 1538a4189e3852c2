"""The ledger's domain errors. Each carries a message a clerk understands and the field at fault."""

from __future__ import annotations

from billops.core.errors import Conflict, InvalidInput


class UnbalancedEntry(InvalidInput):
    """Debits and credits of an entry differ in some currency; the message names the residual."""

    code = "unbalanced_entry"
    http_status = 400


class InactiveAccount(InvalidInput):
    code = "inactive_account"
    http_status = 400


class PeriodClosed(Conflict):
    """A posting date falls in a closed period (or before one)."""

    code = "period_closed"
    http_status = 409


class PeriodStateConflict(Conflict):
    """Closing a closed period, reopening an open one, or closing out of order."""

    code = "period_state_conflict"
    http_status = 409


class AlreadyReversed(Conflict):
    code = "already_reversed"
    http_status = 409


class CannotReverseReversal(Conflict):
    code = "cannot_reverse_reversal"
    http_status = 409


class EntryImmutable(Conflict):
    """Something tried to change or delete a posted journal row."""

    code = "entry_immutable"
    http_status = 409


class AccountInUse(Conflict):
    """An account cannot be deactivated while it is a control account or carries a balance."""

    code = "account_in_use"
    http_status = 409


class SubledgerAccount(InvalidInput):
    """A manual entry touched an account that a subledger keeps (receivables, unapplied cash)."""

    code = "subledger_account"
    http_status = 400


class DocumentEntry(Conflict):
    """A reversal was asked for an entry that a business document posted; that document corrects it."""

    code = "document_entry"
    http_status = 409
