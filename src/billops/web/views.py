"""The home page: the few figures a coordinator looks at first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from billops.audit.models import AuditEvent


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"events": AuditEvent.objects.count()})
