"""A customer's collections timeline: what was done on its account and what was arranged, newest first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.urls import reverse

from billops.collections.models import Activity, DunningNotice, PaymentPlan, PromiseToPay
from billops.core.money import round_money


@dataclass(frozen=True, slots=True)
class Entry:
    on: date
    kind: str  # "call", "email", "note", "letter", "promise", "notice", "plan", "dispute", …
    title: str
    detail: str = ""
    by: str = ""
    url: str = ""  # the page of what it is about, when it has one


TimelineSource = Callable[[int], list[Entry]]
_sources: list[TimelineSource] = []


def register_timeline_source(source: TimelineSource) -> None:
    """Apps whose records belong on the timeline (dunning notices, plans, disputes) add a reader of them."""
    if source not in _sources:
        _sources.append(source)


def _activities(customer_id: int) -> list[Entry]:
    return [
        Entry(
            on=activity.happened_on, kind=activity.kind,
            title=f"{activity.get_kind_display()}: {activity.get_outcome_display()}",
            detail=f"{activity.contact + ' — ' if activity.contact else ''}{activity.text}",
            by=str(activity.created_by),
        )
        for activity in Activity.objects.filter(customer_id=customer_id).select_related("created_by")
    ]  # fmt: skip


def _promises(customer_id: int) -> list[Entry]:
    entries = []
    for promise in PromiseToPay.objects.filter(customer_id=customer_id).select_related("created_by"):
        title = f"Promised {round_money(promise.amount, promise.currency)} by {promise.promised_on:%Y-%m-%d}"
        entries.append(
            Entry(
                on=promise.made_on, kind="promise", title=title,
                detail=f"{promise.contact}; {promise.get_status_display().lower()}"
                + (f" on {promise.decided_on.isoformat()}" if promise.decided_on else ""),
                by=str(promise.created_by),
            )
        )  # fmt: skip
    return entries


def _notices(customer_id: int) -> list[Entry]:
    entries = []
    for notice in DunningNotice.objects.filter(customer_id=customer_id).select_related("run"):
        overdue = round_money(notice.overdue_total, notice.currency)
        entries.append(
            Entry(
                on=notice.run.run_on, kind="notice", title=notice.subject,
                detail=f"{notice.get_channel_display()}: {overdue} overdue",
                url=reverse("collections:notice", args=[notice.pk]),
            )
        )  # fmt: skip
    return entries


def _plans(customer_id: int) -> list[Entry]:
    entries = []
    for plan in PaymentPlan.objects.filter(customer_id=customer_id).prefetch_related("instalments"):
        title = (
            f"Payment plan of {round_money(plan.total, plan.currency)} in {len(plan.instalments.all())} parts"
        )
        url = reverse("collections:plan", args=[plan.pk])
        entries.append(Entry(on=plan.starts_on, kind="plan", title=title, url=url, by=str(plan.created_by)))
        if plan.decided_on:
            decided = f"Payment plan {plan.get_status_display().lower()}"
            entries.append(Entry(on=plan.decided_on, kind="plan", title=decided, url=url))
    return entries


register_timeline_source(_activities)
register_timeline_source(_promises)
register_timeline_source(_notices)
register_timeline_source(_plans)


def timeline(customer_id: int) -> list[Entry]:
    """Every entry of every source, newest first."""
    entries = [entry for source in _sources for entry in source(customer_id)]
    return sorted(entries, key=lambda entry: entry.on, reverse=True)
