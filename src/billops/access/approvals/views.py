"""Staff pages for approvals: the inbox (what waits for my decision, my own requests, every request) and a
request's page, which shows exactly what will be done with the forms that approve, reject or cancel it.
Thin, like the API: a refusal is shown on the page and changes nothing; success redirects to the page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from billops.access.approvals import selectors, services
from billops.access.approvals.forms import DecisionForm
from billops.access.approvals.registry import find_action, registered_actions
from billops.access.models import ApprovalPolicy, ApprovalRequest, Role, User
from billops.access.permissions import can
from billops.core.errors import DomainError, NotFound, PermissionDenied
from billops.web.amounts import Shown

PAGE_SIZE = 50
MY_LATEST = 50  # the inbox lists this many of my own latest requests


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)  # every view here is behind login_required


@dataclass(frozen=True)
class Row:
    """A request in a list: the request, its action's label and its amount as shown."""

    request: ApprovalRequest
    label: str
    amount: Shown


def _rows(requests: Any) -> list[Row]:
    return [Row(r, _label(r.action), Shown.of(r.amount, r.currency)) for r in requests]


def _label(code: str) -> str:
    action = find_action(code)
    return action.label if action is not None else code


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """Pending requests I may decide, my own requests with their state, and every request, filterable."""
    user = _actor(request)
    filters = {name: request.GET.get(name, "").strip() for name in ("status", "action")}
    if filters["status"] not in ApprovalRequest.Status.values:
        filters["status"] = ""
    everything = selectors.list_requests(status=filters["status"], action=filters["action"])
    page = Paginator(everything, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "waiting": _rows(selectors.inbox_for(user)),
        "mine": _rows(selectors.list_requests(requested_by=user)[:MY_LATEST]),
        "page": page,
        "rows": _rows(page),
        "filters": filters,
        "kept": {name: value for name, value in filters.items() if value},
        "statuses": ApprovalRequest.Status.choices,
        "actions": registered_actions(),
        "may_decide": can(user, "approvals.decide"),
        "policies": [_policy_row(policy) for policy in selectors.list_policies()],
    }
    return render(request, "approvals/inbox.html", context)


def _policy_row(policy: ApprovalPolicy) -> dict[str, Any]:
    """A policy as the inbox lists it: from which amount, and each role's limit."""
    roles = dict(Role.choices)
    limits = sorted(policy.limits.all(), key=lambda limit: limit.max_amount)
    return {
        "label": _label(policy.action),
        "policy": policy,
        "approval_from": Shown.of(policy.approval_from, policy.currency),
        "limits": [
            (roles.get(limit.role, limit.role), Shown.of(limit.max_amount, policy.currency))
            for limit in limits
        ],
    }


# --- one request --------------------------------------------------------------------------------------


@dataclass
class Node:
    """A snapshot value as the page shows it: text, a list, a table of records, or named facts."""

    kind: str  # "text", "list", "table", "facts", or "absent" (a record without that column)
    text: str = ""
    items: list[Any] = field(default_factory=list)  # list: Nodes; facts: (key, Node) pairs
    columns: list[str] = field(default_factory=list)  # table
    rows: list[list[Node]] = field(default_factory=list)  # table


def shown(value: Any) -> Node:
    """A snapshot value, exactly: text as it is, anything else as its JSON (numbers, true, false, null)."""
    if isinstance(value, dict):
        return Node("facts", items=[(key, shown(item)) for key, item in value.items()])
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            columns = list(dict.fromkeys(key for item in value for key in item))
            rows = [[shown(item[c]) if c in item else Node("absent") for c in columns] for item in value]
            return Node("table", columns=columns, rows=rows)
        return Node("list", items=[shown(item) for item in value])
    return Node("text", text=value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def _request_page(
    request: HttpRequest,
    request_id: int,
    status: int = 200,
    *,
    error: DomainError | None = None,
    approve_form: DecisionForm | None = None,
    reject_form: DecisionForm | None = None,
) -> HttpResponse:
    try:
        found = selectors.get_request(request_id)
    except NotFound as exc:
        raise Http404(exc.message) from None
    user = _actor(request)
    action = find_action(found.action)
    refusal = selectors.decision_refusal(found, user) if can(user, "approvals.decide") else None
    may_decide = found.is_pending and can(user, "approvals.decide") and refusal is None
    limit = selectors.limit_for(user.role, found.action, found.currency)
    digest = {"snapshot_digest": found.snapshot_digest}
    context = {
        "approval": found,
        "label": _label(found.action),
        "amount": Shown.of(found.amount, found.currency),
        "snapshot": shown(found.snapshot),
        "snapshot_json": json.dumps(found.snapshot, ensure_ascii=False, indent=2),
        "target_url": action.url_for(found.target_kind, found.target_id) if action else None,
        "result_url": action.url_for(found.result_kind, found.result_id) if action else None,
        "error": error,
        "refusal": refusal if found.is_pending else None,
        "limit": Shown.of_money(limit) if limit is not None else None,
        # a form shown again after a refusal carries the digest of what is shown now
        "approve_form": _with_digest(approve_form, found)
        if approve_form
        else DecisionForm(initial=digest, prefix_id="approve"),
        "reject_form": reject_form or DecisionForm(prefix_id="reject"),
        "may_decide": may_decide,
        "may_cancel": found.is_pending
        and found.requested_by_id == user.pk
        and can(user, "approvals.request"),
    }
    return render(request, "approvals/request.html", context, status=status)


def _with_digest(form: DecisionForm, found: ApprovalRequest) -> DecisionForm:
    """The posted form, keeping its note and errors, with the digest of the request as shown now."""
    form.data = {"note": form.text("note"), "snapshot_digest": found.snapshot_digest}
    return form


def _status(exc: DomainError) -> int:
    return 403 if isinstance(exc, PermissionDenied) else 200  # as every staff page: the page shows the rest


@login_required
@require_GET
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    return _request_page(request, request_id)


@login_required
@require_POST
def approve(request: HttpRequest, request_id: int) -> HttpResponse:
    """Approve what the page showed: the form carries its digest."""
    form = DecisionForm(request.POST, prefix_id="approve")
    try:
        approved = services.approve_request(
            request_id=request_id, actor=_actor(request), note=form.text("note"),
            snapshot_digest=form.text("snapshot_digest"),
        )  # fmt: skip
    except DomainError as exc:
        on_form = form.show_error(exc)
        return _request_page(
            request, request_id, _status(exc), error=None if on_form else exc, approve_form=form
        )
    done = f" It produced {approved.result_kind} {approved.result_id}." if approved.result_id else ""
    messages.success(
        request, f"Approval request {approved.pk} approved: {_label(approved.action)} is done.{done}"
    )
    return redirect("approvals:request", approved.pk)


@login_required
@require_POST
def reject(request: HttpRequest, request_id: int) -> HttpResponse:
    form = DecisionForm(request.POST, prefix_id="reject")
    try:
        rejected = services.reject_request(
            request_id=request_id, actor=_actor(request), note=form.text("note")
        )
    except DomainError as exc:
        on_form = form.show_error(exc)
        return _request_page(
            request, request_id, _status(exc), error=None if on_form else exc, reject_form=form
        )
    messages.success(request, f"Approval request {rejected.pk} rejected: nothing was done.")
    return redirect("approvals:request", rejected.pk)


@login_required
@require_POST
def cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    try:
        cancelled = services.cancel_request(
            request_id=request_id, actor=_actor(request), note=request.POST.get("note", "")
        )
    except DomainError as exc:
        return _request_page(request, request_id, _status(exc), error=exc)
    messages.success(request, f"Approval request {cancelled.pk} cancelled: nothing was done.")
    return redirect("approvals:request", cancelled.pk)
