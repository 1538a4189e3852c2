"""Staff page: the audit log, filterable, with the chain's verification on top."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billops.audit import selectors


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    filters = {
        name: request.GET.get(name, "").strip() for name in ("action", "target_type", "target_id", "actor")
    }
    page = Paginator(selectors.list_events(**filters), 50).get_page(request.GET.get("page"))
    verification = selectors.verify_chain() if request.GET.get("verify") else None
    return render(request, "audit/log.html", {"page": page, "filters": filters, "verification": verification})
