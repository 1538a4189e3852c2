"""ISO 11649 structured creditor references ("RF" references) for matching incoming payments.

A customer's bank checks the two check digits, so a mistyped reference is refused at payment time
instead of landing as unapplied cash.
"""

from __future__ import annotations

import re

MAX_BODY_LENGTH = 21  # ISO 11649: 25 characters in all, "RF" and two check digits included
_BODY = re.compile(r"[A-Z0-9]+")


def creditor_reference(text: str) -> str:
    """The RF reference for a document number or customer account: "RF" + check digits + body."""
    # separators in a document number ("INV-2026/0001") are not part of the reference
    body = "".join(character for character in text.upper() if character.isalnum())
    if not body:
        raise ValueError(f"A creditor reference needs at least one letter or digit, got {text!r}")
    if not _BODY.fullmatch(body):
        raise ValueError(f"A creditor reference takes only the letters A-Z and digits, got {text!r}")
    if len(body) > MAX_BODY_LENGTH:
        raise ValueError(
            f"A creditor reference holds at most {MAX_BODY_LENGTH} characters, {text!r} has {len(body)}"
        )
    # ISO 7064 MOD 97-10 over body + "RF00", letters counted as A=10 … Z=35
    digits = "".join(str(int(character, 36)) for character in body + "RF00")
    return f"RF{98 - int(digits) % 97:02d}{body}"


def format_creditor_reference(reference: str) -> str:
    """The reference in groups of four, as printed on a payment slip: "RF18 5390 0754 7034"."""
    compact = "".join(reference.split()).upper()
    return " ".join(compact[start : start + 4] for start in range(0, len(compact), 4))
