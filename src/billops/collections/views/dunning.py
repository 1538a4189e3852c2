"""Dunning pages: the policies with their levels (and the form that edits one), the run page that previews a
run and then sends it, a run's notices, a notice with its letter, and a customer's dunning settings.
Thin: parse the form, call one service or selector, show the result or the error next to its field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billops.access import clock
from billops.access.permissions import can
from billops.collections.forms_dunning import CustomerDunningForm, PolicyForm, RunForm
from billops.collections.selectors import dunning as selectors
from billops.collections.selectors.dunning import DunningPlan
from billops.collections.services import dunning as services
from billops.core.errors import DomainError
from billops.customers.selectors import get_customer
from billops.payments.forms import ServiceForm
from billops.payments.views.common import actor, found_or_404
from billops.web.amounts import Shown


def _refused(form: ServiceForm, exc: DomainError) -> tuple[int, DomainError | None]:
    """Show the error next to its field; one the form has no field for is shown on top of the page."""
    status = form.show_error(exc)
    return status, None if form.field_for(exc.field) else exc


# --- policies ----------------------------------------------------------------------------------------


@login_required
@require_GET
def policies_page(request: HttpRequest) -> HttpResponse:
    """Every policy with its table of levels."""
    context = {
        "policies": [
            (
                policy,
                Shown.of(policy.minimum_amount, policy.currency),
                sorted(policy.levels.all(), key=_number),
            )
            for policy in selectors.list_policies()
        ],
        "may_manage": can(request.user, "collections.manage_policies"),
    }
    return render(request, "collections/dunning_policies.html", context)


def _number(level: Any) -> int:
    return int(level.number)


def _policy_page(
    request: HttpRequest,
    form: PolicyForm,
    *,
    code: str = "",
    status: int = 200,
    error: DomainError | None = None,
) -> HttpResponse:
    context = {"form": form, "code": code, "error": error, "placeholders": services.PLACEHOLDERS}
    return render(request, "collections/dunning_policy.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def new_policy(request: HttpRequest) -> HttpResponse:
    """The form for a new policy, and making it."""
    if request.method == "GET":
        return _policy_page(request, PolicyForm.for_policy(None))
    return _save_policy(request, PolicyForm(request.POST), code="", expect_new=True)


@login_required
@require_http_methods(["GET", "POST"])
def edit_policy(request: HttpRequest, code: str) -> HttpResponse:
    """A policy's form, filled in; saving replaces its settings and levels."""
    try:
        policy = selectors.get_policy(code)
    except DomainError as exc:
        raise Http404(exc.message) from None
    if request.method == "GET":
        return _policy_page(request, PolicyForm.for_policy(policy), code=policy.code)
    posted = request.POST.copy()
    posted["code"] = policy.code  # a policy keeps its code
    form = PolicyForm(posted)
    return _save_policy(request, form, code=policy.code, expect_new=False)


def _save_policy(request: HttpRequest, form: PolicyForm, *, code: str, expect_new: bool) -> HttpResponse:
    try:
        policy = services.save_dunning_policy(actor=actor(request), expect_new=expect_new, **form.arguments())
    except DomainError as exc:
        status, error = _refused(form, exc)
        return _policy_page(request, form, code=code, status=status, error=error)
    messages.success(request, f"Dunning policy {policy.code} saved with {policy.levels.count()} levels.")
    return redirect("collections:dunning_policies")


@login_required
@require_POST
def delete_policy(request: HttpRequest, code: str) -> HttpResponse:
    try:
        services.delete_dunning_policy(code=code, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Dunning policy {code.upper()} removed.")
    return redirect("collections:dunning_policies")


@login_required
@require_POST
def set_up_products(request: HttpRequest) -> HttpResponse:
    """Make the fee and interest products in the catalog, where missing."""
    try:
        made = services.ensure_dunning_products(
            actor=actor(request), tax_code=request.POST.get("tax_code") or "VAT-EXEMPT"
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Made {', '.join(made)}." if made else "The fee products were there already."
        )
    return redirect("collections:dunning_policies")


# --- the run -----------------------------------------------------------------------------------------


def _plan_rows(plan: DunningPlan) -> list[dict[str, Any]]:
    return [
        {
            "notice": notice,
            "total": Shown.of(notice.overdue_total, notice.currency),
            "fee": Shown.of(notice.fee, notice.currency),
            "interest": Shown.of(notice.interest, notice.currency),
            "items": [
                (
                    item,
                    Shown.of(item.amount, notice.currency),
                    Shown.of(item.interest, notice.currency),
                    Shown.of(item.disputed_amount, notice.currency),
                )
                for item in notice.items
            ],
        }
        for notice in plan.notices
    ]


def _run_page(
    request: HttpRequest,
    form: RunForm | None = None,
    *,
    plan: DunningPlan | None = None,
    status: int = 200,
    error: DomainError | None = None,
) -> HttpResponse:
    policies = list(selectors.list_policies())
    context = {
        "form": form or RunForm.blank(policies=policies, today=clock.today()),
        "plan": plan,
        "rows": _plan_rows(plan) if plan is not None else [],
        "runs": selectors.list_runs()[:20],
        "may_run": can(request.user, "collections.run_dunning"),
        "error": error,
    }
    return render(request, "collections/dunning_run.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def run_page(request: HttpRequest) -> HttpResponse:
    """GET: the day and scope to run; POST `action=preview` shows what a run would send, `action=run`
    sends it and shows the run."""
    if request.method == "GET":
        return _run_page(request)
    form = RunForm(request.POST, policies=selectors.list_policies())
    try:
        if request.POST.get("action") == "run":
            run = services.run_dunning(actor=actor(request), **form.arguments())
        else:
            plan = services.preview_dunning(actor=actor(request), **form.arguments())
            return _run_page(request, form, plan=plan)
    except DomainError as exc:
        status, error = _refused(form, exc)
        return _run_page(request, form, status=status, error=error)
    messages.success(
        request,
        f"Dunning run {run.pk} of {run.run_on.isoformat()}: {run.notice_count} notices, "
        f"{run.debit_note_count} with fees or interest, {run.escalation_count} escalations, "
        f"{run.skipped_count} customers left out.",
    )
    return redirect("collections:dunning_run_detail", run.pk)


@login_required
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = found_or_404(selectors.get_run, run_id)
    notices = [
        (
            notice,
            Shown.of(notice.overdue_total, notice.currency),
            Shown.of(notice.fee + notice.interest, notice.currency),
        )
        for notice in selectors.list_notices(run_id=run.pk)
    ]
    return render(request, "collections/dunning_run_detail.html", {"run": run, "notices": notices})


# --- a notice ------------------------------------------------------------------------------------------


@login_required
@require_GET
def notice_page(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = found_or_404(selectors.get_notice, notice_id)
    currency = notice.currency
    context = {
        "notice": notice,
        "total": Shown.of(notice.overdue_total, currency),
        "fee": Shown.of(notice.fee, currency),
        "interest": Shown.of(notice.interest, currency),
        "items": [
            (
                item,
                Shown.of(item.open_amount, currency),
                Shown.of(item.disputed_amount, currency),
                Shown.of(item.amount, currency),
                Shown.of(item.interest, currency),
            )
            for item in notice.items.all()
        ],
        "has_disputes": any(item.disputed_amount for item in notice.items.all()),
        "charged": Shown.of(notice.debit_note.total, currency) if notice.debit_note else None,
        "zero": Decimal(0),
    }
    return render(request, "collections/dunning_notice.html", context)


@login_required
@require_GET
def notice_pdf(request: HttpRequest, notice_id: int) -> HttpResponse:
    """The notice's letter exactly as produced and sent."""
    notice = found_or_404(selectors.get_notice, notice_id)
    response = HttpResponse(bytes(notice.pdf or b""), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{notice.pk}.pdf"'
    response["ETag"] = f'"{notice.pdf_sha256}"'
    return response


# --- a customer's dunning settings -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def customer_dunning(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer's policy and exclusion, and the notices it was sent."""
    customer = found_or_404(get_customer, customer_id)
    policies = [policy for policy in selectors.list_policies() if policy.currency == customer.currency]
    error: DomainError | None = None
    status = 200
    if request.method == "POST":
        form = CustomerDunningForm(request.POST, policies=policies)
        try:
            services.set_customer_dunning(customer_id=customer.pk, actor=actor(request), **form.arguments())
        except DomainError as exc:
            status, error = _refused(form, exc)
        else:
            messages.success(request, f"Dunning settings of {customer.account_number} saved.")
            return redirect("collections:customer_dunning", customer.pk)
    else:
        profile = selectors.dunning_settings(customer.pk)
        form = CustomerDunningForm(
            initial={
                "policy_code": profile.dunning_policy.code if profile and profile.dunning_policy else "",
                "excluded": bool(profile and profile.dunning_excluded),
                "reason": profile.dunning_exclusion_reason if profile else "",
            },
            policies=policies,
        )
    notices = [
        (notice, Shown.of(notice.overdue_total, notice.currency))
        for notice in selectors.list_notices(customer_id=customer.pk)[:50]
    ]
    context = {
        "customer": customer,
        "form": form,
        "error": error,
        "notices": notices,
        "may_change": can(request.user, "collections.work"),
    }
    return render(request, "collections/dunning_customer.html", context, status=status)
