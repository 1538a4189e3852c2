"""`billops billrun --period YYYY-MM [--preview]`: a month's bill run, or exactly what it would issue;
`billops billrun --resume RUN_ID`: finish a run that crashed."""

from __future__ import annotations

import sys
from datetime import date

from rich.progress import Progress

from billops.access.models import User
from billops.access.selectors import get_user
from billops.billing.models import BillRunDraft, BillRunPartition
from billops.billing.services.execution import resume_run, start_run
from billops.billing.services.runs import RunPreview, preview_run
from billops.core.errors import InvalidInput
from billops.core.money import round_money

EXIT_FAILED = 1


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def _actor(username: str) -> User:
    if not username:
        raise InvalidInput(
            "name the user the invoices are issued by: --user NAME or BILLOPS_USER", field="user"
        )
    return get_user(username, field="user")


def _invoice_date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)", field="invoice_date") from None


def _outcome(reason: str, message: str) -> str:
    """What the run does with an invoice: issue it, or leave it as a draft and why."""
    if not reason:
        return "issue"
    return f"draft: {BillRunDraft.Reason(reason).label}" + (f" ({message})" if message else "")


def _print_preview(preview: RunPreview) -> None:
    _say(
        f"Preview of the bill run for {preview.period_start:%Y-%m} "
        f"(invoices dated {preview.invoice_date.isoformat()}): "
        f"{preview.customers_due} customers due, {len(preview.invoices)} invoices "
        f"({len(preview.drafts)} left as drafts), {len(preview.exceptions)} exceptions"
    )
    for planned in preview.invoices:
        invoice = planned.invoice
        amounts = (
            round_money(amount, invoice.currency).amount
            for amount in (invoice.subtotal, invoice.tax_total, invoice.total)
        )
        net, tax, total = amounts
        reference = f" ({invoice.reference})" if invoice.reference else ""
        _say(
            f"  {planned.customer.account_number:<12} {len(planned.lines):>3} lines  "
            f"net {net:>12}  tax {tax:>10}  total {total:>12} {invoice.currency}  "
            f"{_outcome(planned.draft_reason, planned.draft_message)}{reference}"
        )
    for currency, total in preview.totals().items():
        _say(f"total {currency}: {total}")
    for currency, total in preview.draft_totals().items():
        _say(f"drafts {currency}: {total}")
    for exception in preview.exceptions:
        _say(f"exception {exception.customer.account_number}: {exception.message} ({exception.field})")
    _say("Nothing was written.")


def run_billrun(
    *, period: str = "", preview: bool = False, invoice_date: str = "", username: str = "", resume: int = 0
) -> int:
    actor = _actor(username)
    if preview:
        _print_preview(preview_run(period=period, actor=actor, invoice_date=_invoice_date(invoice_date)))
        return 0
    with Progress(transient=True) as bar:
        task = bar.add_task("billing partitions", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        if resume:
            run = resume_run(run_id=resume, actor=actor, progress=progress)
        else:
            run = start_run(
                period=period, actor=actor, invoice_date=_invoice_date(invoice_date), progress=progress
            )
    failed = list(run.partitions.filter(status=BillRunPartition.Status.FAILED))
    for partition in failed:
        sys.stderr.write(
            f"error: partition {partition.number} of bill run {run.pk} failed: {partition.error}\n"
        )
    if failed:
        sys.stderr.write(
            f"the run is not finished: fix the cause, then `billops billrun --resume {run.pk}`\n"
        )
        return EXIT_FAILED
    exceptions = list(run.exceptions.select_related("customer"))
    _say(
        f"Bill run {run.pk} for {run.period_start:%Y-%m}: {run.customers_due} customers due, "
        f"{run.invoices_issued} invoices issued, {run.drafts_created} drafts for review, "
        f"{len(exceptions)} exceptions"
    )
    for currency, total in run.totals.items():
        _say(f"total {currency}: {total}")
    for currency, total in run.draft_totals.items():
        _say(f"drafts {currency}: {total}")
    for draft in run.drafts.select_related("customer", "invoice"):
        _say(
            f"draft {draft.customer.account_number}: invoice id {draft.invoice_id}, {draft.total:.2f} "
            f"{draft.currency}, {_outcome(draft.reason, draft.message)}"
        )
    for exception in exceptions:
        _say(f"exception {exception.customer.account_number}: {exception.message} ({exception.field})")
    return 0
