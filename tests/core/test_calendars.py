"""Business days, month ends and month arithmetic for due dates, periods and dunning."""

from datetime import date

import pytest

from billops.core.calendars import (
    WEEKDAYS,
    BusinessCalendar,
    add_months,
    day_of_month,
    is_month_end,
    month_end,
    month_start,
)

# Friday 25 December 2026, Monday 28 December 2026 and Friday 1 January 2027 are holidays
HOLIDAYS = BusinessCalendar.with_holidays([date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)])


def test_weekends_and_holidays_are_not_business_days():
    assert HOLIDAYS.is_business_day(date(2026, 12, 24))  # Thursday
    assert not HOLIDAYS.is_business_day(date(2026, 12, 25))  # holiday
    assert not HOLIDAYS.is_business_day(date(2026, 12, 26))  # Saturday
    assert not HOLIDAYS.is_business_day(date(2026, 12, 27))  # Sunday
    assert not HOLIDAYS.is_business_day(date(2026, 12, 28))  # holiday
    assert HOLIDAYS.is_business_day(date(2026, 12, 29))
    assert WEEKDAYS.is_business_day(date(2026, 12, 25))  # no holidays in the plain calendar


def test_next_and_previous_business_day_skip_weekends_and_holidays():
    assert HOLIDAYS.next_business_day(date(2026, 12, 25)) == date(2026, 12, 29)
    assert HOLIDAYS.next_business_day(date(2026, 12, 24)) == date(2026, 12, 24)
    assert HOLIDAYS.previous_business_day(date(2026, 12, 28)) == date(2026, 12, 24)
    assert HOLIDAYS.previous_business_day(date(2027, 1, 3)) == date(2026, 12, 31)
    assert WEEKDAYS.next_business_day(date(2026, 12, 26)) == date(2026, 12, 28)


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 12, 24), 1, date(2026, 12, 29)),
        (date(2026, 12, 24), 3, date(2026, 12, 31)),
        (date(2026, 12, 24), 4, date(2027, 1, 4)),
        (date(2026, 12, 25), 1, date(2026, 12, 29)),  # from a holiday: the next business day is the first
        (date(2027, 1, 4), -1, date(2026, 12, 31)),
        (date(2027, 1, 4), -4, date(2026, 12, 24)),
        (date(2026, 12, 29), -1, date(2026, 12, 24)),
        (date(2026, 12, 25), 0, date(2026, 12, 25)),  # zero days: the day itself, business day or not
    ],
)
def test_add_business_days_in_both_directions(start, count, expected):
    assert HOLIDAYS.add_business_days(start, count) == expected


def test_add_business_days_without_holidays_skips_only_weekends():
    assert WEEKDAYS.add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 25)
    assert WEEKDAYS.add_business_days(date(2026, 12, 25), 1) == date(2026, 12, 28)
    assert WEEKDAYS.add_business_days(date(2026, 12, 28), -1) == date(2026, 12, 25)
    assert WEEKDAYS.add_business_days(date(2026, 12, 1), 10) == date(2026, 12, 15)


def test_business_days_between_counts_after_start_up_to_end():
    assert HOLIDAYS.business_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 4
    assert HOLIDAYS.business_days_between(date(2026, 12, 24), date(2026, 12, 24)) == 0
    assert HOLIDAYS.business_days_between(date(2027, 1, 4), date(2026, 12, 24)) == 0
    assert WEEKDAYS.business_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 7


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2028, 2, 10), date(2028, 2, 29)),  # leap year
        (date(2027, 2, 1), date(2027, 2, 28)),
        (date(2000, 2, 15), date(2000, 2, 29)),  # divisible by 400: leap
        (date(2100, 2, 15), date(2100, 2, 28)),  # divisible by 100 only: not leap
        (date(2026, 4, 30), date(2026, 4, 30)),
        (date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_month_end(day, expected):
    assert month_end(day) == expected
    assert is_month_end(expected)


def test_month_start_and_is_month_end():
    assert month_start(date(2028, 2, 29)) == date(2028, 2, 1)
    assert not is_month_end(date(2028, 2, 28))
    assert is_month_end(date(2027, 2, 28))


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # clamped to the leap day
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2028, 3, 31), -1, date(2028, 2, 29)),
        (date(2027, 12, 31), 2, date(2028, 2, 29)),
        (date(2027, 11, 15), 3, date(2028, 2, 15)),
        (date(2028, 1, 31), -13, date(2026, 12, 31)),
        (date(2028, 5, 31), 1, date(2028, 6, 30)),
        (date(2028, 1, 31), 0, date(2028, 1, 31)),
    ],
)
def test_add_months_clamps_to_the_end_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


def test_add_months_does_not_drift_when_stepped_from_the_same_anchor():
    anchor = date(2028, 1, 31)
    assert [add_months(anchor, n) for n in range(4)] == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
    ]


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [
        (2028, 2, 31, date(2028, 2, 29)),
        (2027, 2, 29, date(2027, 2, 28)),
        (2027, 4, 31, date(2027, 4, 30)),
        (2027, 4, 15, date(2027, 4, 15)),
        (2027, 12, 31, date(2027, 12, 31)),
    ],
)
def test_day_of_month_falls_back_to_the_last_day(year, month, day, expected):
    assert day_of_month(year, month, day) == expected


def test_day_of_month_refuses_day_zero():
    with pytest.raises(ValueError, match="day"):
        day_of_month(2027, 4, 0)
