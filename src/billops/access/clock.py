"""The business date: the real date, or the one an admin set with `billops clock set` on a test or demo
system, so that tests and the demo move through billing cycles, renewals and dunning without waiting.

Every service that needs "today" for a document (issue dates, due dates, pricing, aging) calls `today()`.
Timestamps of who did what when (`created_at`, audit events) stay on the real clock.

The date is read once per unit of work (a web request, a command, a job pass; `forget()` starts one) and
not at all in production mode, where the test clock cannot be set.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from django.conf import settings
from django.utils import timezone

_read = threading.local()  # .business_date: date | None, once read in this thread's unit of work


def today() -> date:
    """The business date: the test clock's when one is set, else the real date in the system's zone."""
    return test_date() or timezone.localdate()


def test_date() -> date | None:
    """The date the test clock is set to; None when it is not set, and always in production mode."""
    if settings.PRODUCTION:
        return None
    if not hasattr(_read, "business_date"):
        from billops.access.models import BusinessClock

        _read.business_date = BusinessClock.objects.values_list("business_date", flat=True).first()
    return _read.business_date


def remember(business_date: date | None) -> None:
    """What the clock was just set to, for the rest of this unit of work."""
    _read.business_date = business_date


def forget(**_: Any) -> None:
    """Start a unit of work: the next `today()` reads the clock again (connected to `request_started`)."""
    _read.__dict__.pop("business_date", None)
