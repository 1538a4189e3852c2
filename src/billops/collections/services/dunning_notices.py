"""One notice of a dunning run: its text, its letter, the debit note for its fee and interest, its e-mail,
and the escalation of its level. Building blocks of `run_dunning`, inside its transaction, the customer
locked by it; `charge_on_debit_note` also serves payment plans."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from stdnum import iban as stdnum_iban

from billops.access.models import User
from billops.audit.services import record_event
from billops.catalog.models import Product
from billops.collections.models import DunningLevel, DunningNotice, DunningRun, NoticeItem
from billops.collections.selectors.dunning import PlannedItem, PlannedNotice
from billops.collections.services.accounts import profile_of
from billops.core.errors import Conflict, NotFound
from billops.core.money import round_money
from billops.customers.models import Customer
from billops.customers.services import put_on_credit_hold
from billops.delivery.services import queue_notice_delivery
from billops.invoicing.models import BillingEntity, DocumentType, Invoice
from billops.invoicing.rendering.formatting import country_name, format_amount, format_date, resolve_language
from billops.invoicing.rendering.pdf import render_pdf
from billops.invoicing.rendering.reference import creditor_reference, format_creditor_reference
from billops.invoicing.rendering.views import BankDetails, Party
from billops.invoicing.services.documents import customer_party, entity_bank, entity_party, sha256
from billops.invoicing.services.drafts import build_lines, invoice_state, new_document
from billops.invoicing.services.lines import LineData, recalculate
from billops.invoicing.services.workflow import approval_reason, issue_document, pre_issue_checks

FEE_PRODUCT = "DUNNING-FEE"  # the catalog products the charges are billed as: their tax code and account
INTEREST_PRODUCT = "LATE-INTEREST"
MOST_INTEREST_LINES = 200  # beyond this many invoices a debit note carries one interest line
Escalation = DunningLevel.Escalation

# the placeholders a level's subject and text may use, and what each is replaced by
PLACEHOLDERS = {
    "customer": "the customer's name",
    "account": "the customer's account number",
    "invoices": "the invoices dunned, one a line (in a subject: their numbers)",
    "total": "what the notice asks for: the invoices' overdue amounts, disputes left out",
    "fee": "the fee charged",
    "interest": "the interest charged",
    "amount_due": "the total, the fee and the interest together (with any tax on them)",
    "debit_note": "the number of the debit note that charges the fee and interest",
    "level": "the level's number",
    "date": "the run's day",
    "seller": "our company's name",
}
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_]+)\}")


def unknown_placeholders(text: str) -> list[str]:
    """The {names} in a level's text that are not placeholders."""
    return sorted({name for name in _PLACEHOLDER.findall(text) if name and name not in PLACEHOLDERS})


def fill(text: str, values: Mapping[str, str]) -> str:
    """The text with each {placeholder} replaced; {{ and }} are literal braces."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return values.get(match.group(1), token)

    return _PLACEHOLDER.sub(replace, text)


# --- charging the fee and interest -----------------------------------------------------------------


def require_products(codes: Sequence[str], *, field: str) -> None:
    """Refuse when a product the charges are billed as is missing or inactive."""
    present = set(Product.objects.filter(code__in=codes, is_active=True).values_list("code", flat=True))
    for code in codes:
        if code not in present:
            raise NotFound(
                f"there is no active product {code}: a supervisor sets it up in the catalog (or with "
                "'Set up the fee products' on the dunning policies page) before fees or interest are charged",
                field=field,
            )


def charge_on_debit_note(
    *,
    customer: Customer,
    entity: BillingEntity,
    lines: Sequence[LineData],
    on: date,
    reason: str,
    reference: str,
    actor: User,
) -> Invoice:
    """A debit note of its own for charges (fees, interest): issued on `on` and posted, or left a draft for a
    clerk when it cannot be issued in one step (approval needed, a credit hold); audited either way."""
    note = new_document(
        customer=customer, entity=entity, actor=actor, document_type=DocumentType.DEBIT_NOTE,
        issued_on=on, reference=reference[:100],
    )  # fmt: skip
    note.reason = reason[:300]
    note.save(update_fields=["reason"])
    recalculate(note, new_lines=build_lines(note, lines, is_new=True), is_new=True)
    record_event(
        actor=actor,
        action="debit_note.draft_created",
        target=note,
        after={**invoice_state(note), "reason": note.reason},
    )
    if approval_reason(note) or any(check.blocking for check in pre_issue_checks(note)):
        return note
    return issue_document(note, actor=actor, issued_on=on)


def _interest_lines(items: Sequence[PlannedItem], language: str) -> list[LineData]:
    charged = [item for item in items if item.interest]
    if len(charged) > MOST_INTEREST_LINES:
        total = sum((item.interest for item in charged), Decimal(0))
        return [
            LineData(
                quantity="1", product_code=INTEREST_PRODUCT, unit_price=total,
                description=f"Late interest on {len(charged)} invoices, as the dunning notice lists them",
            )
        ]  # fmt: skip
    lines = []
    for item in charged:
        assert item.interest_from and item.interest_to
        amount = format_amount(item.amount, item.invoice.currency, language)
        lines.append(
            LineData(
                quantity="1", product_code=INTEREST_PRODUCT, unit_price=item.interest,
                description=f"Late interest of {item.level.interest_rate.normalize():f} % a year on "
                f"{item.invoice.number} ({amount}) for {item.interest_days} days",
                service_start=item.interest_from, service_end=item.interest_to,
            )
        )  # fmt: skip
    return lines


def _charge(planned: PlannedNotice, run: DunningRun, actor: User, language: str) -> Invoice | None:
    if not planned.charges:
        return None
    lines = []
    if planned.fee:
        lines.append(
            LineData(
                quantity="1", product_code=FEE_PRODUCT, unit_price=planned.fee,
                description=f"Dunning fee: reminder level {planned.level.number} of {run.run_on.isoformat()}",
            )
        )  # fmt: skip
    lines += _interest_lines(planned.items, language)
    numbers = ", ".join(str(item.invoice.number) for item in planned.items)
    return charge_on_debit_note(
        customer=planned.customer, entity=planned.items[0].invoice.entity, lines=lines, on=run.run_on,
        reason=f"Dunning level {planned.level.number} of {run.run_on.isoformat()}: {numbers}",
        reference=f"dunning run {run.pk}", actor=actor,
    )  # fmt: skip


# --- the text and the letter ---------------------------------------------------------------------


def notice_values(
    planned: PlannedNotice, run_on: date, note: Invoice | None, language: str
) -> dict[str, str]:
    """What each placeholder stands for in this notice, in the customer's language."""
    currency = planned.currency

    def money(amount: Decimal) -> str:
        return format_amount(amount, currency, language)

    due = planned.overdue_total + (note.total if note is not None else planned.charges)
    invoices = [
        f"{item.invoice.number} of {format_date(item.invoice.issued_on or run_on, language)}, due "
        f"{format_date(item.invoice.due_on or run_on, language)}: {money(item.amount)}"
        for item in planned.items
    ]
    return {
        "customer": planned.customer.legal_name,
        "account": planned.customer.account_number,
        "invoices": "\n".join(invoices),
        "total": money(planned.overdue_total),
        "fee": money(planned.fee),
        "interest": money(planned.interest),
        "amount_due": money(due),
        "debit_note": (note.number or "") if note is not None else "",
        "level": str(planned.level.number),
        "date": format_date(run_on, language),
        "seller": planned.items[0].invoice.entity.legal_name,
    }


def subject_values(values: Mapping[str, str], planned: PlannedNotice) -> dict[str, str]:
    """The values for a subject line, which holds no line breaks."""
    return {**values, "invoices": ", ".join(str(item.invoice.number) for item in planned.items)}


def _printed(party: Party, language: str) -> dict[str, Any]:
    lines = [line for line in party.address_lines if line]
    if party.country:
        lines.append(country_name(party.country, language))
    return {"name": party.name, "lines": lines, "vat_id": party.vat_id, "tax_id": party.tax_id,
            "email": party.email, "phone": party.phone}  # fmt: skip


def _bank(bank: BankDetails | None) -> dict[str, str] | None:
    if bank is None:
        return None
    # IBANs are read aloud and typed in groups of four, as on our invoices
    iban = stdnum_iban.format(bank.iban) if bank.iban else ""
    return {"account_holder": bank.account_holder, "iban": iban, "bic": bank.bic,
            "bank_name": bank.bank_name, "account_number": bank.account_number,
            "routing_number": bank.routing_number}  # fmt: skip


def render_letter(
    planned: PlannedNotice,
    *,
    run_on: date,
    body: str,
    note: Invoice | None,
    values: Mapping[str, str],
    language: str,
) -> bytes:
    """The notice as a PDF letter, in the layout of our documents: its text, the invoices, the charges."""
    entity, currency = planned.items[0].invoice.entity, planned.currency

    def money(amount: Decimal) -> str:
        return format_amount(amount, currency, language)

    customer = customer_party(planned.customer)
    context = {
        "lang": language,
        "seller": _printed(entity_party(entity), language),
        "bank": _bank(entity_bank(entity)),
        "payment_reference": format_creditor_reference(creditor_reference(planned.customer.account_number)),
        "css_page": mark_safe('" counter(page) "'),
        "css_pages": mark_safe('" counter(pages) "'),
        "customer": _printed(customer, language) if customer else None,
        "account": planned.customer.account_number,
        "date": format_date(run_on, language),
        "level": planned.level.number,
        "body": body,
        "items": [
            {
                "number": item.invoice.number,
                "issued_on": format_date(item.invoice.issued_on or run_on, language),
                "due_on": format_date(item.invoice.due_on or run_on, language),
                "days": item.days_overdue,
                "open": money(item.open_amount),
                "disputed": money(item.disputed_amount) if item.disputed_amount else "",
                "amount": money(item.amount),
                "interest": money(item.interest) if item.interest else "",
            }
            for item in planned.items
        ],
        "total": values["total"],
        "fee": values["fee"] if planned.fee else "",
        "interest": values["interest"] if planned.interest else "",
        "tax": money(note.tax_total) if note is not None and note.tax_total else "",
        "amount_due": values["amount_due"],
        "debit_note": values["debit_note"],
    }
    with translation.override(language):
        return render_pdf(render_to_string("collections/dunning_letter.html", context))


# --- sending it ------------------------------------------------------------------------------------


def _escalate(planned: PlannedNotice, run_on: date, actor: User) -> str:
    """Do what the notice's level escalates to; what was done, or "none"."""
    customer, amount = planned.customer, round_money(planned.overdue_total, planned.currency)
    if planned.escalation == Escalation.CREDIT_HOLD:
        put_on_credit_hold(
            customer, actor=actor,
            reason=f"Dunning level {planned.level.number} of {run_on.isoformat()}: {amount} overdue",
        )  # fmt: skip
    elif planned.escalation == Escalation.COLLECTION_AGENCY:
        profile = profile_of(customer)
        profile.with_agency_on = run_on
        profile.save(update_fields=["with_agency_on"])
    else:
        return Escalation.NONE
    record_event(
        actor=actor,
        action="dunning.escalated",
        target=customer,
        after={
            "escalation": planned.escalation,
            "level": planned.level.number,
            "run_on": run_on,
            "overdue": amount.amount,
        },
    )
    return planned.escalation


def send_notice(planned: PlannedNotice, run: DunningRun, actor: User) -> DunningNotice:
    """Charge, write, send and escalate one planned notice; audited as `dunning.notice_sent`."""
    customer, level = planned.customer, planned.level
    language = resolve_language(customer.document_language or planned.items[0].invoice.entity.language)
    note = _charge(planned, run, actor, language)
    values = notice_values(planned, run.run_on, note, language)
    subject = fill(level.subject, subject_values(values, planned)).replace("\r", " ").replace("\n", " ")[:300]
    body = fill(level.body, values)
    pdf = render_letter(planned, run_on=run.run_on, body=body, note=note, values=values, language=language)
    delivery = None
    if planned.channel == DunningLevel.Channel.EMAIL:
        delivery = queue_notice_delivery(
            customer=customer, subject=subject, body=body, pdf=pdf, actor=actor,
            filename=f"reminder-{customer.account_number}-{run.run_on.isoformat()}.pdf",
            key=f"dunning:{run.pk}:{customer.pk}", reply_to=planned.items[0].invoice.entity.email,
        )  # fmt: skip
    notice = DunningNotice.objects.create(
        run=run, customer=customer, level=level, currency=planned.currency,
        overdue_total=planned.overdue_total, fee=planned.fee, interest=planned.interest, debit_note=note,
        channel=planned.channel, subject=subject, body=body, pdf=pdf, pdf_sha256=sha256(pdf),
        delivery=delivery, sent_at=timezone.now(),
    )  # fmt: skip
    try:
        with transaction.atomic():  # a savepoint: PostgreSQL's transaction survives the refusal to report it
            NoticeItem.objects.bulk_create(
                NoticeItem(
                    notice=notice,
                    invoice=item.invoice,
                    level=item.level,
                    currency=item.invoice.currency,
                    days_overdue=item.days_overdue,
                    open_amount=item.open_amount,
                    disputed_amount=item.disputed_amount,
                    amount=item.amount,
                    interest=item.interest,
                    interest_from=item.interest_from,
                    interest_to=item.interest_to,
                )
                for item in planned.items
            )
    except IntegrityError:
        raise Conflict(
            f"{customer.account_number} was dunned at these levels by another run just now; run again",
            field="run_on",
        ) from None
    if note is not None:
        record_event(
            actor=actor,
            action="dunning.fee_charged",
            target=notice,
            after={
                "debit_note": note.number or f"draft {note.pk}",
                "status": note.status,
                "fee": planned.fee,
                "interest": planned.interest,
                "total": round_money(note.total, note.currency).amount,
                "currency": planned.currency,
            },
        )
    notice.escalated = _escalate(planned, run.run_on, actor)
    if notice.escalated != Escalation.NONE:
        notice.save(update_fields=["escalated"])
    record_event(
        actor=actor,
        action="dunning.notice_sent",
        target=notice,
        after={
            "customer": customer.account_number, "run": run.pk, "level": level.number,
            "channel": notice.channel, "delivery": delivery.pk if delivery else None,
            "items": [
                {"invoice": item.invoice.number, "level": item.level.number, "amount": item.amount,
                 "disputed": item.disputed_amount, "interest": item.interest}
                for item in planned.items
            ],
            "overdue_total": planned.overdue_total, "currency": planned.currency,
            "pdf_sha256": notice.pdf_sha256,
        },
    )  # fmt: skip
    return notice
