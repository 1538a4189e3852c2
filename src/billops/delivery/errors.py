"""Domain errors of delivery; each names the field at fault and says what the clerk can do."""

from __future__ import annotations

from billops.core.errors import Conflict, InvalidInput


class NoRecipients(InvalidInput):
    """Nobody to send to: the customer has no billing contact with an e-mail address."""

    code = "no_recipients"


class NotSendable(Conflict):
    """The document cannot be sent: a draft has no number yet, a void document is cancelled."""

    code = "not_sendable"


class DeliveryInProgress(Conflict):
    """A delivery of the same document is still queued or being sent; a re-send would duplicate it."""

    code = "delivery_in_progress"


class NotRetryable(Conflict):
    """Only a queued or failed delivery is tried again; one that was sent, or may have been, is re-sent."""

    code = "not_retryable"
