"""The home page: the few figures a coordinator looks at first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billops.audit.selectors import count_events
from billops.customers.selectors import count_customers, customers_on_hold_count
from billops.ledger.selectors import current_open_period


@login_required
def home(request: HttpRequest) -> HttpResponse:
    period = current_open_period()
    context = {
        "customers": count_customers(),
        "on_hold": customers_on_hold_count(),
        "open_period": period.start_on.strftime("%Y-%m") if period else "",
        "events": count_events(),
    }
    return render(request, "web/home.html", context)
