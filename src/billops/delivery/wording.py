"""The subject and text of the e-mails that carry documents and statements, in the document's language.

The PDF is the document; the e-mail only says what is attached, for how much and until when.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billops.invoicing.rendering.formatting import format_amount, format_date, resolve_language
from billops.invoicing.rendering.reference import format_creditor_reference

DOCUMENT_NAMES = {
    "invoice": {"en": "Invoice", "de": "Rechnung", "fr": "Facture"},
    "credit_note": {"en": "Credit note", "de": "Gutschrift", "fr": "Avoir"},
    "debit_note": {"en": "Debit note", "de": "Belastungsanzeige", "fr": "Note de débit"},
    "statement": {"en": "Statement of account", "de": "Kontoauszug", "fr": "Relevé de compte"},
}

# the document's name inside a sentence, with its article where the language needs one
_IN_TEXT = {
    "invoice": {"en": "invoice", "de": "die Rechnung", "fr": "la facture"},
    "credit_note": {"en": "credit note", "de": "die Gutschrift", "fr": "l'avoir"},
    "debit_note": {"en": "debit note", "de": "die Belastungsanzeige", "fr": "la note de débit"},
}

_SUBJECT = {"en": "{document} {number} from {seller}", "de": "{document} {number} von {seller}",
            "fr": "{document} {number} de {seller}"}  # fmt: skip

_DOCUMENT_TEXT = {
    "en": "Hello,\n\nplease find attached {document} {number} of {issued_on} for {total}.\n",
    "de": "Guten Tag,\n\nanbei erhalten Sie {document} {number} vom {issued_on} über {total}.\n",
    "fr": "Bonjour,\n\nveuillez trouver ci-joint {document} {number} du {issued_on} "
    "d'un montant de {total}.\n",
}
_DUE_TEXT = {
    "en": "It is due on {due_on}. Please quote the payment reference {reference} with your transfer.\n",
    "de": "Sie ist fällig am {due_on}. Bitte geben Sie bei der Überweisung die Zahlungsreferenz "
    "{reference} an.\n",
    "fr": "Elle est payable le {due_on}. Merci d'indiquer la référence de paiement {reference} avec votre "
    "virement.\n",
}
_STATEMENT_TEXT = {
    "en": "Hello,\n\nplease find attached the statement of account {account} from {start} to {end}.\n"
    "The balance on {end} is {balance}.\n",
    "de": "Guten Tag,\n\nanbei erhalten Sie den Kontoauszug {account} vom {start} bis {end}.\n"
    "Der Saldo am {end} beträgt {balance}.\n",
    "fr": "Bonjour,\n\nveuillez trouver ci-joint le relevé de compte {account} du {start} au {end}.\n"
    "Le solde au {end} est de {balance}.\n",
}
_CLOSING = {"en": "\nKind regards\n{seller}\n", "de": "\nMit freundlichen Grüßen\n{seller}\n",
            "fr": "\nCordialement,\n{seller}\n"}  # fmt: skip


def document_message(
    *,
    language: str,
    kind: str,  # "invoice", "credit_note" or "debit_note"
    number: str,
    seller: str,
    issued_on: date,
    total: Decimal,
    currency: str,
    due_on: date | None,
    payment_reference: str,
) -> tuple[str, str]:
    """The subject and text of the e-mail that carries an issued document."""
    language = resolve_language(language)
    document = DOCUMENT_NAMES[kind][language]
    subject = _SUBJECT[language].format(document=document, number=number, seller=seller)
    text = _DOCUMENT_TEXT[language].format(
        document=_IN_TEXT[kind][language],
        number=number,
        issued_on=format_date(issued_on, language),
        total=format_amount(total, currency, language),
    )
    if due_on and payment_reference:
        reference = format_creditor_reference(payment_reference)
        text += _DUE_TEXT[language].format(due_on=format_date(due_on, language), reference=reference)
    return subject, text + _CLOSING[language].format(seller=seller)


def statement_message(
    *,
    language: str,
    account: str,
    seller: str,
    period_start: date,
    as_of: date,
    balance: Decimal,
    currency: str,
) -> tuple[str, str]:
    """The subject and text of the e-mail that carries a statement of account."""
    language = resolve_language(language)
    subject = _SUBJECT[language].format(
        document=DOCUMENT_NAMES["statement"][language], number=account, seller=seller
    )
    text = _STATEMENT_TEXT[language].format(
        account=account,
        start=format_date(period_start, language),
        end=format_date(as_of, language),
        balance=format_amount(balance, currency, language),
    )
    return subject, text + _CLOSING[language].format(seller=seller)
