"""Standard legal wording that a billing document must carry, in the document's language."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext

from billops.invoicing.rendering.formatting import resolve_language


def reverse_charge_note(language: str) -> str:
    """The statement an EU cross-border B2B invoice needs when the customer accounts for the VAT."""
    with translation.override(resolve_language(language)):
        return gettext(
            "Reverse charge: VAT to be accounted for by the recipient "
            "(Article 196, Council Directive 2006/112/EC)."
        )
