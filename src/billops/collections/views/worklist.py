"""The collector's pages: today's worklist, and a customer's collections page (its open items, profile,
timeline, and the forms that record a call, a promise, the next action and the collector)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from billops.access import clock
from billops.access.models import Role, User
from billops.access.permissions import can
from billops.collections.forms import ActivityForm, AssignForm, NextActionForm, PromiseForm
from billops.collections.labels import item_names
from billops.collections.models import CollectionProfile, PromiseToPay
from billops.collections.selectors.aging import aged_items, parse_buckets
from billops.collections.selectors.promises import kept_rate
from billops.collections.selectors.timeline import timeline
from billops.collections.selectors.worklist import worklist
from billops.collections.services import accounts, promises
from billops.core.errors import DomainError
from billops.customers.selectors import get_customer
from billops.invoicing.forms import parse_date
from billops.invoicing.models import Invoice
from billops.invoicing.selectors import OPEN_STATUSES
from billops.payments.forms import ServiceForm
from billops.payments.views.common import actor, found_or_404
from billops.web.amounts import Shown

FORMS: dict[str, type[ServiceForm]] = {
    "activity": ActivityForm, "promise": PromiseForm, "next_action": NextActionForm, "assign": AssignForm,
}  # fmt: skip


def _collectors() -> Any:
    return User.objects.filter(role__in=[Role.COLLECTOR, Role.SUPERVISOR], is_active=True).order_by(
        "username"
    )


@login_required
@require_GET
def worklist_page(request: HttpRequest) -> HttpResponse:
    """Today's list: the signed-in collector's customers (or everyone's), most urgent first."""
    user = actor(request)
    scope = request.GET.get("scope") or ("mine" if user.role == Role.COLLECTOR else "all")
    due_only = request.GET.get("show") != "all"
    today = clock.today()
    items = worklist(today=today, collector_id=user.pk if scope == "mine" else None, due_only=due_only)
    rows = [
        (item, Shown.of(item.overdue, item.currency), Shown.of(item.open_amount, item.currency))
        for item in items
    ]
    context = {"rows": rows, "scope": scope, "due_only": due_only, "today": today}
    return render(request, "collections/worklist.html", context)


def _open_invoices(customer_id: int) -> dict[str, int]:
    invoices = Invoice.objects.filter(customer_id=customer_id, status__in=OPEN_STATUSES)
    return {number: pk for number, pk in invoices.values_list("number", "pk") if number}


def _customer_page(
    request: HttpRequest, customer_id: int, status: int = 200, forms: dict[str, ServiceForm] | None = None
) -> HttpResponse:
    customer = found_or_404(get_customer, customer_id)
    today = clock.today()
    buckets = parse_buckets(None)
    items = aged_items(as_of=today, buckets=buckets, customer_id=customer.pk)
    names = item_names(items)
    profile = CollectionProfile.objects.filter(customer=customer).select_related("collector").first()
    forms = forms or {}
    kept, decided = kept_rate(customer.pk)
    open_promise = PromiseToPay.objects.filter(customer=customer, status=PromiseToPay.Status.OPEN).first()
    blank_activity = ActivityForm(initial={"kind": "call", "outcome": "reached"})
    context = {
        "customer": customer,
        "profile": profile,
        "items": [
            (item, *names.get((item.kind, item.item_id), ("", "")), Shown.of(item.open_amount, item.currency),
             buckets.labels[item.bucket])
            for item in items
        ],
        "open_promise": open_promise,
        "kept_rate": (kept, decided),
        "timeline": timeline(customer.pk),
        "activity_form": forms.get("activity") or blank_activity,
        "promise_form": forms.get("promise") or PromiseForm(initial={"contact": ""}),
        "next_action_form": forms.get("next_action") or NextActionForm(
            initial={"on": profile.next_action_on.isoformat() if profile and profile.next_action_on else "",
                     "action": profile.next_action if profile else ""}
        ),
        "assign_form": forms.get("assign") or AssignForm(
            initial={"collector": profile.collector_id if profile else ""}, collectors=_collectors()
        ),
        "may_work": can(request.user, "collections.work"),
        "may_assign": can(request.user, "collections.assign"),
    }  # fmt: skip
    return render(request, "collections/customer.html", context, status=status)


@login_required
@require_GET
def customer_page(request: HttpRequest, customer_id: int) -> HttpResponse:
    return _customer_page(request, customer_id)


@login_required
@require_POST
def customer_action(request: HttpRequest, customer_id: int, action: str) -> HttpResponse:
    """Record an activity or a promise, plan the next action, or assign the collector, from the page."""
    customer = found_or_404(get_customer, customer_id)
    form_class = FORMS.get(action)
    if form_class is None:
        return redirect("collections:customer", customer.pk)
    extra = {"collectors": _collectors()} if form_class is AssignForm else {}
    form = form_class(request.POST, **extra)
    user = actor(request)
    try:
        if isinstance(form, ActivityForm):
            accounts.record_activity(customer_id=customer.pk, actor=user, **form.arguments())
            done = "Activity recorded."
        elif isinstance(form, PromiseForm):
            made = promises.record_promise(
                customer_id=customer.pk, actor=user, **form.arguments(customer, _open_invoices(customer.pk))
            )
            done = f"Promise of {Shown.of(made.amount, made.currency).amount} {made.currency} recorded."
        elif isinstance(form, NextActionForm):
            on = parse_date(form.text("on"), field="on")
            accounts.plan_next_action(customer_id=customer.pk, actor=user, action=form.text("action"), on=on)
            done = "Next action planned."
        else:
            collector = form.text("collector")
            accounts.assign_collector(
                customer_id=customer.pk,
                actor=user,
                collector_id=int(collector) if collector.isdigit() else None,
            )
            done = "Collector assigned."
    except DomainError as exc:
        return _customer_page(request, customer.pk, form.show_error(exc), forms={action: form})
    messages.success(request, done)
    return redirect("collections:customer", customer.pk)


@login_required
@require_POST
def cancel_promise(request: HttpRequest, promise_id: int) -> HttpResponse:
    promise = PromiseToPay.objects.filter(pk=promise_id).first()
    if promise is None:
        raise Http404(f"there is no promise {promise_id}")
    try:
        promises.cancel_promise(
            promise_id=promise.pk, reason=request.POST.get("reason", ""), actor=actor(request)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Promise cancelled.")
    return redirect("collections:customer", promise.customer_id)
