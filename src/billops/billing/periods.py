"""The billing periods of a subscription: plain date arithmetic, no database.

Periods are anchored on the start date: period k runs from `start + k * interval` (the same day of the
month, or the month's last day when the month is shorter: 31 January + 1 month = 28 February) to the day
before period k + 1 starts, computed from the start date each time so that a short month never shifts
the later periods. A subscription that ends stops after the period holding its end date.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from billops.core.calendars import add_months


@dataclass(frozen=True, slots=True)
class Phase:
    kind: str  # trial, introductory, evergreen
    periods: int | None  # None: until the subscription ends
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Period:
    index: int  # 0 for the first period
    start: date
    end: date
    phase: Phase


def phase_of(phases: Sequence[Phase], index: int) -> Phase:
    """The phase that period `index` falls in; the last phase lasts."""
    passed = 0
    for phase in phases:
        if phase.periods is None or index < passed + phase.periods:
            return phase
        passed += phase.periods
    return phases[-1]


def periods(
    *, start: date, interval_months: int, phases: Sequence[Phase], until: date, end: date | None = None
) -> Iterator[Period]:
    """The periods that start on or before `until` (and on or before the subscription's `end`)."""
    index = 0
    while True:
        period_start = add_months(start, index * interval_months)
        if period_start > until or (end is not None and period_start > end):
            return
        period_end = add_months(start, (index + 1) * interval_months) - timedelta(days=1)
        yield Period(index, period_start, period_end, phase_of(phases, index))
        index += 1
