"""Billing documents as self-contained HTML (styles inlined, nothing fetched) for print and PDF.

Every figure is formatted here in the document's language; the templates under
templates/invoicing/pdf/ only place the strings and translate the labels.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from stdnum import iban as stdnum_iban
from stdnum import iso11649

from billops.invoicing.rendering.formatting import (
    country_name,
    format_amount,
    format_date,
    format_number,
    format_percent,
    resolve_language,
)
from billops.invoicing.rendering.reference import format_creditor_reference
from billops.invoicing.rendering.views import BankDetails, DocumentView, Party, StatementView

_TEMPLATES = "invoicing/pdf"
_EN_DASH = "\u2013"  # a range of dates, as typeset in all three languages


def render_document_html(view: DocumentView) -> str:
    """The invoice, credit note, debit note or draft as the customer will read it, in its language."""
    language = resolve_language(view.language)
    with translation.override(language):
        # a draft's reference usually encodes the number it does not have yet: nobody must pay on it
        reference = "" if view.kind == "draft" else view.payment_reference
        context = _common_context(language, view.currency, view.seller, view.bank, reference)
        context.update(_document_context(view, language))
        return render_to_string(f"{_TEMPLATES}/invoice.html", context)


def render_statement_html(view: StatementView) -> str:
    """The customer's statement of account for a period, with its aging, in the customer's language."""
    language = resolve_language(view.language)
    with translation.override(language):
        context = _common_context(language, view.currency, view.seller, view.bank, view.payment_reference)
        context.update(_statement_context(view, language))
        return render_to_string(f"{_TEMPLATES}/statement.html", context)


def _document_context(view: DocumentView, language: str) -> dict[str, Any]:
    def money(amount: Decimal) -> str:
        return format_amount(amount, view.currency, language)

    return {
        "doc": view,
        "is_draft": view.kind == "draft",
        "issue_on": format_date(view.issue_on, language),
        "due_on": format_date(view.due_on, language) if view.due_on else "",
        "service_period": _period(view.service_start, view.service_end, language),
        "bill_to": _party(view.bill_to, language),
        "ship_to": _party(view.ship_to, language) if view.ship_to else None,
        "show_discount": any(line.discount_percent for line in view.lines),
        "lines": [
            {
                "description": line.description,
                "service_period": _period(line.service_start, line.service_end, language),
                "reference": line.reference,
                "quantity": format_number(line.quantity, language),
                "unit": line.unit,
                # a unit price keeps its cents even when whole: 12.50, 12.3456
                "unit_price": format_number(line.unit_price, language, min_places=2),
                "discount": format_percent(line.discount_percent, language) if line.discount_percent else "",
                "tax_rate": format_percent(line.tax_rate, language),
                "net": money(line.net),
            }
            for line in view.lines
        ],
        "tax_rows": [
            {
                "label": row.label,
                "rate": format_percent(row.rate, language),
                "taxable": money(row.taxable),
                "tax": money(row.tax),
                "note": row.note,
            }
            for row in view.tax_summary
        ],
        "totals": {
            # the lines' nets are after discount, so the list price total is shown above the discount
            "before_discount": money(view.subtotal + view.discount_total) if view.discount_total else "",
            "discount": money(-view.discount_total) if view.discount_total else "",
            "subtotal": money(view.subtotal),
            "tax": money(view.tax_total),
            "total": money(view.total),
        },
    }


def _statement_context(view: StatementView, language: str) -> dict[str, Any]:
    def money(amount: Decimal) -> str:
        return format_amount(amount, view.currency, language)

    return {
        "statement": view,
        "customer": _party(view.customer, language),
        "period_start": format_date(view.period_start, language),
        "as_of": format_date(view.as_of, language),
        "opening_balance": money(view.opening_balance),
        "closing_balance": money(view.closing_balance),
        "rows": [
            {
                "on": format_date(row.on, language),
                "kind": row.kind,
                "number": row.number,
                "description": row.description,
                "due_on": format_date(row.due_on, language) if row.due_on else "",
                # an empty cell reads faster than a column of zeros
                "debit": money(row.debit) if row.debit else "",
                "credit": money(row.credit) if row.credit else "",
                "balance": money(row.balance),
            }
            for row in view.rows
        ],
        "aging": [{"label": bucket.label, "amount": money(bucket.amount)} for bucket in view.aging],
    }


def _common_context(
    language: str, currency: str, seller: Party, bank: BankDetails | None, payment_reference: str
) -> dict[str, Any]:
    return {
        "lang": language,
        "currency": currency,
        "seller": _party(seller, language),
        "bank": _bank(bank),
        "payment_reference": _payment_reference(payment_reference),
        # pieces of the CSS `content` that prints "Page X of Y" in a page margin
        "css_page": mark_safe('" counter(page) "'),
        "css_pages": mark_safe('" counter(pages) "'),
    }


def _party(party: Party, language: str) -> dict[str, Any]:
    lines = [line for line in party.address_lines if line]
    if party.country:
        lines.append(country_name(party.country, language))
    return {
        "name": party.name,
        "lines": lines,
        "vat_id": party.vat_id,
        "tax_id": party.tax_id,
        "email": party.email,
        "phone": party.phone,
    }


def _bank(bank: BankDetails | None) -> dict[str, str] | None:
    if bank is None:
        return None
    return {
        "account_holder": bank.account_holder,
        # IBANs are read aloud and typed in groups of four
        "iban": stdnum_iban.format(bank.iban) if bank.iban else "",
        "bic": bank.bic,
        "bank_name": bank.bank_name,
        "account_number": bank.account_number,
        "routing_number": bank.routing_number,
    }


def _payment_reference(reference: str) -> str:
    # an RF reference is printed in groups of four; any other reference exactly as given
    return format_creditor_reference(reference) if iso11649.is_valid(reference) else reference


def _period(start: date | None, end: date | None, language: str) -> str:
    if start and end:
        return f"{format_date(start, language)} {_EN_DASH} {format_date(end, language)}"
    day = start or end
    return format_date(day, language) if day else ""
