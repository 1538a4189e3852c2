"""Bank files: importing one (the result line by line, or the refusal naming the line at fault), the list
of imported files and one file's lines with what became of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from billops.access.permissions import can
from billops.core.errors import DomainError, PermissionDenied
from billops.payments import selectors
from billops.payments.forms import ImportForm
from billops.payments.models import BankLine, StatementFile
from billops.payments.services import bank_files
from billops.payments.views.common import PAGE_SIZE, actor, found_or_404
from billops.web.amounts import Shown


@dataclass(frozen=True)
class LineRow:
    line: BankLine
    amount: Shown
    evidence: list[tuple[str, str]]  # the fields a posted line was matched on: which text said what
    invoices: list[tuple[str, Shown | None]]  # what a posted line was applied to (None: all that was open)


def _amount(text: str | None, currency: str) -> Shown | None:
    """A matched amount as stored ("238.000000"); a clerk who named only the invoice left it "None"."""
    return None if text is None or text == "None" else Shown.of(text, currency)


def _line_rows(file: StatementFile) -> list[LineRow]:
    rows = []
    for line in selectors.list_file_lines(file):
        evidence = line.evidence or {}
        rows.append(
            LineRow(
                line=line,
                amount=Shown.of(line.amount, line.currency),
                evidence=sorted((evidence.get("fields") or {}).items()),
                invoices=[
                    (item["number"], _amount(item.get("amount"), line.currency))
                    for item in evidence.get("invoices", [])
                ],
            )
        )
    return rows


def _file_context(file: StatementFile) -> dict[str, Any]:
    return {
        "file": file,
        "total_in": Shown.of(file.total_in, file.currency),
        "total_out": Shown.of(file.total_out, file.currency),
        "lines": _line_rows(file),
    }


@login_required
@require_http_methods(["GET", "POST"])
def import_file(request: HttpRequest) -> HttpResponse:
    """Upload a bank file; the result is shown on the page (the same file again is not read twice)."""
    accounts = selectors.list_bank_accounts()
    posted = request.method == "POST"
    form = ImportForm(
        request.POST if posted else None, request.FILES if posted else None, bank_accounts=accounts
    )
    context: dict[str, Any] = {"form": form, "result": None, "error": None}
    if not can(request.user, "payments.import"):  # the service refuses too; say so before the file is chosen
        refusal = PermissionDenied(
            "You may not import bank files: clerks and supervisors import them.", action="payments.import"
        )
        return render(
            request, "payments/import.html", {**context, "error": refusal, "form": None}, status=403
        )
    if not posted:
        return render(request, "payments/import.html", context)
    try:
        upload = form.upload()
        result = bank_files.import_bank_file(
            data=upload.read(), file_name=upload.name or "bank file", actor=actor(request),
            format=form.text("format"), bank_account=form.text("bank_account"),
        )  # fmt: skip
    except DomainError as exc:  # refused whole: nothing was written
        status = form.show_error(exc)
        at_field = form.field_for(exc.field) is not None
        return render(
            request, "payments/import.html", {**context, "error": None if at_field else exc}, status=status
        )
    file = selectors.get_statement_file(result.file.pk)
    context |= {"result": result, **_file_context(file)}
    return render(request, "payments/import.html", context)


@login_required
@require_GET
def file_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.list_statement_files(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": [
            (file, Shown.of(file.total_in, file.currency), Shown.of(file.total_out, file.currency))
            for file in page
        ],
        "params": {},  # the pager's links keep no filter
        "may_import": can(request.user, "payments.import"),
    }
    return render(request, "payments/files.html", context)


@login_required
@require_GET
def file_detail(request: HttpRequest, file_id: int) -> HttpResponse:
    file = found_or_404(selectors.get_statement_file, file_id)
    return render(request, "payments/file.html", _file_context(file))
