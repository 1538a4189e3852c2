"""Taking in usage events: a batch from the API or a CSV file, checked whole and stored all or nothing.

An event's id is its idempotency key, per customer: an id already stored (or earlier in the batch) with
the same content is a duplicate, counted and not stored again; with other content it is an error. Under
concurrent retries the customers' row locks order the batches and the unique constraint is the final
guard, so a batch sent twice at once is stored once.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from billops.access import clock
from billops.access.models import User
from billops.access.permissions import require_permission
from billops.audit.services import record_event
from billops.catalog.imports import Reject
from billops.catalog.validation import clean_quantity, clean_text
from billops.core.errors import DomainError, InvalidInput
from billops.customers.fileformat import escape_cell
from billops.customers.models import Customer
from billops.usage.errors import BatchRefused
from billops.usage.imports import EventData, read_events
from billops.usage.models import BillableMetric, UsageBatch, UsageEvent

MAX_EVENTS = 10_000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Problem:
    index: int  # the event's place in the batch, from 0
    column: str
    message: str


@dataclass
class IngestResult:
    received: int
    accepted: int = 0
    duplicates: int = 0
    batch_id: int | None = None
    rejects: list[Reject] = field(default_factory=list)  # a file's problems by row and column

    @property
    def ok(self) -> bool:
        return not self.rejects

    def rejects_csv(self) -> str:
        """The reject report as CSV (row, column, message), safe to open in a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "column", "message"])
        for reject in self.rejects:
            writer.writerow(
                ["" if reject.row is None else reject.row, reject.column, escape_cell(reject.message)]
            )
        return out.getvalue()


def _timestamp(value: Any, latest: datetime) -> datetime:
    if value is None or value == "":
        raise InvalidInput("timestamp is required", field="timestamp")
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                f"timestamp {value!r} is not ISO 8601 like 2026-03-14T09:30:00Z", field="timestamp"
            ) from None
    if not isinstance(moment, datetime):
        raise InvalidInput("timestamp must be ISO 8601 text like 2026-03-14T09:30:00Z", field="timestamp")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment < EARLIEST:
        raise InvalidInput(f"timestamp {value} is before the year 2000", field="timestamp")
    if moment > latest:
        raise InvalidInput(f"timestamp {value} is more than a day in the future", field="timestamp")
    return moment


class _Checker:
    """Reads every event of a batch into an unsaved row, collecting each problem by event and column."""

    def __init__(self, events: Sequence[EventData]) -> None:
        codes = {str(event.metric).strip().upper() for event in events if event.metric}
        numbers = {str(event.customer).strip().upper() for event in events if event.customer}
        self.metrics = {metric.code: metric for metric in BillableMetric.objects.filter(code__in=codes)}
        # locked in one order, so that two batches of the same customers wait for each other
        locked = Customer.objects.select_for_update(of=("self",)).filter(account_number__in=numbers)
        self.customers = {customer.account_number: customer for customer in locked.order_by("pk")}
        end_of_today = datetime.combine(clock.today(), time.max, tzinfo=timezone.get_current_timezone())
        self.latest = max(timezone.now(), end_of_today) + timedelta(days=1)
        self.problems: list[Problem] = []

    def check(self, index: int, event: EventData) -> UsageEvent | None:
        before = len(self.problems)
        event_id = self._clean(
            index, "event_id", clean_text, event.event_id, "event_id", limit=100, required=True
        )
        customer = self._customer(index, event.customer)
        metric = self._metric(index, event.metric)
        moment = self._clean(index, "timestamp", _timestamp, event.timestamp, self.latest)
        properties = event.properties if event.properties is not None else {}
        if not isinstance(properties, dict):
            self.problems.append(Problem(index, "properties", "properties must be an object"))
        value, unique = Decimal(0), ""
        if metric is not None and isinstance(properties, dict):
            given = event.value if event.value not in (None, "") else properties.get(metric.field)
            if metric.aggregation == BillableMetric.Aggregation.UNIQUE_COUNT:
                unique = self._clean(
                    index,
                    "value",
                    clean_text,
                    None if given is None else str(given),
                    "value",
                    limit=200,
                    required=True,
                )
            elif given is not None or metric.aggregation != BillableMetric.Aggregation.COUNT:
                if given is None:
                    self.problems.append(
                        Problem(index, "value", f"value is required (or properties.{metric.field})")
                    )
                else:
                    value = self._clean(index, "value", clean_quantity, given, "value")
        if len(self.problems) > before or customer is None or metric is None:
            return None
        return UsageEvent(
            customer=customer, metric=metric, event_id=event_id, timestamp=moment, value=value,
            used_on=timezone.localtime(moment).date(), unique_value=unique, properties=properties,
        )  # fmt: skip

    def _clean(self, index: int, column: str, clean: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return clean(*args, **kwargs)
        except DomainError as exc:
            self.problems.append(Problem(index, column, exc.message))
            return None

    def _customer(self, index: int, number: Any) -> Customer | None:
        if not number:
            self.problems.append(Problem(index, "customer", "customer (the account number) is required"))
            return None
        customer = self.customers.get(str(number).strip().upper())
        if customer is None:
            self.problems.append(Problem(index, "customer", f"there is no customer {number!r}"))
        elif customer.status == Customer.Status.CLOSED:
            self.problems.append(
                Problem(index, "customer", f"{customer.account_number} is closed and takes no new usage")
            )
            return None
        return customer

    def _metric(self, index: int, code: Any) -> BillableMetric | None:
        if not code:
            self.problems.append(Problem(index, "metric", "metric (its code) is required"))
            return None
        metric = self.metrics.get(str(code).strip().upper())
        if metric is None:
            self.problems.append(Problem(index, "metric", f"there is no metric {code!r}"))
        return metric


def _same(one: UsageEvent, other: UsageEvent) -> bool:
    return (one.metric_id, one.timestamp, one.value, one.unique_value, one.properties) == (
        other.metric_id, other.timestamp, other.value, other.unique_value, other.properties
    )  # fmt: skip


def _plan(events: Sequence[EventData]) -> tuple[list[UsageEvent], list[Problem]]:
    """The new events to store (a duplicate is not), and every problem."""
    checker = _Checker(events)
    rows = [(index, checker.check(index, event)) for index, event in enumerate(events)]
    problems = checker.problems
    first: dict[tuple[int, str], tuple[int, UsageEvent]] = {}
    for index, row in rows:
        if row is None:
            continue
        key = (row.customer_id, row.event_id)
        if key not in first:
            first[key] = (index, row)
        elif not _same(first[key][1], row):
            problems.append(
                Problem(
                    index,
                    "event_id",
                    f"event {row.event_id} is in the batch before (event {first[key][0]}) with other content",
                )
            )
    stored = UsageEvent.objects.filter(
        customer_id__in={key[0] for key in first}, event_id__in={key[1] for key in first}
    )
    new = dict(first)
    for earlier in stored:
        key = (earlier.customer_id, earlier.event_id)
        if key in first:
            index, row = new.pop(key)
            if not _same(earlier, row):
                problems.append(
                    Problem(index, "event_id", f"event {row.event_id} was stored before with other content")
                )
    return [row for _, row in sorted(new.values(), key=lambda pair: pair[0])], sorted(
        problems, key=lambda p: p.index
    )


def _store(new: list[UsageEvent], received: int, actor: User, action: str, **source: str) -> IngestResult:
    batch = UsageBatch.objects.create(received=received, accepted=0, duplicates=0, created_by=actor, **source)
    for event in new:
        event.batch = batch
    # a copy stored by a concurrent retry since we looked is skipped, and counted as a duplicate
    UsageEvent.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    batch.accepted = UsageEvent.objects.filter(batch=batch).count()
    batch.duplicates = received - batch.accepted
    batch.save(update_fields=["accepted", "duplicates"])
    after = {
        "source": batch.source,
        "received": received,
        "accepted": batch.accepted,
        "duplicates": batch.duplicates,
    }
    if batch.filename:
        after |= {"filename": batch.filename, "file_sha256": batch.file_sha256}
    record_event(actor=actor, action=action, target=batch, after=after)
    return IngestResult(received, batch.accepted, batch.duplicates, batch.pk)


@transaction.atomic(durable=True)
def ingest_events(*, events: Sequence[EventData], actor: User) -> IngestResult:
    """Store a batch of up to 10 000 events, or none: any bad event refuses the batch, listing every bad
    event by its index and field (`events.3.customer`). Duplicates are counted, not stored again."""
    require_permission(actor, "usage.ingest")
    if not events:
        raise InvalidInput("the batch holds no events", field="events")
    if len(events) > MAX_EVENTS:
        raise InvalidInput(
            f"a batch holds at most {MAX_EVENTS} events, this one {len(events)}", field="events"
        )
    new, problems = _plan(events)
    if problems:
        raise BatchRefused([InvalidInput(p.message, field=f"events.{p.index}.{p.column}") for p in problems])
    return _store(new, len(events), actor, "usage.events_received", source=UsageBatch.Source.API)


@transaction.atomic(durable=True)
def import_events(*, content: bytes, filename: str, actor: User) -> IngestResult:
    """Store the events of a CSV file (docs/formats/usage-csv.md), or none: the result then lists each
    problem by row and column."""
    require_permission(actor, "usage.ingest")
    rows, rejects = read_events(content)
    if rejects:
        return IngestResult(len(rows), rejects=rejects)
    new, problems = _plan([event for _, event in rows])
    if problems:
        return IngestResult(
            len(rows), rejects=[Reject(rows[p.index][0], p.column, p.message) for p in problems]
        )
    return _store(
        new, len(rows), actor, "usage.events_imported", source=UsageBatch.Source.FILE,
        filename=filename[:255], file_sha256=hashlib.sha256(content).hexdigest(),
    )  # fmt: skip
