"""A customer's collections timeline: what was done on its account and what was arranged, newest first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from billops.collections.models import Activity, PromiseToPay
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


register_timeline_source(_activities)
register_timeline_source(_promises)


def timeline(customer_id: int) -> list[Entry]:
    """Every entry of every source, newest first."""
    entries = [entry for source in _sources for entry in source(customer_id)]
    return sorted(entries, key=lambda entry: entry.on, reverse=True)
