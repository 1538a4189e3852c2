"""Payment plan pages: the list, agreeing a plan from a customer's open invoices, and a plan's page with its
schedule (what is paid towards each instalment now) and the form that cancels it. Thin, like the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billops.access import clock
from billops.access.permissions import can
from billops.collections.forms_plans import CancelPlanForm, PlanForm
from billops.collections.models import PaymentPlan
from billops.collections.selectors import plans as selectors
from billops.collections.services import plans as services
from billops.core.errors import DomainError
from billops.customers.models import Customer
from billops.customers.selectors import get_customer
from billops.payments.forms import ServiceForm
from billops.payments.views.common import PAGE_SIZE, actor, found_or_404
from billops.web.amounts import Shown


def _refused(form: ServiceForm, exc: DomainError) -> tuple[int, DomainError | None]:
    status = form.show_error(exc)
    return status, None if form.field_for(exc.field) else exc


@login_required
@require_GET
def plans_page(request: HttpRequest) -> HttpResponse:
    """Plans latest first, the active ones by default."""
    status = request.GET.get("status", PaymentPlan.Status.ACTIVE)
    plans = selectors.list_plans(status=status if status in PaymentPlan.Status.values else "")[:PAGE_SIZE]
    context = {
        "rows": [(plan, Shown.of(plan.total, plan.currency)) for plan in plans],
        "status": status,
        "statuses": PaymentPlan.Status.choices,
        "may_evaluate": can(request.user, "collections.work"),
    }
    return render(request, "collections/plans.html", context)


def _new_plan_page(
    request: HttpRequest,
    customer: Customer,
    form: PlanForm,
    *,
    chosen: set[int] | None = None,
    status: int = 200,
    error: DomainError | None = None,
) -> HttpResponse:
    invoices = list(selectors.invoices_for_plan(customer.pk))
    context: dict[str, Any] = {
        "customer": customer,
        "form": form,
        "invoices": [(invoice, Shown.of(invoice.open_amount, invoice.currency)) for invoice in invoices],
        "chosen": chosen if chosen is not None else {invoice.pk for invoice in invoices},
        "error": error,
        "invoice_error": error if error is not None and error.field == "invoice_ids" else None,
    }
    return render(request, "collections/plan_new.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def new_plan(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The form that agrees a plan for some of the customer's open invoices, and agreeing it."""
    customer = found_or_404(get_customer, customer_id)
    if request.method == "GET":
        return _new_plan_page(request, customer, PlanForm.blank(today=clock.today()))
    form = PlanForm(request.POST)
    chosen = {int(pk) for pk in request.POST.getlist("invoice") if pk.isdigit()}
    try:
        plan = services.create_payment_plan(
            customer_id=customer.pk, actor=actor(request), **form.arguments(sorted(chosen))
        )
    except DomainError as exc:
        status, error = _refused(form, exc)
        return _new_plan_page(request, customer, form, chosen=chosen, status=status, error=error)
    total = Shown.of(plan.total, plan.currency)
    messages.success(
        request,
        f"Payment plan {plan.pk} agreed: {total.amount} {total.currency} in {plan.instalments.count()} "
        f"instalments. {customer.account_number} is not dunned while it is active.",
    )
    return redirect("collections:plan", plan.pk)


def _plan_page(
    request: HttpRequest,
    plan_id: int,
    *,
    form: CancelPlanForm | None = None,
    status: int = 200,
    error: DomainError | None = None,
) -> HttpResponse:
    schedule = found_or_404(lambda pk: selectors.plan_schedule(pk, on=clock.today()), plan_id)
    plan, currency = schedule.plan, schedule.plan.currency
    context = {
        "plan": plan,
        "schedule": schedule,
        "total": Shown.of(plan.total, currency),
        "paid": Shown.of(schedule.paid, currency),
        "left": Shown.of(schedule.left, currency),
        "fee": Shown.of(plan.fee, currency),
        "interest": Shown.of(plan.interest, currency),
        "items": [
            (item, Shown.of(item.amount, currency), Shown.of(item.invoice.open_amount, currency))
            for item in plan.items.all()
        ],
        "rows": [
            (
                row,
                Shown.of(row.instalment.amount, currency),
                Shown.of(row.paid, currency),
                Shown.of(row.left, currency),
            )
            for row in schedule.rows
        ],
        "cancel_form": (form or CancelPlanForm())
        if plan.status == PaymentPlan.Status.ACTIVE and can(request.user, "collections.work")
        else None,
        "error": error,
    }
    return render(request, "collections/plan.html", context, status=status)


@login_required
@require_GET
def plan_page(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_page(request, plan_id)


@login_required
@require_POST
def cancel_plan(request: HttpRequest, plan_id: int) -> HttpResponse:
    form = CancelPlanForm(request.POST)
    try:
        services.cancel_payment_plan(plan_id=plan_id, reason=form.text("reason"), actor=actor(request))
    except DomainError as exc:
        status, error = _refused(form, exc)
        return _plan_page(request, plan_id, form=form, status=status, error=error)
    messages.success(request, f"Payment plan {plan_id} cancelled; dunning resumes.")
    return redirect("collections:plan", plan_id)


@login_required
@require_POST
def evaluate_plans(request: HttpRequest) -> HttpResponse:
    """Check the active plans as of today, as the daily job does."""
    try:
        counts = services.evaluate_payment_plans(actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{counts['evaluated']} active plans checked: {counts['paid']} instalments paid, "
            f"{counts['missed']} missed; {counts['completed']} plans completed, "
            f"{counts['defaulted']} defaulted.",
        )
    return redirect("collections:plans")
