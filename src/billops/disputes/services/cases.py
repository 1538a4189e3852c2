"""Opening and working dispute cases: open (by hand, from the portal, from a remittance deduction), take
into investigation, assign, notes and attachments. Each action is one audited transaction."""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import can, require_permission
from billops.audit.services import record_event
from billops.core.db import deadlock_as_conflict
from billops.core.errors import CurrencyMismatch, Duplicate, InvalidAmount, InvalidInput, NotFound
from billops.core.money import Money, Rounding, round_money, to_decimal
from billops.disputes.crediting import LineLeft, lines_left
from billops.disputes.errors import AttachmentRefused, OverDisputed, WrongStatus
from billops.disputes.models import (
    ACTIVE_STATUSES,
    MAX_ATTACHMENT_BYTES,
    DisputeAttachment,
    DisputeCase,
    DisputedLine,
    DisputeNote,
    Reason,
    Source,
    Status,
)
from billops.disputes.services.common import (
    case_state,
    clean_note,
    disputed_on_invoice,
    locked_case,
    locked_invoice,
    require_active,
)
from billops.invoicing.models import Invoice
from billops.invoicing.services.lines import clean_text
from billops.payments.hooks import DeductionLeftOpen

DEFAULT_SLA_DAYS = 30


@dataclass(frozen=True, slots=True)
class LineClaim:
    """A disputed invoice line, named by its number on the invoice (or its id); no amount: all of it
    that is left, tax included."""

    line_no: int | None = None
    amount: Any = None
    line_id: int | None = None


def sla_days(reason: str) -> int:
    """Days from opening to the SLA due date for a reason: setting BILLOPS_DISPUTE_SLA_DAYS, a number
    for every reason or per reason (a dict, or text like "30,price=10,quality=45"); 30 by default."""
    configured: Any = getattr(settings, "BILLOPS_DISPUTE_SLA_DAYS", DEFAULT_SLA_DAYS)
    if isinstance(configured, str):
        parsed: dict[str, str] = {}
        for part in filter(None, (part.strip() for part in configured.split(","))):
            name, _, text = part.rpartition("=")
            parsed[name.strip() or "default"] = text
        configured = parsed
    if not isinstance(configured, dict):
        configured = {"default": configured}
    value = configured.get(reason, configured.get("default", DEFAULT_SLA_DAYS))
    try:
        days = int(str(value).strip())
    except ValueError:
        days = -1  # refused below
    if days < 0 or set(configured) - {*Reason.values, "default"}:
        raise ImproperlyConfigured(
            f"BILLOPS_DISPUTE_SLA_DAYS={configured!r}: give days (0 or more) for 'default' or for reasons "
            f"among {', '.join(Reason.values)}"
        )
    return days


def _amount(value: Any, currency: str, field: str) -> Decimal:
    """An amount given as Money, a Decimal or decimal text, exact to the invoice currency."""
    if isinstance(value, Money):
        if value.currency != currency:
            raise CurrencyMismatch(f"the invoice is in {currency}, not {value.currency}", field="currency")
        value = value.amount
    return round_money(to_decimal(value, field=field), currency, Rounding.EXACT, field=field).amount


def _shown(amount: Decimal, currency: str) -> str:
    return str(round_money(amount, currency))


def _claimed_lines(invoice: Invoice, claims: Sequence[LineClaim]) -> list[tuple[LineLeft, Decimal]]:
    """Each claimed line with its disputed amount, refused at `lines[n]` (from 1, as the clerk counts)
    when the line is not the invoice's, named twice, or disputed beyond what it has left."""
    lefts = lines_left(invoice)
    by_no = {left.line.line_no: left for left in lefts}
    by_id = {left.line.pk: left for left in lefts}
    disputed: dict[int, Decimal] = {}
    others = DisputedLine.objects.filter(line__invoice=invoice, case__status__in=ACTIVE_STATUSES)
    for line_id, amount in others.values_list("line_id", "amount"):
        disputed[line_id] = disputed.get(line_id, Decimal(0)) + amount
    claimed: list[tuple[LineLeft, Decimal]] = []
    for index, claim in enumerate(claims, start=1):
        field = f"lines[{index}]"
        if (claim.line_no is None) == (claim.line_id is None):
            raise InvalidInput("name the line by its number (line_no) or its id (line_id)", field=field)
        if claim.line_id is not None:
            left = by_id.get(claim.line_id)
            if left is None:
                elsewhere = Invoice.objects.filter(lines__pk=claim.line_id).first()
                where = f"is a line of {elsewhere}" if elsewhere else "does not exist"
                raise InvalidInput(
                    f"invoice line {claim.line_id} {where}, not of {invoice}", field=f"{field}.line_id"
                )
        else:
            left = by_no.get(claim.line_no or 0)
            if left is None:
                raise NotFound(f"{invoice} has no line {claim.line_no}", field=f"{field}.line_no")
        line_no = left.line.line_no
        if any(earlier.line.pk == left.line.pk for earlier, _ in claimed):
            raise InvalidInput(f"line {line_no} is named twice", field=field)
        available = left.gross - disputed.get(left.line.pk, Decimal(0))
        if available <= 0:
            raise OverDisputed(
                f"line {line_no} has nothing left to dispute: it is credited or disputed in full",
                field=f"{field}.amount",
            )
        if claim.amount is None:
            claimed.append((left, available))
            continue
        amount = _amount(claim.amount, invoice.currency, f"{field}.amount")
        if amount <= 0:
            raise InvalidAmount(
                f"line {line_no}: a disputed amount is more than zero, not {claim.amount}",
                field=f"{field}.amount",
            )
        if amount > available:
            raise OverDisputed(
                f"line {line_no}: {_shown(amount, invoice.currency)} is more than the "
                f"{_shown(available, invoice.currency)} of the line (tax included) not yet credited or "
                "disputed",
                field=f"{field}.amount",
            )
        claimed.append((left, amount))
    return claimed


def _owner(owner_id: int | None) -> User | None:
    if owner_id is None:
        return None
    owner = User.objects.filter(pk=owner_id).first()
    if owner is None:
        raise NotFound(f"there is no user {owner_id}", field="owner_id")
    if not can(owner, "disputes.work"):
        raise InvalidInput(f"{owner.get_username()} may not work disputes", field="owner_id")
    return owner


def _sla_due_on(value: date | None, reason: str, opened_on: date) -> date:
    if value is None:
        return opened_on + timedelta(days=sla_days(reason))
    if not isinstance(value, date):
        raise InvalidInput("sla_due_on must be a date", field="sla_due_on")
    if not opened_on <= value <= opened_on + timedelta(days=366):
        raise InvalidInput(
            f"the SLA due date {value.isoformat()} is not between the opening day {opened_on.isoformat()} "
            "and a year later",
            field="sla_due_on",
        )
    return value


def _open_case(
    invoice: Invoice,
    *,
    reason: Any,
    actor: User,
    amount: Any,
    lines: Sequence[LineClaim] | None,
    owner_id: int | None,
    sla_due_on: date | None,
    note: Any,
    source: Any,
    source_reference: Any,
) -> DisputeCase:
    """Open a case on a locked invoice: the building block of `open_dispute` and `open_deduction_case`."""
    if reason not in Reason.values:
        raise InvalidInput(
            f"reason must be one of {', '.join(Reason.values)}, not {reason!r}", field="reason"
        )
    if source not in Source.values:
        raise InvalidInput(
            f"source must be one of {', '.join(Source.values)}, not {source!r}", field="source"
        )
    reason, source = Reason(reason).value, Source(source).value
    reference = clean_text(source_reference, "source_reference", limit=100)
    note = clean_note(note)
    claimed = _claimed_lines(invoice, lines) if lines else []
    currency = invoice.currency
    total = sum((line_amount for _, line_amount in claimed), Decimal(0))
    already = disputed_on_invoice(invoice)
    undisputed = invoice.open_amount - already
    if amount is not None:
        total_given = _amount(amount, currency, "amount")
        if claimed and total_given != total:
            raise InvalidAmount(
                f"the disputed lines add up to {_shown(total, currency)}, not {_shown(total_given, currency)}"
                ": leave the amount out or make it their sum",
                field="amount",
            )
        total = total_given
    elif not claimed:
        total = undisputed  # the whole open amount, less what other cases dispute already
    if total <= 0 and amount is not None:
        raise InvalidAmount(f"a disputed amount is more than zero, not {amount}", field="amount")
    if total <= 0 or total > undisputed:
        what = f"{_shown(invoice.open_amount, currency)} open"
        if already:
            what += f", of which {_shown(already, currency)} is disputed in other cases"
        raise OverDisputed(
            f"{invoice} has {what}: {_shown(max(undisputed, Decimal(0)), currency)} is left to dispute"
            + (f", not {_shown(total, currency)}" if total > 0 else ""),
            field="amount",
        )
    opened_on = clock.today()
    case = DisputeCase.objects.create(
        invoice=invoice, customer_id=invoice.customer_id, reason=reason, currency=currency, amount=total,
        owner=_owner(owner_id), opened_on=opened_on, sla_due_on=_sla_due_on(sla_due_on, reason, opened_on),
        source=source, source_reference=reference, opened_by=actor, opened_at=timezone.now(),
    )  # fmt: skip
    DisputedLine.objects.bulk_create(
        DisputedLine(case=case, line=left.line, currency=currency, amount=line_amount)
        for left, line_amount in claimed
    )
    if note:
        DisputeNote.objects.create(case=case, author=actor, text=note)
    record_event(
        actor=actor,
        action="dispute.opened",
        target=case,
        after={
            **case_state(case),
            "invoice": invoice.number,
            "customer": invoice.customer.account_number,
            "reason": reason,
            "lines": [
                {"line_no": left.line.line_no, "amount": round_money(line_amount, currency).amount}
                for left, line_amount in claimed
            ],
            "opened_on": opened_on,
            "source": source,
            "source_reference": reference,
            "note": note,
        },
    )
    return case


@deadlock_as_conflict
@transaction.atomic(durable=True)
def open_dispute(
    *,
    invoice_id: int,
    reason: str,
    actor: User,
    amount: Any = None,
    lines: Sequence[LineClaim] | None = None,
    owner_id: int | None = None,
    sla_due_on: date | None = None,
    note: str = "",
    source: str = Source.MANUAL,
    source_reference: str = "",
) -> DisputeCase:
    """Open a case on an issued invoice for an amount (tax included), for some of its lines, or for all it
    has open that no other case disputes; the amount is then disputed, not due, until the case is decided."""
    require_permission(actor, "disputes.open")
    invoice = locked_invoice(invoice_id)
    if source == Source.REMITTANCE_DEDUCTION:
        earlier = _deduction_case(invoice, source_reference)
        if earlier is not None:
            raise Duplicate(
                f"deduction {earlier.source_reference!r} on {invoice} opened dispute {earlier.pk} already",
                field="source_reference",
            )
    return _open_case(
        invoice, reason=reason, actor=actor, amount=amount, lines=lines, owner_id=owner_id,
        sla_due_on=sla_due_on, note=note, source=source, source_reference=source_reference,
    )  # fmt: skip


def _deduction_case(invoice: Invoice, reference: Any) -> DisputeCase | None:
    reference = clean_text(reference, "source_reference", limit=100, required=True)
    found = DisputeCase.objects.filter(
        invoice=invoice, source=Source.REMITTANCE_DEDUCTION, source_reference=reference
    )
    return found.first()


@deadlock_as_conflict
@transaction.atomic(durable=True)
def open_deduction_case(
    *, invoice_id: int, amount: Any, reference: str, actor: User, reason: str = Reason.OTHER, note: str = ""
) -> DisputeCase:
    """Open a case for what a customer kept back from a payment of the invoice (a remittance deduction),
    once per invoice and reference: the same deduction again returns its case; with another amount it is
    refused."""
    return case_for_deduction(
        invoice_id=invoice_id, amount=amount, reference=reference, actor=actor, reason=reason, note=note
    )


def case_for_deduction(
    *, invoice_id: int, amount: Any, reference: str, actor: User, reason: str = Reason.OTHER, note: str = ""
) -> DisputeCase:
    """`open_deduction_case`'s building block, inside the caller's transaction: applying a remittance
    advice opens a case for each deduction it leaves open, together with the payment."""
    require_permission(actor, "disputes.open")
    invoice = locked_invoice(invoice_id)  # serialises two imports of the same deduction
    try:
        earlier = _deduction_case(invoice, reference)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="reference") from None
    if amount is None:
        raise InvalidAmount("say how much the customer kept back", field="amount")
    if earlier is not None:
        again = _amount(amount, invoice.currency, "amount")
        if earlier.amount != again:
            raise Duplicate(
                f"deduction {earlier.source_reference!r} on {invoice} opened dispute {earlier.pk} for "
                f"{_shown(earlier.amount, earlier.currency)}, not {_shown(again, invoice.currency)}",
                field="reference",
            )
        return earlier  # a replay: the first case, nothing written
    return _open_case(
        invoice, reason=reason, actor=actor, amount=amount, lines=None, owner_id=None, sla_due_on=None,
        note=note, source=Source.REMITTANCE_DEDUCTION, source_reference=reference,
    )  # fmt: skip


@transaction.atomic(durable=True)
def start_investigation(*, case_id: int, actor: User, note: str = "") -> DisputeCase:
    """Take an open case into investigation; whoever does so owns it unless someone does already."""
    require_permission(actor, "disputes.work")
    text = clean_note(note)
    case = locked_case(case_id)
    if case.status != Status.OPEN:
        raise WrongStatus(
            f"dispute {case.pk} is {case.get_status_display().lower()}; only an open case is taken into "
            "investigation",
            field="status",
        )
    before = case_state(case)
    case.status = Status.INVESTIGATING
    case.owner = case.owner or actor
    case.save(update_fields=["status", "owner"])
    if text:
        DisputeNote.objects.create(case=case, author=actor, text=text)
    record_event(
        actor=actor,
        action="dispute.investigation_started",
        target=case,
        before=before,
        after={**case_state(case), "note": text},
    )
    return case


@transaction.atomic(durable=True)
def assign_dispute(*, case_id: int, owner_id: int | None, actor: User) -> DisputeCase:
    """Give a case still being worked to someone who may work disputes (None: to nobody)."""
    require_permission(actor, "disputes.work")
    case = locked_case(case_id)
    require_active(case, "assigned")
    owner = _owner(owner_id)
    if owner == case.owner:
        who = owner.get_username() if owner else "nobody"
        raise InvalidInput(f"dispute {case.pk} is assigned to {who} already", field="owner_id")
    before = case_state(case)
    case.owner = owner
    case.save(update_fields=["owner"])
    record_event(actor=actor, action="dispute.assigned", target=case, before=before, after=case_state(case))
    return case


@transaction.atomic(durable=True)
def add_note(*, case_id: int, text: str, actor: User) -> DisputeNote:
    """Write down what was found, asked or agreed; notes are kept in order, also on decided cases."""
    require_permission(actor, "disputes.work")
    text = clean_note(text, "text", required=True)
    case = locked_case(case_id)
    note = DisputeNote.objects.create(case=case, author=actor, text=text)
    record_event(actor=actor, action="dispute.note_added", target=case, after={"note": note.pk, "text": text})
    return note


def _file_name(value: Any) -> str:
    name = clean_text(value, "file", limit=255)
    name = posixpath.basename(name.replace("\\", "/")).strip()  # a browser may send the whole path
    if not name:
        raise AttachmentRefused("the file has no name", field="file")
    return name


def check_attachment_size(file_name: str, size: int) -> None:
    """Refuse an empty file or one above 10 MiB, at the field `file`; an upload is checked before it is
    read whole."""
    if size <= 0:
        raise AttachmentRefused(f"{file_name} is empty; attach the file with its content", field="file")
    if size > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefused(
            f"{file_name} is {size:,} bytes; an attachment is at most "
            f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MiB ({MAX_ATTACHMENT_BYTES:,} bytes)",
            field="file",
        )


@transaction.atomic(durable=True)
def attach_file(
    *, case_id: int, file_name: str, content: bytes, actor: User, content_type: str = ""
) -> DisputeAttachment:
    """Keep a file with the case as evidence (at most 10 MiB); its SHA-256 is recorded."""
    require_permission(actor, "disputes.work")
    name = _file_name(file_name)
    check_attachment_size(name, len(content))
    kind = clean_text(content_type, "content_type", limit=100) or (
        mimetypes.guess_type(name)[0] or "application/octet-stream"
    )
    case = locked_case(case_id)
    attachment = DisputeAttachment.objects.create(
        case=case, file_name=name, content_type=kind, size=len(content),
        sha256=hashlib.sha256(content).hexdigest(), content=content, uploaded_by=actor,
    )  # fmt: skip
    record_event(
        actor=actor,
        action="dispute.file_attached",
        target=case,
        after={
            "attachment": attachment.pk, "file_name": name, "content_type": kind, "size": len(content),
            "sha256": attachment.sha256,
        },
    )  # fmt: skip
    return attachment


def open_case_for_deduction(deduction: DeductionLeftOpen) -> DisputeCase:
    """Payments' listener: a deduction a remittance advice leaves open becomes a case, in the payment's
    transaction, with the advice's reason in its note."""
    said = f": {deduction.reason}" if deduction.reason else ""
    return case_for_deduction(
        invoice_id=deduction.invoice_id, amount=deduction.amount, reference=deduction.reference,
        actor=deduction.actor, note=f"Kept back in a remittance advice{said}",
    )  # fmt: skip
